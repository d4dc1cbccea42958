// The sequence model behind the ASCII and Mermaid views (objects talking to objects, threads
// and processes as boxes, the loop, idle turns, overlapping requests), and the filter that
// narrows a recording, on recordings made through the seam.
import SocketServer
import TestSupport
import Testing

@testable import Tracing

/// A server loop recorded live: `requests` turns, each accepting a request and starting a
/// worker thread, `idle` idle turns after each; with `overlap`, the first worker waits until
/// the second has begun, so that their requests ran at the same time.
func recordLoop(deterministic: Bool, requests: Int, idle: Int, overlap: Bool) throws -> Recording {
    let recorder = Recorder(deterministic: deterministic)
    let server = TraceTarget()
    let secondBegan = Box(false)
    var workers: [PThread] = []
    traceCall(recorder, "BaseServer.serve_forever", line: 218, on: server, as: "ThreadingTCPServer", "poll_interval=0.5") {
        for request in 1...requests {
            traceCall(recorder, "BaseServer._handle_request_noblock", line: 305, on: server, as: "ThreadingTCPServer") {
                traceCall(
                    recorder, "TCPServer.get_request", line: 500, on: server, as: "ThreadingTCPServer",
                    returns: "(<socket fd=\(10 + request)>, ('127.0.0.1', \(40000 + request)))")
                traceCall(recorder, "ThreadingMixIn.process_request", line: 698, on: server, as: "ThreadingTCPServer") {
                    workers.append(
                        try! startTracedThread(recorder, name: "Thread-\(request + 1) (process_request_thread)") {
                            let handler = TraceTarget()
                            traceCall(recorder, "ThreadingMixIn.process_request_thread", line: 685, on: server, as: "ThreadingTCPServer") {
                                if request == 2 { secondBegan.set(true) }
                                // The first worker is still running when the second begins.
                                if overlap && request == 1 { waitUntil { secondBegan.value } }
                                traceCall(recorder, "BaseRequestHandler.__init__", line: 755, on: handler, as: "EchoHandler", "request=x")
                            }
                        })
                }
            }
            for _ in 0...idle {
                traceCall(recorder, "BaseServer.service_actions", line: 257, on: server, as: "ThreadingTCPServer")
            }
        }
        for worker in workers { try? worker.join() }
    }
    return recorder.recording()
}

@Suite("Sequence views", .timeLimit(.minutes(1)))
struct SequenceViewTests {
    @Test("objects talk to objects; threads and the forked child are boxes; nothing messages itself")
    func objects() throws {
        let text = renderMermaid(try SyntheticScenario.record())
        #expect(MermaidSequence.problems(text).isEmpty, "\(MermaidSequence.problems(text))")
        for expected in [
            "    box P0 T0 thread\n", "    box P0 T2 Thread-2 (process_request_thread)\n", "    box P1 T1 forked child of P0\n",
            "participant P0_T3_EchoHandler_2 as EchoHandler #35;2\n", "actor client_4 as client 4\n",
            "P0_T3_EchoHandler_2--xP0_T3_ThreadingTCPServer: ✗ ValueError: boom\n",
            "Note over P1_T1_ThreadingTCPServer: fork: child P1\n", "Note over P1_T1_ThreadingTCPServer: os._exit(0)\n",
            "P0_T1_ThreadingTCPServer->>P0_T1_Threads: append(", "#lt;socket.socket fd=FD",
        ] {
            #expect(text.contains(expected), "no \(expected) in\n\(text)")
        }
        let messages = text.split(separator: "\n").filter { !$0.contains("Note") && $0.contains(": ") && $0.contains("-") }
        #expect(messages.count > 10)
        for message in messages {
            let head = message.prefix { $0 != ":" }.trimmingPrefix("    ")
            let parts = head.split(whereSeparator: { "-<>)+x".contains($0) }).filter { !$0.isEmpty }
            #expect(parts.count == 2 && parts[0] != parts[1], "a self-message: \(message)")
        }
    }

    @Test("the ASCII view draws the same model: a row per statement, lane headers, 120 columns")
    func ascii() throws {
        let recording = try SyntheticScenario.record()
        let model = SequenceModel(recording, detailLimit: nil, filter: TraceFilter())
        let text = renderSequence(recording)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        let drawn = model.statements.filter { if case .deactivate = $0 { return false } else { return true } }
        // The lane headers (one per box, one for the clients), the column letters, the rows.
        #expect(lines.count == model.boxes.count + 1 + 1 + drawn.count)
        #expect(lines.first?.hasPrefix("P0 T0 thread") == true && lines.first?.contains("a program") == true)
        #expect(lines.allSatisfy { $0.count <= 120 })
        #expect(lines.contains { $0.contains("os._exit(0)") } && lines.contains { $0.contains("fork: child P1") })
        #expect(lines.contains { $0.contains("x.+") && $0.hasSuffix("✗ ValueError: boom") })
        // The gutter is ASCII.
        let gutter = lines[model.boxes.count + 1].count
        #expect(lines.dropFirst(model.boxes.count + 1).allSatisfy { $0.prefix(gutter).allSatisfy(\.isASCII) })
        #expect(renderSequence(recording, width: 0).split(separator: "\n").contains { $0.count > 120 })
    }

    @Test("requests whose workers overlapped are a par, in real-clock mode only")
    func parallel() throws {
        let live = renderMermaid(try recordLoop(deterministic: false, requests: 2, idle: 0, overlap: true))
        #expect(MermaidSequence.problems(live).isEmpty, "\(MermaidSequence.problems(live))")
        #expect(live.contains("        par request 1\n") && live.contains("        and request 2\n"), "\(live)")
        let ascii = renderSequence(try recordLoop(deterministic: false, requests: 2, idle: 0, overlap: true))
        #expect(ascii.contains("par request 1") && ascii.contains("and request 2"))
        let deterministic = renderMermaid(try recordLoop(deterministic: true, requests: 2, idle: 0, overlap: true))
        #expect(!deterministic.contains("par "))
        #expect(MermaidSequence.problems(deterministic).isEmpty)
    }

