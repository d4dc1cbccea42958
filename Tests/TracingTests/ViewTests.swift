// Tests of the views: a synthetic scenario recorded through the seam by racing threads, with
// random ports, descriptors, thread numbers and idle loops, must render byte-identically every
// time in deterministic mode, and every format must be well formed.
import Foundation
import Glibc
import SocketServer
import Sockets
import Synchronization
import TestSupport
import Testing

@testable import Tracing

/// A threading server serving three requests on worker threads (the second handler raises),
/// then a fourth in a "forked child" (the fork protocol of the seam, run in this process),
/// shut down from the first thread. Everything that varies in a real run varies here too.
enum SyntheticScenario {
    /// What the threads share.
    final class Shared: Sendable {
        let stop = Atomic<Bool>(false)
        let served = Atomic<Int>(0)
        let workers = Lock<[PThread]>([])
    }

    static let serverClass = "ThreadingTCPServer"

    /// Announces a call site and the body that names it, as `dispatched` + `traced` do.
    static func site(
        _ recorder: any TraceRecorder, _ function: String, line: Int, on receiver: AnyObject,
        as className: String = serverClass, _ detail: String = "", returns: String = "None",
        raising: String? = nil, _ body: () -> Void = {}
    ) {
        let method = String(function.split(separator: ".").last!)
        traceCall(
            recorder, nil, method: method, on: receiver, as: className, returns: returns,
            raising: raising
        ) {
            traceCall(recorder, function, line: line, on: receiver, as: className, detail, body)
        }
    }

    /// Runs the scenario and returns its recording.
    static func record(deterministic: Bool = true) throws -> Recording {
        let recorder = Recorder(deterministic: deterministic)
        let server = TraceTarget()
        let threads = TraceTarget()
        let shared = Shared()
        var ports = Set<Int>()
        while ports.count < 5 { ports.insert(Int.random(in: 32768...60999)) }
        let portList = Array(ports)
        let serverPort = portList[0]
        let listening = Int.random(in: 3...9)
        let threadBase = Int.random(in: 1...500)
        let serverClass = serverClass

        traceCall(
            recorder, "TCPServer.__init__", line: 450, on: server, as: serverClass,
            "server_address=('127.0.0.1', 0), RequestHandlerClass=EchoHandler"
        ) {
            traceCall(recorder, "BaseServer.__init__", line: 203, on: server, as: serverClass, "server_address=('127.0.0.1', 0)")
            site(recorder, "TCPServer.server_bind", line: 463, on: server, "server_address=('127.0.0.1', 0)")
            site(recorder, "TCPServer.server_activate", line: 476, on: server, "request_queue_size=5")
        }
        let serving = try startTracedThread(recorder, name: "Thread-\(threadBase) (serve_forever)") {
            traceCall(recorder, "BaseServer.serve_forever", line: 218, on: server, as: serverClass, "poll_interval=0.5") {
                site(recorder, "TCPServer.fileno", line: 492, on: server, returns: "\(listening)")
                idle(recorder, server, Int.random(in: 1...3))
                for request in 1...4 {
                    let clientPort = portList[request]
                    let socket =
                        "<socket.socket fd=\(Int.random(in: 10...99)), family=2, type=1, proto=0, "
                        + "laddr=('127.0.0.1', \(serverPort)), raddr=('127.0.0.1', \(clientPort))>"
                    let arguments = "request=\(socket), client_address=('127.0.0.1', \(clientPort))"
                    site(recorder, "BaseServer._handle_request_noblock", line: 305, on: server) {
                        site(
                            recorder, "TCPServer.get_request", line: 500, on: server,
                            returns: "(\(socket), ('127.0.0.1', \(clientPort)))")
                        site(recorder, "BaseServer.verify_request", line: 335, on: server, arguments, returns: "True")
                        if request < 4 {
                            site(recorder, "ThreadingMixIn.process_request", line: 698, on: server, arguments) {
                                let name = "Thread-\(threadBase + request) (process_request_thread)"
                                traceCall(
                                    recorder, "_Threads.append", line: 644, on: threads, as: "_Threads",
                                    "thread=<Thread(\(name), initial)>"
                                ) {
                                    traceCall(recorder, "_Threads.reap", line: 658, on: threads, as: "_Threads")
                                }
                                let worker = try! startTracedThread(recorder, name: name) {
                                    usleep(UInt32.random(in: 0...3000))
                                    serveOnThread(recorder, server, request, socket, arguments)
                                    shared.served.add(1, ordering: .sequentiallyConsistent)
                                }
                                shared.workers.withLock { $0.append(worker) }
                            }
                        } else {
                            site(recorder, "ForkingMixIn.process_request", line: 610, on: server, arguments) {
                                let token = recorder.processWillFork()
                                let child = recorder.childDidStart(inherited: token)
                                serveInChild(child, server, socket, arguments)
                                child.childWillExit(status: 0)
                                recorder.processDidFork(child: 4_000_000 + Int32.random(in: 0...99_999), inherited: token)
                                site(recorder, "TCPServer.close_request", line: 518, on: server, "request=\(socket)")
                                shared.served.add(1, ordering: .sequentiallyConsistent)
                            }
                        }
                    }
                    idle(recorder, server, Int.random(in: 1...3))
                }
                repeat {
                    idle(recorder, server, 1)
                    usleep(300)
                } while !shared.stop.load(ordering: .sequentiallyConsistent)
            }
        }
        while shared.served.load(ordering: .sequentiallyConsistent) < 4 { usleep(500) }
        traceCall(recorder, "BaseServer.shutdown", line: 247, on: server, as: serverClass) {
            shared.stop.store(true, ordering: .sequentiallyConsistent)
            try? serving.join()
        }
        site(recorder, "ThreadingMixIn.server_close", line: 708, on: server) {
            traceCall(recorder, "TCPServer.server_close", line: 484, on: server, as: serverClass)
            traceCall(recorder, "_Threads.join", line: 654, on: threads, as: "_Threads") {
                traceCall(recorder, "_Threads.pop_all", line: 650, on: threads, as: "_Threads", returns: "[...]")
                for worker in shared.workers.withLock({ $0 }) { try? worker.join() }
            }
        }
        return recorder.recording()
    }

