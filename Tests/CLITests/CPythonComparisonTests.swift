// The port against CPython 3.13, call by call, through the tool's own `compare`: for every
// scenario `socketserver-trace run` offers, the functions of socketserver.py called in each
// thread of each process are the ones CPython 3.13 calls, in the same order, nested the same
// way, ending the same way, with their defs on the same lines.
//
// `compare` runs the scenario in CPython with the CPython side of the scenarios and the
// sys.setprofile tracer it ships (Sources/socketserver-trace/CPythonScenario.swift and
// PythonTracer.swift: the one copy, which these tests use as a reader would), and in the port;
// it matches lanes by label (P0/T0, P0/T1, P1/T1...: processes in fork order, threads in start
// order) and compares them row by row (Tracing's ViewCompare.swift). What it leaves out, on
// purpose and on both sides:
//
// - Idle turns: how many idle turns serve_forever takes before, between and after the requests
//   depends on the clock (poll_interval 0.5). A `service_actions` call of serve_forever that
//   does not follow a `_handle_request_noblock` (with what it calls: ForkingMixIn's
//   collect_children) is an idle turn; a run of them is one row, not compared. The
//   service_actions that ends a turn which handled a request is compared.
// - `_Threads.reap`'s generator expression: CPython's profiler reports a `call` for each resume
//   of the `<genexpr>` frame; it is no function of the module and the port (a
//   `removeAll(where:)`) has no such frame. The tracer leaves out code objects whose qualified
//   name contains `<` (only that one exists in socketserver.py).
// - Arguments and results (ports, descriptors, addresses differ from run to run).
// - The scenario's own methods are named as CPython names them (`MyTCPHandler.handle`,
//   `RejectingTCPServer.verify_request`); they have no line on either side (the port's have no
//   Python line, and compare asks the tracer to leave out the script's).
//
// Besides the verdict, each test checks that the comparison is not vacuous: both columns show
// every request reaching the handler (or being turned away). A second test feeds compare the
// port's deterministic JSON Lines (--port-trace), which must compare identical too; a third
// changes one call of such a trace and expects exit 1 and the difference named.
//
// A scenario race (in Scenario.swift and in the CPython scenario alike, not a port difference):
// with a datagram server in serve_forever mode, when the clients expect no reply (--reject, or
// the error handler), shutdown() can come before serve_forever reads the datagram. Such a
// scenario is run again (up to 6 times) until both sides handled it, and a run where they never
// did is recorded as a known, intermittent issue.
//
// Needs CPython 3.13 as `PYENV_VERSION=3.13.0 python3`; the suite is skipped without it.
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

    /// The options, the same for `run` and `compare`.
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

    /// The row that shows one request reaching its end: the handler's `handle`, or the
    /// rejecting `verify_request`.
    var requestRow: String {
        if reject { return "verify_request  Rejecting\(server)" }
        switch handler {
        case "stream": return "handle  MyStreamHandler"
        case "datagram": return "handle  MyDatagramHandler"
        case "error": return "handle  BadHandler"
        default: return "handle  MyTCPHandler"
        }
    }
}

/// Whether the suite can run.
enum ComparisonTools {
    /// The version `PYENV_VERSION=3.13.0 python3` reports, if it runs.
    static let pythonVersion: String? = {
        guard
            let done = try? runCommand(
                ["/usr/bin/env", "python3", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                environment: ["PYENV_VERSION": "3.13.0"], timeout: 30),
            done.status == 0
        else { return nil }
        return done.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }()

    /// Whether CPython 3.13 is here; says why not on standard error.
    static var ready: Bool {
        if pythonVersion != "3.13" {
            FileHandle.standardError.write(
                Data("CPython 3.13 suites skipped: `PYENV_VERSION=3.13.0 python3` is \(pythonVersion ?? "missing")\n".utf8))
            return false
        }
        return true
    }
}

/// What `compare` printed, read back: each lane's verdict, and its rows split into the two
/// columns.
struct ComparisonReport: CustomStringConvertible {
    let result: RunResult
    /// `P0/T1` → identical.
    var verdicts: [(lane: String, identical: Bool)] = []
    /// Every row of every lane: the CPython cell and the port's.
    var rows: [(cpython: String, port: String)] = []

    init(_ result: RunResult) {
        self.result = result
        for line in result.stdout.split(separator: "\n").map(String.init) {
            if let colon = line.firstIndex(of: ":"), line.hasPrefix("P"), !line.contains("│") {
                verdicts.append((String(line[..<colon]), line[colon...].hasPrefix(": identical")))
            } else if let bar = line.range(of: " │ ") {
                rows.append((String(line[..<bar.lowerBound].dropFirst(3)), String(line[bar.upperBound...])))
            }
        }
    }

