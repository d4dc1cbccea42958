// The port against CPython 3.13, call by call: for every scenario `socketserver-trace run`
// offers, the functions of socketserver.py called in each thread of each process are the
// functions CPython 3.13 calls, in the same order.
//
// Each test runs one scenario twice over: in CPython, with Tests/CLITests/cpython_trace.py (the
// same server class, handlers and clients as Sources/socketserver-trace/Scenario.swift, traced
// with sys.setprofile), and in the port, with the built `socketserver-trace run ... --format
// jsonl` (once with --real-clock, every event as it happened, and once in the default
// deterministic mode, which folds runs of identical sibling subtrees). Both sides give, per
// lane (P0/T0, P0/T1, P1/T1...: processes in fork order, threads in start order), the list of
// functions called; after the collapse below, the lists must be equal, lane by lane.
//
// What is compared, and the differences handled on purpose (none is hidden):
//
// - Timing: how many idle turns serve_forever takes before, between and after the requests
//   depends on the clock (poll_interval 0.5). Every `BaseServer.service_actions` and
//   `ForkingMixIn.service_actions` call is dropped, with the one `ForkingMixIn.collect_children`
//   that ForkingMixIn.service_actions makes (the call right after it). collect_children called
//   from handle_timeout or server_close is compared. Separately, in serve_forever mode, both
//   sides must show, on the serving lane, at least one service_actions per
//   `_handle_request_noblock` (each turn that handles a request ends with one), and at least
//   one when the scenario's clients wait for their replies.
// - `_Threads.reap`'s generator expression: CPython's profiler reports a `call` for each resume
//   of the `<genexpr>` frame inside `_Threads.reap`; it is not a function of the module and the
//   port (a `removeAll(where:)`) has no such frame. cpython_trace.py leaves out code objects
//   whose qualified name contains `<` (only that one exists in socketserver.py).
// - Not special-cased, and so compared as is: `TCPServer.fileno` (CPython calls it through
//   selector.register, the port through its selector: both record it once per
//   serve_forever/handle_request); `_SocketWriter.__init__`/`write`,
//   `_Threads.append/reap/pop_all/join`, `_NoThreads.join` (the extra scenario "threading
//   server, no request" shows it); `BaseServer.__enter__/__exit__` appear on neither side (the
//   scenario uses no `with`), which each test checks.
// - The scenario's own methods are named as CPython names them: `MyTCPHandler.handle`,
//   `MyStreamHandler.handle`, `MyDatagramHandler.handle`, `BadHandler.handle`, and
//   `Rejecting<Server>.verify_request` for --reject.
// - A scenario race (in Scenario.swift, reproduced as is in cpython_trace.py, not a port
//   difference): with a datagram server in serve_forever mode, when the clients expect no reply
//   (--reject, or the error handler), the main thread calls shutdown() right after sending, and
//   serve_forever usually stops before it reads the datagram (often before its first turn). The
//   test then runs both sides again (up to 6 times) until they handled the same number of
//   requests, compares them, and records the unhandled requests as a known, intermittent issue.
//
// Needs CPython 3.13 as `PYENV_VERSION=3.13.0 python3` and the built `socketserver-trace` next
// to the test bundle (or at $SOCKETSERVER_TRACE); the suite is skipped without them.
// By hand, for one scenario: see the top of cpython_trace.py.
import Foundation
import Glibc
import TestSupport
import Testing

/// One scenario of `socketserver-trace run`.
struct ComparedScenario: Sendable, CustomTestStringConvertible {
    var server: String
    var handler = "uppercase"
    var requests = 2
    var reject = false
    var mode = "serve_forever"
    var timeout: String? = nil

    /// The options, the same for both sides.
    var arguments: [String] {
        var list = ["--server", server, "--handler", handler, "--requests", String(requests), "--mode", mode]
        if reject { list.append("--reject") }
        if let timeout { list += ["--timeout", timeout] }
        return list
    }

    var testDescription: String { arguments.joined(separator: " ") }

    var isDatagram: Bool { server.contains("UDP") || server.contains("Datagram") }

    /// Whether every request is handled before the scenario ends: false only for the datagram
    /// clients that expect no reply, which race shutdown() in serve_forever mode.
    var clientsWait: Bool { mode == "handle_request" || !isDatagram || !(reject || handler == "error") }

    /// The scenario handler's `handle`, as CPython names it.
    var handleFunction: String {
        switch handler {
        case "stream": return "MyStreamHandler.handle"
        case "datagram": return "MyDatagramHandler.handle"
        case "error": return "BadHandler.handle"
        default: return "MyTCPHandler.handle"
        }
    }
}

