// Tests of a recorder that a live consumer empties as it goes: finished requests are handed
// over one by one and forgotten, idle repeats are counted, and what is held stays bounded.
import Glibc
import SocketServer
import Synchronization
import TestSupport
import Testing

@testable import Tracing

/// One turn of a threading server's accept loop, announced by hand: `_handle_request_noblock`
/// → `get_request` → `ThreadingMixIn.process_request`, which starts a worker thread that runs
/// `process_request_thread` → `finish_request` (after `wait`, if given).
/// - Returns: the worker, to join.
func threadingTurn(
    _ recorder: Recorder, _ server: TraceTarget, number: Int, wait: (@Sendable () -> Void)? = nil
) throws -> PThread {
    var worker: PThread?
    acceptTurn(recorder, on: server, as: "ThreadingTCPServer", request: "r\(number)") {
        traceCall(recorder, "ThreadingMixIn.process_request", line: 698, on: server, as: "ThreadingTCPServer") {
            worker = try? startTracedThread(recorder, name: "Thread-\(number) (process_request_thread)") {
                wait?()
                traceCall(recorder, "ThreadingMixIn.process_request_thread", line: 685, on: server, as: "ThreadingTCPServer") {
                    traceCall(recorder, "BaseServer.finish_request", line: 360, on: server, as: "ThreadingTCPServer", "n=\(number)")
                }
            }
        }
    }
    return try #require(worker)
}

/// Takes finished requests until `count` have come or `seconds` pass.
func takeRequests(_ recorder: Recorder, _ count: Int, seconds: Double = 10) -> [Recording] {
    var taken: [Recording] = []
    let deadline = traceClock() + UInt64(seconds * 1e9)
    while taken.count < count && traceClock() < deadline {
        taken += recorder.takeCompletedRequests()
        if taken.count < count { usleep(1000) }
    }
    return taken
}