    /// How many rows of a side contain `text`.
    func count(_ text: String, cpython: Bool) -> Int {
        rows.filter { (cpython ? $0.cpython : $0.port).contains(text) }.count
    }

    var description: String { "exit \(result.status)\n\(result.stdout)\(result.stderr)" }
}

/// Runs `compare` for `scenario` (with `extra` options).
func compareReport(_ scenario: ComparedScenario, _ extra: [String] = []) throws -> ComparisonReport {
    ComparisonReport(try runTool(["compare"] + scenario.arguments + extra, timeout: 120))
}

/// Compares `scenario` and checks the verdict and that both sides served every request.
func expectIdentical(_ scenario: ComparedScenario) throws {
    var report = try compareReport(scenario)
    if !scenario.clientsWait {
        for attempt in 2...6 where report.result.status != 0 {
            print("\(scenario): attempt \(attempt): the sides differed (the scenario's datagram race); running again")
            report = try compareReport(scenario)
        }
        if report.result.status != 0 {
            withKnownIssue(
                "Scenario race: a datagram client expecting no reply is followed at once by shutdown(), which serve_forever may see before the datagram",
                isIntermittent: true
            ) { Issue.record("\(scenario): \(report)") }
            return
        }
    }
    #expect(report.result.status == 0, "\(scenario): \(report)")
    #expect(!report.verdicts.isEmpty && report.verdicts.allSatisfy(\.identical), "\(scenario): \(report)")
    #expect(report.result.stdout.hasSuffix("identical: every lane (\(report.verdicts.count))\n"), "\(scenario): \(report)")
    // Not vacuous: every request reached the handler (or was turned away), on both sides.
    for cpython in [true, false] {
        #expect(
            report.count(scenario.requestRow, cpython: cpython) == scenario.requests,
            "\(scenario): \(cpython ? "CPython" : "the port") shows \(report.count(scenario.requestRow, cpython: cpython)) × `\(scenario.requestRow)`")
        // No `with` in the scenario: no __enter__/__exit__ on either side.
        #expect(report.count("__enter__", cpython: cpython) == 0, "\(scenario)")
    }
}