    @Test("serve_forever's turns are a loop; real-clock mode counts the idle turns")
    func idleTurns() throws {
        let live = renderMermaid(try recordLoop(deterministic: false, requests: 1, idle: 3, overlap: false))
        #expect(live.contains("    loop serve_forever: a turn per select()\n"))
        #expect(live.contains("BaseServer.service_actions(), then ×3 idle turns"), "\(live)")
        let deterministic = renderMermaid(try recordLoop(deterministic: true, requests: 1, idle: 3, overlap: false))
        #expect(!deterministic.contains("idle"))
        #expect(deterministic.contains("Note right of P0_T0_ThreadingTCPServer: BaseServer.service_actions()\n"), "\(deterministic)")
    }
}

@Suite("Trace filters", .timeLimit(.minutes(1)))
struct TraceFilterTests {
    @Test("labels and names are checked as the CLI checks them")
    func labels() {
        #expect(TraceFilter.isProcessLabel("P0") && TraceFilter.isProcessLabel("P1.2"))
        #expect(!TraceFilter.isProcessLabel("P") && !TraceFilter.isProcessLabel("P1.") && !TraceFilter.isProcessLabel("T1"))
        #expect(TraceFilter.isThreadLabel("T12") && !TraceFilter.isThreadLabel("T1.1") && !TraceFilter.isThreadLabel("main"))
        #expect(TraceFilter.isCallName("__init__") && TraceFilter.isCallName("ThreadingMixIn.process_request"))
        #expect(!TraceFilter.isCallName("") && !TraceFilter.isCallName("a.b.c") && !TraceFilter.isCallName("1x"))
    }

    @Test("a request keeps its calls and the calls around them, named as in the whole trace")
    func request() throws {
        let recording = try SyntheticScenario.record()
        let whole = Set(renderTree(recording).split(separator: "\n"))
        let tree = renderTree(recording, filter: TraceFilter(request: 2))
        for line in tree.split(separator: "\n") { #expect(whole.contains(line), "not in the whole trace: \(line)") }
        #expect(tree.contains("serve_forever") && tree.contains("fd=FD3") && !tree.contains("fd=FD2"))
        #expect(tree.contains("P0 T3") && !tree.contains("P0 T2") && !tree.contains("server_activate"))
        #expect(tree.contains("⇢ T3 Thread-3 (process_request_thread)"))
    }

    @Test("process, thread, depth and names narrow every lane the same way")
    func lanes() throws {
        let recording = try SyntheticScenario.record()
        let child = renderTree(recording, filter: TraceFilter(process: "P1"))
        #expect(child.split(separator: "\n").allSatisfy { $0.hasPrefix("P1 ") || $0.contains("⇢") }, "\(child)")
        #expect(child.contains("⇢ P1 fork, os._exit(0)"))
        let thread = renderTree(recording, filter: TraceFilter(thread: "T2"))
        #expect(thread.split(separator: "\n").allSatisfy { $0.hasPrefix("P0 T2") || $0.contains("⇢") }, "\(thread)")
        let outermost = renderJSONL(recording, filter: TraceFilter(depth: 1))
        #expect(outermost.split(separator: "\n").allSatisfy { $0.contains("\"depth\":0") })
        let named = renderTree(recording, filter: TraceFilter(only: ["handle", "ForkingMixIn.process_request"]))
        let calls = named.split(separator: "\n").filter { !$0.contains("⇢") }
        #expect(calls.count == 5, "\(named)")
        #expect(calls.allSatisfy { $0.contains("  handle  EchoHandler") || $0.contains("process_request  ForkingMixIn") })
        #expect(renderTree(recording, filter: TraceFilter(thread: "T9")).isEmpty)
    }

    @Test("the narrowed recording draws what the views draw with the filter")
    func transform() throws {
        let recording = try SyntheticScenario.record(deterministic: false)
        for filter in [TraceFilter(request: 3), TraceFilter(process: "P1"), TraceFilter(depth: 2), TraceFilter(only: ["finish_request"])] {
            let narrowed = filter.apply(to: recording)
            #expect(narrowed.events.count < recording.events.count)
            #expect(narrowed.events.enumerated().allSatisfy { $0.offset == $0.element.seq })
            for format in [TraceFormat.tree, .sequence, .mermaid] {
                #expect(render(narrowed, as: format) == render(recording, as: format, filter: filter), "\(filter) \(format)")
            }
        }
        #expect(TraceFilter().apply(to: recording) == recording)
    }

    @Test("--fold-idle keeps one call per run of idle turns and counts the others")
    func foldIdle() throws {
        let recording = try recordLoop(deterministic: false, requests: 2, idle: 3, overlap: false)
        let folded = TraceFilter(foldIdle: true).apply(to: recording)
        let actions = { (r: Recording) in r.events.filter { $0.method == "service_actions" && $0.kind == .call } }
        // Each turn: its own service_actions, then one standing for the three idle ones.
        #expect(actions(recording).count == 8)
        #expect(actions(folded).count == 4)
        #expect(actions(folded).compactMap { folded.repeats[$0.frame] } == [3, 3])
        let jsonl = renderJSONL(recording, filter: TraceFilter(foldIdle: true))
        #expect(jsonl.split(separator: "\n").filter { $0.contains("\"folded\":3") }.count == 2)
    }
}
