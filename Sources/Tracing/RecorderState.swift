// Swift-only: what a recorder keeps between a call and the view that shows it.
//
// Every event goes, as it is recorded, to one of two places: the *part* it belongs to, or the
// *loose* events of its thread. A part is one turn of accepting: the frame that calls
// `get_request` (normally `_handle_request_noblock`) becomes the part's home when that call
// begins, takes along the events its thread recorded inside it so far, and from then on every
// event inside it, every event tagged with the request `get_request` returned (a worker
// thread's, a forked child's report) and every thread start and fork made for it go to the
// part. Everything else (the server's `__init__`, `serve_forever` and its idle turns, the
// shutdown) is loose. A part knows when it is complete: its home has ended, none of its frames
// is open, and the threads and children it started are done. A live consumer takes complete
// parts and the recorder forgets them, so that what it holds is what still runs.
//
// A snapshot (`recording()`) merges every part and every lane back in recording order: the
// routing changes what can be forgotten, never what a snapshot shows.
import Glibc
import SocketServer

// MARK: - What is kept

/// `get_request`, the method whose call opens a part and whose return starts a request.
let getRequestName: TraceName = "get_request"

/// The texts of names and class names, each made once per snapshot.
struct NameTexts {
    private var names: [TraceName: String] = [:]
    private var qualifiedNames: [TraceName: (String, String)] = [:]
    private var swiftNames: [TraceName: String] = [:]
    private var classes: [ObjectIdentifier: String] = [:]

    /// The text of `name`.
    mutating func text(_ name: TraceName) -> String {
        if let known = names[name] { return known }
        let text = name.description
        names[name] = text
        return text
    }

    /// A qualified function name and the class part of it (`"TCPServer"`).
    mutating func qualified(_ name: TraceName) -> (function: String, definingClass: String) {
        if let known = qualifiedNames[name] { return known }
        let function = name.description
        let definingClass = function.lastIndex(of: ".").map { String(function[..<$0]) } ?? ""
        qualifiedNames[name] = (function, definingClass)
        return (function, definingClass)
    }

    /// The Swift name: the declared one, else the method's by the port's naming rule.
    mutating func swift(_ declared: TraceName?, method: TraceName) -> String {
        if let declared { return text(declared) }
        if let known = swiftNames[method] { return known }
        let name = swiftName(ofPython: method.description)
        swiftNames[method] = name
        return name
    }

    /// The class name of a receiver, without the module prefix.
    mutating func className(_ receiverClass: TraceClass) -> String {
        guard case .type(let type) = receiverClass else { return receiverClass.description }
        if let known = classes[ObjectIdentifier(type)] { return known }
        let name = receiverClass.description
        classes[ObjectIdentifier(type)] = name
        return name
    }
}

/// A call a recorder has seen open: what names it, and the request of what runs inside it.
///
/// Events point to their frame instead of copying its names: the hot path stays short, and a
/// frame named late (the merge rule, or an override's end) names all its events at once.
///
/// A class, so that the several reads and writes of one event touch the frame in place instead
/// of copying it out of its table each time (callgrind: a seventh of a traced request). Only
/// the recorder's lock guards it, hence `@unchecked Sendable`; a fork token carries copies.
final class Frame: @unchecked Sendable {
    /// The frame's number in the process that opened it.
    var number: Int
    /// The process that opened it when not this one (frames a child inherited at the fork).
    var owner: String?
    /// The Python qualified name, nil until a body announces it.
    var function: TraceName?
    /// The Python method name.
    var method: TraceName
    /// The Swift name; nil for the method's by the naming rule.
    var swift: TraceName?
    /// The 3.13 line of the function (0 for none).
    var line: Int?
    /// The receiver's identity (for the merge rule).
    var receiver: ObjectIdentifier
    /// The receiver's runtime class.
    var receiverClass: TraceClass
    /// The arguments, as captured (text is made in a snapshot).
    var arguments: TraceArguments
    /// Where the probe is in the Swift sources.
    var source: TraceSourceLocation?
    /// The request of events inside this frame (set when a `get_request` inside it returns).
    var request: Int?
    /// The stack depth at which it was opened.
    var depth: Int
    /// The lane (its key in the recorder's lanes) it runs on.
    var lane: Int
    /// Whether it has not ended yet.
    var open = true
    /// The part whose home it is.
    var part: Int? = nil
    /// Where its call event sits in its lane's loose events, when it went there.
    var looseIndex: Int? = nil
    /// Its lane's ``Lane/landmarks`` when it began: if the count is the same when it ends, no
    /// part was opened and nothing was spawned inside it, and it may be folded.
    var landmarks = 0
    /// Its last finished child among the loose events, the candidate to fold the next one into.
    var lastChild: Sibling? = nil
    /// How many identical calls it stands for (more than 1 once repeats are folded into it).
    var repeats = 1

    init(
        number: Int, owner: String?, function: TraceName?, method: TraceName, swift: TraceName?,
        line: Int?, receiver: ObjectIdentifier, receiverClass: TraceClass, arguments: TraceArguments,
        source: TraceSourceLocation?, request: Int?, depth: Int, lane: Int, landmarks: Int
    ) {
        self.number = number
        self.owner = owner
        self.function = function
        self.method = method
        self.swift = swift
        self.line = line
        self.receiver = receiver
        self.receiverClass = receiverClass
        self.arguments = arguments
        self.source = source
        self.request = request
        self.depth = depth
        self.lane = lane
        self.landmarks = landmarks
    }

