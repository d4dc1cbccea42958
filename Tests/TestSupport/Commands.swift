// Running a command as a test would by hand, over Processes' Subprocess: NO_COLOR=1, its
// output captured, a deadline after which it and everything it started (its process group)
// are killed by pid.
import Foundation
import Processes
import Testing

/// What one run of the binary printed, apart (see ``ChildProcess/result(_:)``).
public struct RunResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// A command that ran over its time and was killed.
public struct CommandTimedOut: Error, CustomStringConvertible {
    public let command: [String]
    public let result: RunResult
    public var description: String { "timed out, killed: \(command.joined(separator: " "))" }
}

/// Run `command` (an absolute path and its arguments) with NO_COLOR=1 and `environment` added,
/// standard input from /dev/null; SIGKILL after `timeout` seconds, with every process it
/// started (its process group). A process of the group still running after the command
/// exited (a forked child that never ended) is killed and recorded as an issue naming it.
///
/// A Subprocess (posix_spawn, and waitpid on its own pid), not Foundation's Process: Swift
/// Testing's exit-test monitor waits on every child (`waitid(P_ALL)`), and Process's own child
/// bookkeeping was seen hanging beside it.
public func runCommand(_ command: [String], environment: [String: String] = [:], timeout: Double) throws -> RunResult {
    let child = try ChildProcess(command, environment: environment)
    let status = child.wait(timeout: timeout)
    let stuck = child.stop()
    if !stuck.isEmpty {
        Issue.record("\(command.joined(separator: " ")) left processes running, killed: \(stuck)")
    }
    let result = child.result(status)
    if status == nil { throw CommandTimedOut(command: command, result: result) }
    return result
}

/// A command started for a test: NO_COLOR=1, its output kept, ended with its process group
/// when its deadline passes or when the test lets it go.
public final class ChildProcess: Sendable {
    private let process: Subprocess

    public var pid: pid_t { process.pid }

    public init(_ command: [String], environment extra: [String: String] = [:]) throws {
        process = try Subprocess(command, environment: ["NO_COLOR": "1"].merging(extra) { $1 })
    }

    /// Wait for the child to exit, at most `timeout` seconds; then kill it (with its group)
    /// and return nil.
    /// - Returns: the exit status, or 128 + the signal that ended it (-1 when another waiter
    ///   reaped it).
    public func wait(timeout: Double) -> Int32? {
        guard process.wait(timeout: timeout) else {
            process.stop()
            return nil
        }
        return process.termination?.code ?? -1
    }

    /// Send `signal` to the child.
    public func signal(_ signal: Int32) { process.signal(signal) }

    /// Kill the child if it still runs and whatever of its group is left, reap it; what was
    /// still running besides the child ("pid 123 state S waiting in futex_do_wait").
    public func stop() -> [String] { process.stop() }

    /// What the child has written to its standard output so far.
    public var stdout: String { String(decoding: process.output, as: UTF8.self) }
    /// What the child has written to its standard error so far.
    public var stderr: String { String(decoding: process.errors, as: UTF8.self) }
    /// The bytes of ``stdout``.
    public var stdoutBytes: Data { Data(process.output) }

    /// The child's output so far, with `status` (as ``wait(timeout:)`` gave it; nil, when it
    /// ran over its time, is -1).
    public func result(_ status: Int32?) -> RunResult {
        RunResult(status: status ?? -1, stdout: stdout, stderr: stderr)
    }
}
