// Tests of the recorder behind the trace seam: the merge rule, override naming, request ids,
// thread labels, concurrency, the public probe, and forked children (real forks).
import Glibc
import SocketServer
import Synchronization
import TestSupport
import Testing

@testable import Tracing

// MARK: - Helpers

/// A receiver for synthetic calls (the class a trace shows is passed by name).
final class TraceTarget: Sendable {}

/// Forks as a forking server does under the seam, with the `token` of `processWillFork()`: the
/// child records through the recorder it starts from the token, runs `body` with it, reports
/// the exit status `body` returns (unless `reports` is false) and exits with it at once. The
/// parent gets the child's pid.
func forkChild(
    _ recorder: any TraceRecorder, inherited token: any Sendable, reports: Bool = true,
    _ body: (any TraceRecorder) -> Int32
) -> Int32 {
    let pid = Glibc.fork()
    if pid == 0 {
        let child = recorder.childDidStart(inherited: token)
        let status = body(child)
        if reports { child.childWillExit(status: status) }
        Glibc._exit(status)
    }
    return pid
}

/// Announces one call the way the port does: a frame of `function` (nil at a call site, where
/// only `method` is known), ended with `returns` or `raising` after `body`.
func traceCall(
    _ recorder: any TraceRecorder, _ function: String?, method: String? = nil, line: Int? = nil,
    on receiver: AnyObject, as className: String, _ detail: String = "", returns: String = "None",
    raising: String? = nil, _ body: () -> Void = {}
) {
    let name = method ?? String(function!.split(separator: ".").last!)
    let call = TraceCall(
        function: function, method: name, swift: swiftName(ofPython: name) + "()", line: line,
        receiver: ObjectIdentifier(receiver), receiverClass: className, detail: detail)
    let opened = recorder.begin(call)
    body()
    if opened { recorder.end(raising.map { .raised($0) } ?? .returned(.text(returns))) }
}

/// One turn of a server's accept loop, announced by hand: `_handle_request_noblock` around
/// `get_request` (returning `request`, or raising `raising`) and then `body`, the rest of the
/// turn.
func acceptTurn(
    _ recorder: any TraceRecorder, on server: AnyObject, as className: String, request: String = "r",
    raising: String? = nil, _ body: () -> Void = {}
) {
    traceCall(recorder, "BaseServer._handle_request_noblock", line: 305, on: server, as: className) {
        traceCall(recorder, "TCPServer.get_request", line: 500, on: server, as: className, returns: request, raising: raising)
        body()
    }
}

/// Runs `body` on a new thread announced to `recorder` by hand (as `PThread.start` does for the
/// attached recorder), and returns the thread to join.
func startTracedThread(
    _ recorder: Recorder, name: String, _ body: @escaping @Sendable () -> Void
) throws -> PThread {
    let token = recorder.threadWillStart(name: name)
    let thread = PThread(name: name) {
        recorder.threadDidStart(name: name, inherited: token)
        body()
        recorder.threadWillEnd()
    }
    try thread.start()
    return thread
}

/// Waits for a child for up to `seconds`, then kills it.
/// - Returns: the wait status, or nil when it had to be killed.
func waitForChild(_ pid: Int32, seconds: Double = 10) -> Int32? {
    var status: Int32 = 0
    let deadline = traceClock() + UInt64(seconds * 1e9)
    while traceClock() < deadline {
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid { return status }
        if result < 0, errno != EINTR { return nil }
        usleep(200)
    }
    kill(pid, SIGKILL)
    _ = waitpid(pid, &status, 0)
    return nil
}

/// Whether a wait status says "exited with 0".
func exitedCleanly(_ status: Int32?) -> Bool {
    guard let status else { return false }
    return status & 0x7f == 0 && (status >> 8) & 0xff == 0
}

// MARK: - Calls

@Suite("Recorder calls", .timeLimit(.minutes(1)))
struct RecorderCallTests {
    // Each test has an instance of its own: a fresh recorder, and the objects it is told of.
    let recorder = Recorder()
    let server = TraceTarget()
    let handler = TraceTarget()