/// Calls per lane ("P0/T1"), in order.
typealias CallLanes = [String: [String]]

/// Where the tools are, and whether the suite can run.
enum ComparisonTools {
    /// The built CLI: $SOCKETSERVER_TRACE, else next to the test bundle (the directory of
    /// /proc/self/exe, `.build/<config>/`).
    static let binary: String? = {
        if let path = ProcessInfo.processInfo.environment["SOCKETSERVER_TRACE"] {
            return FileManager.default.isExecutableFile(atPath: path) ? path : nil
        }
        guard let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            return nil
        }
        let path = URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("socketserver-trace").path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }()

    /// cpython_trace.py, beside this file.
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("cpython_trace.py").path

    static let pythonEnvironment = ["PYENV_VERSION": "3.13.0"]

    /// The version `PYENV_VERSION=3.13.0 python3` reports, if it runs.
    static let pythonVersion: String? = {
        guard
            let done = try? runComparisonProcess(
                ["/usr/bin/env", "python3", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                environment: pythonEnvironment, timeout: 30),
            done.status == 0
        else { return nil }
        return done.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }()

    /// Why the suite cannot run, if it cannot.
    static let missing: String? = {
        var reasons: [String] = []
        if pythonVersion != "3.13" {
            reasons.append("`PYENV_VERSION=3.13.0 python3` is not CPython 3.13 (got \(pythonVersion ?? "nothing"))")
        }
        if binary == nil {
            reasons.append("socketserver-trace is not built next to the test bundle (build it, or set SOCKETSERVER_TRACE)")
        }
        if !FileManager.default.fileExists(atPath: script) { reasons.append("\(script) is missing") }
        return reasons.isEmpty ? nil : reasons.joined(separator: "; ")
    }()

    /// Whether the suite runs; says why not on standard error.
    static var ready: Bool {
        if let missing {
            FileHandle.standardError.write(Data("CPythonComparison skipped: \(missing)\n".utf8))
            return false
        }
        return true
    }
}

/// A finished child process.
/// A process the comparison runs: the shared runner of CLISupport.swift.
func runComparisonProcess(_ command: [String], environment: [String: String] = [:], timeout: Double) throws -> RunResult {
    try runCommand(command, environment: environment, timeout: timeout)
}

struct ComparisonSideFailed: Error, CustomStringConvertible {
    let description: String
}

/// CPython's lanes for `scenario`, from cpython_trace.py's JSON.
func cpythonLanes(_ scenario: ComparedScenario) throws -> CallLanes {
    let command = ["/usr/bin/env", "python3", ComparisonTools.script] + scenario.arguments
    let done = try runComparisonProcess(command, environment: ComparisonTools.pythonEnvironment, timeout: 90)
    guard done.status == 0,
        let object = try? JSONSerialization.jsonObject(with: Data(done.stdout.utf8)) as? [String: Any],
        let lanes = object["lanes"] as? [[String: Any]]
    else {
        throw ComparisonSideFailed(description: "cpython_trace.py \(scenario) exited \(done.status):\n\(done.stdout)\n\(done.stderr)")
    }
    var result: CallLanes = [:]
    for lane in lanes {
        guard let process = lane["process"] as? String, let thread = lane["thread"] as? String,
            let calls = lane["calls"] as? [String]
        else { throw ComparisonSideFailed(description: "cpython_trace.py: malformed lane \(lane)") }
        result["\(process)/\(thread)"] = calls
    }
    return result
}

/// The port's lanes for `scenario`: the `call` events of `socketserver-trace run --format jsonl`.
func portLanes(_ scenario: ComparedScenario, realClock: Bool) throws -> CallLanes {
    let command =
        [ComparisonTools.binary!, "run"] + scenario.arguments + ["--format", "jsonl"] + (realClock ? ["--real-clock"] : [])
    let done = try runComparisonProcess(command, timeout: 90)
    guard done.status == 0 else {
        throw ComparisonSideFailed(description: "\(command.joined(separator: " ")) exited \(done.status):\n\(done.stderr)")
    }
    var result: CallLanes = [:]
    for line in done.stdout.split(separator: "\n") where !line.isEmpty {
        guard let event = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let kind = event["event"] as? String, let function = event["function"] as? String,
            let process = event["process"] as? String, let thread = event["thread"] as? String
        else { throw ComparisonSideFailed(description: "malformed JSON Lines event: \(line)") }
        if kind == "call" { result["\(process)/\(thread)", default: []].append(function) }
    }
    return result
}

