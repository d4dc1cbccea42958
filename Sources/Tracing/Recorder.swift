// Swift-only: the recorder behind the trace seam.
//
// CPython watches socketserver with `sys.setprofile`; the Swift port announces its calls through
// `TraceRecorder` (SocketServer/TraceSeam.swift) and this class writes them down: one stack
// per thread, request ids, thread and process labels, and the events of forked children, which
// come back through a spool file before each child's `_exit`.
import Glibc
import SocketServer
import Synchronization

/// Records every call the port announces, from every thread and every forked child.
///
/// Attach one with `Trace.attach(Recorder())`, run a server, then take ``recording()`` and
/// hand it to a view (``render(_:as:color:)``).
///
/// State: everything mutable is in `state`, a `Mutex`. A forked child never touches its
/// parent's mutex (another parent thread may have held it at the fork): `childDidStart`
/// returns a new recorder, made from what `processWillFork` copied, that keeps the child's
/// events in memory and writes them to the parent's spool file in one `write()` at
/// `childWillExit`. The parent reads the spool in ``recording()``. The child path uses
/// neither Foundation nor Dispatch.
public final class Recorder: TraceRecorder {
    /// Whether views of this recorder's recordings use stable labels, normalized details and a
    /// logical clock (true), or real times, pids, tids and ports.
    public let deterministic: Bool
    /// `CLOCK_MONOTONIC` nanoseconds at creation (real-clock time zero), inherited by children.
    let origin: UInt64
    /// The label of the process this recorder runs in (`"P0"`, or a child's `"P1"`).
    let processLabel: String
    /// The process this recorder belongs to.
    let pid: Int32
    /// In a forked child, the spool to write to at exit; nil in the recorder's own process,
    /// whose spool is created at the first fork.
    let childSpool: Int32?
    private let state: Mutex<RecorderState>
    /// Whether the child path has run once in this process (see `rehearseChild`).
    private let rehearsed = Atomic<Bool>(false)

    /// Makes a recorder for the current process, which becomes `P0`.
    ///
    /// - Parameter deterministic: true (the default) for output that is byte-identical run after
    ///   run; false for real times, pids, tids and ports (`--real-clock`).
    public init(deterministic: Bool = true) {
        self.deterministic = deterministic
        origin = traceClock()
        processLabel = "P0"
        pid = getpid()
        childSpool = nil
        state = Mutex(
            RecorderState(
                process: "P0", pid: pid, nextThread: 0, nextRequest: 1,
                processes: [TraceProcess(label: "P0", pid: pid, parent: nil, exitStatus: nil)]))
    }

    /// Makes the recorder of a freshly forked child from what the parent copied for it.
    init(child token: ForkToken) {
        deterministic = token.deterministic
        origin = token.origin
        processLabel = token.process
        pid = getpid()
        childSpool = token.spool
        var initial = RecorderState(
            process: token.process, pid: pid, nextThread: token.nextThread,
            nextRequest: token.nextRequest,
            processes: [
                TraceProcess(label: token.process, pid: pid, parent: token.parentProcess, exitStatus: nil)
            ])
        // The forking thread goes on in the child with its label, its stack and its request.
        initial.frames = token.stack
        initial.lanes.append(
            Lane(
                label: token.thread, name: token.threadName, tid: currentThreadID(),
                stack: Array(token.stack.indices), baseRequest: token.baseRequest))
        initial.laneOfThread[UInt(pthread_self())] = 0
        state = Mutex(initial)
    }

    deinit {
        let spool = state.withLock { $0.spool }
        if childSpool == nil, spool >= 0 { close(spool) }
    }

    // MARK: - Calls

    /// A call begins on the current thread (see `TraceRecorder.begin`).
    ///
    /// A body that announces its function right inside a call site of the same method on the
    /// same receiver names that call site's frame instead of opening a new one.
    public func begin(_ call: TraceCall) -> Bool {
        let thread = UInt(pthread_self())
        return state.withLock { s in
            // The clock is read under the lock so that the events stay in time order.
            s.begin(call, lane: s.laneIndex(for: thread), time: traceClock())
        }
    }