    /// `count` idle turns of `serve_forever`.
    static func idle(_ recorder: any TraceRecorder, _ server: AnyObject, _ count: Int) {
        for _ in 0..<count {
            site(recorder, "BaseServer.service_actions", line: 257, on: server)
        }
    }

    /// A worker thread's part of a request.
    static func serveOnThread(
        _ recorder: any TraceRecorder, _ server: AnyObject, _ request: Int, _ socket: String,
        _ arguments: String
    ) {
        let handler = TraceTarget()
        let boom = request == 2 ? "ValueError: boom" : nil
        site(recorder, "ThreadingMixIn.process_request_thread", line: 685, on: server, arguments) {
            site(recorder, "BaseServer.finish_request", line: 360, on: server, arguments, raising: boom) {
                traceCall(
                    recorder, "BaseRequestHandler.__init__", line: 755, on: handler, as: "EchoHandler",
                    arguments, raising: boom
                ) {
                    site(recorder, "StreamRequestHandler.setup", line: 798, on: handler, as: "EchoHandler")
                    // The scenario's own override: announced by hand, without calling super.
                    traceCall(recorder, nil, method: "handle", on: handler, as: "EchoHandler", raising: boom) {
                        traceCall(
                            recorder, "EchoHandler.handle", line: 0, on: handler, as: "EchoHandler",
                            "data=b'hi \u{1B}[2J\u{202E}'")
                    }
                    site(recorder, "StreamRequestHandler.finish", line: 812, on: handler, as: "EchoHandler")
                }
            }
            if boom != nil {
                site(recorder, "BaseServer.handle_error", line: 372, on: server, arguments)
            }
            site(recorder, "TCPServer.shutdown_request", line: 508, on: server, "request=\(socket)") {
                site(recorder, "TCPServer.close_request", line: 518, on: server, "request=\(socket)")
            }
        }
    }

