// Swift-only: the recorder behind the trace seam.
//
// CPython watches socketserver with `sys.setprofile`; the Swift port announces its calls through
// `TraceRecorder` (SocketServer/TraceSeam.swift) and this class writes them down: one stack
// per thread, request ids, thread and process labels, and the events of forked children, which
// come back through a spool file before each child's `_exit`. A probe only appends to its
// thread's journal (Journal.swift); what the recorder keeps once the journals are replayed, and
// how a live consumer takes it away request by request, is in RecorderState.swift.
import Glibc
import SocketServer
import Sockets
import Synchronization

/// Records every call the port announces, from every thread and every forked child.
///
/// Attach one with `Trace.attach(Recorder())`, run a server, then take ``recording()`` and
/// hand it to a view (``render(_:as:color:)``).
///
/// A live consumer (`socketserver-trace serve`) does not wait for the end: it calls
/// ``takeCompletedRequests()`` now and then and gets each request that has finished as a
/// recording of its own (the turn of `_handle_request_noblock` that accepted it, with whatever
/// its worker thread or forked child did), which the recorder then forgets;
/// ``takeRecording()`` takes everything else (the start, the end). With `foldRepeats`, runs of
/// identical calls outside any request (the idle `service_actions` turns) are counted instead
/// of kept. So what a live recorder holds is what is still running, not what ran, plus what
/// the consumer has not taken yet; `maxUntaken` bounds the latter.
///
/// State: a probe appends to its own thread's journal (Journal.swift) and returns; everything
/// else is in `state`, a ``Lock`` (a pthread mutex, which the thread sanitizer sees), into which
/// every other method first replays the journals (a flush). A forked child never touches its
/// parent's mutex (another parent thread may have held it at the fork): `childDidStart`
/// returns a new recorder, made from what `processWillFork` copied, that keeps the child's
/// events in memory and writes them to the parent's spool file in one `write()` at
/// `childWillExit`. The parent reads the spool in ``recording()`` and in the take methods. The
/// child path uses neither Foundation nor Dispatch.
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
    /// whose spools are created at forks.
    let childSpool: Int32?
    /// How many finished requests may wait for the consumer before the thread that finishes
    /// another one waits for it (nil: never).
    let maxUntaken: Int?
    private let state: Lock<RecorderState>
    /// This recorder's number, unique in the process (journals name their recorder by it: an
    /// object identity could be reused by a later recorder at the same address).
    let serial = Recorder.serials.wrappingAdd(1, ordering: .relaxed).newValue
    private static let serials = Atomic<UInt64>(0)
    /// Accepting turns that have ended, and how many of them a consumer has taken (an upper
    /// bound on what waits to be taken, read without the lock).
    private let turnsEnded = Atomic<Int>(0)
    private let turnsTaken = Atomic<Int>(0)
    /// Whether the child path has run once in this process (see `rehearseChild`).
    private let rehearsed = Atomic<Bool>(false)

    /// Makes a recorder for the current process, which becomes `P0`.
    ///
    /// - Parameters:
    ///   - deterministic: true (the default) for output that is byte-identical run after run;
    ///     false for real times, pids, tids and ports (`--real-clock`).
    ///   - foldRepeats: count a finished call outside any request that repeats the one before it
    ///     (same calls inside, same details and results) on that one instead of keeping it.
    ///     Views then show the pair once, marked with the count where they mark folds; views that
    ///     list every event list it once. For a recorder that lives as long as a server, whose
    ///     idle turns would otherwise pile up; false (the default) keeps every event.
    ///   - maxUntaken: for a consumer of ``takeCompletedRequests()``: when this many finished
    ///     requests wait for it, the thread that ends the next accepting turn (the serving
    ///     thread, as `_handle_request_noblock` returns) waits until the consumer has taken
    ///     half of them, for at most a second. A consumer that falls behind (it was starved of
    ///     processor time, or its output blocks) then slows the server down, as a profiler
    ///     that prints slows CPython, instead of the waiting requests filling memory. Nil (the
    ///     default): never wait, for a recorder nobody takes from until the end.
    public init(deterministic: Bool = true, foldRepeats: Bool = false, maxUntaken: Int? = nil) {
        self.deterministic = deterministic
        self.maxUntaken = maxUntaken
        origin = traceClock()
        processLabel = "P0"
        pid = getpid()
        childSpool = nil
        state = Lock(
            RecorderState(
                process: "P0", pid: pid, nextThread: 0, nextRequest: 1,
                own: TraceProcess(label: "P0", pid: pid, parent: nil, exitStatus: nil),
                routes: true, foldRepeats: foldRepeats))
    }

    /// Makes the recorder of a freshly forked child from what the parent copied for it.
    init(child token: ForkToken) {
        deterministic = token.deterministic
        maxUntaken = nil
        origin = token.origin
        processLabel = token.process
        pid = getpid()
        childSpool = token.spool
        var initial = RecorderState(
            process: token.process, pid: pid, nextThread: token.nextThread,
            nextRequest: token.nextRequest,
            own: TraceProcess(label: token.process, pid: pid, parent: token.parentProcess, exitStatus: nil),
            routes: false, foldRepeats: false)
        // The forking thread goes on in the child with its label, its stack and its request.
        initial.adoptForkingThread(
            label: token.thread, name: token.threadName, tid: currentThreadID(),
            stack: token.stack, baseRequest: token.baseRequest, thread: UInt(pthread_self()))
        state = Lock(initial)
        // The forking thread's journal starts inside the inherited frames, as its lane does.
        let journal = Journal(
            recorder: serial, order: 0,
            stack: token.stack.map { Journal.OpenFrame(method: $0.method, receiver: $0.receiver, unnamed: $0.function == nil) })
        state.withLock { $0.journals.append(journal) }
        Journal.install(journal)
    }

    deinit {
        let (spools, journals) = state.withLock { ($0.spools.map(\.fd), $0.journals) }
        for journal in journals { journal.retire() }  // threads still hold them: drop the events
        if childSpool == nil {
            for fd in spools { close(fd) }
        }
    }

    // MARK: - Calls

    /// A call begins on the current thread (see `TraceRecorder.begin`): appended to the
    /// thread's journal (see Journal.swift), to be sorted into the recording by the next flush.
    ///
    /// A body that announces its function right inside a call site of the same method on the
    /// same receiver names that call site's frame instead of opening a new one.
    @inline(__always)
    public func begin(_ call: consuming TraceCall) -> Bool {
        (Journal.current(for: serial) ?? newJournal()).begin(call)
    }

    /// The innermost open frame of the current thread ends.
    ///
    /// A frame nobody named (a user override that did not call `super`) takes the receiver's
    /// class as its defining class. When `get_request` returns, the enclosing frame starts a
    /// new request (both decided when the journal is replayed). When an accepting turn ends
    /// and, by a count kept without the lock, ``maxUntaken`` turns may wait for the consumer,
    /// the thread flushes the journals and, if that many finished requests really wait, waits
    /// for the consumer (outside the lock).
    @inline(__always)
    public func end(_ outcome: TraceOutcome) {
        guard let journal = Journal.current(for: serial) else { return }
        guard journal.end(outcome), let limit = maxUntaken else { return }
        let ended = turnsEnded.wrappingAdd(1, ordering: .relaxed).newValue
        guard ended - turnsTaken.load(ordering: .relaxed) >= limit else { return }
        if withFlushedState({ $0.completed.count }) >= limit { waitForConsumer(limit) }
    }

    /// The current thread's journal for this recorder, if it has recorded here.
    func currentJournal() -> Journal? { Journal.current(for: serial) }

    /// Makes the current thread's journal for this recorder and registers it.
    @inline(never)
    private func newJournal() -> Journal {
        let journal = state.withLock { s in
            let journal = Journal(recorder: serial, order: s.nextJournal)
            s.nextJournal += 1
            s.journals.append(journal)
            return journal
        }
        Journal.install(journal)
        return journal
    }

    /// Runs `body` on the state once every journal's entries up to now are in it.
    private func withFlushedState<R>(_ body: (inout RecorderState) -> R) -> R {
        state.withLock { s in
            s.flushJournals()
            return body(&s)
        }
    }

    /// Waits until at most half of `limit` finished requests wait to be taken, or a second has
    /// passed (so that a consumer that stops taking, or is itself waiting for this thread in
    /// `shutdown()`, cannot stop the server for good).
    private func waitForConsumer(_ limit: Int) {
        let deadline = traceClock() + 1_000_000_000
        while traceClock() < deadline {
            ForkGate.outside { _ = usleep(1000) }
            if withFlushedState({ $0.completed.count }) <= limit / 2 { return }
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
        return withFlushedState { s in
            s.threadWillStart(name: name, lane: s.laneIndex(for: thread), time: now, recorder: me)
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
        withFlushedState { s in s.threadDidStart(token, name: name, tid: tid, thread: thread) }
    }

    /// Forgets the current thread's identity, which the system may give to a later thread;
    /// its events stay until they are taken. Its journal is flushed and retired.
    public func threadWillEnd() {
        let thread = UInt(pthread_self())
        let journal = Journal.current(for: serial)
        withFlushedState { s in
            s.threadWillEnd(thread)
            if let journal { s.journals.removeAll { $0 === journal } }
        }
        if journal != nil { Journal.remove(for: serial) }
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
        return withFlushedState { s in
            s.processWillFork(
                lane: s.laneIndex(for: thread), time: now, spool: childSpool, recorder: me,
                deterministic: deterministic, origin: origin)
        }
    }

    /// Notes the child's pid.
    public func processDidFork(child pid: Int32, inherited: any Sendable) {
        guard let token = inherited as? ForkToken, token.recorder == ObjectIdentifier(self) else {
            return
        }
        let thread = UInt(pthread_self())
        withFlushedState { s in s.processDidFork(token, pid: pid, thread: thread) }
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
                    spawn: 0, part: nil, processKey: 0))
        }
        return Recorder(child: token)
    }

    /// In a forked child: writes all its events to the parent's spool in one `write()`.
    ///
    /// Does nothing in the recorder's own process.
    public func childWillExit(status: Int32) {
        guard let spool = childSpool, spool >= 0 else { return }
        let bytes = withFlushedState { s in
            s.processes[0]?.exitStatus = status
            let report = s.report()
            s.forgetEvents()  // a second call (there should be none) sends only new events
            return SpoolCodec.encode(report)
        }
        SpoolCodec.write(bytes, to: spool)
    }

    // MARK: - Snapshot

    /// A snapshot of everything recorded so far, with the events forked children have spooled.
    ///
    /// Events are merged by time; `seq` is their index. After a take, what was taken is no
    /// longer in it.
    public func recording() -> Recording {
        let deterministic = deterministic
        let origin = origin
        return withFlushedState { s in
            s.collectSpool()
            return s.snapshot(deterministic: deterministic, origin: origin)
        }
    }

    // MARK: - Streaming

    /// The requests that have finished since the last call, each as a recording of its own,
    /// in the order they were accepted; the recorder forgets them.
    ///
    /// A request is the frame that called `get_request` (normally `_handle_request_noblock`)
    /// with everything inside it, plus every event of that request on other threads and in
    /// forked children. It has finished when that frame has ended, no frame of the request is
    /// open, every thread started for it has ended and every child forked for it has reported
    /// (or is gone without a report). A thread that has still not started 5 s after it was
    /// announced is taken to have failed to start. A turn that accepted nothing (`get_request`
    /// raised) is a part of its own, without a request id.
    ///
    /// Each recording holds the part's events (`seq` from 0), the spawn links made inside it
    /// (positions counted within it), its threads and its children. What is forgotten: the
    /// events, their frames, the spawn links, the children's process entries and reports, and
    /// the lanes of threads that have ended. The time it takes depends on what finished, not
    /// on how much ran before; when nothing has finished it is a lock and one `pread`.
    ///
    /// - Parameter limit: take at most this many (the oldest); the others wait for the next
    ///   call. A consumer that prints a few at a time keeps its own memory small when many
    ///   finish at once.
    public func takeCompletedRequests(limit: Int = .max) -> [Recording] {
        let deterministic = deterministic
        let origin = origin
        let taken = withFlushedState { s in
            s.collectSpool()
            s.settleWaiting(now: traceClock())
            return s.takeCompleted(limit: limit, deterministic: deterministic, origin: origin)
        }
        turnsTaken.wrappingAdd(taken.count, ordering: .relaxed)
        return taken
    }

    /// Everything the recorder still holds, as ``recording()`` gives it, and then forgets it
    /// (frames still open stay, so their ends land in a later take).
    ///
    /// A live consumer prints what happened before serving started with it, and the rest
    /// after the server closed.
    public func takeRecording() -> Recording {
        let deterministic = deterministic
        let origin = origin
        let ended = turnsEnded.load(ordering: .relaxed)
        let recording = withFlushedState { s in
            s.collectSpool()
            let recording = s.snapshot(deterministic: deterministic, origin: origin)
            s.forgetAll()
            return recording
        }
        turnsTaken.store(ended, ordering: .relaxed)
        return recording
    }

    /// Runs the child's code path once in the parent, before the first fork, so that a child
    /// finds every lazily made runtime structure (type metadata, ...) already there and takes
    /// no lock another thread might have held at the fork.
    private func rehearseChild() {
        guard !rehearsed.exchange(true, ordering: .relaxed) else { return }
        let token = ForkToken(
            recorder: ObjectIdentifier(self), deterministic: deterministic, origin: origin,
            process: "P?", parentProcess: processLabel, thread: "T?", threadName: "thread",
            stack: [], baseRequest: nil, nextRequest: 1, nextThread: 0, spool: -1, spawn: 0,
            part: nil, processKey: 0)
        let child = Recorder(child: token)
        let call = TraceCall(
            function: "Rehearsal.run", method: "run", swift: "run()", line: nil,
            receiver: ObjectIdentifier(child), receiverType: Recorder.self, arguments: .none)
        if child.begin(call) { child.end(.returned(.none)) }
        _ = child.withFlushedState { s in
            s.processes[0]?.exitStatus = 0
            let bytes = SpoolCodec.encode(s.report())
            s.forgetEvents()
            return bytes
        }
        Journal.remove(for: child.serial)
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
    /// The spawn link's number in the parent's state.
    let spawn: Int
    /// The part the thread was started in, which waits for it to end.
    let part: Int?
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
    /// The spawn link's number in the parent's state.
    let spawn: Int
    /// The part the child was forked in, which waits for its report.
    let part: Int?
    /// The child's entry in the parent's process table.
    let processKey: Int
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

extension Recorder {
    /// How much a recorder holds, counted.
    struct Holdings: Equatable {
        /// Events not yet handed out.
        var events: Int
        /// Frames open or named by those events.
        var frames: Int
        /// Threads known (live, or ended with events held).
        var lanes: Int
        /// Parts not yet taken.
        var parts: Int
        /// Requests with a part.
        var requests: Int
        /// Spawn links held.
        var spawns: Int
        /// Process entries held (this process included).
        var processes: Int
        /// Children's reports held.
        var reports: Int
    }

    /// What the recorder holds now (tests check that a live recorder forgets).
    func holdings() -> Holdings {
        withFlushedState { s in
            Holdings(
                events: s.lanes.values.reduce(0) { $0 + $1.loose.count }
                    + s.parts.values.reduce(0) { $0 + $1.events.count },
                frames: s.frames.count, lanes: s.lanes.count, parts: s.parts.count,
                requests: s.partOfRequest.count, spawns: s.spawns.count,
                processes: s.processes.count,
                reports: s.looseReports.count + s.parts.values.reduce(0) { $0 + $1.reports.count })
        }
    }
}