    @Test("a body names the call site of the same method on the same receiver")
    func mergeRule() {
        let call = TraceCall(
            function: nil, method: "handle", swift: "handle()", line: nil,
            receiver: ObjectIdentifier(handler), receiverClass: "EchoHandler", detail: "")
        #expect(recorder.begin(call))
        let body = TraceCall(
            function: "BaseRequestHandler.handle", method: "handle", swift: "handle()", line: 790,
            receiver: ObjectIdentifier(handler), receiverClass: "EchoHandler", detail: "x=1")
        #expect(recorder.begin(body) == false)
        recorder.end(.returned("None"))
        let events = recorder.recording().events
        #expect(events.count == 2)
        #expect(events.map(\.kind) == [.call, .return])
        for event in events {
            #expect(event.function == "BaseRequestHandler.handle")
            #expect(event.definingClass == "BaseRequestHandler")
            #expect(event.selfClass == "EchoHandler")
            #expect(event.pyLine == 790)
            #expect(event.depth == 0)
        }
        #expect(events[0].detail == "x=1")
        #expect(events[1].detail == "-> None")
    }

    @Test("another receiver, another method or a named frame opens a new frame")
    func mergeNeedsSameSite() {
        let other = TraceTarget()
        func site(_ method: String, _ receiver: AnyObject) -> TraceCall {
            TraceCall(
                function: nil, method: method, swift: method, line: nil,
                receiver: ObjectIdentifier(receiver), receiverClass: "S", detail: "")
        }
        func body(_ function: String, _ receiver: AnyObject) -> TraceCall {
            TraceCall(
                function: function, method: String(function.split(separator: ".").last!),
                swift: "", line: 1, receiver: ObjectIdentifier(receiver), receiverClass: "S",
                detail: "")
        }
        #expect(recorder.begin(site("finish_request", server)))
        #expect(recorder.begin(body("BaseServer.finish_request", other)))  // other receiver
        #expect(recorder.begin(body("BaseServer.close_request", other)))  // top is named
        recorder.end(.returned("None"))
        recorder.end(.returned("None"))
        #expect(recorder.begin(body("BaseServer.verify_request", server)))  // other method
        recorder.end(.returned("True"))
        recorder.end(.returned("None"))
        let calls = recorder.recording().events.filter { $0.kind == .call }
        #expect(
            calls.map(\.function) == [
                "S.finish_request", "BaseServer.finish_request", "BaseServer.close_request",
                "BaseServer.verify_request",
            ])
        #expect(calls.map(\.depth) == [0, 1, 2, 1])
    }

    @Test("an override that does not call super is named by the receiver's class")
    func overrideWithoutSuper() {
        traceCall(recorder, nil, method: "handle", on: handler, as: "MyHandler", "", returns: "None")
        traceCall(
            recorder, nil, method: "verify_request", on: handler, as: "MyServer", returns: "False")
        let events = recorder.recording().events
        #expect(events.map(\.function) == ["MyHandler.handle", "MyHandler.handle", "MyServer.verify_request", "MyServer.verify_request"])
        #expect(events.allSatisfy { $0.definingClass == $0.selfClass })
        #expect(events.allSatisfy { $0.pyLine == nil })
        #expect(events[3].detail == "-> False")
    }

    @Test("a raise ends the frame with the exception line")
    func raise() {
        traceCall(
            recorder, "BaseRequestHandler.__init__", line: 755, on: handler, as: "EchoHandler",
            raising: "ValueError: boom"
        ) {
            traceCall(recorder, nil, method: "handle", on: handler, as: "EchoHandler", raising: "ValueError: boom")
        }
        let events = recorder.recording().events
        #expect(events.map(\.kind) == [.call, .call, .raise, .raise])
        #expect(events[2].detail == "ValueError: boom")
        #expect(events[3].function == "BaseRequestHandler.__init__")
    }

    @Test("get_request starts a request that lasts until the enclosing frame ends")
    func requestIDs() {
        for _ in 1...2 {
            traceCall(recorder, "BaseServer.service_actions", line: 257, on: server, as: "TCPServer")
            acceptTurn(recorder, on: server, as: "TCPServer", request: "(s, a)") {
                traceCall(recorder, "BaseServer.verify_request", line: 335, on: server, as: "TCPServer", returns: "True")
                traceCall(recorder, "BaseServer.process_request", line: 343, on: server, as: "TCPServer")
            }
        }
        let events = recorder.recording().events
        let summary = events.map { "\($0.kind.rawValue) \($0.method) \($0.request.map(String.init) ?? "-")" }
        #expect(
            summary == [
                "call service_actions -", "return service_actions -",
                "call _handle_request_noblock -", "call get_request -", "return get_request 1",
                "call verify_request 1", "return verify_request 1", "call process_request 1",
                "return process_request 1", "return _handle_request_noblock 1",
                "call service_actions -", "return service_actions -",
                "call _handle_request_noblock -", "call get_request -", "return get_request 2",
                "call verify_request 2", "return verify_request 2", "call process_request 2",
                "return process_request 2", "return _handle_request_noblock 2",
            ])
    }

    @Test("a failed get_request starts no request")
    func failedGetRequest() {
        acceptTurn(recorder, on: server, as: "TCPServer", raising: "OSError: x")
        #expect(recorder.recording().events.allSatisfy { $0.request == nil })
    }

    @Test("an end without a frame is ignored")
    func unbalancedEnd() {
        recorder.end(.returned("None"))
        traceCall(recorder, "A.f", line: 1, on: TraceTarget(), as: "A")
        recorder.end(.returned("None"))
        #expect(recorder.recording().events.count == 2)
    }
}