    /// A forked child's part of a request.
    static func serveInChild(
        _ recorder: any TraceRecorder, _ server: AnyObject, _ socket: String, _ arguments: String
    ) {
        let handler = TraceTarget()
        site(recorder, "BaseServer.finish_request", line: 360, on: server, arguments) {
            traceCall(recorder, "BaseRequestHandler.__init__", line: 755, on: handler, as: "EchoHandler", arguments) {
                site(recorder, "StreamRequestHandler.setup", line: 798, on: handler, as: "EchoHandler")
                traceCall(recorder, nil, method: "handle", on: handler, as: "EchoHandler")
                site(recorder, "StreamRequestHandler.finish", line: 812, on: handler, as: "EchoHandler")
            }
        }
        site(recorder, "TCPServer.shutdown_request", line: 508, on: server, "request=\(socket)") {
            site(recorder, "TCPServer.close_request", line: 518, on: server, "request=\(socket)")
        }
    }
}

@Suite("Views", .timeLimit(.minutes(1)))
struct ViewTests {
    @Test("every format renders the same scenario byte for byte, run after run")
    func identicalRuns() throws {
        let first = try SyntheticScenario.record()
        let second = try SyntheticScenario.record()
        // The runs may differ in idle turns of the loop (the views fold them); the requests'
        // events may not.
        let requestEvents = { (recording: Recording) in recording.events.filter { $0.request != nil }.count }
        #expect(requestEvents(first) > 0)
        #expect(requestEvents(first) == requestEvents(second))
        for format in TraceFormat.allCases {
            let a = render(first, as: format)
            let b = render(second, as: format)
            #expect(!a.isEmpty)
            #expect(a == b, "\(format) differs between runs")
        }
        #expect(render(first, as: .tree, color: true) == render(second, as: .tree, color: true))
    }

    /// The deterministic tree of the scenario is Golden/synthetic-tree.txt.
    @Test("the tree shows lanes, classes, lines, results, raises and spawns")
    func treeContent() throws {
        let tree = renderTree(try SyntheticScenario.record())
        #expect(tree == goldenText("synthetic-tree.txt"))
    }