    /// The innermost open frame of the current thread ends.
    ///
    /// A frame nobody named (a user override that did not call `super`) takes the receiver's
    /// class as its defining class. When `get_request` returns, the enclosing frame starts a
    /// new request.
    public func end(_ outcome: TraceOutcome) {
        let thread = UInt(pthread_self())
        state.withLock { s in
            guard let lane = s.laneOfThread[thread] else { return }
            s.end(lane: lane, outcome: outcome, time: traceClock())
        }
    }

    // MARK: - Threads

    /// Labels the thread about to start (labels follow start order, which one thread decides)
    /// and notes where it was started from.
    ///
    /// - Returns: a `ThreadToken`: the new label, the parent thread, the parent frame and the
    ///   current request.
    public func threadWillStart(name: String) -> any Sendable {
        let now = traceClock()
        let thread = UInt(pthread_self())
        let me = ObjectIdentifier(self)
        return state.withLock { s in
            let lane = s.laneIndex(for: thread)
            let label = "T\(s.nextThread)"
            s.nextThread += 1
            let parent = s.lanes[lane]
            let frame = parent.stack.last.map { s.frameID($0) }
            let request = s.currentRequest(lane)
            s.spawns.append(
                TraceSpawn(
                    kind: .thread, process: s.process, thread: label, name: name,
                    parentProcess: s.process, parentThread: parent.label, parentFrame: frame,
                    position: parent.eventCount, depth: parent.stack.count, request: request,
                    time: now, started: false))
            return ThreadToken(
                recorder: me, label: label, parentThread: parent.label, parentFrame: frame,
                request: request, spawn: s.spawns.count - 1)
        }
    }

    /// Registers the new thread under the label `threadWillStart` gave it, with the request it
    /// inherits.
    public func threadDidStart(name: String, inherited: any Sendable) {
        let thread = UInt(pthread_self())
        let tid = currentThreadID()
        guard let token = inherited as? ThreadToken, token.recorder == ObjectIdentifier(self) else {
            return  // Started under another recorder: this thread is labelled when it calls.
        }
        state.withLock { s in
            s.lanes.append(
                Lane(label: token.label, name: name, tid: tid, baseRequest: token.request))
            s.laneOfThread[thread] = s.lanes.count - 1
            s.spawns[token.spawn].started = true
        }
    }

    /// Forgets the current thread's identity, which the system may give to a later thread;
    /// its events stay.
    public func threadWillEnd() {
        let thread = UInt(pthread_self())
        state.withLock { s in _ = s.laneOfThread.removeValue(forKey: thread) }
    }

    // MARK: - Forks

    /// Labels the child about to be forked and copies what it needs: its labels, the forking
    /// thread's stack and request, the counters, and the spool descriptor.
    ///
    /// - Returns: a `ForkToken`.
    public func processWillFork() -> any Sendable {
        rehearseChild()
        let now = traceClock()
        let thread = UInt(pthread_self())
        let me = ObjectIdentifier(self)
        let deterministic = deterministic
        let origin = origin
        let childSpool = childSpool
        return state.withLock { s in
            let spool = childSpool ?? s.openSpool()
            let lane = s.laneIndex(for: thread)
            let label = s.process == "P0" ? "P\(s.nextChild)" : "\(s.process).\(s.nextChild)"
            s.nextChild += 1
            s.processes.append(TraceProcess(label: label, pid: 0, parent: s.process, exitStatus: nil))
            let parent = s.lanes[lane]
            s.spawns.append(
                TraceSpawn(
                    kind: .fork, process: label, thread: parent.label, name: "fork",
                    parentProcess: s.process, parentThread: parent.label,
                    parentFrame: parent.stack.last.map { s.frameID($0) },
                    position: parent.eventCount, depth: parent.stack.count,
                    request: s.currentRequest(lane), time: now, started: false))
            // The child is inside the same frames; they stay the parent's (their events are).
            let stack = parent.stack.map { index in
                var frame = s.frames[index]
                frame.owner = frame.owner ?? s.process
                frame.lane = 0
                return frame
            }
            return ForkToken(
                recorder: me, deterministic: deterministic, origin: origin, process: label,
                parentProcess: s.process, thread: parent.label, threadName: parent.name,
                stack: stack, baseRequest: parent.baseRequest, nextRequest: s.nextRequest,
                nextThread: s.nextThread, spool: spool, spawn: s.spawns.count - 1)
        }
    }