    /// A copy that a forked child makes its own: owned by `owner`, on the child's first lane.
    func inherited(by owner: String) -> Frame {
        let copy = Frame(
            number: number, owner: self.owner ?? owner, function: function, method: method,
            swift: swift, line: line, receiver: receiver, receiverClass: receiverClass,
            arguments: arguments, source: source, request: request, depth: depth, lane: 0,
            landmarks: landmarks)
        copy.open = open
        copy.repeats = repeats
        return copy
    }
}

/// One event as the hot path records it.
struct RawEvent {
    /// Call, return or raise.
    var kind: TraceEvent.Kind
    /// The key of its frame in the recorder's frames.
    var frame: Int
    /// The request the event belongs to.
    var request: Int?
    /// `CLOCK_MONOTONIC` nanoseconds.
    var time: UInt64
    /// How the frame ended, for a return or a raise; nil for a call (whose arguments are its
    /// frame's).
    var outcome: TraceOutcome?
    /// Its place among all the events of this process (the order of a snapshot).
    var seq: Int
    /// The lane it was recorded on.
    var lane: Int
    /// How many events its lane had recorded before it (what spawn positions count).
    var position: Int
}

/// A finished subtree among a lane's loose events: `start..<end`, opened by `frame`.
struct Sibling: Sendable {
    var start: Int
    var end: Int
    var frame: Int
}

/// One thread of this process, as the recorder sees it.
///
/// A class for the reason ``Frame`` is one: each event reads and writes its lane several times.
final class Lane {
    /// `"T0"`, ...
    var label: String
    /// The thread's name.
    var name: String
    /// The real thread id.
    var tid: Int32
    /// Open frames (keys in the recorder's frames), innermost last.
    var stack: [Int] = []
    /// The request outside any frame (inherited at a thread start or fork).
    var baseRequest: Int?
    /// Events recorded on this thread (what spawn positions count).
    var eventCount = 0
    /// Its events that belong to no part, in order.
    var loose: [RawEvent] = []
    /// Parts whose home frame is open on this thread, innermost last.
    var homes: [Int] = []
    /// The part that started this thread and waits for it to end.
    var ownerPart: Int? = nil
    /// How many of its events the recorder still holds (loose or in parts).
    var retained = 0
    /// Whether the thread has ended.
    var ended = false
    /// Parts opened and threads or children spawned on this thread so far.
    var landmarks = 0
    /// The last finished loose subtree with no frame open around it.
    var lastTop: Sibling? = nil
    /// The child being forked from this thread, until `processDidFork` confirms it: a probe
    /// that finds it still set means `fork()` failed.
    var pendingFork: String? = nil

    init(label: String, name: String, tid: Int32, stack: [Int] = [], baseRequest: Int? = nil) {
        self.label = label
        self.name = name
        self.tid = tid
        self.stack = stack
        self.baseRequest = baseRequest
    }
}

/// A thread start or fork, and the lane that made it.
struct SpawnEntry {
    var spawn: TraceSpawn
    /// The spawning lane (spawn positions count its events).
    let lane: Int
}

/// One turn of accepting and what it caused (see the file comment).
struct Part {
    /// The request `get_request` returned, if it returned.
    var request: Int?
    /// Every request bound to this part (one, unless `get_request` calls itself).
    var requests: [Int] = []
    /// Its events, in recording order.
    var events: [RawEvent] = []
    /// Calls minus ends among its events: frames of it still open.
    var open = 0
    /// Whether the home frame has ended (true from the start for a part with no home).
    var homeEnded: Bool
    /// Threads started for it that have not run yet: spawn number → when announced.
    var startingThreads: [Int: UInt64] = [:]
    /// Threads started for it that run.
    var runningThreads = 0
    /// Children forked for it that have not reported: label → pid (0 until known).
    var pendingChildren: [String: Int32] = [:]
    /// Its spawn links (spawn numbers).
    var spawns: [Int] = []
    /// Its children (keys in the process table).
    var children: [Int] = []
    /// What its children reported.
    var reports: [ArrivedReport] = []
    /// Whether it is complete and waits to be taken.
    var queued = false
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

/// A child's report and when it arrived (snapshots list reports in arrival order).
struct ArrivedReport {
    var order: Int
    var report: ChildReport
}

/// A spool file children write their reports to.
struct Spool {
    /// The descriptor.
    var fd: Int32
    /// How many bytes have been read.
    var read = 0
    /// Children that were given this spool and have not reported (nor failed, nor died).
    var children = 0
}

// MARK: - The state

/// Everything a recorder guards with its mutex.
struct RecorderState {
    /// This process's label.
    let process: String
    /// This process's pid.
    let pid: Int32
    /// Whether events are sorted into parts (false in a forked child, which keeps everything
    /// for its one report).
    let routes: Bool
    /// Whether finished loose calls that repeat the one before them are counted on it.
    let foldRepeats: Bool