@Suite(
    "CPythonComparison", .serialized,
    .enabled(if: ComparisonTools.ready, "needs CPython 3.13 as `PYENV_VERSION=3.13.0 python3`"))
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
        ComparedScenario(server: "ForkingUnixStreamServer", handler: "stream", reject: true),
    ]

    /// handle_request mode: requests, and a timeout with none (handle_timeout). The threading
    /// server with no request is an addition to show `_NoThreads.join`.
    static let handleRequest: [ComparedScenario] = [
        ComparedScenario(server: "TCPServer", mode: "handle_request"),
        ComparedScenario(server: "UDPServer", mode: "handle_request"),
        ComparedScenario(server: "ForkingUnixDatagramServer", handler: "datagram", mode: "handle_request"),
        ComparedScenario(server: "ThreadingUDPServer", handler: "error", mode: "handle_request"),
        ComparedScenario(server: "TCPServer", requests: 0, mode: "handle_request", timeout: "0.2"),
        ComparedScenario(server: "ForkingTCPServer", requests: 0, mode: "handle_request", timeout: "0.2"),
        ComparedScenario(server: "ThreadingTCPServer", requests: 0, mode: "handle_request", timeout: "0.2"),
    ]

    @Test("Each server class calls what CPython calls", .timeLimit(.minutes(3)), arguments: serverClasses)
    func serverClass(_ scenario: ComparedScenario) throws {
        try expectIdentical(scenario)
    }

    @Test("Each handler, and rejection, calls what CPython calls", .timeLimit(.minutes(3)), arguments: handlers)
    func handler(_ scenario: ComparedScenario) throws {
        try expectIdentical(scenario)
    }

    @Test("handle_request mode calls what CPython calls", .timeLimit(.minutes(3)), arguments: handleRequest)
    func handleRequestMode(_ scenario: ComparedScenario) throws {
        try expectIdentical(scenario)
    }

    /// The scenarios of the golden files (their deterministic JSON Lines fold repeated calls).
    static let recordedScenarios: [ComparedScenario] = [
        ComparedScenario(server: "ThreadingTCPServer"), ComparedScenario(server: "ForkingTCPServer"),
        ComparedScenario(server: "UDPServer", handler: "datagram"), ComparedScenario(server: "TCPServer", handler: "error"),
    ]

    @Test("The port's deterministic JSON Lines compare identical too", .timeLimit(.minutes(3)), arguments: recordedScenarios)
    func recordedPort(_ scenario: ComparedScenario) throws {
        let folder = try TempDir()
        defer { folder.remove() }
        let trace = folder.path + "/port.jsonl"
        let recorded = try runTool(["run"] + scenario.arguments + ["--format", "jsonl", "--output", trace])
        try #require(recorded.status == 0, "\(recorded.stderr)")
        let report = try compareReport(scenario, ["--port-trace", trace])
        #expect(report.result.status == 0, "\(scenario): \(report)")
        #expect(report.result.stdout.contains("the port (from --port-trace) on the right"))
    }

    @Test("A broken port (a recorded trace with one call changed) exits 1 and names the difference", .timeLimit(.minutes(2)))
    func brokenPort() throws {
        let scenario = ComparedScenario(server: "ThreadingTCPServer", requests: 1)
        let folder = try TempDir()
        defer { folder.remove() }
        let recorded = try runTool(["run"] + scenario.arguments + ["--format", "jsonl"])
        try #require(recorded.status == 0, "\(recorded.stderr)")
        // Three ways a port can go wrong: a def on another line, another class's method, a
        // call that raises where CPython's returns. Each changes the first line holding `find`.
        let breakages: [(find: String, change: (String) -> String, says: String)] = [
            (#""event":"call","function":"TCPServer.close_request""#,
             { $0.replacingOccurrences(of: #""py_line":518"#, with: #""py_line":519"#) },
             "the def is at line 518 in CPython 3.13.0, line 519 in the port"),
            (#""event":"call","function":"BaseServer.verify_request""#,
             { $0.replacingOccurrences(of: "BaseServer.verify_request", with: "TCPServer.verify_request") },
             "CPython 3.13.0 calls BaseServer.verify_request, the port TCPServer.verify_request"),
            (#""event":"return","function":"BaseServer.finish_request""#,
             {
                 $0.replacingOccurrences(of: #""event":"return""#, with: #""event":"raise""#)
                     .replacingOccurrences(of: #""detail":"-> None""#, with: #""detail":"OSError: broken""#)
             },
             "the call returned in CPython 3.13.0, raised OSError in the port"),
        ]
        for (index, breakage) in breakages.enumerated() {
            var lines = recorded.stdout.split(separator: "\n").map(String.init)
            let target = try #require(lines.firstIndex { $0.contains(breakage.find) }, "\(breakage.find) is in the trace")
            let changed = breakage.change(lines[target])
            try #require(changed != lines[target], "the change applies to \(lines[target])")
            lines[target] = changed
            let trace = folder.path + "/broken\(index).jsonl"
            try (lines.joined(separator: "\n") + "\n").write(toFile: trace, atomically: true, encoding: .utf8)
            let report = try compareReport(scenario, ["--port-trace", trace])
            #expect(report.result.status == 1, "\(breakage.says): \(report)")
            #expect(report.verdicts.contains { !$0.identical }, "\(report)")
            #expect(report.result.stdout.contains("└ first difference: "), "\(report)")
            #expect(report.result.stdout.contains(breakage.says), "\(breakage.says): \(report)")
            #expect(report.result.stdout.contains("\ndifferent: 1 of 3 lanes"), "\(report)")
        }
    }

    @Test("compare, whole, for the notes' scenario (a golden file)", .timeLimit(.minutes(2)))
    func golden() throws {
        let result = try runTool(["compare"])
        #expect(result.status == 0, "\(result.stderr)")
        try checkGolden("compare.txt", result.stdout)
    }
}

@Suite("CompareErrors")
struct CompareErrorTests {
    @Test("no CPython to compare with: a clear message, exit 1", .timeLimit(.minutes(1)))
    func noPython() throws {
        let result = try expectFailure(["compare", "--python", "/nonexistent/python3"], status: 1)
        #expect(result.stdout.isEmpty)
        #expect(
            result.stderr == "socketserver-trace: error: argument --python: '/nonexistent/python3' does not run as Python\n",
            "\(result.stderr)")
        // None named, and no python3 on PATH.
        let none = try expectFailure(["compare"], environment: ["PATH": "/nonexistent"], status: 1)
        #expect(
            none.stderr == "socketserver-trace: error: no CPython 3.13 to compare with: `PYENV_VERSION=3.13.0 python3` does not run; name one with --python PATH\n",
            "\(none.stderr)")
        // Something that runs, but is no Python.
        try expectFailure(["compare", "--python", "/bin/true"], status: 1, saying: "'/bin/true' does not run as Python")
    }

    @Test("a --port-trace that cannot be read or is no trace is an error, exit 1", .timeLimit(.minutes(1)))
    func badPortTrace() throws {
        let folder = try TempDir()
        defer { folder.remove() }
        try expectFailure(
            ["compare", "--port-trace", folder.path + "/none.jsonl"], status: 1, saying: "argument --port-trace: can't open")
        let garbage = folder.path + "/garbage.jsonl"
        try "{\"event\":\"call\"}\nnot json\n".write(toFile: garbage, atomically: true, encoding: .utf8)
        try expectFailure(["compare", "--port-trace", garbage], status: 1, saying: "line 1: no process field")
    }
}