// MARK: - Threads

@Suite("Recorder threads", .timeLimit(.minutes(1)))
struct RecorderThreadTests {
    @Test("threads are labelled in start order and inherit the request")
    func threadLabels() throws {
        let recorder = Recorder()
        let server = TraceTarget()
        var threads: [PThread] = []
        acceptTurn(recorder, on: server, as: "S") {
            traceCall(recorder, "ThreadingMixIn.process_request", line: 698, on: server, as: "S") {
                for number in 1...2 {
                    let name = "Thread-\(number) (process_request_thread)"
                    threads.append(
                        try! startTracedThread(recorder, name: name) {
                            usleep(UInt32(3 - number) * 2000)  // the second one runs first
                            traceCall(
                                recorder, "ThreadingMixIn.process_request_thread", line: 685,
                                on: server, as: "S")
                        })
                }
            }
        }
        for thread in threads { try thread.join() }
        let recording = recorder.recording()
        let workers = recording.events.filter { $0.method == "process_request_thread" }
        #expect(Set(workers.map(\.thread)) == ["T1", "T2"])
        #expect(workers.allSatisfy { $0.request == 1 && $0.depth == 0 && $0.process == "P0" })
        #expect(recording.threads.map(\.label) == ["T0", "T1", "T2"])
        #expect(
            recording.threads.dropFirst().map(\.name) == [
                "Thread-1 (process_request_thread)", "Thread-2 (process_request_thread)",
            ])
        #expect(Set(recording.threads.map(\.tid)).count == 3)
        #expect(recording.spawns.count == 2)
        for (index, spawn) in recording.spawns.enumerated() {
            #expect(spawn.kind == .thread)
            #expect(spawn.thread == "T\(index + 1)")
            #expect(spawn.parentThread == "T0")
            #expect(spawn.request == 1)
            #expect(spawn.started)
            #expect(spawn.position == 4)  // after the calls of _handle..., get_request, process_request
            #expect(spawn.parentFrame == recording.events[3].frame)
        }
    }

    @Test("concurrent threads keep their own stacks and lose nothing")
    func concurrentThreads() throws {
        let recorder = Recorder()
        let perThread = 400
        var threads: [PThread] = []
        for number in 0..<6 {
            threads.append(
                try startTracedThread(recorder, name: "worker-\(number)") {
                    let target = TraceTarget()
                    for index in 0..<perThread {
                        traceCall(recorder, "W.outer", line: 1, on: target, as: "W", "i=\(index)") {
                            traceCall(recorder, nil, method: "inner", on: target, as: "W") {
                                traceCall(recorder, "W.inner", line: 2, on: target, as: "W")
                            }
                        }
                    }
                })
        }
        for thread in threads { try thread.join() }
        let recording = recorder.recording()
        #expect(recording.events.count == 6 * perThread * 4)
        #expect(recording.events.map(\.seq) == Array(0..<recording.events.count))
        for lane in Set(recording.events.map(\.thread)) {
            let events = recording.events.filter { $0.thread == lane }
            #expect(events.count == perThread * 4)
            var depth = 0
            for event in events {
                switch event.kind {
                case .call:
                    #expect(event.depth == depth)
                    depth += 1
                case .return, .raise:
                    depth -= 1
                    #expect(event.depth == depth)
                }
            }
            #expect(events.filter { $0.method == "inner" }.allSatisfy { $0.function == "W.inner" && $0.pyLine == 2 })
        }
        #expect(zip(recording.events, recording.events.dropFirst()).allSatisfy { $0.time <= $1.time })
    }
}

// MARK: - The public probe

@Suite("Recorder attached", .serialized, .timeLimit(.minutes(1)))
struct RecorderAttachedTests {
    final class Probe: Sendable {}