    /// Frames that are open or have events still held, by key.
    var frames = KeyedTable<Int, Frame>()
    /// The next frame key.
    var nextFrameKey = 0
    /// The next frame number (what a trace names a frame by).
    var nextFrame = 0
    /// Threads seen whose events are still held or that still run, by key (start order).
    var lanes = KeyedTable<Int, Lane>()
    /// The next lane key.
    var nextLane = 0
    /// Live threads (by `pthread_self`) to their lane.
    var laneOfThread = KeyedTable<UInt, Int>()
    /// Lanes of ended threads, forgotten once none of their events is held.
    var endedLanes: Set<Int> = []
    /// The next event's place in recording order.
    var nextSeq = 0
    /// The next thread label number.
    var nextThread: Int
    /// The next request id.
    var nextRequest: Int
    /// The next child label number.
    var nextChild = 1
    /// This process (key 0) and the children it forked whose entries are still needed.
    var processes: [Int: TraceProcess]
    /// The next process key.
    var nextProcessKey = 1
    /// Thread starts and forks still held, by number (announcement order).
    var spawns = KeyedTable<Int, SpawnEntry>()
    /// The next spawn number.
    var nextSpawn = 0
    /// Parts not yet taken, by number (order of their `get_request` calls).
    var parts = KeyedTable<Int, Part>()
    /// The next part number.
    var nextPart = 0
    /// Which part each request not yet taken belongs to.
    var partOfRequest = KeyedTable<Int, Int>()
    /// Which part each child not yet taken was forked for.
    var childPart: [String: Int] = [:]
    /// Complete parts, waiting to be taken.
    var completed: [Int] = []
    /// Parts done but for threads or children they wait for.
    var waiting: Set<Int> = []
    /// The spools children write to (the last one is given to new children).
    var spools: [Spool] = []
    /// Which spool each child that has not reported was given.
    var spoolOfChild: [String: Int32] = [:]
    /// The journals probes write to, one per thread (see Journal.swift), in the order made.
    var journals: [Journal] = []
    /// The next journal's number.
    var nextJournal = 1
    /// Reports of children forked outside any part.
    var looseReports: [ArrivedReport] = []
    /// The next report's arrival number.
    var nextReport = 0

    /// How long a thread announced for a part may take to start before the part stops
    /// waiting for it (its start must have failed).
    static let threadStartGrace: UInt64 = 5_000_000_000
    /// How much of a spool is read before new children get a fresh one (the old one is closed
    /// once all its children have reported).
    static let spoolRotationBytes = 1 << 22

    init(
        process: String, pid: Int32, nextThread: Int, nextRequest: Int, own: TraceProcess,
        routes: Bool, foldRepeats: Bool
    ) {
        self.process = process
        self.pid = pid
        self.nextThread = nextThread
        self.nextRequest = nextRequest
        self.processes = [0: own]
        self.routes = routes
        self.foldRepeats = foldRepeats
    }

    /// In a freshly forked child: the forking thread, with the frames it is inside.
    mutating func adoptForkingThread(
        label: String, name: String, tid: Int32, stack: [Frame], baseRequest: Int?, thread: UInt
    ) {
        var keys: [Int] = []
        for frame in stack {
            frame.part = nil
            frame.looseIndex = nil
            frame.lastChild = nil
            frames[nextFrameKey] = frame
            keys.append(nextFrameKey)
            nextFrameKey += 1
        }
        lanes[nextLane] = Lane(label: label, name: name, tid: tid, stack: keys, baseRequest: baseRequest)
        laneOfThread[thread] = nextLane
        nextLane += 1
    }

    /// The lane of a thread, labelled now if this is its first appearance.
    /// - Parameter tid: the thread's Linux id, when the caller is not the thread itself.
    mutating func laneIndex(for thread: UInt, tid known: Int32? = nil) -> Int {
        if let lane = laneOfThread[thread] { return lane }
        let tid = known ?? currentThreadID()
        let lane = nextLane
        nextLane += 1
        lanes[lane] = Lane(label: "T\(nextThread)", name: tid == pid ? "main" : "thread", tid: tid)
        nextThread += 1
        laneOfThread[thread] = lane
        return lane
    }

    /// The request an event recorded now on `lane` belongs to.
    func currentRequest(_ lane: Int) -> Int? {
        guard let top = lanes[lane]?.stack.last else { return lanes[lane]?.baseRequest }
        return frames[top]?.request
    }

    /// The identity of a frame.
    func frameID(_ key: Int) -> TraceFrameID {
        TraceFrameID(process: frames[key]?.owner ?? process, number: frames[key]?.number ?? -1)
    }

    // MARK: - Calls

    /// Replays into the state every journal entry stamped up to now, merged by time (see
    /// Journal.swift for why that is a consistent cut).
    mutating func flushJournals() {
        guard !journals.isEmpty else { return }
        let cutoff = traceClock()
        var batches: [(journal: Journal, entries: [JournalEntry])] = []
        for journal in journals {
            let entries = journal.take(upTo: cutoff)
            if !entries.isEmpty { batches.append((journal, entries)) }
        }
        for (journal, entry) in mergeByTime(batches) {
            let lane = laneIndex(for: journal.thread, tid: journal.tid)
            switch entry.kind {
            case .begin(let call): _ = begin(call, lane: lane, time: entry.time)
            case .end(let outcome): _ = end(lane: lane, outcome: outcome, time: entry.time)
            }
        }
    }