    /// Notes the child's pid.
    public func processDidFork(child pid: Int32, inherited: any Sendable) {
        guard let token = inherited as? ForkToken, token.recorder == ObjectIdentifier(self) else {
            return
        }
        state.withLock { s in
            if let index = s.processes.firstIndex(where: { $0.label == token.process }) {
                s.processes[index].pid = pid
            }
            s.spawns[token.spawn].started = true
        }
    }

    /// Makes the child's recorder; touches nothing of this one (its mutex may be held forever
    /// in the child).
    public func childDidStart(inherited: any Sendable) -> any TraceRecorder {
        guard let token = inherited as? ForkToken else {
            // Not ours: record nothing anyone will read rather than touch a copied lock.
            return Recorder(
                child: ForkToken(
                    recorder: ObjectIdentifier(self), deterministic: deterministic, origin: origin,
                    process: "P?", parentProcess: processLabel, thread: "T?", threadName: "thread",
                    stack: [], baseRequest: nil, nextRequest: 1, nextThread: 0, spool: -1,
                    spawn: 0))
        }
        return Recorder(child: token)
    }

    /// In a forked child: writes all its events to the parent's spool in one `write()`.
    ///
    /// Does nothing in the recorder's own process.
    public func childWillExit(status: Int32) {
        guard let spool = childSpool, spool >= 0 else { return }
        let bytes = state.withLock { s in
            if let index = s.processes.firstIndex(where: { $0.label == s.process }) {
                s.processes[index].exitStatus = status
            }
            let report = s.report()
            s.events.removeAll()  // a second call (there should be none) sends only new events
            return SpoolCodec.encode(report)
        }
        SpoolCodec.write(bytes, to: spool)
    }

    // MARK: - Snapshot

    /// A snapshot of everything recorded so far, with the events forked children have spooled.
    ///
    /// Events are merged by time; `seq` is their index.
    public func recording() -> Recording {
        let deterministic = deterministic
        let origin = origin
        return state.withLock { s in
            s.collectSpool()
            return s.snapshot(deterministic: deterministic, origin: origin)
        }
    }

    /// Runs the child's code path once in the parent, before the first fork, so that a child
    /// finds every lazily made runtime structure (type metadata, ...) already there and takes
    /// no lock another thread might have held at the fork.
    private func rehearseChild() {
        guard !rehearsed.exchange(true, ordering: .relaxed) else { return }
        let token = ForkToken(
            recorder: ObjectIdentifier(self), deterministic: deterministic, origin: origin,
            process: "P?", parentProcess: processLabel, thread: "T?", threadName: "thread",
            stack: [], baseRequest: nil, nextRequest: 1, nextThread: 0, spool: -1, spawn: 0)
        let child = Recorder(child: token)
        let call = TraceCall(
            function: "Rehearsal.run", method: "run", swift: "run()", line: nil,
            receiver: ObjectIdentifier(child), receiverClass: "Rehearsal", detail: "")
        if child.begin(call) { child.end(.returned("None")) }
        _ = child.state.withLock { SpoolCodec.encode($0.report()) }
    }
}

// MARK: - Tokens

/// What a started thread inherits: its label, where it was started from, its request.
struct ThreadToken: Sendable {
    /// The recorder that made the token (another one ignores it).
    let recorder: ObjectIdentifier
    /// The new thread's label.
    let label: String
    /// The starting thread's label.
    let parentThread: String
    /// The innermost frame open on the starting thread.
    let parentFrame: TraceFrameID?
    /// The request current on the starting thread.
    let request: Int?
    /// The index of the spawn link in the parent's state.
    let spawn: Int
}

