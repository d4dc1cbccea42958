// Tests of what `compare`, `diff` and `python` build on: a JSON Lines trace read back into a
// recording, the alignment of two lists, the rows with idle turns folded, and the comparison's
// verdicts.
import Testing

@testable import Tracing

/// A JSON Lines call, return or raise line as the Python tracer writes one.
private func line(
    _ kind: String, _ function: String, process: String = "P0", thread: String = "T0", depth: Int,
    pyLine: Int? = nil, detail: String = "", t: Int = 0
) -> String {
    #"{"event": "\#(kind)", "function": "\#(function)", "self": "X", "py_line": \#(pyLine.map(String.init) ?? "null"), "process": "\#(process)", "thread": "\#(thread)", "request": null, "depth": \#(depth), "detail": "\#(detail)", "pid": 100, "tid": 101, "t": \#(t)}"#
}

/// Calls given as (depth, function), each returning at once unless a deeper call follows.
private func lane(_ calls: [(Int, String)], thread: String = "T0", lines: [String: Int] = [:]) -> [String] {
    var out: [String] = []
    var open: [(Int, String)] = []
    for (depth, function) in calls {
        while let last = open.last, last.0 >= depth {
            out.append(line("return", last.1, thread: thread, depth: last.0, pyLine: lines[last.1], detail: "-> None"))
            open.removeLast()
        }
        out.append(line("call", function, thread: thread, depth: depth, pyLine: lines[function]))
        open.append((depth, function))
    }
    for last in open.reversed() {
        out.append(line("return", last.1, thread: thread, depth: last.0, pyLine: lines[last.1], detail: "-> None"))
    }
    return out
}

private func recording(_ lines: [String]) throws -> Recording {
    try readTraceFile(lines.joined(separator: "\n") + "\n", deterministic: true)
}

@Suite("SideBySide")
struct SideBySideTests {
    @Test("a recording survives the JSON Lines view and readTraceFile, event by event")
    func roundTrip() throws {
        let original = try SyntheticScenario.record(deterministic: false)
        let read = try readTraceFile(renderJSONL(original), deterministic: false)
        try #require(read.events.count == original.events.count)
        for (a, b) in zip(original.events, read.events) {
            #expect(a.kind == b.kind && a.function == b.function && a.definingClass == b.definingClass)
            #expect(a.method == b.method && a.selfClass == b.selfClass && a.swift == b.swift)
            #expect(a.swiftFile == b.swiftFile && a.swiftLine == b.swiftLine && a.pyLine == b.pyLine)
            #expect(a.process == b.process && a.thread == b.thread && a.pid == b.pid && a.tid == b.tid)
            #expect(a.request == b.request && a.depth == b.depth)
            #expect(escapeUnsafeCharacters(a.detail) == b.detail)
            #expect(microseconds(a.time, since: original.origin) * 1000 == b.time)
        }
        // Read back, the trace compares identical to the recording, lane by lane.
        let (text, lanes) = renderComparison(original, read, names: ("recorded", "read back"))
        #expect(!lanes.isEmpty && lanes.allSatisfy(\.identical), "\(text)")
    }