    /// A call begins on `lane`: names the call site's frame (the merge rule) or opens one.
    /// - Returns: whether a frame was opened.
    mutating func begin(_ call: TraceCall, lane: Int, time: UInt64) -> Bool {
        if lanes[lane]!.pendingFork != nil { forkFailed(lane: lane) }
        if let function = call.function, let top = lanes[lane]!.stack.last, let frame = frames[top],
            frame.function == nil, frame.method == call.method, frame.receiver == call.receiver
        {
            frames[top]!.function = function
            frames[top]!.line = call.line
            frames[top]!.swift = call.swift
            frames[top]!.source = call.source ?? frame.source
            if frame.arguments.isEmpty { frames[top]!.arguments = call.arguments }
            return false
        }
        if routes && call.method == getRequestName { openPart(lane: lane) }
        let request = currentRequest(lane)
        let key = nextFrameKey
        nextFrameKey += 1
        frames[key] = Frame(
            number: nextFrame, owner: nil, function: call.function, method: call.method,
            swift: call.swift, line: call.line, receiver: call.receiver,
            receiverClass: call.receiverClass, arguments: call.arguments, source: call.source,
            request: request, depth: lanes[lane]!.stack.count, lane: lane,
            landmarks: lanes[lane]!.landmarks)
        nextFrame += 1
        if record(.call, frame: key, lane: lane, request: request, time: time, outcome: nil) == nil {
            frames[key]!.looseIndex = lanes[lane]!.loose.count - 1
        }
        lanes[lane]!.stack.append(key)
        return true
    }

    /// Closes the innermost frame of a lane.
    /// - Returns: whether it was the home of a part (an accepting turn ended).
    mutating func end(lane: Int, outcome: TraceOutcome, time: UInt64) -> Bool {
        if lanes[lane]!.pendingFork != nil { forkFailed(lane: lane) }
        guard let key = lanes[lane]!.stack.popLast() else { return false }
        frames[key]!.open = false
        var request = frames[key]!.request
        let kind: TraceEvent.Kind
        switch outcome {
        case .returned:
            if frames[key]!.method == getRequestName {
                // A new request: it belongs to the frame that asked (normally
                // `_handle_request_noblock`) until that frame ends.
                let accepted = nextRequest
                nextRequest += 1
                request = accepted
                if let enclosing = lanes[lane]!.stack.last {
                    frames[enclosing]!.request = accepted
                    if let part = frames[enclosing]!.part ?? lanes[lane]!.homes.last {
                        bind(accepted, to: part)
                    } else if routes {
                        bind(accepted, to: newPart(homeEnded: false))  // no home: never complete
                    }
                } else {
                    lanes[lane]!.baseRequest = accepted
                    if routes { bind(accepted, to: newPart(homeEnded: false)) }
                }
            }
            kind = .return
        case .raised:
            kind = .raise
        }
        let part = record(kind, frame: key, lane: lane, request: request, time: time, outcome: outcome)
        if let home = frames[key]!.part {
            lanes[lane]!.homes.removeLast()
            parts[home]?.homeEnded = true
            checkComplete(home)
            return true
        } else if let part {
            checkComplete(part)
        } else if foldRepeats {
            settleLoose(key, lane: lane)
        }
        return false
    }

    /// Appends an event to its part, or to its lane's loose events.
    /// - Returns: the part, or nil when the event is loose.
    mutating func record(
        _ kind: TraceEvent.Kind, frame: Int, lane: Int, request: Int?, time: UInt64,
        outcome: TraceOutcome?
    ) -> Int? {
        let event = RawEvent(
            kind: kind, frame: frame, request: request, time: time, outcome: outcome, seq: nextSeq,
            lane: lane, position: lanes[lane]!.eventCount)
        nextSeq += 1
        lanes[lane]!.eventCount += 1
        lanes[lane]!.retained += 1
        guard let part = partFor(request, lane: lane) else {
            lanes[lane]!.loose.append(event)
            return nil
        }
        parts[part]!.events.append(event)
        parts[part]!.open += kind == .call ? 1 : -1
        return part
    }

    /// The part of something happening now on `lane` for `request`: the request's part, else
    /// the innermost home open on the lane; nil when loose.
    mutating func partFor(_ request: Int?, lane: Int) -> Int? {
        guard routes else { return nil }
        if let request {
            if let part = partOfRequest[request] { return part }
            // A straggler of a request already taken: a part of its own, taken once quiet.
            let part = newPart(homeEnded: true)
            bind(request, to: part)
            return part
        }
        return lanes[lane]!.homes.last
    }

    /// A new, empty part.
    mutating func newPart(homeEnded: Bool) -> Int {
        let part = nextPart
        nextPart += 1
        parts[part] = Part(homeEnded: homeEnded)
        return part
    }

    /// Files `request` under `part`.
    mutating func bind(_ request: Int, to part: Int) {
        partOfRequest[request] = part
        parts[part]!.requests.append(request)
        if parts[part]!.request == nil { parts[part]!.request = request }
    }

    /// `get_request` is about to be called on `lane`: the frame calling it becomes the home of
    /// a new part, with the events recorded inside it so far.
    mutating func openPart(lane: Int) {
        guard let home = lanes[lane]!.stack.last, lanes[lane]!.homes.isEmpty, let frame = frames[home],
            frame.part == nil, frame.method != "get_request"
        else { return }
        let part = newPart(homeEnded: false)
        frames[home]!.part = part
        lanes[lane]!.homes.append(part)
        lanes[lane]!.landmarks += 1
        guard let start = frame.looseIndex else { return }
        // Copied out before the removal, with no slice of the lane's array left alive: a
        // slice would keep the buffer shared, and the removal would copy the whole array.
        let moved = Array(lanes[lane]!.loose[start...])
        lanes[lane]!.loose.removeSubrange(start...)
        parts[part]!.open = moved.reduce(0) { $0 + ($1.kind == .call ? 1 : -1) }
        parts[part]!.events = moved
        frames[home]!.looseIndex = nil
    }