@Suite("Recorder streaming", .timeLimit(.minutes(1)))
struct RecorderStreamingTests {
    @Test("each finished request comes out on its own, with its worker nested, and is forgotten")
    func requestsOneByOne() throws {
        let recorder = Recorder(foldRepeats: true)
        let server = TraceTarget()
        var parts: [Recording] = []
        traceCall(recorder, "BaseServer.serve_forever", line: 218, on: server, as: "ThreadingTCPServer") {
            for number in 1...3 {
                let worker = try! threadingTurn(recorder, server, number: number)
                try! worker.join()
                traceCall(recorder, "BaseServer.service_actions", line: 257, on: server, as: "ThreadingTCPServer")
                parts += recorder.takeCompletedRequests()
            }
        }
        #expect(parts.count == 3)
        for (index, part) in parts.enumerated() {
            let number = index + 1
            #expect(part.events.first?.function == "BaseServer._handle_request_noblock")
            #expect(part.events.map(\.seq) == Array(0..<part.events.count))
            #expect(Set(part.events.compactMap(\.request)) == [number])
            #expect(part.events.filter { $0.method == "finish_request" }.map(\.detail) == ["n=\(number)", "-> None"])
            let workerLane = "T\(number)"
            #expect(part.events.filter { $0.thread == workerLane }.count == 4)
            #expect(part.events.allSatisfy { $0.method != "service_actions" && $0.method != "serve_forever" })
            // The spawn counts the events of this part only: the noblock, get_request's call and
            // return, and process_request's call come before it, whatever ran earlier.
            let spawn = try #require(part.spawns.first)
            #expect(part.spawns.count == 1)
            #expect(spawn.position == 4)
            #expect(spawn.thread == workerLane && spawn.started && spawn.request == number)
            #expect(spawn.parentFrame == part.events.first { $0.method == "process_request" }?.frame)
            #expect(part.threads.map(\.label) == ["T0", workerLane])
            // In the tree the worker's calls sit under process_request.
            let lines = renderTree(part).split(separator: "\n").map(String.init)
            let processLine = try #require(lines.firstIndex { $0.contains("process_request  ThreadingMixIn") })
            let spawnLine = try #require(lines.firstIndex { $0.contains("⇢ \(workerLane)") })
            #expect(spawnLine > processLine)
            #expect(indentation(lines[spawnLine]) > indentation(lines[processLine]), "\(lines)")
        }
        // What is left: serve_forever and one service_actions standing for three.
        let held = recorder.holdings()
        #expect(held.parts == 0 && held.requests == 0 && held.spawns == 0 && held.reports == 0)
        #expect(held.lanes == 1, "the ended workers' lanes are forgotten")
        #expect(held.events == 4)
        let rest = recorder.takeRecording()
        #expect(rest.events.map(\.method) == ["serve_forever", "service_actions", "service_actions", "serve_forever"])
        let folded = try #require(rest.events.first { $0.method == "service_actions" })
        #expect(rest.repeats == [folded.frame: 3])
        #expect(renderTree(Recording(deterministic: false, origin: rest.origin, events: rest.events,
                                     processes: rest.processes, threads: rest.threads, spawns: rest.spawns,
                                     repeats: rest.repeats)).contains("service_actions  BaseServer  :257  ×3"))
        #expect(recorder.holdings() == Recorder.Holdings(
            events: 0, frames: 0, lanes: 1, parts: 0, requests: 0, spawns: 0, processes: 1, reports: 0))
    }

    @Test("a request is not handed out while its worker thread runs")
    func waitsForWorker() throws {
        let recorder = Recorder()
        let server = TraceTarget()
        let gate = ThreadGate()
        let worker = try threadingTurn(recorder, server, number: 1) { gate.wait() }
        #expect(recorder.takeCompletedRequests().isEmpty)
        gate.open()
        try worker.join()
        let parts = takeRequests(recorder, 1)
        #expect(parts.count == 1)
        #expect(parts.first?.events.count == 10)
        #expect(recorder.takeCompletedRequests().isEmpty)
    }

    @Test("a turn whose get_request raised is a part without a request")
    func failedAccept() {
        let recorder = Recorder()
        let server = TraceTarget()
        acceptTurn(recorder, on: server, as: "TCPServer", raising: "OSError: x")
        let parts = recorder.takeCompletedRequests()
        #expect(parts.count == 1)
        #expect(parts.first?.events.map(\.method) == ["_handle_request_noblock", "get_request", "get_request", "_handle_request_noblock"])
        #expect(parts.first?.events.allSatisfy { $0.request == nil } == true)
        #expect(recorder.holdings().events == 0)
    }

    @Test("taking nothing leaves recording() as it was; takeRecording() gives it and forgets")
    func snapshotUnchanged() throws {
        let recorder = Recorder()
        let server = TraceTarget()
        traceCall(recorder, "BaseServer.serve_forever", line: 218, on: server, as: "ThreadingTCPServer") {
            for number in 1...2 {
                let worker = try! threadingTurn(recorder, server, number: number)
                try! worker.join()
                traceCall(recorder, "BaseServer.service_actions", line: 257, on: server, as: "ThreadingTCPServer")
            }
        }
        let recording = recorder.recording()
        #expect(recording.events.count == 2 + 2 * 12)
        #expect(recording.spawns.map(\.position) == [5, 13])  // counted on T0 from its first event
        #expect(recording.repeats.isEmpty)
        #expect(recorder.recording() == recording)
        #expect(recorder.takeRecording() == recording)
        #expect(recorder.recording().events.isEmpty)
        #expect(recorder.holdings().frames == 0)
    }

    @Test("a thousand requests later the recorder holds what it held after the first ten")
    func bounded() throws {
        let recorder = Recorder(foldRepeats: true)
        let server = TraceTarget()
        var printed = 0
        var early: Recorder.Holdings?
        traceCall(recorder, "BaseServer.serve_forever", line: 218, on: server, as: "ThreadingTCPServer") {
            for number in 1...1000 {
                let worker = try! threadingTurn(recorder, server, number: number)
                try! worker.join()
                traceCall(recorder, "BaseServer.service_actions", line: 257, on: server, as: "ThreadingTCPServer")
                printed += recorder.takeCompletedRequests().count
                if number == 10 { early = recorder.holdings() }
            }
        }
        #expect(printed == 1000)
        #expect(recorder.holdings().events == 4)
        #expect(early?.frames == recorder.holdings().frames)
        #expect(early?.lanes == recorder.holdings().lanes)
        #expect(recorder.holdings().parts == 0 && recorder.holdings().spawns == 0)
    }
}

@Suite("Recorder backpressure", .serialized, .timeLimit(.minutes(1)))
struct RecorderBackpressureTests {
    /// One turn of a synchronous server.
    func syncTurn(_ recorder: Recorder, _ server: TraceTarget) {
        acceptTurn(recorder, on: server, as: "TCPServer") {
            traceCall(recorder, "BaseServer.process_request", line: 343, on: server, as: "TCPServer")
        }
    }

    @Test("with maxUntaken, the serving thread waits while the consumer is that far behind")
    func waitsForConsumer() throws {
        let recorder = Recorder(maxUntaken: 2)
        let server = TraceTarget()
        syncTurn(recorder, server)
        var start = traceClock()
        syncTurn(recorder, server)  // two wait: this turn waits for a consumer, which never comes
        let abandoned = traceClock() - start
        #expect(abandoned >= 900_000_000 && abandoned < 5_000_000_000, "waited \(abandoned) ns")
        // A consumer that takes after 200 ms releases the next turn then.
        let consumer = PThread(name: "consumer") {
            usleep(200_000)
            _ = recorder.takeCompletedRequests()
        }
        start = traceClock()
        try consumer.start()
        syncTurn(recorder, server)
        let waited = traceClock() - start
        try consumer.join()
        #expect(waited >= 150_000_000 && waited < 900_000_000, "waited \(waited) ns")
        #expect(recorder.holdings().parts == 0, "the consumer took all three")
    }

