// Swift-only: narrowing a recording to what a reader asks about.
//
// A filter decides which calls of a recording are kept (each whole: call and end together),
// which spawns stay (those whose lane still holds something, so that a kept lane is still
// shown where it was started), and how idle turns fold. `apply(to:)` makes the smaller
// recording, with each spawn's position in its lane mended; the views take the filter itself
// (`render(_:as:filter:)`), so that in deterministic mode ports, descriptors and threads keep
// the names the whole trace gives them (`PORT2` stays `PORT2` under `--request 2`). A kept call
// keeps its depth, so JSON Lines still says how deep it really ran; the views nest kept calls
// under their nearest kept caller.

/// What to keep of a recording.
public struct TraceFilter: Sendable, Equatable {
    /// Only the calls of this request (1, 2, ... in order of `get_request`), and the calls
    /// around them (`serve_forever`, `_handle_request_noblock`).
    public var request: Int?
    /// Only this process (`"P0"`, `"P1"`, `"P1.1"`).
    public var process: String?
    /// Only threads with this label (`"T1"`), in every process.
    public var thread: String?
    /// Only calls less than this many frames deep on their thread (1: each thread's
    /// outermost calls).
    public var depth: Int?
    /// Only calls of these names: a method (`process_request`) or a class and a method
    /// (`ThreadingMixIn.process_request`, `MyTCPHandler.handle`); empty for any.
    public var only: [String]
    /// One call for each run of idle `service_actions` turns of `serve_forever`, the others
    /// counted.
    public var foldIdle: Bool

    /// A filter; with no arguments, one that keeps everything.
    public init(
        request: Int? = nil, process: String? = nil, thread: String? = nil, depth: Int? = nil,
        only: [String] = [], foldIdle: Bool = false
    ) {
        self.request = request
        self.process = process
        self.thread = thread
        self.depth = depth
        self.only = only
        self.foldIdle = foldIdle
    }

    /// Whether it keeps everything.
    public var keepsEverything: Bool { self == TraceFilter() }

    /// Whether `label` can name a process (`P0`, `P12`, `P1.2`).
    public static func isProcessLabel(_ label: String) -> Bool {
        label.first == "P" && isNumbers(label.dropFirst(), dotted: true)
    }

    /// Whether `label` can name a thread (`T0`, `T12`).
    public static func isThreadLabel(_ label: String) -> Bool {
        label.first == "T" && isNumbers(label.dropFirst(), dotted: false)
    }

    /// Whether `name` can name a call for ``only``: a Python identifier, or two joined by `.`.
    public static func isCallName(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return (1...2).contains(parts.count) && parts.allSatisfy { part in
            guard let first = part.first, first == "_" || first.isLetter else { return false }
            return part.allSatisfy { $0 == "_" || $0.isLetter || $0.isNumber }
        }
    }

    private static func isNumbers(_ text: Substring, dotted: Bool) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return !parts.isEmpty && (dotted || parts.count == 1)
            && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }
    }

    /// `recording` with only what the filter keeps.
    public func apply(to recording: Recording) -> Recording {
        guard !keepsEverything else { return recording }
        let selection = select(recording)
        var narrowed = recording
        // Each lane's events, to move a spawn's position to the kept events before it.
        var laneIndices: [LaneID: [Int]] = [:]
        for (index, event) in recording.events.enumerated() { laneIndices[event.lane, default: []].append(index) }
        narrowed.spawns = recording.spawns.filter { selection.spawnLanes.contains($0.lane) }.map { spawn in
            var moved = spawn
            moved.position = (laneIndices[spawn.parentLane] ?? []).prefix(spawn.position)
                .filter(selection.events.contains).count
            return moved
        }
        narrowed.events = selection.events.sorted().enumerated().map { seq, index in
            var event = recording.events[index]
            event.seq = seq
            return event
        }
        let frames = Set(narrowed.events.map(\.frame))
        narrowed.repeats = selection.repeats.filter { frames.contains($0.key) }
        narrowed.threads = recording.threads.filter {
            selection.lanes.contains(LaneID(process: $0.process, thread: $0.label))
        }
        return narrowed
    }

    /// What the filter keeps of `recording`.
    func select(_ recording: Recording) -> TraceSelection {
        var narrowing = Narrowing(recording)
        if foldIdle { narrowing.foldIdleTurns() }
        narrowing.keep(where: keeps)
        return narrowing.selection()
    }

    /// Whether a frame is kept, by itself (a request's frame is kept when any event of its
    /// subtree belongs to the request).
    private func keeps(_ frame: Narrowing.Frame, _ requests: Set<Int>) -> Bool {
        let event = frame.call
        if let process, event.process != process { return false }
        if let thread, event.thread != thread { return false }
        if let depth, event.depth >= depth { return false }
        if let request, !requests.contains(request) { return false }
        if !only.isEmpty {
            let names = [event.method, event.function, "\(event.selfClass).\(event.method)"]
            if !only.contains(where: names.contains) { return false }
        }
        return true
    }
}