    @Test("the tracer's process, thread, spawn and exit lines become the recording's")
    func tracerLines() throws {
        let text = [
            #"{"event": "process", "process": "P0", "pid": 100, "parent": null, "t": 1}"#,
            #"{"event": "thread", "process": "P0", "thread": "T0", "name": "MainThread", "pid": 100, "tid": 100, "t": 2}"#,
            line("call", "ForkingMixIn.process_request", depth: 0, pyLine: 610),
            #"{"event": "process", "process": "P1", "pid": 200, "parent": "P0", "t": 3}"#,
            #"{"event": "spawn", "kind": "fork", "process": "P1", "thread": "T0", "name": "fork", "parent_process": "P0", "parent_thread": "T0", "position": 1, "depth": 1, "request": 1, "t": 4}"#,
            line("call", "BaseServer.finish_request", process: "P1", depth: 1, pyLine: 360),
            line("return", "BaseServer.finish_request", process: "P1", depth: 1, pyLine: 360, detail: "-> None"),
            #"{"event": "exit", "process": "P1", "status": 0, "t": 5}"#,
            line("return", "ForkingMixIn.process_request", depth: 0, pyLine: 610, detail: "-> None"),
        ]
        let read = try recording(text)
        #expect(read.processes == [
            TraceProcess(label: "P0", pid: 100, parent: nil, exitStatus: nil),
            TraceProcess(label: "P1", pid: 200, parent: "P0", exitStatus: 0),
        ])
        #expect(read.threads.map(\.name) == ["MainThread", "thread"])
        #expect(read.spawns.count == 1 && read.spawns[0].kind == .fork && read.spawns[0].position == 1)
        let tree = renderTree(read)
        #expect(tree.contains("P0 T0    ⇢ P1 fork, os._exit(0)\nP1 T0      finish_request  BaseServer  :360\n"), "\(tree)")
    }

    @Test("a line that is no trace is named by its number", arguments: [
        ("not json", "line 2: expected null at byte 1"),
        ("[1, ?]", "line 2: expected a value at byte 5"),
        (#"{"event": "call"}"#, "line 2: no process field"),
        (#"{"event": "fly"}"#, "line 2: unknown event 'fly'"),
        (#"{"event": "call", "process": 1}"#, "line 2: process is not a string"),
        (#"{"a": "\x"}"#, "line 2: unknown escape at byte 9"),
        (#"{"a": 1} 2"#, "line 2: text after the value at byte 10"),
    ])
    func badLines(_ bad: String, _ message: String) {
        let error = #expect(throws: TraceFileError.self) { try recording([line("call", "A.b", depth: 0), bad]) }
        #expect(error?.description == message)
    }

    @Test("JSON strings: escapes, surrogate pairs, UTF-8 as is")
    func jsonStrings() throws {
        let value = try JSONValue.parse(Array(#"{"s": "a\"b\\c\n\u00e9\ud83d\ude00\ud800x é", "n": [1, -2.5, true, null]}"#.utf8))
        #expect(value == .object([
            "s": .string("a\"b\\c\né😀\u{FFFD}x é"), "n": .array([.integer(1), .double(-2.5), .bool(true), .null]),
        ]))
    }

    @Test("the edit script keeps a longest common subsequence, in order", arguments: 0..<40)
    func editScripts(_ seed: Int) {
        var generator = SeededGenerator(seed: UInt64(seed + 1))
        let a = (0..<Int.random(in: 0...30, using: &generator)).map { _ in Int.random(in: 0...4, using: &generator) }
        let b = (0..<Int.random(in: 0...30, using: &generator)).map { _ in Int.random(in: 0...4, using: &generator) }
        let script = editScript(a, b, equal: ==)
        #expect(script.compactMap(\.left) == Array(a.indices))
        #expect(script.compactMap(\.right) == Array(b.indices))
        let kept = script.filter { $0.left != nil && $0.right != nil }
        #expect(kept.allSatisfy { a[$0.left!] == b[$0.right!] })
        #expect(kept.count == longestCommonSubsequence(a, b))
    }

    @Test("a changed row faces its other version; the rest stand alone")
    func pairing() {
        let pairs = alignRows(
            ["a", "b1", "x", "c"], ["a", "y", "b2", "c"], equal: ==, pairable: { $0.first == $1.first })
        #expect(pairs.map { "\($0.left.map(String.init) ?? "-")\($0.right.map(String.init) ?? "-")" } == ["00", "-1", "12", "2-", "33"])
    }

    @Test("idle serve_forever turns fold into one row; the turn after a request stays")
    func idleTurns() throws {
        let calls: [(Int, String)] = [
            (0, "BaseServer.serve_forever"), (1, "TCPServer.fileno"), (1, "ForkingMixIn.service_actions"),
            (2, "ForkingMixIn.collect_children"), (1, "ForkingMixIn.service_actions"), (2, "ForkingMixIn.collect_children"),
            (1, "BaseServer._handle_request_noblock"), (2, "TCPServer.get_request"), (1, "ForkingMixIn.service_actions"),
            (2, "ForkingMixIn.collect_children"), (1, "ForkingMixIn.service_actions"), (2, "ForkingMixIn.collect_children"),
            (0, "BaseServer.service_actions"),
        ]
        let rows = callRows(CausalView(try recording(lane(calls)), fold: false), lane: LaneID(process: "P0", thread: "T0"))
        #expect(rows.map { "\($0.depth) \($0.method) \($0.idleTurns)" } == [
            "0 serve_forever 0", "1 fileno 0", "1 service_actions 2", "1 _handle_request_noblock 0", "2 get_request 0",
            "1 service_actions 0", "2 collect_children 0", "1 service_actions 1", "0 service_actions 0",
        ])
    }

    @Test("compare: the first difference is marked and named; idle turns do not count")
    func comparison() throws {
        let calls: [(Int, String)] = [
            (0, "BaseServer.serve_forever"), (1, "BaseServer._handle_request_noblock"), (2, "TCPServer.close_request"),
            (1, "BaseServer.service_actions"),
        ]
        let lines = ["TCPServer.close_request": 518]
        let left = try recording(lane(calls, lines: lines) + lane([(0, "BaseServer.shutdown")], thread: "T1"))
        let idle = [calls[0], (1, "BaseServer.service_actions")] + calls.dropFirst()
        let same = try recording(lane(idle, lines: lines) + lane([(0, "BaseServer.shutdown")], thread: "T1"))
        let (sameText, sameLanes) = renderComparison(left, same, names: ("A", "B"))
        #expect(sameLanes == [LaneVerdict(lane: "P0/T0", identical: true), LaneVerdict(lane: "P0/T1", identical: true)], "\(sameText)")
        #expect(sameText.contains("·  ") && sameText.contains("(idle turns)"), "\(sameText)")

        let moved = try recording(lane(calls, lines: ["TCPServer.close_request": 519]))
        let (text, lanes) = renderComparison(left, moved, names: ("A", "B"))
        #expect(lanes == [LaneVerdict(lane: "P0/T0", identical: false), LaneVerdict(lane: "P0/T1", identical: false)])
        #expect(text.contains("P0/T0: different: first at row 3, marked below\n"), "\(text)")
        #expect(text.contains("└ first difference: the def is at line 518 in A, line 519 in B\n"), "\(text)")
        #expect(text.contains("└ first difference: only A calls BaseServer.shutdown here\n"), "\(text)")
        #expect(text.hasSuffix("different: 2 of 2 lanes (P0/T0, P0/T1)\n"), "\(text)")
    }
}

/// The length of a longest common subsequence, by the textbook table.
private func longestCommonSubsequence(_ a: [Int], _ b: [Int]) -> Int {
    var table = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in stride(from: a.count - 1, through: 0, by: -1) {
        for j in stride(from: b.count - 1, through: 0, by: -1) {
            table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
        }
    }
    return table[0][0]
}

/// A random number generator that repeats (SplitMix64).
private struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