/// What a forked child inherits.
struct ForkToken: Sendable {
    /// The recorder that made the token.
    let recorder: ObjectIdentifier
    /// The parent's mode.
    let deterministic: Bool
    /// The parent's time zero.
    let origin: UInt64
    /// The child's label (`"P1"`).
    let process: String
    /// The forking process's label.
    let parentProcess: String
    /// The forking thread's label, which the child's only thread keeps.
    let thread: String
    /// The forking thread's name.
    let threadName: String
    /// The forking thread's open frames (the child is inside them too).
    let stack: [Frame]
    /// The forking thread's request outside any frame.
    let baseRequest: Int?
    /// The next request id (a child that accepts requests goes on from here).
    let nextRequest: Int
    /// The next thread label number.
    let nextThread: Int
    /// The spool descriptor (append-only temp file of the parent recorder).
    let spool: Int32
    /// The index of the spawn link in the parent's state.
    let spawn: Int
}

// MARK: - State

/// A call a recorder has seen open: what names it, and the request of what runs inside it.
///
/// Events point to their frame instead of copying its names: the hot path stays short, and a
/// frame named late (the merge rule, or an override's end) names all its events at once.
struct Frame: Sendable {
    /// The frame's number in the process that opened it.
    var number: Int
    /// The process that opened it when not this one (frames a child inherited at the fork).
    var owner: String?
    /// The Python qualified name, nil until a body announces it.
    var function: String?
    /// The Python method name.
    var method: String
    /// The Swift name.
    var swift: String
    /// The 3.13 line of the function (0 for none).
    var line: Int?
    /// The receiver's identity (for the merge rule).
    var receiver: ObjectIdentifier
    /// The receiver's runtime class.
    var receiverClass: String
    /// The arguments in short text.
    var detail: String
    /// The request of events inside this frame (set when a `get_request` inside it returns).
    var request: Int?
    /// The stack depth at which it was opened.
    var depth: Int
    /// The lane (index in the recorder's lanes) it runs on.
    var lane: Int
}

/// One event as the hot path records it.
struct RawEvent {
    /// Call, return or raise.
    var kind: TraceEvent.Kind
    /// The index of its frame in the recorder's frames.
    var frame: Int
    /// The request the event belongs to.
    var request: Int?
    /// `CLOCK_MONOTONIC` nanoseconds.
    var time: UInt64
    /// The result of a return, the exception line of a raise; empty for a call (whose
    /// arguments are its frame's).
    var text: String
}

/// One thread of this process, as the recorder sees it.
struct Lane {
    /// `"T0"`, ...
    var label: String
    /// The thread's name.
    var name: String
    /// The real thread id.
    var tid: Int32
    /// Open frames (indices in the recorder's frames), innermost last.
    var stack: [Int] = []
    /// The request outside any frame (inherited at a thread start or fork).
    var baseRequest: Int?
    /// Events recorded on this thread (what spawn positions count).
    var eventCount = 0
}

/// What a forked child sends to its parent.
struct ChildReport: Sendable {
    /// The child itself (with its exit status) and any children it forked.
    var processes: [TraceProcess]
    /// The child's threads.
    var threads: [TraceThread]
    /// Threads the child started and children it forked.
    var spawns: [TraceSpawn]
    /// The child's events.
    var events: [TraceEvent]
}

/// Everything a recorder guards with its mutex.
struct RecorderState {
    /// This process's label.
    let process: String
    /// This process's pid.
    let pid: Int32
    /// Every frame opened in this process, and those inherited at the fork.
    var frames: [Frame] = []
    /// This process's events, in time order.
    var events: [RawEvent] = []
    /// Every thread seen, including ended ones.
    var lanes: [Lane] = []
    /// Live threads (by `pthread_self`) to their lane.
    var laneOfThread: [UInt: Int] = [:]
    /// The next thread label number.
    var nextThread: Int
    /// The next frame number.
    var nextFrame = 0
    /// The next request id.
    var nextRequest: Int
    /// The next child label number.
    var nextChild = 1
    /// This process and the children it forked.
    var processes: [TraceProcess]
    /// Thread starts and forks.
    var spawns: [TraceSpawn] = []
    /// The spool descriptor (-1 until the first fork).
    var spool: Int32 = -1
    /// How many bytes of the spool have been read.
    var spoolRead = 0
    /// What children have reported so far.
    var reports: [ChildReport] = []

    init(
        process: String, pid: Int32, nextThread: Int, nextRequest: Int,
        processes: [TraceProcess]
    ) {
        self.process = process
        self.pid = pid
        self.nextThread = nextThread
        self.nextRequest = nextRequest
        self.processes = processes
    }