    @Test("tree lines fit 120 columns and carry no escape codes unless colour is asked for")
    func treeWidthAndColour() throws {
        let recording = try SyntheticScenario.record()
        let plain = renderTree(recording)
        #expect(!plain.contains("\u{1B}"))
        #expect(plain.split(separator: "\n").allSatisfy { $0.count <= 120 })
        let narrow = renderTree(recording, width: 80)
        #expect(narrow.split(separator: "\n").allSatisfy { $0.count <= 80 })
        let coloured = renderTree(recording, color: true)
        #expect(coloured.contains("\u{1B}[1m"))
        let stripped = coloured.replacingOccurrences(
            of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
        #expect(stripped == plain)
    }

    @Test("folds show counts only in real-clock mode")
    func foldCounts() {
        for deterministic in [true, false] {
            let recorder = Recorder(deterministic: deterministic)
            let server = TraceTarget()
            traceCall(recorder, "BaseServer.serve_forever", line: 218, on: server, as: "S") {
                for _ in 0..<3 {
                    traceCall(recorder, "ForkingMixIn.service_actions", line: 603, on: server, as: "S") {
                        traceCall(recorder, "ForkingMixIn.collect_children", line: 561, on: server, as: "S")
                    }
                }
                traceCall(recorder, "BaseServer.shutdown", line: 247, on: server, as: "S")
                traceCall(recorder, "ForkingMixIn.service_actions", line: 603, on: server, as: "S") {
                    traceCall(recorder, "ForkingMixIn.collect_children", line: 561, on: server, as: "S")
                }
            }
            let tree = renderTree(recorder.recording())
            let actions = tree.split(separator: "\n").filter { $0.contains("service_actions") }
            #expect(actions.count == 2)
            #expect(actions[0].hasSuffix("×3") == !deterministic)
            #expect(!actions[1].contains("×"))
            let jsonl = renderJSONL(recorder.recording())
            #expect(jsonl.split(separator: "\n").count == (deterministic ? 12 : 20))
        }
    }

    @Test("deterministic details rename ports, descriptors, temp paths, addresses and threads")
    func normalization() {
        var normalizer = DetailNormalizer(
            enabled: true,
            processes: [TraceProcess(label: "P1", pid: 48213, parent: "P0", exitStatus: nil)])
        #expect(
            normalizer.detail("client_address=('127.0.0.1', 50432)", request: 1)
                == "client_address=('127.0.0.1', PORT1)")
        #expect(normalizer.detail("('::1', 50433, 0, 0) ('127.0.0.1', 50432)", request: 1) == "('::1', PORT2, 0, 0) ('127.0.0.1', PORT1)")
        #expect(normalizer.detail("('127.0.0.1', 0)", request: nil) == "('127.0.0.1', 0)")
        #expect(normalizer.detail("<socket fd=7, laddr=x> fd=7", request: 1) == "<socket fd=FD1, laddr=x> fd=FD1")
        #expect(normalizer.detail("fd=7", request: 2) == "fd=FD2")
        #expect(normalizer.detail("-> 7", request: 2, descriptorResult: true) == "-> FD2")
        #expect(normalizer.detail("fd=-1", request: 2) == "fd=-1")
        #expect(normalizer.detail("'/tmp/socketserver-a1b2/s.sock'", request: nil) == "'<tmp1>/s.sock'")
        #expect(normalizer.detail("/tmp/xyz /tmp/socketserver-a1b2", request: nil) == "<tmp2> <tmp1>")
        #expect(normalizer.detail("<Handler at 0x7f3a2b1c00>", request: nil) == "<Handler at 0xADDR>")
        #expect(normalizer.detail("Thread-17 Thread-3 Thread-17", request: nil) == "Thread-1 Thread-2 Thread-1")
        #expect(normalizer.detail("pid 48213, 148213, 127.0.0.1", request: nil) == "pid P1, 148213, 127.0.0.1")
        #expect(normalizer.detail("b'\u{1B}[2J\u{7}' \u{202E}x\n", request: nil) == "b'\\x1b[2J\\x07' \\u202ex\\n")
        var real = DetailNormalizer(enabled: false, processes: [])
        #expect(real.detail("('127.0.0.1', 50432) fd=7 \u{1B}", request: 1) == "('127.0.0.1', 50432) fd=7 \\x1b")
    }

    @Test("nothing a client sends reaches the terminal unescaped, in any view")
    func escaping() throws {
        let recording = try SyntheticScenario.record()
        for format in TraceFormat.allCases {
            let text = render(recording, as: format)
            #expect(!text.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{202E}" }, "\(format)")
        }
        #expect(renderTree(recording).contains("data=b'hi \\x1b[2J\\u202e'"))
    }