    struct Boom: Error {}

    @Test("traced(...) reports calls, results and raises to the attached recorder")
    func tracedProbe() throws {
        let recorder = Recorder()
        let probe = Probe()
        Trace.attach(recorder)
        let value = traced("Probe.outer", line: 10, probe, "n=1") {
            traced("Probe.inner", line: 20, probe) { 42 }
        }
        #expect(throws: Boom.self) {
            try traced("Probe.fails", line: 30, probe) { () throws -> Int in throw Boom() }
        }
        Trace.attach(nil)
        #expect(value == 42)
        let mine = recorder.recording().events.filter { $0.selfClass == "Probe" }
        #expect(mine.map(\.function) == ["Probe.outer", "Probe.inner", "Probe.inner", "Probe.outer", "Probe.fails", "Probe.fails"])
        #expect(mine.map(\.kind) == [.call, .call, .return, .return, .call, .raise])
        #expect(mine[0].detail == "n=1")
        #expect(mine[2].detail == "-> 42")
        #expect(mine[1].pyLine == 20)
        #expect(mine[1].depth == 1)
        #expect(mine[5].detail.contains("Boom"))
        #expect(Set(mine.map(\.thread)).count == 1)
    }

    @Test("PThread announces its thread to the attached recorder")
    func pthreadAnnounces() throws {
        let recorder = Recorder()
        let probe = Probe()
        Trace.attach(recorder)
        defer { Trace.attach(nil) }
        try traced("Probe.spawn", line: 1, probe) {
            let thread = PThread(targetName: "work") {
                traced("Probe.work", line: 2, probe) {}
            }
            try thread.start()
            try thread.join()
        }
        let recording = recorder.recording()
        let spawn = try #require(recording.spawns.first { $0.name.hasSuffix("(work)") })
        let work = try #require(recording.events.first { $0.function == "Probe.work" })
        let outer = try #require(recording.events.first { $0.function == "Probe.spawn" })
        #expect(work.thread == spawn.thread)
        #expect(work.thread != outer.thread)
        #expect(spawn.parentThread == outer.thread)
        #expect(spawn.parentFrame == outer.frame)
        #expect(spawn.started)
        #expect(recording.thread(process: "P0", label: spawn.thread)?.name == spawn.name)
    }
}

// MARK: - Forks

/// Each test forks, so each runs in a fresh process (an exit test): forking beside the other
/// suites' threads could leave a child waiting for a runtime lock one of them held.
@Suite("Recorder forks", .serialized, .timeLimit(.minutes(1)))
struct RecorderForkTests {
    static let tests = [
        FreshProcessTest("a forked child's events reach the parent's recording under P1", forkBody),
        FreshProcessTest("a child's own child reports to the same spool as P1.1", grandchildBody),
        FreshProcessTest("a child starts recording although a flush held the forking thread's journal at the fork", heldJournalBody),
        // Streaming (RecorderStreamingTests.swift)
        FreshProcessTest("a forked request is handed out once its child has reported", forkedRequestBody),
        FreshProcessTest("a child that dies without a report does not hold its request back", childWithoutReportBody),
    ]

    @Test("in a fresh process", arguments: tests.map(\.name))
    func inFreshProcess(_ name: String) async {
        await #expect(processExitsWith: .success) { [name] in FreshProcessTest.run(name, of: RecorderForkTests.tests) }
    }