    /// The lane of a thread, labelled now if this is its first appearance.
    mutating func laneIndex(for thread: UInt) -> Int {
        if let lane = laneOfThread[thread] { return lane }
        let tid = currentThreadID()
        lanes.append(Lane(label: "T\(nextThread)", name: tid == pid ? "main" : "thread", tid: tid))
        nextThread += 1
        laneOfThread[thread] = lanes.count - 1
        return lanes.count - 1
    }

    /// The request an event recorded now on `lane` belongs to.
    func currentRequest(_ lane: Int) -> Int? {
        guard let top = lanes[lane].stack.last else { return lanes[lane].baseRequest }
        return frames[top].request
    }

    /// The identity of a frame.
    func frameID(_ index: Int) -> TraceFrameID {
        TraceFrameID(process: frames[index].owner ?? process, number: frames[index].number)
    }

    /// A call begins on `lane`: names the call site's frame (the merge rule) or opens one.
    /// - Returns: whether a frame was opened.
    mutating func begin(_ call: TraceCall, lane: Int, time: UInt64) -> Bool {
        if let function = call.function, let top = lanes[lane].stack.last,
            frames[top].function == nil, frames[top].method == call.method,
            frames[top].receiver == call.receiver
        {
            frames[top].function = function
            frames[top].line = call.line
            frames[top].swift = call.swift
            if frames[top].detail.isEmpty { frames[top].detail = shortDetail(call.detail) }
            return false
        }
        let request = currentRequest(lane)
        frames.append(
            Frame(
                number: nextFrame, owner: nil, function: call.function, method: call.method,
                swift: call.swift, line: call.line, receiver: call.receiver,
                receiverClass: call.receiverClass, detail: shortDetail(call.detail),
                request: request, depth: lanes[lane].stack.count, lane: lane))
        nextFrame += 1
        let index = frames.count - 1
        events.append(RawEvent(kind: .call, frame: index, request: request, time: time, text: ""))
        lanes[lane].eventCount += 1
        lanes[lane].stack.append(index)
        return true
    }

    /// Closes the innermost frame of a lane.
    mutating func end(lane: Int, outcome: TraceOutcome, time: UInt64) {
        guard let index = lanes[lane].stack.popLast() else { return }
        var request = frames[index].request
        switch outcome {
        case .returned(let result):
            if frames[index].method == "get_request" {
                // A new request: it belongs to the frame that asked (normally
                // `_handle_request_noblock`) until that frame ends.
                request = nextRequest
                nextRequest += 1
                if let enclosing = lanes[lane].stack.last {
                    frames[enclosing].request = request
                } else {
                    lanes[lane].baseRequest = request
                }
            }
            events.append(
                RawEvent(kind: .return, frame: index, request: request, time: time, text: shortDetail(result)))
        case .raised(let line):
            events.append(
                RawEvent(kind: .raise, frame: index, request: request, time: time, text: shortDetail(line)))
        }
        lanes[lane].eventCount += 1
    }

    /// This process's events as a recording shows them.
    func traceEvents() -> [TraceEvent] {
        var classes: [String: String] = [:]
        var result: [TraceEvent] = []
        result.reserveCapacity(events.count)
        for (seq, raw) in events.enumerated() {
            let frame = frames[raw.frame]
            let function: String
            let definingClass: String
            if let announced = frame.function {
                function = announced
                if let known = classes[announced] {
                    definingClass = known
                } else {
                    definingClass = announced.lastIndex(of: ".").map { String(announced[..<$0]) } ?? ""
                    classes[announced] = definingClass
                }
            } else {
                // Nobody announced the body: the receiver's own override ran.
                function = "\(frame.receiverClass).\(frame.method)"
                definingClass = frame.receiverClass
            }
            let detail: String
            switch raw.kind {
            case .call: detail = frame.detail
            case .return: detail = "-> " + raw.text
            case .raise: detail = raw.text
            }
            result.append(
                TraceEvent(
                    seq: seq, kind: raw.kind, function: function, definingClass: definingClass,
                    selfClass: frame.receiverClass, method: frame.method, swift: frame.swift,
                    pyLine: frame.line == 0 ? nil : frame.line, process: process,
                    thread: lanes[frame.lane].label, pid: pid, tid: lanes[frame.lane].tid,
                    request: raw.request, depth: frame.depth, time: raw.time, detail: detail,
                    frame: frameID(raw.frame)))
        }
        return result
    }