/// The calls left to compare: every service_actions call dropped, with the collect_children
/// ForkingMixIn.service_actions makes (see the top of this file).
func collapseIdleTurns(_ calls: [String]) -> [String] {
    var result: [String] = []
    var previous: String? = nil
    for name in calls {
        defer { previous = name }
        if name == "BaseServer.service_actions" || name == "ForkingMixIn.service_actions" { continue }
        if name == "ForkingMixIn.collect_children" && previous == "ForkingMixIn.service_actions" { continue }
        result.append(name)
    }
    return result
}

/// Lane keys in order: by process number, then thread number.
func orderedLaneKeys(_ keys: some Sequence<String>) -> [String] {
    func numbers(_ key: String) -> [Int] {
        key.split(separator: "/").map { Int($0.dropFirst()) ?? Int.max }
    }
    return Set(keys).sorted { numbers($0).lexicographicallyPrecedes(numbers($1)) }
}

/// A line diff (longest common subsequence): "    same", "  - CPython only", "  + port only".
func laneDiff(_ a: [String], _ b: [String]) -> String {
    let n = a.count, m = b.count
    var common = Array(repeating: Array(repeating: 0, count: m + 1), count: n + 1)
    for i in stride(from: n - 1, through: 0, by: -1) {
        for j in stride(from: m - 1, through: 0, by: -1) {
            common[i][j] = a[i] == b[j] ? common[i + 1][j + 1] + 1 : max(common[i + 1][j], common[i][j + 1])
        }
    }
    var lines = ["  (- CPython 3.13 only, + port only)"]
    var i = 0, j = 0
    while i < n || j < m {
        if i < n, j < m, a[i] == b[j] {
            lines.append("    \(a[i])")
            i += 1
            j += 1
        } else if j < m, i == n || common[i][j + 1] >= common[i + 1][j] {
            lines.append("  + \(b[j])")
            j += 1
        } else {
            lines.append("  - \(a[i])")
            i += 1
        }
    }
    return lines.joined(separator: "\n")
}

func comparisonCount(_ lanes: CallLanes, _ predicate: (String) -> Bool) -> Int {
    lanes.values.reduce(0) { $0 + $1.filter(predicate).count }
}

/// How many requests a side read (get_request calls).
func requestsRead(_ lanes: CallLanes) -> Int { comparisonCount(lanes) { $0.hasSuffix(".get_request") } }

/// Runs `scenario` on both sides and checks them lane by lane.
func compareWithCPython(_ scenario: ComparedScenario) throws {
    var sides: [(name: String, lanes: CallLanes)] = []
    for attempt in 1...(scenario.clientsWait ? 1 : 6) {
        sides = [
            ("CPython 3.13", try cpythonLanes(scenario)),
            ("port (--real-clock)", try portLanes(scenario, realClock: true)),
            ("port (deterministic)", try portLanes(scenario, realClock: false)),
        ]
        if Set(sides.map { requestsRead($0.lanes) }).count == 1 { break }
        print("\(scenario): attempt \(attempt): the sides handled \(sides.map { requestsRead($0.lanes) }) requests (scenario race); running again")
    }
    let cpython = sides[0].lanes
    #expect(!cpython.isEmpty, "\(scenario): CPython recorded no call")

    for (name, lanes) in sides.dropFirst() {
        for key in orderedLaneKeys(Array(cpython.keys) + Array(lanes.keys)) {
            let expected = collapseIdleTurns(cpython[key] ?? []), actual = collapseIdleTurns(lanes[key] ?? [])
            let equal = expected == actual
            #expect(
                equal,
                "\(scenario): lane \(key): the \(name) calls differ from CPython 3.13's:\n\(laneDiff(expected, actual))")
        }
    }

    for (name, lanes) in sides {
        // No `with` in the scenario: no __enter__/__exit__ on either side.
        #expect(comparisonCount(lanes) { $0.hasSuffix(".__enter__") || $0.hasSuffix(".__exit__") } == 0, "\(scenario): \(name)")
        if scenario.mode == "serve_forever" {
            // The dropped service_actions: one per request-handling turn at least.
            for (key, calls) in lanes where calls.contains("BaseServer.serve_forever") {
                let turns = calls.filter { $0.hasSuffix("service_actions") }.count
                let requests = calls.filter { $0 == "BaseServer._handle_request_noblock" }.count
                #expect(turns >= requests, "\(scenario): \(name) lane \(key): \(turns) service_actions for \(requests) requests")
                if scenario.clientsWait && scenario.requests > 0 {
                    #expect(turns >= 1, "\(scenario): \(name) lane \(key): no service_actions")
                }
            }
        }
        // Not vacuous: every request reached the handler (or was rejected).
        let expectedRequests = scenario.requests
        let handles = comparisonCount(lanes) { $0 == scenario.handleFunction }
        let rejected = comparisonCount(lanes) { $0.hasSuffix(".verify_request") && $0.hasPrefix("Rejecting") }
        if scenario.clientsWait {
            #expect(requestsRead(lanes) == expectedRequests, "\(scenario): \(name) read \(requestsRead(lanes)) requests")
            #expect((scenario.reject ? rejected : handles) == expectedRequests, "\(scenario): \(name)")
        } else {
            withKnownIssue(
                "Scenario race: a datagram client expecting no reply is followed at once by shutdown(), which serve_forever often sees before the datagram",
                isIntermittent: true
            ) {
                #expect(requestsRead(lanes) == expectedRequests, "\(scenario): \(name) read \(requestsRead(lanes)) of \(expectedRequests) requests")
            }
        }
    }
}