    static func forkBody() throws {
        let recorder = Recorder()
        let server = TraceTarget()
        var childPid: Int32 = 0
        acceptTurn(recorder, on: server, as: "ForkingTCPServer") {
            traceCall(recorder, nil, method: "process_request", on: server, as: "ForkingTCPServer") {
                traceCall(recorder, "ForkingMixIn.process_request", line: 610, on: server, as: "ForkingTCPServer") {
                    let token = recorder.processWillFork()
                    let pid = forkChild(recorder, inherited: token) { child in
                        traceCall(child, nil, method: "finish_request", on: server, as: "ForkingTCPServer") {
                            traceCall(child, "BaseServer.finish_request", line: 360, on: server, as: "ForkingTCPServer", "x=\u{1B}")
                        }
                        traceCall(child, "TCPServer.shutdown_request", line: 508, on: server, as: "ForkingTCPServer")
                        return 3
                    }
                    childPid = pid
                    recorder.processDidFork(child: pid, inherited: token)
                    let status = waitForChild(pid)
                    #expect(status.map { ($0 >> 8) & 0xff } == 3)
                    traceCall(recorder, "TCPServer.close_request", line: 518, on: server, as: "ForkingTCPServer")
                }
            }
        }
        let recording = recorder.recording()
        #expect(recording.processes.map(\.label) == ["P0", "P1"])
        #expect(recording.processes[1].pid == childPid)
        #expect(recording.processes[1].parent == "P0")
        #expect(recording.processes[1].exitStatus == 3)
        let child = recording.events.filter { $0.process == "P1" }
        #expect(child.map(\.function) == ["BaseServer.finish_request", "BaseServer.finish_request", "TCPServer.shutdown_request", "TCPServer.shutdown_request"])
        #expect(child.allSatisfy { $0.pid == childPid && $0.thread == "T0" && $0.request == 1 })
        #expect(child.map(\.depth) == [2, 2, 2, 2])  // _handle_request_noblock, process_request
        #expect(child[0].detail == "x=\u{1B}")
        #expect(child[0].frame.process == "P1")
        let spawn = try #require(recording.spawns.first { $0.kind == .fork })
        #expect(spawn.process == "P1" && spawn.thread == "T0" && spawn.parentThread == "T0")
        #expect(spawn.started && spawn.depth == 2 && spawn.request == 1)
        let forkingCall = try #require(recording.events.first { $0.function == "ForkingMixIn.process_request" })
        #expect(spawn.parentFrame == forkingCall.frame)
        #expect(recording.threads.contains { $0.process == "P1" && $0.label == "T0" && $0.pid == childPid })
        // The child's events sit between the parent's, by time.
        #expect(recording.events.map(\.seq) == Array(0..<recording.events.count))
        #expect(zip(recording.events, recording.events.dropFirst()).allSatisfy { $0.time <= $1.time })
        // Taking a second snapshot reads nothing twice.
        #expect(recorder.recording() == recording)
    }

    /// Another thread holds the lock of the forking thread's journal (as a flush on a consumer
    /// thread may) while the fork happens: the child, which inherits the lock held for ever,
    /// must not touch it on its way to a recorder of its own.
    static func heldJournalBody() throws {
        let recorder = Recorder()
        let server = TraceTarget()
        traceCall(recorder, "ForkingMixIn.process_request", line: 610, on: server, as: "S") {
            let token = recorder.processWillFork()
            let journal = recorder.currentJournal()!
            let holding = Event()
            let release = Event()
            let holder = PThread(name: "holder") {
                journal.holdingLock {
                    holding.set()
                    _ = release.wait(20)
                }
            }
            try! holder.start()
            #expect(holding.wait(10))
            let pid = forkChild(recorder, inherited: token) { child in
                traceCall(child, "BaseServer.finish_request", line: 360, on: server, as: "S")
                return 0
            }
            let status = waitForChild(pid, seconds: 10)
            #expect(status != nil, "the child (pid \(pid)) was stuck and had to be killed")
            #expect(exitedCleanly(status))
            release.set()
            try! holder.join()
            recorder.processDidFork(child: pid, inherited: token)
        }
        #expect(recorder.recording().events.contains { $0.process == "P1" && $0.function == "BaseServer.finish_request" })
    }

    static func grandchildBody() throws {
        let recorder = Recorder()
        let server = TraceTarget()
        traceCall(recorder, "ForkingMixIn.process_request", line: 610, on: server, as: "S") {
            let token = recorder.processWillFork()
            let pid = forkChild(recorder, inherited: token) { child in
                var status: Int32 = 0
                traceCall(child, "ForkingMixIn.process_request", line: 610, on: server, as: "S") {
                    let inner = child.processWillFork()
                    let grandchild = forkChild(child, inherited: inner) { recorder in
                        traceCall(recorder, "BaseServer.finish_request", line: 360, on: server, as: "S")
                        return 0
                    }
                    child.processDidFork(child: grandchild, inherited: inner)
                    status = exitedCleanly(waitForChild(grandchild)) ? 0 : 1
                }
                return status
            }
            recorder.processDidFork(child: pid, inherited: token)
            #expect(exitedCleanly(waitForChild(pid)))
        }
        let recording = recorder.recording()
        #expect(recording.processes.map(\.label) == ["P0", "P1", "P1.1"])
        #expect(recording.processes.map(\.parent) == [nil, "P0", "P1"])
        #expect(recording.processes.allSatisfy { $0.pid > 0 })
        #expect(Set(recording.processes.map(\.pid)).count == 3)
        let grandchild = recording.events.filter { $0.process == "P1.1" }
        #expect(grandchild.map(\.function) == ["BaseServer.finish_request", "BaseServer.finish_request"])
        #expect(grandchild.allSatisfy { $0.depth == 2 })
        let spawn = try #require(recording.spawns.first { $0.process == "P1.1" })
        #expect(spawn.parentProcess == "P1" && spawn.started)
        #expect(spawn.parentFrame?.process == "P1")
        let tree = renderTree(recording)
        #expect(tree.contains("⇢ P1.1 fork"))
        #expect(tree.contains("P1.1 T0"))
    }

