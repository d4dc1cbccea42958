// Running a command as a test would by hand: posix_spawn, its output in files, a deadline
// after which it and everything it started (its process group) are killed by pid.
import Foundation
import Glibc
import Testing

/// What one run of the binary printed, apart.
public struct RunResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    /// A result.
    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// A command that ran over its time and was killed.
public struct CommandTimedOut: Error, CustomStringConvertible {
    public let command: [String]
    public let result: RunResult
    public var description: String { "timed out, killed: \(command.joined(separator: " "))" }
}

/// Run `command` (an absolute path and its arguments) with NO_COLOR=1 and `environment` added,
/// standard input from /dev/null, output to temporary files; SIGKILL after `timeout` seconds,
/// with every process it started (its process group). A process of the group still running
/// after the command exited (a forked child that never ended) is killed and recorded as an
/// issue naming it.
///
/// posix_spawn and waitpid on our own pid, not Foundation's Process: Swift Testing's exit-test
/// monitor waits on every child (`waitid(P_ALL)`), and Process's own child bookkeeping was
/// seen hanging beside it.
public func runCommand(_ command: [String], environment: [String: String] = [:], timeout: Double) throws -> RunResult {
    let child = try ChildProcess(command, environment: environment)
    defer { child.removeFiles() }
    let status = child.wait(timeout: timeout)
    let stuck = child.killGroup()
    if !stuck.isEmpty {
        Issue.record("\(command.joined(separator: " ")) left processes running, killed: \(stuck)")
    }
    let result = RunResult(status: status ?? -1, stdout: child.stdout, stderr: child.stderr)
    if status == nil { throw CommandTimedOut(command: command, result: result) }
    return result
}

/// A child process started with posix_spawn, its output going to files in its own temporary
/// folder.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    private let folder: String
    private var reaped: Int32? = nil

    struct SpawnFailed: Error, CustomStringConvertible {
        let command: [String]
        let code: Int32
        var description: String { "cannot run \(command.first ?? ""): \(String(cString: strerror(code)))" }
    }

    public init(_ command: [String], environment extra: [String: String] = [:]) throws {
        var template = Array("/tmp/sswcli-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw SpawnFailed(command: command, code: errno)
        }
        folder = String(cString: made)
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        environment.merge(extra) { $1 }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, folder + "/stdout", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, folder + "/stderr", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // The test's thread may block signals (Dispatch workers do): the child starts clean.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGUSR1] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        // A group of its own, so that a deadline can end the child and everything it forked.
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let argv = command.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid = pid_t()
        let code = posix_spawn(&pid, command[0], &actions, &attributes, argv, envp)
        guard code == 0 else {
            rmdir(folder)
            throw SpawnFailed(command: command, code: code)
        }
        self.pid = pid
    }

    /// Wait for the child to exit, at most `timeout` seconds; then kill it and return nil.
    /// - Returns: the exit status, or 128 + the signal that ended it.
    public func wait(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while reaped == nil {
            var status: Int32 = 0
            let done = waitpid(pid, &status, WNOHANG)
            if done == pid {
                reaped = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
                break
            }
            if done < 0 && errno != EINTR {
                reaped = -1  // not ours to wait for any more
                break
            }
            if Date() >= deadline {
                kill(-pid, SIGKILL)  // the child and what it forked
                var ignored: Int32 = 0
                while waitpid(pid, &ignored, 0) < 0 && errno == EINTR {}
                reaped = -1
                return nil
            }
            usleep(2000)
        }
        return reaped
    }

    /// Send `signal` to the child.
    public func signal(_ signal: Int32) { kill(pid, signal) }

    /// SIGKILL the processes of the child's group that are still running (not zombies), and
    /// say which they were ("pid 123 state S waiting in futex_do_wait").
    public func killGroup() -> [String] {
        var found: [String] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let member = pid_t(name), member != pid,
                let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, pid_t(fields[2]) == pid, fields[0] != "Z" else { continue }
            let channel = (try? String(contentsOfFile: "/proc/\(name)/wchan", encoding: .utf8)) ?? "?"
            found.append("pid \(member) state \(fields[0]) waiting in \(channel)")
            kill(member, SIGKILL)
        }
        return found
    }

    public var stdout: String { read("stdout") }
    public var stderr: String { read("stderr") }
    /// What the child has written to its standard output so far.
    public var stdoutBytes: Data { FileManager.default.contents(atPath: folder + "/stdout") ?? Data() }

    private func read(_ name: String) -> String {
        String(decoding: FileManager.default.contents(atPath: folder + "/" + name) ?? Data(), as: UTF8.self)
    }

    /// Remove the output files and their folder.
    public func removeFiles() {
        unlink(folder + "/stdout")
        unlink(folder + "/stderr")
        rmdir(folder)
    }

    deinit {
        if reaped == nil {
            kill(-pid, SIGKILL)
            _ = wait(timeout: 5)
        }
        removeFiles()
    }
}