@Suite(
    "CPythonComparison", .serialized,
    .enabled(
        if: ComparisonTools.ready,
        "needs CPython 3.13 as `PYENV_VERSION=3.13.0 python3` and the built socketserver-trace next to the test bundle"))
struct CPythonComparisonTests {
    /// Every server class the CLI offers, with the notes' handler, two requests, serve_forever.
    static let serverClasses: [ComparedScenario] = [
        "TCPServer", "UDPServer", "ForkingUDPServer", "ForkingTCPServer", "ThreadingUDPServer",
        "ThreadingTCPServer", "UnixStreamServer", "UnixDatagramServer", "ThreadingUnixStreamServer",
        "ThreadingUnixDatagramServer", "ForkingUnixStreamServer", "ForkingUnixDatagramServer",
    ].map { ComparedScenario(server: $0) }

    /// The other handlers, and verify_request returning False.
    static let handlers: [ComparedScenario] = [
        ComparedScenario(server: "TCPServer", handler: "stream"),
        ComparedScenario(server: "ThreadingUnixStreamServer", handler: "stream"),
        ComparedScenario(server: "UDPServer", handler: "datagram"),
        ComparedScenario(server: "UnixDatagramServer", handler: "datagram"),
        ComparedScenario(server: "TCPServer", handler: "error"),
        ComparedScenario(server: "ThreadingTCPServer", handler: "error"),
        ComparedScenario(server: "ForkingTCPServer", handler: "error"),
        ComparedScenario(server: "TCPServer", reject: true),
        ComparedScenario(server: "UDPServer", reject: true),
    ]

    /// handle_request mode: requests, and a timeout with none (handle_timeout). The threading
    /// server with no request is an addition to show `_NoThreads.join`.
    static let handleRequest: [ComparedScenario] = [
        ComparedScenario(server: "TCPServer", mode: "handle_request"),
        ComparedScenario(server: "UDPServer", mode: "handle_request"),
        ComparedScenario(server: "TCPServer", requests: 0, mode: "handle_request", timeout: "0.2"),
        ComparedScenario(server: "ForkingTCPServer", requests: 0, mode: "handle_request", timeout: "0.2"),
        ComparedScenario(server: "ThreadingTCPServer", requests: 0, mode: "handle_request", timeout: "0.2"),
    ]

    @Test("Each server class calls what CPython calls", .timeLimit(.minutes(2)), arguments: serverClasses)
    func serverClass(_ scenario: ComparedScenario) throws {
        try compareWithCPython(scenario)
    }

    @Test("Each handler, and rejection, calls what CPython calls", .timeLimit(.minutes(2)), arguments: handlers)
    func handler(_ scenario: ComparedScenario) throws {
        try compareWithCPython(scenario)
    }

    @Test("handle_request mode calls what CPython calls", .timeLimit(.minutes(2)), arguments: handleRequest)
    func handleRequestMode(_ scenario: ComparedScenario) throws {
        try compareWithCPython(scenario)
    }

    @Test("The comparison rule drops idle turns only", .timeLimit(.minutes(2)))
    func collapseRule() {
        let calls = [
            "BaseServer.serve_forever", "TCPServer.fileno", "ForkingMixIn.service_actions",
            "ForkingMixIn.collect_children", "BaseServer._handle_request_noblock", "BaseServer.service_actions",
            "ForkingMixIn.server_close", "TCPServer.server_close", "ForkingMixIn.collect_children",
        ]
        #expect(
            collapseIdleTurns(calls) == [
                "BaseServer.serve_forever", "TCPServer.fileno", "BaseServer._handle_request_noblock",
                "ForkingMixIn.server_close", "TCPServer.server_close", "ForkingMixIn.collect_children",
            ])
        #expect(laneDiff(["a", "b", "c"], ["a", "c", "d"]).split(separator: "\n").dropFirst() == ["    a", "  - b", "    c", "  + d"])
    }
}