    /// Queues `part` if it is complete, or notes that it waits only for threads or children.
    mutating func checkComplete(_ part: Int) {
        guard let state = parts[part], !state.queued, state.homeEnded, state.open <= 0 else { return }
        if state.startingThreads.isEmpty && state.runningThreads == 0 && state.pendingChildren.isEmpty {
            parts[part]!.queued = true
            completed.append(part)
            waiting.remove(part)
        } else {
            waiting.insert(part)
        }
    }

    // MARK: - Folding repeats

    /// A frame ended among the loose events: fold it into its previous sibling if it repeats
    /// it, else remember it as the sibling the next one may repeat.
    mutating func settleLoose(_ key: Int, lane: Int) {
        let parent = lanes[lane]!.stack.last
        guard let frame = frames[key], let start = frame.looseIndex,
            frame.landmarks == lanes[lane]!.landmarks
        else {
            setLastChild(of: parent, lane: lane, nil)
            return
        }
        let end = lanes[lane]!.loose.count
        if let previous = lastChild(of: parent, lane: lane), previous.end == start,
            sameCalls(lane, previous.start..<previous.end, start..<end)
        {
            let dropped = lanes[lane]!.loose[start..<end]
            for event in dropped where event.kind == .call { frames[event.frame] = nil }
            lanes[lane]!.retained -= dropped.count
            lanes[lane]!.loose.removeSubrange(start..<end)
            frames[previous.frame]?.repeats += frame.repeats
        } else {
            setLastChild(of: parent, lane: lane, Sibling(start: start, end: end, frame: key))
        }
    }

    /// The last finished loose child of `parent` (of the lane's top level when nil).
    func lastChild(of parent: Int?, lane: Int) -> Sibling? {
        guard let parent else { return lanes[lane]!.lastTop }
        return frames[parent]?.lastChild
    }

    /// Sets the last finished loose child of `parent` (of the lane's top level when nil).
    mutating func setLastChild(of parent: Int?, lane: Int, _ sibling: Sibling?) {
        if let parent {
            frames[parent]?.lastChild = sibling
        } else {
            lanes[lane]!.lastTop = sibling
        }
    }

    /// Whether two runs of a lane's loose events show the same calls: the same functions,
    /// classes, details, results and nesting (times and receivers aside; inner calls must
    /// stand for as many repeats, the two outermost may not).
    func sameCalls(_ lane: Int, _ a: Range<Int>, _ b: Range<Int>) -> Bool {
        guard a.count == b.count, let loose = lanes[lane]?.loose else { return false }
        let roots = (loose[a.lowerBound].frame, loose[b.lowerBound].frame)
        for (x, y) in zip(loose[a], loose[b]) {
            guard x.kind == y.kind, x.outcome == y.outcome, x.request == y.request,
                let f = frames[x.frame], let g = frames[y.frame], f.function == g.function,
                f.method == g.method, f.swift == g.swift, f.line == g.line,
                f.receiverClass == g.receiverClass,
                f.arguments == g.arguments, f.depth == g.depth,
                f.repeats == g.repeats || (x.frame, y.frame) == roots
            else { return false }
        }
        return true
    }

    // MARK: - Threads

    /// Labels a thread about to start from `lane` and notes the spawn.
    mutating func threadWillStart(
        name: String, lane: Int, time: UInt64, recorder: ObjectIdentifier
    ) -> ThreadToken {
        let label = "T\(nextThread)"
        nextThread += 1
        let parentLabel = lanes[lane]!.label
        let frame = lanes[lane]!.stack.last.map { frameID($0) }
        let request = currentRequest(lane)
        let part = partFor(request, lane: lane)
        let spawn = addSpawn(
            TraceSpawn(
                kind: .thread, process: process, thread: label, name: name, parentProcess: process,
                parentThread: parentLabel, parentFrame: frame, position: lanes[lane]!.eventCount,
                depth: lanes[lane]!.stack.count, request: request, time: time, started: false),
            lane: lane, part: part)
        if let part { parts[part]!.startingThreads[spawn] = time }
        return ThreadToken(
            recorder: recorder, label: label, parentThread: parentLabel, parentFrame: frame,
            request: request, spawn: spawn, part: part)
    }

    /// Registers a started thread.
    mutating func threadDidStart(_ token: ThreadToken, name: String, tid: Int32, thread: UInt) {
        let lane = Lane(label: token.label, name: name, tid: tid, baseRequest: token.request)
        if let part = token.part, parts[part]?.startingThreads.removeValue(forKey: token.spawn) != nil {
            parts[part]!.runningThreads += 1
            lane.ownerPart = part
        }
        lanes[nextLane] = lane
        laneOfThread[thread] = nextLane
        nextLane += 1
        spawns[token.spawn]?.spawn.started = true
    }

    /// A thread ends: its lane stays while its events are held, and its part stops waiting.
    mutating func threadWillEnd(_ thread: UInt) {
        guard let lane = laneOfThread.removeValue(forKey: thread), lanes[lane] != nil else { return }
        lanes[lane]!.ended = true
        endedLanes.insert(lane)
        if let part = lanes[lane]!.ownerPart {
            lanes[lane]!.ownerPart = nil
            if parts[part] != nil {
                parts[part]!.runningThreads -= 1
                checkComplete(part)
            }
        }
    }