/// What a filter keeps of one recording.
struct TraceSelection {
    /// The events kept, as indices into the recording's events.
    var events: Set<Int>
    /// The lanes whose spawn stays.
    var spawnLanes: Set<LaneID>
    /// The lanes that still hold something: kept events, or a spawn that stays.
    var lanes: Set<LaneID>
    /// Counts of folded calls, by frame (the recording's, and the idle turns folded).
    var repeats: [TraceFrameID: Int]
}

/// The work of a filter: the recording's events as frames per lane, and what is kept.
private struct Narrowing {
    /// A call and what ran inside it on its lane; an end with no call in the lane (a child
    /// ending a frame of its parent) is a frame of its own.
    final class Frame {
        /// The call event (for an orphan end, the end itself).
        let call: TraceEvent
        /// Indices into the recording's events: the call's and its end's.
        var events: [Int]
        var children: [Frame] = []

        init(_ call: TraceEvent, at index: Int) {
            self.call = call
            events = [index]
        }
    }

    var recording: Recording
    /// The outermost frames of each lane, in order.
    var forests: [LaneID: [Frame]] = [:]
    /// The events kept, by index.
    var kept: Set<Int> = []
    /// Counts of folded calls, by frame.
    var repeats: [TraceFrameID: Int]

    init(_ recording: Recording) {
        self.recording = recording
        repeats = recording.repeats
        var stacks: [LaneID: [Frame]] = [:]
        for (index, event) in recording.events.enumerated() {
            let lane = event.lane
            switch event.kind {
            case .call:
                let frame = Frame(event, at: index)
                if let parent = stacks[lane]?.last { parent.children.append(frame) } else { forests[lane, default: []].append(frame) }
                stacks[lane, default: []].append(frame)
            case .return, .raise:
                if let frame = stacks[lane]?.popLast() {
                    frame.events.append(index)
                } else {
                    forests[lane, default: []].append(Frame(event, at: index))
                }
            }
        }
    }

    /// Keeps one `service_actions` of each run of idle turns (those after another
    /// `service_actions`, or first in the loop), counting the others in `repeats`.
    mutating func foldIdleTurns() {
        var dropped: Set<Int> = []
        func visit(_ frame: Frame) {
            if frame.call.method == "serve_forever" {
                var run: Frame?
                var previous: Frame?
                for child in frame.children {
                    let idle = child.call.method == "service_actions" && child.call.kind == .call
                        && previous?.call.method != "_handle_request_noblock"
                    if idle, let first = run {
                        repeats[first.call.frame, default: 1] += repeats[child.call.frame] ?? 1
                        repeats[child.call.frame] = nil
                        Self.allEvents(child).forEach { dropped.insert($0) }
                    } else {
                        run = idle ? child : nil
                    }
                    previous = child
                }
            }
            frame.children.forEach(visit)
        }
        forests.values.forEach { $0.forEach(visit) }
        for lane in forests.keys {
            forests[lane] = Self.without(dropped, forests[lane]!)
        }
    }

    private static func without(_ dropped: Set<Int>, _ frames: [Frame]) -> [Frame] {
        frames.filter { !dropped.contains($0.events[0]) }.map { frame in
            frame.children = without(dropped, frame.children)
            return frame
        }
    }

    private static func allEvents(_ frame: Frame) -> [Int] {
        frame.events + frame.children.flatMap(allEvents)
    }

    /// Keeps the frames `keeps` accepts, each with its end, given the requests of every
    /// event in the frame's subtree.
    mutating func keep(where keeps: (Frame, Set<Int>) -> Bool) {
        let events = recording.events
        var kept = self.kept
        // Returns the subtree's requests.
        func visit(_ frame: Frame) -> Set<Int> {
            var requests = Set(frame.events.compactMap { events[$0].request })
            for child in frame.children { requests.formUnion(visit(child)) }
            if keeps(frame, requests) { frame.events.forEach { kept.insert($0) } }
            return requests
        }
        for frames in forests.values { frames.forEach { _ = visit($0) } }
        self.kept = kept
    }

    /// What is kept: the events, the spawns of lanes that hold something (and so the lanes
    /// that spawned them), the counts.
    func selection() -> TraceSelection {
        var lanes = Set(kept.map { recording.events[$0].lane })
        var spawnLanes: Set<LaneID> = []
        var changed = true
        while changed {
            changed = false
            for spawn in recording.spawns where lanes.contains(spawn.lane) && !spawnLanes.contains(spawn.lane) {
                spawnLanes.insert(spawn.lane)
                lanes.insert(spawn.parentLane)
                changed = true
            }
        }
        return TraceSelection(events: kept, spawnLanes: spawnLanes, lanes: lanes, repeats: repeats)
    }
}