    /// This process's part of a recording.
    func report() -> ChildReport {
        ChildReport(
            processes: processes,
            threads: lanes.map {
                TraceThread(process: process, label: $0.label, name: $0.name, pid: pid, tid: $0.tid)
            },
            spawns: spawns, events: traceEvents())
    }

    /// Creates the spool at the first fork: an unlinked temp file opened for appending, so
    /// that each child's single `write()` lands whole after the others.
    mutating func openSpool() -> Int32 {
        if spool >= 0 { return spool }
        let directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array("\(directory)/socketserver-trace-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { return -1 }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_APPEND)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        spool = fd
        return fd
    }

    /// Reads what children have appended to the spool since the last time.
    mutating func collectSpool() {
        guard spool >= 0 else { return }
        let bytes = SpoolCodec.read(spool, from: spoolRead)
        var offset = 0
        reading: while true {
            switch SpoolCodec.decode(bytes, at: offset) {
            case .report(let report, let next):
                reports.append(report)
                offset = next
            case .skip(let next):
                offset = next
            case .incomplete:
                break reading
            case .corrupt:
                offset = bytes.count  // cannot resynchronise: skip what is there
                break reading
            }
        }
        spoolRead += offset
    }

    /// Everything so far, children included, merged by time.
    func snapshot(deterministic: Bool, origin: UInt64) -> Recording {
        var parts = [report()]
        parts += reports
        var processes: [TraceProcess] = []
        var processIndex: [String: Int] = [:]
        for part in parts {
            for entry in part.processes {
                if let index = processIndex[entry.label] {
                    if entry.pid != 0 { processes[index].pid = entry.pid }
                    if let status = entry.exitStatus { processes[index].exitStatus = status }
                    if processes[index].parent == nil { processes[index].parent = entry.parent }
                } else {
                    processIndex[entry.label] = processes.count
                    processes.append(entry)
                }
            }
        }
        let threads = parts.flatMap(\.threads).sorted {
            let left = (processIndex[$0.process] ?? .max, labelNumbers($0.label))
            let right = (processIndex[$1.process] ?? .max, labelNumbers($1.label))
            return left.0 != right.0 ? left.0 < right.0 : left.1.lexicographicallyPrecedes(right.1)
        }
        var events = parts[0].events
        if parts.count > 1 {
            // Each part is in time order already; a stable merge by time keeps that order.
            events = parts.flatMap(\.events).enumerated().sorted {
                ($0.element.time, $0.offset) < ($1.element.time, $1.offset)
            }.map(\.element)
            for index in events.indices { events[index].seq = index }
        }
        return Recording(
            deterministic: deterministic, origin: origin, events: events, processes: processes,
            threads: threads, spawns: parts.flatMap(\.spawns))
    }
}

// MARK: - Helpers

/// `CLOCK_MONOTONIC` in nanoseconds: one clock for every process of the machine.
@inline(__always)
func traceClock() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// The Linux thread id of the calling thread.
///
/// Glibc's `gettid()` is not visible to Swift and `syscall` is variadic, so the id is read from
/// the `/proc/thread-self` link (`"<pid>/task/<tid>"`); done once per thread.
func currentThreadID() -> Int32 {
    var buffer = [CChar](repeating: 0, count: 64)
    let count = readlink("/proc/thread-self", &buffer, buffer.count - 1)
    guard count > 0 else { return getpid() }
    let text = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return text.split(separator: "/").last.flatMap { Int32($0) } ?? getpid()
}

/// How long a recorded detail may be: a trace is for reading, and memory is finite.
let recordedDetailLimit = 1000

/// `text`, cut to ``recordedDetailLimit`` characters.
@inline(__always)
func shortDetail(_ text: String) -> String {
    guard text.utf8.count > recordedDetailLimit else { return text }
    return String(text.prefix(recordedDetailLimit)) + "…"
}