    /// Notes a spawn link made on `lane`, in `part` if any.
    mutating func addSpawn(_ spawn: TraceSpawn, lane: Int, part: Int?) -> Int {
        let number = nextSpawn
        nextSpawn += 1
        spawns[number] = SpawnEntry(spawn: spawn, lane: lane)
        lanes[lane]!.landmarks += 1
        if let part { parts[part]!.spawns.append(number) }
        return number
    }

    // MARK: - Forks

    /// Labels the child about to be forked from `lane` and copies what it needs.
    mutating func processWillFork(
        lane: Int, time: UInt64, spool childSpool: Int32?, recorder: ObjectIdentifier,
        deterministic: Bool, origin: UInt64
    ) -> ForkToken {
        let spool = childSpool ?? currentSpool()
        let label = process == "P0" ? "P\(nextChild)" : "\(process).\(nextChild)"
        nextChild += 1
        let key = nextProcessKey
        nextProcessKey += 1
        processes[key] = TraceProcess(label: label, pid: 0, parent: process, exitStatus: nil)
        let parent = lanes[lane]!
        let request = currentRequest(lane)
        let part = partFor(request, lane: lane)
        let spawn = addSpawn(
            TraceSpawn(
                kind: .fork, process: label, thread: parent.label, name: "fork",
                parentProcess: process, parentThread: parent.label,
                parentFrame: parent.stack.last.map { frameID($0) }, position: parent.eventCount,
                depth: parent.stack.count, request: request, time: time, started: false),
            lane: lane, part: part)
        lanes[lane]!.pendingFork = label
        if childSpool == nil, let index = spools.firstIndex(where: { $0.fd == spool }) {
            spools[index].children += 1
            spoolOfChild[label] = spool
        }
        if let part {
            parts[part]!.children.append(key)
            parts[part]!.pendingChildren[label] = 0
            childPart[label] = part
        }
        // The child is inside the same frames; they stay the parent's (their events are).
        let stack = parent.stack.map { frames[$0]!.inherited(by: process) }
        return ForkToken(
            recorder: recorder, deterministic: deterministic, origin: origin, process: label,
            parentProcess: process, thread: parent.label, threadName: parent.name,
            stack: stack, baseRequest: parent.baseRequest, nextRequest: nextRequest,
            nextThread: nextThread, spool: spool, spawn: spawn, part: part, processKey: key)
    }

    /// The fork succeeded: notes the child's pid.
    mutating func processDidFork(_ token: ForkToken, pid: Int32, thread: UInt) {
        processes[token.processKey]?.pid = pid
        spawns[token.spawn]?.spawn.started = true
        if let part = token.part, parts[part]?.pendingChildren[token.process] != nil {
            parts[part]!.pendingChildren[token.process] = pid
        }
        if let lane = laneOfThread[thread], lanes[lane]?.pendingFork == token.process {
            lanes[lane]!.pendingFork = nil
        }
    }

    /// The forking thread goes on without `processDidFork`: the fork failed, and no child
    /// will report.
    mutating func forkFailed(lane: Int) {
        guard let label = lanes[lane]!.pendingFork else { return }
        lanes[lane]!.pendingFork = nil
        childGone(label)
    }

    /// Stops waiting for child `label` (it failed, or died without a report).
    mutating func childGone(_ label: String) {
        releaseSpool(of: label)
        if let part = childPart[label], parts[part]?.pendingChildren.removeValue(forKey: label) != nil {
            checkComplete(part)
        }
    }

    /// Child `label` will write no more to its spool.
    mutating func releaseSpool(of label: String) {
        guard let fd = spoolOfChild.removeValue(forKey: label),
            let index = spools.firstIndex(where: { $0.fd == fd })
        else { return }
        spools[index].children -= 1
    }