    @Test("JSON Lines: one valid object per event with exactly the documented fields")
    func jsonl() throws {
        let base: Set<String> = [
            "seq", "event", "function", "self", "swift", "swift_file", "swift_line", "py_line", "process",
            "thread", "request", "depth", "t", "detail",
        ]
        for deterministic in [true, false] {
            let recording = try SyntheticScenario.record(deterministic: deterministic)
            let lines = renderJSONL(recording).split(separator: "\n")
            #expect(!lines.isEmpty)
            var previousT = -1
            for (index, line) in lines.enumerated() {
                let object = try #require(
                    try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                #expect(Set(object.keys) == (deterministic ? base : base.union(["pid", "tid"])))
                #expect(object["seq"] as? Int == index)
                #expect(["call", "return", "raise"].contains(object["event"] as? String ?? ""))
                #expect(object["process"] as? String != nil && object["thread"] as? String != nil)
                let t = try #require(object["t"] as? Int)
                if deterministic { #expect(t == index) } else { #expect(t >= 0) }
                if deterministic { #expect(t > previousT) }
                previousT = t
            }
            if !deterministic { #expect(lines.count == recording.events.count) }
            let objects = try lines.map {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
            }
            let handle = try #require(
                objects.first { $0["function"] as? String == "EchoHandler.handle" && $0["process"] as? String == "P0" })
            #expect(handle["self"] as? String == "EchoHandler")
            #expect(handle["py_line"] is NSNull)
            #expect((handle["detail"] as? String)?.contains("\\x1b[2J") == true, "\(handle)")
            let process = try #require(objects.first { $0["function"] as? String == "ThreadingMixIn.process_request" })
            #expect(process["request"] as? Int == 1)
            #expect(process["py_line"] as? Int == 698)
            #expect(objects.contains { $0["process"] as? String == "P1" })
        }
    }

    @Test("JSON strings escape quotes, backslashes and control characters")
    func jsonStrings() throws {
        let text = "a\"b\\c\n\u{1}\u{1B}\u{85}\u{202E}é"
        let encoded = TraceJSON.string(text)
        #expect(encoded == "\"a\\\"b\\\\c\\u000a\\u0001\\u001b\\u0085\\u202eé\"")
        let decoded = try JSONSerialization.jsonObject(with: Data(encoded.utf8), options: .fragmentsAllowed)
        #expect(decoded as? String == text)
    }

    @Test("Chrome trace: complete events, names, and a flow per spawn")
    func chrome() throws {
        for deterministic in [true, false] {
            let recording = try SyntheticScenario.record(deterministic: deterministic)
            let text = renderChrome(recording)
            let root = try #require(
                try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            let events = try #require(root["traceEvents"] as? [[String: Any]])
            let complete = events.filter { $0["ph"] as? String == "X" }
            #expect(complete.count == recording.events.filter { $0.kind == .call }.count || deterministic)
            #expect(complete.allSatisfy { ($0["dur"] as? Double ?? -1) >= 0 && $0["ts"] != nil && $0["pid"] != nil && $0["tid"] != nil })
            let names = events.filter { $0["ph"] as? String == "M" }.compactMap { $0["name"] as? String }
            #expect(names.contains("process_name") && names.contains("thread_name"))
            let starts = events.filter { $0["ph"] as? String == "s" }
            let finishes = events.filter { $0["ph"] as? String == "f" }
            // The serving thread, three workers, one child.
            #expect(starts.count == 5)
            #expect(finishes.count == 5)
            #expect(finishes.allSatisfy { $0["bp"] as? String == "e" })
            #expect(Set(starts.compactMap { $0["id"] as? Int }) == Set(finishes.compactMap { $0["id"] as? Int }))
            if deterministic {
                #expect(Set(complete.compactMap { $0["pid"] as? Int }) == [1, 2])
                let workerFirst = complete.filter { $0["name"] as? String == "ThreadingMixIn.process_request_thread" }
                #expect(workerFirst.count == 3)
                for worker in workerFirst {
                    let ts = worker["ts"] as? Int
                    #expect(finishes.contains { $0["ts"] as? Int == ts && $0["tid"] as? Int == worker["tid"] as? Int })
                }
            }
        }
    }

    @Test("real-clock mode shows real pids, ports and times")
    func realClock() throws {
        let recording = try SyntheticScenario.record(deterministic: false)
        let tree = renderTree(recording)
        #expect(tree.contains("ms  P0 T0"))
        #expect(!tree.contains("PORT1"))
        #expect(tree.contains("⇢ P1 fork pid "))
        let jsonl = renderJSONL(recording)
        #expect(jsonl.contains("\"pid\":\(getpid())"))
    }
}
