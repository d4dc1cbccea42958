// `serve` under load: thousands of requests from several client threads over loopback. Each
// request's tree must be printed while the server runs, soon after the load ends, and the
// server's resident memory must not grow with the number of requests it has printed.
import Foundation
import Synchronization
import TestSupport
import Testing

@Suite("serve under load", .serialized)
struct ServeLoadTests {
    /// Requests before the first memory reading (the allocator's and the printer's warm-up).
    static let warmUp = 300
    /// Requests in all.
    static let total = 3000
    /// Client threads.
    static let clients = 6
    /// How much the resident set may grow between the two readings, in kB. Keeping every event
    /// costs several MB per 1,000 requests; forgetting what was printed keeps the growth to the
    /// allocator's noise.
    static let growthLimitKB = 6 * 1024

    @Test("every request's tree is printed as the load runs, and memory stays flat", .timeLimit(.minutes(4)))
    func thousandsOfRequests() throws {
        let port = try freePort()
        let serve = try ChildProcess([toolPath, "serve", "--server", "ThreadingTCPServer", "--port", "\(port)"])
        defer { stop(serve) }
        #expect(try sendLine(port, "req 0\n") == Array("REQ 0".utf8), "serve did not answer a first request")

        let warm = drive(port: port, from: 1, count: Self.warmUp - 1, clients: Self.clients, seconds: 60)
        #expect(warm.failed == 0, "\(warm.failed) of the first \(Self.warmUp - 1) requests failed")
        let warmPrinted = waitForTrees(serve, Self.warmUp, seconds: 30)
        #expect(warmPrinted == Self.warmUp, "serve printed \(warmPrinted) of \(Self.warmUp) request trees within 30 s")
        let before = try #require(residentKB(serve.pid), "no VmRSS for serve (pid \(serve.pid))")

        let rest = drive(port: port, from: Self.warmUp, count: Self.total - Self.warmUp, clients: Self.clients, seconds: 120)
        #expect(rest.failed == 0, "\(rest.failed) of \(Self.total - Self.warmUp) requests failed")
        let printed = waitForTrees(serve, Self.total, seconds: 20)
        #expect(
            printed == Self.total,
            "serve fell behind: \(printed) of \(Self.total) request trees printed 20 s after the load ended")
        let after = try #require(residentKB(serve.pid), "no VmRSS for serve (pid \(serve.pid))")
        #expect(
            after - before < Self.growthLimitKB,
            "serve's resident set grew by \(after - before) kB (\(before) → \(after) kB) over \(Self.total - Self.warmUp) requests")

        serve.signal(SIGINT)
        let status = serve.wait(timeout: 15)
        #expect(status == 0, "serve did not stop cleanly on SIGINT within 15 s (status \(status.map(String.init) ?? "none: killed"))")
        let output = serve.stdout
        #expect(treeCount(output) == Self.total, "\(treeCount(output)) trees in the final output, \(Self.total) requests")
        for number in [0, 1, Self.warmUp, Self.total - 1] {
            #expect(output.contains("b'req \(number)'"), "the handler's line for request \(number) is missing")
        }
        #expect(output.contains("server_close  ThreadingMixIn"))
    }
}

// MARK: - Helpers

/// How many request trees `output` holds: each starts with its `_handle_request_noblock` line.
func treeCount(_ output: String) -> Int { treeCount(Data(output.utf8)) }

/// How many request trees the bytes hold.
func treeCount(_ output: Data) -> Int {
    let marker = Data("_handle_request_noblock  BaseServer".utf8)
    var count = 0
    var start = output.startIndex
    while let found = output.range(of: marker, in: start..<output.endIndex) {
        count += 1
        start = found.upperBound
    }
    return count
}

/// Polls `serve`'s output until it holds `expected` request trees or `seconds` pass.
/// - Returns: how many trees were printed.
func waitForTrees(_ serve: ChildProcess, _ expected: Int, seconds: Double) -> Int {
    let deadline = Date().addingTimeInterval(seconds)
    var count = treeCount(serve.stdoutBytes)
    while count < expected && Date() < deadline {
        usleep(250_000)
        count = treeCount(serve.stdoutBytes)
    }
    return count
}

/// The resident set of process `pid` in kB (`VmRSS` of /proc/PID/status).
func residentKB(_ pid: pid_t) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }
    return nil
}

/// What a load run did.
struct LoadResult {
    var succeeded = 0
    var failed = 0
}

/// Sends requests `from ..< from + count` (`"req N\n"`, expecting `"REQ N"`), one connection
/// each, from `clients` threads, and stops sending after `seconds`. Every socket has 5 s
/// timeouts for connect, send and receive, so a client thread cannot hang; the threads are
/// waited for at most 20 s past the deadline, and a thread still running then is reported.
func drive(port: Int, from: Int, count: Int, clients: Int, seconds: Double) -> LoadResult {
    final class Shared: Sendable {
        let state = Mutex((next: 0, result: LoadResult()))
    }
    let shared = Shared()
    let deadline = Date().addingTimeInterval(seconds)
    let group = DispatchGroup()
    for _ in 0..<clients {
        group.enter()
        let thread = Thread {
            defer { group.leave() }
            while Date() < deadline {
                let index = shared.state.withLock { state -> Int? in
                    guard state.next < count else { return nil }
                    state.next += 1
                    return state.next - 1
                }
                guard let index else { break }
                let number = from + index
                let ok = exchange(port, "req \(number)\n") == Array("REQ \(number)".utf8)
                shared.state.withLock { ok ? ($0.result.succeeded += 1) : ($0.result.failed += 1) }
            }
        }
        thread.start()
    }
    if group.wait(timeout: .now() + seconds + 20) == .timedOut {
        Issue.record("load client threads still running 20 s after their deadline")
    }
    return shared.state.withLock { state in
        var result = state.result
        result.failed += count - state.next  // never sent: the deadline passed
        return result
    }
}

/// One request on a fresh connection to 127.0.0.1:`port`: send `line`, read until EOF.
/// - Returns: the reply, or nil when the connection failed or timed out.
func exchange(_ port: Int, _ line: String) -> [UInt8]? {
    connectLoopback(port).flatMap { converse($0, line) }
}