    /// The spool to give a new child: the current one, or a fresh one when there is none yet or
    /// the current one has grown past ``spoolRotationBytes``. A spool is an unlinked temp file
    /// opened for appending, so that each child's single `write()` lands whole after the
    /// others.
    mutating func currentSpool() -> Int32 {
        if let last = spools.last, last.read < Self.spoolRotationBytes { return last.fd }
        let directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array("\(directory)/socketserver-trace-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { return spools.last?.fd ?? -1 }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_APPEND)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        spools.append(Spool(fd: fd))
        return fd
    }

    /// Reads what children have appended to the spools since the last time, and closes the
    /// old spools that no child will write to any more.
    mutating func collectSpool() {
        for index in spools.indices {
            let bytes = SpoolCodec.read(spools[index].fd, from: spools[index].read)
            var offset = 0
            reading: while true {
                switch SpoolCodec.decode(bytes, at: offset) {
                case .report(let report, let next):
                    arrive(report)
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
            spools[index].read += offset
        }
        while spools.count > 1, let drained = spools.indices.dropLast().first(where: { spools[$0].children <= 0 }) {
            close(spools[drained].fd)
            spools.remove(at: drained)
        }
    }

    /// A child's report arrived: it goes to the part the child (or its forking ancestor) was
    /// forked for.
    mutating func arrive(_ report: ChildReport) {
        let arrived = ArrivedReport(order: nextReport, report: report)
        nextReport += 1
        let label = report.processes.first?.label ?? ""
        releaseSpool(of: label)
        var ancestor = label
        while childPart[ancestor] == nil, let dot = ancestor.lastIndex(of: ".") {
            ancestor = String(ancestor[..<dot])
        }
        guard let part = childPart[ancestor], parts[part] != nil else {
            looseReports.append(arrived)
            return
        }
        parts[part]!.reports.append(arrived)
        parts[part]!.pendingChildren[label] = nil
        checkComplete(part)
    }

    /// Stops waiting for what will not come: threads that have not started within
    /// ``threadStartGrace``, and children that are gone without a report.
    mutating func settleWaiting(now: UInt64) {
        guard !waiting.isEmpty else { return }
        var gone: [String] = []
        for part in waiting {
            guard let state = parts[part] else { continue }
            for (spawn, time) in state.startingThreads where now > time && now - time > Self.threadStartGrace {
                parts[part]!.startingThreads[spawn] = nil
            }
            for (label, pid) in state.pendingChildren where pid > 0 && kill(pid, 0) != 0 && errno == ESRCH {
                gone.append(label)
            }
        }
        if !gone.isEmpty {
            collectSpool()  // a report written right before the exit counts
            for label in gone { childGone(label) }
        }
        for part in Array(waiting) { checkComplete(part) }
    }

    // MARK: - Taking and forgetting

    /// The oldest complete parts, at most `limit`, as recordings in accepting order; forgotten
    /// here.
    mutating func takeCompleted(limit: Int, deterministic: Bool, origin: UInt64) -> [Recording] {
        guard !completed.isEmpty else { return [] }
        completed.sort()
        let ready = completed.prefix(max(0, limit))
        completed.removeFirst(ready.count)
        let taken = ready.compactMap { takePart($0, deterministic: deterministic, origin: origin) }
        sweepLanes()
        compactTables()
        return taken
    }

    /// Gives back the storage of tables that a backlog made large (a consumer that fell behind
    /// for a while): a dictionary never shrinks by itself.
    mutating func compactTables() {
        frames.shrinkIfSparse()
        parts.shrinkIfSparse()
        partOfRequest.shrinkIfSparse()
        spawns.shrinkIfSparse()
        lanes.shrinkIfSparse()
        childPart.shrinkIfSparse()
        if completed.isEmpty && completed.capacity > 1024 { completed = [] }
    }

    /// One part as a recording of its own; everything only it needed is forgotten.
    mutating func takePart(_ number: Int, deterministic: Bool, origin: UInt64) -> Recording? {
        guard let part = parts.removeValue(forKey: number) else { return nil }
        waiting.remove(number)
        for request in part.requests where partOfRequest[request] == number {
            partOfRequest[request] = nil
        }
        let own = ownReport(
            part.events, spawns: part.spawns, processKeys: [0] + part.children,
            lanes: Array(Set(part.events.map(\.lane))).sorted())
        let recording = merged(
            own, part.reports.sorted { $0.order < $1.order }.map(\.report), repeats: repeats(part.events),
            deterministic: deterministic, origin: origin)
        for key in part.children {
            if let label = processes[key]?.label, childPart[label] == number { childPart[label] = nil }
            processes[key] = nil
        }
        for spawn in part.spawns { spawns[spawn] = nil }
        forget(part.events)
        return recording
    }

    /// Everything held, as `recording()` shows it.
    func snapshot(deterministic: Bool, origin: UInt64) -> Recording {
        let events = allEvents()
        let reports = (looseReports + parts.values.flatMap(\.reports)).sorted { $0.order < $1.order }
        return merged(
            ownReport(events, spawns: Array(spawns.keys), processKeys: Array(processes.keys), lanes: Array(lanes.keys)),
            reports.map(\.report), repeats: repeats(events), deterministic: deterministic, origin: origin)
    }

    /// This process's part of a recording: everything held (what a child sends its parent).
    func report() -> ChildReport {
        ownReport(allEvents(), spawns: Array(spawns.keys), processKeys: Array(processes.keys), lanes: Array(lanes.keys))
    }

    /// Every event held, in recording order.
    func allEvents() -> [RawEvent] {
        var events = lanes.values.flatMap(\.loose) + parts.values.flatMap(\.events)
        events.sort { $0.seq < $1.seq }
        return events
    }

    /// Forgets every event held (a child after its report).
    mutating func forgetEvents() {
        for lane in Array(lanes.keys) {
            lanes[lane]!.loose = []
            lanes[lane]!.retained = 0
        }
        for part in Array(parts.keys) { parts[part]!.events = [] }
    }

    /// Forgets everything but what still runs: open frames, live threads, parts not complete
    /// (emptied; they go on counting), this process's entry.
    mutating func forgetAll() {
        forgetEvents()
        for lane in Array(lanes.keys) { lanes[lane]!.lastTop = nil }
        frames = frames.filter { $0.open }
        for key in Array(frames.keys) {
            frames[key]!.looseIndex = nil
            frames[key]!.lastChild = nil
        }
        for number in Array(parts.keys) {
            if parts[number]!.queued {
                let part = parts.removeValue(forKey: number)!
                for request in part.requests where partOfRequest[request] == number {
                    partOfRequest[request] = nil
                }
                for (label, owner) in childPart where owner == number { childPart[label] = nil }
            } else {
                parts[number]!.reports = []
                parts[number]!.spawns = []
                parts[number]!.children = []
            }
        }
        completed = []
        waiting = waiting.filter { parts[$0] != nil }
        spawns = KeyedTable()
        processes = processes.filter { $0.key == 0 }
        looseReports = []
        sweepLanes()
    }

    /// Events handed out: their lanes hold fewer, and their frames go once ended.
    mutating func forget(_ events: [RawEvent]) {
        for event in events {
            lanes[event.lane]?.retained -= 1
            if let frame = frames[event.frame], !frame.open { frames[event.frame] = nil }
        }
    }

    /// Drops the lanes of ended threads whose events are all handed out.
    mutating func sweepLanes() {
        for lane in endedLanes where (lanes[lane]?.retained ?? 0) <= 0 {
            lanes[lane] = nil
            endedLanes.remove(lane)
        }
    }

    // MARK: - Making recordings

    /// The frames among `events` that stand for more than one call.
    func repeats(_ events: [RawEvent]) -> [TraceFrameID: Int] {
        guard foldRepeats else { return [:] }
        var result: [TraceFrameID: Int] = [:]
        for event in events where event.kind == .call {
            if let count = frames[event.frame]?.repeats, count > 1 { result[frameID(event.frame)] = count }
        }
        return result
    }

    /// This process's part of a recording made of `events` (in recording order), the given
    /// spawn links, process entries and lanes.
    func ownReport(_ events: [RawEvent], spawns numbers: [Int], processKeys: [Int], lanes keys: [Int]) -> ChildReport {
        // A spawn's position counts the spawning lane's events before it that are shown here.
        var positions: [Int: [Int]] = [:]
        if !numbers.isEmpty {
            for event in events { positions[event.lane, default: []].append(event.position) }
        }
        let links = numbers.sorted().compactMap { spawns[$0] }.map { entry in
            var spawn = entry.spawn
            let shown = positions[entry.lane] ?? []
            spawn.position = shown.partitioningIndex { $0 >= entry.spawn.position }
            return spawn
        }
        return ChildReport(
            processes: processKeys.sorted().compactMap { processes[$0] },
            threads: keys.sorted().compactMap { lanes[$0] }.map {
                TraceThread(process: process, label: $0.label, name: $0.name, pid: pid, tid: $0.tid)
            },
            spawns: links, events: traceEvents(events))
    }

    /// Events as a recording shows them, numbered from 0.
    func traceEvents(_ events: [RawEvent]) -> [TraceEvent] {
        var names = NameTexts()
        var result: [TraceEvent] = []
        result.reserveCapacity(events.count)
        for raw in events {
            guard let frame = frames[raw.frame] else { continue }
            let receiverClass = names.className(frame.receiverClass)
            let method = names.text(frame.method)
            let function: String
            let definingClass: String
            if let announced = frame.function {
                (function, definingClass) = names.qualified(announced)
            } else {
                // Nobody announced the body: the receiver's own override ran.
                function = "\(receiverClass).\(method)"
                definingClass = receiverClass
            }
            // The text (a result is "-> " and its repr), and the values it was made from unless
            // the text had to be cut (then it no longer says it all).
            let text: String
            var values: TraceEventValues?
            var prefix = ""
            switch raw.outcome {
            case nil: (text, values) = (frame.arguments.description, .arguments(frame.arguments))
            case .returned(let value)?: (text, values, prefix) = (value.description, .result(value), "-> ")
            case .raised(let line)?: (text, values) = (line, nil)
            }
            let cut = shortDetail(text)
            if cut.utf8.count != text.utf8.count { values = nil }
            let detail = prefix + cut
            let lane = lanes[frame.lane]
            result.append(
                TraceEvent(
                    seq: result.count, kind: raw.kind, function: function, definingClass: definingClass,
                    selfClass: receiverClass, method: method, swift: names.swift(frame.swift, method: frame.method),
                    pyLine: frame.line == 0 ? nil : frame.line, process: process,
                    thread: lane?.label ?? "T?", pid: pid, tid: lane?.tid ?? 0,
                    request: raw.request, depth: frame.depth, time: raw.time, detail: detail,
                    frame: TraceFrameID(process: frame.owner ?? process, number: frame.number),
                    swiftFile: frame.source.map { names.text($0.file) }, swiftLine: frame.source?.line))
            result[result.count - 1].values = values
        }
        return result
    }

    /// This process's part and children's reports merged into one recording, by time.
    func merged(
        _ own: ChildReport, _ reports: [ChildReport], repeats: [TraceFrameID: Int], deterministic: Bool,
        origin: UInt64
    ) -> Recording {
        let parts = [own] + reports
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
        var events = own.events
        if parts.count > 1 {
            // Each part is in time order already; a stable merge by time keeps that order.
            events = parts.flatMap(\.events).enumerated().sorted {
                ($0.element.time, $0.offset) < ($1.element.time, $1.offset)
            }.map(\.element)
            for index in events.indices { events[index].seq = index }
        }
        return Recording(
            deterministic: deterministic, origin: origin, events: events, processes: processes,
            threads: threads, spawns: parts.flatMap(\.spawns), repeats: repeats)
    }
}

extension Dictionary {
    /// Rebuilds the table at a size fit for its entries when it holds less than an eighth of
    /// what it has room for (and has room for more than a thousand).
    fileprivate mutating func shrinkIfSparse() {
        guard capacity > 1024, count * 8 < capacity else { return }
        var fitted = Dictionary(minimumCapacity: count * 2)
        for (key, value) in self { fitted[key] = value }
        self = fitted
    }
}

extension Array {
    /// The index of the first element for which `belongs` holds, in an array where it holds
    /// for a suffix (binary search).
    fileprivate func partitioningIndex(where belongs: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if belongs(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