    @Test("without maxUntaken nothing waits")
    func neverWaitsByDefault() {
        let recorder = Recorder()
        let server = TraceTarget()
        let start = traceClock()
        for _ in 0..<50 { syncTurn(recorder, server) }
        #expect(traceClock() - start < 500_000_000)
        #expect(recorder.takeCompletedRequests().count == 50)
    }
}

/// The streaming tests that fork: rows of RecorderForkTests (RecorderTests.swift), which runs
/// every recorder test that forks in a fresh process.
extension RecorderForkTests {
    /// One turn of a forking server: the child announces `finish_request`, then reports (unless
    /// `reports` is false) and exits.
    static func forkingTurn(_ recorder: Recorder, _ server: TraceTarget, reports: Bool = true) -> Int32 {
        var child: Int32 = -1
        acceptTurn(recorder, on: server, as: "ForkingTCPServer") {
            traceCall(recorder, "ForkingMixIn.process_request", line: 610, on: server, as: "ForkingTCPServer") {
                let token = recorder.processWillFork()
                let pid = forkChild(recorder, inherited: token, reports: reports) { childRecorder in
                    traceCall(childRecorder, "BaseServer.finish_request", line: 360, on: server, as: "ForkingTCPServer")
                    return 0
                }
                recorder.processDidFork(child: pid, inherited: token)
                child = pid
                traceCall(recorder, "TCPServer.close_request", line: 518, on: server, as: "ForkingTCPServer")
            }
        }
        return child
    }

    static func forkedRequestBody() throws {
        let recorder = Recorder()
        let server = TraceTarget()
        let pid = forkingTurn(recorder, server)
        #expect(pid > 0)
        let parts = takeRequests(recorder, 1)
        #expect(exitedCleanly(waitForChild(pid)))
        let part = try #require(parts.first)
        #expect(parts.count == 1)
        #expect(part.processes.map(\.label) == ["P0", "P1"])
        #expect(part.processes.last?.exitStatus == 0 && part.processes.last?.pid == pid)
        #expect(part.events.filter { $0.process == "P1" }.map(\.method) == ["finish_request", "finish_request"])
        #expect(part.spawns.count == 1 && part.spawns.first?.position == 4)
        #expect(renderTree(part).contains("⇢ P1 fork, os._exit(0)"))
        let held = recorder.holdings()
        #expect(held.events == 0 && held.parts == 0 && held.spawns == 0 && held.processes == 1 && held.reports == 0)
    }

    static func childWithoutReportBody() throws {
        let recorder = Recorder()
        let server = TraceTarget()
        let pid = forkingTurn(recorder, server, reports: false)
        #expect(pid > 0)
        #expect(exitedCleanly(waitForChild(pid)))
        let parts = takeRequests(recorder, 1)
        #expect(parts.count == 1)
        #expect(parts.first?.events.allSatisfy { $0.process == "P0" } == true)
        #expect(recorder.holdings().parts == 0)
    }

    @Test("a fork that fails does not hold its request back")
    func failedFork() {
        let recorder = Recorder()
        let server = TraceTarget()
        acceptTurn(recorder, on: server, as: "ForkingTCPServer") {
            traceCall(recorder, "ForkingMixIn.process_request", line: 610, on: server, as: "ForkingTCPServer", raising: "OSError: [Errno 11]") {
                _ = recorder.processWillFork()  // as os.fork does, and then fork() fails
            }
        }
        let parts = recorder.takeCompletedRequests()
        #expect(parts.count == 1)
        #expect(parts.first?.spawns.first?.started == false)
    }
}

// MARK: - Helpers

/// A one-shot gate a worker thread waits at.
final class ThreadGate: Sendable {
    private let opened = Atomic<Bool>(false)

    /// Lets the waiters through.
    func open() { opened.store(true, ordering: .releasing) }

    /// Waits until the gate opens (at most 10 s).
    func wait() {
        let deadline = traceClock() + 10_000_000_000
        while !opened.load(ordering: .acquiring) && traceClock() < deadline { usleep(500) }
    }
}

/// How many spaces a tree line has after its lane column (`P0 T1  `).
func indentation(_ line: String) -> Int {
    let afterLane = line.drop { $0 != " " }.dropFirst().drop { $0 != " " }.dropFirst(2)
    return afterLane.prefix { $0 == " " }.count
}