    @Test(
        "1,000 forks in a row lose no event and do not hang",
        .disabled(if: sanitizer != nil, "a sanitizer's runtime makes each fork too slow for a thousand"))
    func thousandForks() async {
        await #expect(processExitsWith: .success) { isolated { try RecorderForkTests.thousandForksBody() } }
    }

    static func thousandForksBody() throws {
        let recorder = Recorder()
        let server = TraceTarget()
        let start = traceClock()
        var failures = 0
        for _ in 0..<1000 {
            let token = recorder.processWillFork()
            let pid = forkChild(recorder, inherited: token) { child in
                traceCall(child, "BaseServer.finish_request", line: 360, on: server, as: "S") {
                    traceCall(child, "BaseRequestHandler.handle", line: 790, on: server, as: "S")
                }
                traceCall(child, "BaseServer.shutdown_request", line: 364, on: server, as: "S")
                return 0
            }
            #expect(pid > 0)
            guard pid > 0 else { break }
            recorder.processDidFork(child: pid, inherited: token)
            if !exitedCleanly(waitForChild(pid)) { failures += 1 }
        }
        let recording = recorder.recording()
        let seconds = Double(traceClock() - start) / 1e9
        #expect(failures == 0)
        print("1,000 forks with a recorder: \(seconds) s")
        #expect(recording.processes.count == 1001)
        #expect(recording.processes.dropFirst().allSatisfy { $0.exitStatus == 0 && $0.pid > 0 })
        #expect(recording.events.count == 6000)
        var perProcess: [String: Int] = [:]
        for event in recording.events { perProcess[event.process, default: 0] += 1 }
        #expect(perProcess.count == 1000)
        #expect(perProcess.values.allSatisfy { $0 == 6 })
        #expect(recording.processes.map(\.label).suffix(2) == ["P999", "P1000"])
    }

    @Test("spool records survive any bytes and arrive only when whole")
    func spoolCodec() throws {
        let odd = "a:b,c\n\u{0}é✓ 12:"
        let report = ChildReport(
            processes: [TraceProcess(label: "P1", pid: 42, parent: "P0", exitStatus: 1)],
            threads: [TraceThread(process: "P1", label: "T3", name: odd, pid: 42, tid: 43)],
            spawns: [
                TraceSpawn(
                    kind: .fork, process: "P1.1", thread: "T3", name: "fork", parentProcess: "P1",
                    parentThread: "T3", parentFrame: TraceFrameID(process: "P0", number: 7),
                    position: 2, depth: 3, request: nil, time: 99, started: true)
            ],
            events: [
                TraceEvent(
                    seq: 0, kind: .raise, function: "A.b", definingClass: "A", selfClass: "C",
                    method: "b", swift: "b()", pyLine: nil, process: "P1", thread: "T3", pid: 42,
                    tid: 43, request: 5, depth: 1, time: UInt64.max, detail: odd,
                    frame: TraceFrameID(process: "P1", number: 0))
            ])
        let bytes = SpoolCodec.encode(report)
        guard case .report(let decoded, let next) = SpoolCodec.decode(bytes + bytes, at: 0) else {
            Issue.record("no record")
            return
        }
        #expect(next == bytes.count)
        #expect(decoded.processes == report.processes)
        #expect(decoded.threads == report.threads)
        #expect(decoded.spawns == report.spawns)
        #expect(decoded.events == report.events)
        for cut in [1, 5, bytes.count / 2, bytes.count - 1] {
            guard case .incomplete = SpoolCodec.decode(Array(bytes.prefix(cut)), at: 0) else {
                Issue.record("a record cut at \(cut) was not incomplete")
                continue
            }
        }
        guard case .corrupt = SpoolCodec.decode(Array("garbage".utf8), at: 0) else {
            Issue.record("garbage was not corrupt")
            return
        }
    }
}
