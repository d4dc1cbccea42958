// Swift-only: the causal order every view reads a recording in.
//
// Threads race, so the global order of a recording changes from run to run. What does not
// change is each thread's own order and where each thread or child was started. A causal view
// lists each lane (thread of a process) in its own order and places a spawned lane right where
// it was spawned, nested under the spawning call; lanes nobody spawned through the seam (the
// main thread) come first. Runs of identical sibling subtrees (the idle `service_actions` turns
// of `serve_forever`, `collect_children` polls) fold into one, because how many of them ran is
// a matter of timing.
import Diagrams

/// A thread of a process, as views name it.
struct ViewLane {
    /// `"P0"`.
    let process: String
    /// `"T1"`.
    let thread: String
    /// The thread's name (normalized in deterministic mode).
    var name: String
    /// The real pid and tid (0 when unknown).
    let pid, tid: Int32
    /// Where it was spawned, if through the seam.
    let spawn: TraceSpawn?

    /// The lane.
    var key: LaneID { LaneID(process: process, thread: thread) }
}

/// One row of a causal view.
struct ViewRow {
    /// What the row shows.
    enum Kind {
        /// A call (its end, if any, is the row at `partner`).
        case call
        /// A return (its call is the row at `partner`).
        case `return`
        /// A raise (its call is the row at `partner`).
        case raise
        /// The end of a frame the lane did not open (a child ending a frame of its parent).
        case orphan
        /// A thread start or fork: the spawned lane's rows follow, one level deeper.
        case spawn
    }

    /// What the row shows.
    var kind: Kind
    /// The process of the lane the row is on (for a spawn, the spawning lane).
    var process: String
    /// The thread of the lane the row is on.
    var thread: String
    /// The nesting level in the view.
    var indent: Int
    /// The logical clock: the index of the event among event rows; for a spawn, the clock of
    /// the next event row.
    var clock: Int
    /// The event of a call, return, raise or orphan row.
    var event: TraceEvent?
    /// The link of a spawn row.
    var spawn: TraceSpawn?
    /// The event's detail or, for a spawn, the new lane's name: escaped, and normalized in
    /// deterministic mode.
    var detail: String
    /// How many identical sibling subtrees this call stands for (1 when none folded).
    var folded = 1
    /// A call with nothing between it and its end.
    var leaf = false
    /// The index of the matching call or end row.
    var partner: Int?

    /// The lane of the row.
    var laneKey: LaneID { LaneID(process: process, thread: thread) }
}

/// A recording in causal order, ready for a view.
struct CausalView {
    /// The recording's mode.
    let deterministic: Bool
    /// Real-clock time zero.
    let origin: UInt64
    /// The rows, in causal order.
    private(set) var rows: [ViewRow] = []
    /// The lanes, in order of first appearance in `rows`.
    private(set) var lanes: [ViewLane] = []
    /// The processes of the recording.
    let processes: [TraceProcess]

    /// Orders `recording` causally.
    ///
    /// - Parameters:
    ///   - fold: fold runs of identical sibling subtrees.
    ///   - filter: what to keep. Details are normalized over the whole recording first, so
    ///     that what is kept is named as in the whole trace.
    init(_ recording: Recording, fold: Bool, filter: TraceFilter = TraceFilter()) {
        deterministic = recording.deterministic
        origin = recording.origin
        processes = recording.processes
        let selection = filter.keepsEverything ? nil : filter.select(recording)
        var builder = CausalBuilder(recording, repeats: selection?.repeats ?? recording.repeats)
        builder.normalize()
        if let selection { builder.prune(selection) }
        if fold { builder.fold() }
        (rows, lanes) = builder.flatten()
    }

    /// The lane of a row.
    func lane(_ key: LaneID) -> ViewLane? { lanes.first { $0.key == key } }
}

/// A node of a lane's call forest.
private final class CausalNode {
    enum Content {
        case frame(TraceEvent)
        case orphan(TraceEvent)
        case spawn(TraceSpawn)
    }

    let content: Content
    /// The index of the event in the recording (nil for a spawn).
    let index: Int?
    var end: TraceEvent?
    var children: [CausalNode] = []
    var count = 1
    var detail = ""
    var endDetail = ""

    init(_ content: Content, index: Int? = nil) {
        self.content = content
        self.index = index
    }

    /// Whether the subtree holds a spawn (never folded: every spawn is a new lane).
    lazy var spawns: Bool = {
        if case .spawn = content { return true }
        return children.contains { $0.spawns }
    }()

    /// Whether two subtrees show the same calls with the same details (counts aside: they are
    /// timing).
    func sameShape(as other: CausalNode) -> Bool {
        guard !spawns, !other.spawns, children.count == other.children.count,
            detail == other.detail, endDetail == other.endDetail, end?.kind == other.end?.kind,
            (end == nil) == (other.end == nil)
        else { return false }
        switch (content, other.content) {
        case (.frame(let a), .frame(let b)), (.orphan(let a), .orphan(let b)):
            guard a.function == b.function, a.selfClass == b.selfClass, a.request == b.request
            else { return false }
        default:
            return false
        }
        return zip(children, other.children).allSatisfy { $0.sameShape(as: $1) }
    }
}

/// Builds a causal view: forests per lane, normalization, folding, flattening.
private struct CausalBuilder {
    let deterministic: Bool
    var normalizer: DetailNormalizer
    var laneOrder: [LaneID] = []
    var laneInfo: [LaneID: ViewLane] = [:]
    var forests: [LaneID: [CausalNode]] = [:]
    var roots: [LaneID] = []

    /// - Parameter repeats: how many calls each folded frame stands for.
    init(_ recording: Recording, repeats: [TraceFrameID: Int]) {
        deterministic = recording.deterministic
        normalizer = DetailNormalizer(enabled: recording.deterministic, processes: recording.processes)
        let started = recording.spawns.filter(\.started)
        var spawnOf: [LaneID: TraceSpawn] = [:]
        for spawn in started { spawnOf[spawn.lane] = spawn }
        func addLane(_ process: String, _ thread: String, name: String, pid: Int32, tid: Int32) {
            let key = LaneID(process: process, thread: thread)
            guard laneInfo[key] == nil else { return }
            laneOrder.append(key)
            laneInfo[key] = ViewLane(
                process: process, thread: thread, name: name, pid: pid, tid: tid,
                spawn: spawnOf[key])
        }
        for thread in recording.threads {
            addLane(thread.process, thread.label, name: thread.name, pid: thread.pid, tid: thread.tid)
        }
        var laneEvents: [LaneID: [(index: Int, event: TraceEvent)]] = [:]
        for (index, event) in recording.events.enumerated() {
            addLane(event.process, event.thread, name: "thread", pid: event.pid, tid: event.tid)
            laneEvents[event.lane, default: []].append((index, event))
        }
        var spawnsFrom: [LaneID: [TraceSpawn]] = [:]
        for spawn in started {
            addLane(spawn.process, spawn.thread, name: spawn.name, pid: 0, tid: 0)
            spawnsFrom[spawn.parentLane, default: []].append(spawn)
        }
        // Lanes in process order, then thread number: main first, children after.
        let processOrder = Dictionary(
            recording.processes.enumerated().map { ($0.element.label, $0.offset) },
            uniquingKeysWith: { a, _ in a })
        laneOrder.sort { left, right in
            let a = laneInfo[left]!
            let b = laneInfo[right]!
            let pa = processOrder[a.process] ?? Int.max
            let pb = processOrder[b.process] ?? Int.max
            if pa != pb { return pa < pb }
            if a.process != b.process {
                return labelNumbers(a.process).lexicographicallyPrecedes(labelNumbers(b.process))
            }
            return labelNumbers(a.thread).lexicographicallyPrecedes(labelNumbers(b.thread))
        }
        for key in laneOrder {
            let spawns = (spawnsFrom[key] ?? []).enumerated()
                .sorted { ($0.element.position, $0.offset) < ($1.element.position, $1.offset) }
                .map(\.element)
            forests[key] = Self.forest(laneEvents[key] ?? [], spawns: spawns, repeats: repeats)
            // A lane is a root unless a known lane spawned it.
            if let spawn = laneInfo[key]?.spawn,
                laneInfo[spawn.parentLane] != nil
            {
                continue
            }
            roots.append(key)
        }
    }

    /// A lane's events as a forest of calls, with its spawns placed where they happened; a
    /// call the recorder counted several times starts with that count.
    static func forest(
        _ events: [(index: Int, event: TraceEvent)], spawns: [TraceSpawn], repeats: [TraceFrameID: Int]
    ) -> [CausalNode] {
        var top: [CausalNode] = []
        var stack: [CausalNode] = []
        var nextSpawn = 0
        func add(_ node: CausalNode) {
            if let parent = stack.last { parent.children.append(node) } else { top.append(node) }
        }
        for (position, (index, event)) in events.enumerated() {
            while nextSpawn < spawns.count, spawns[nextSpawn].position <= position {
                add(CausalNode(.spawn(spawns[nextSpawn])))
                nextSpawn += 1
            }
            switch event.kind {
            case .call:
                let node = CausalNode(.frame(event), index: index)
                if let count = repeats[event.frame] { node.count = count }
                add(node)
                stack.append(node)
            case .return, .raise:
                if let node = stack.popLast() {
                    node.end = event
                } else {
                    add(CausalNode(.orphan(event), index: index))
                }
            }
        }
        while nextSpawn < spawns.count {
            add(CausalNode(.spawn(spawns[nextSpawn])))
            nextSpawn += 1
        }
        return top
    }

    /// Normalizes every detail and lane name in causal order (first appearance decides the
    /// names, and the causal order is the same every run).
    mutating func normalize() {
        var visited: Set<LaneID> = []
        for root in roots { normalizeLane(root, &visited) }
        for key in laneOrder where !visited.contains(key) { normalizeLane(key, &visited) }
    }

    private mutating func normalizeLane(_ key: LaneID, _ visited: inout Set<LaneID>) {
        guard visited.insert(key).inserted else { return }
        if let name = laneInfo[key]?.name { laneInfo[key]?.name = normalizer.name(name) }
        for node in forests[key] ?? [] { normalizeNode(node, &visited) }
    }

    private mutating func normalizeNode(_ node: CausalNode, _ visited: inout Set<LaneID>) {
        switch node.content {
        case .frame(let event), .orphan(let event):
            node.detail = normalizer.detail(of: event)
        case .spawn(let spawn):
            node.detail = normalizer.name(spawn.name)
            normalizeLane(spawn.lane, &visited)
        }
        for child in node.children { normalizeNode(child, &visited) }
        if let end = node.end {
            node.endDetail = normalizer.detail(
                of: end, descriptorResult: end.method == "fileno" && end.kind == .return)
        }
    }

    /// Keeps what `selection` keeps: a dropped call's kept calls and spawns move up to its
    /// place; lanes left with nothing go.
    mutating func prune(_ selection: TraceSelection) {
        func pruned(_ nodes: [CausalNode]) -> [CausalNode] {
            nodes.flatMap { node -> [CausalNode] in
                node.children = pruned(node.children)
                switch node.content {
                case .frame, .orphan:
                    return selection.events.contains(node.index!) ? [node] : node.children
                case .spawn(let spawn):
                    return selection.spawnLanes.contains(spawn.lane) ? [node] : []
                }
            }
        }
        for key in laneOrder { forests[key] = pruned(forests[key] ?? []) }
        laneOrder = laneOrder.filter(selection.lanes.contains)
        roots = roots.filter(selection.lanes.contains)
    }

    /// Folds runs of identical sibling subtrees, innermost first.
    mutating func fold() {
        for key in laneOrder { forests[key] = Self.fold(forests[key] ?? []) }
    }

    private static func fold(_ nodes: [CausalNode]) -> [CausalNode] {
        foldRuns(nodes, children: \.children, sameShape: { $0.sameShape(as: $1) }) { first, folded in
            first.count += folded.count
        }
    }

    /// The rows, and the lanes in order of appearance.
    func flatten() -> ([ViewRow], [ViewLane]) {
        var state = FlattenState()
        for root in roots { emitLane(root, indent: 0, &state) }
        for key in laneOrder where !state.visited.contains(key) { emitLane(key, indent: 0, &state) }
        return (state.rows, state.lanes)
    }

    private struct FlattenState {
        var rows: [ViewRow] = []
        var lanes: [ViewLane] = []
        var visited: Set<LaneID> = []
        var clock = 0
    }

    private func emitLane(_ key: LaneID, indent: Int, _ state: inout FlattenState) {
        guard state.visited.insert(key).inserted, let lane = laneInfo[key] else { return }
        state.lanes.append(lane)
        for node in forests[key] ?? [] { emit(node, lane: lane, indent: indent, &state) }
    }

    private func emit(_ node: CausalNode, lane: ViewLane, indent: Int, _ state: inout FlattenState) {
        switch node.content {
        case .frame(let event):
            let callRow = state.rows.count
            state.rows.append(
                ViewRow(
                    kind: .call, process: lane.process, thread: lane.thread, indent: indent,
                    clock: state.clock, event: event, detail: node.detail, folded: node.count))
            state.clock += 1
            for child in node.children { emit(child, lane: lane, indent: indent + 1, &state) }
            if let end = node.end {
                state.rows.append(
                    ViewRow(
                        kind: end.kind == .raise ? .raise : .return, process: lane.process,
                        thread: lane.thread, indent: indent, clock: state.clock, event: end,
                        detail: node.endDetail, partner: callRow))
                state.clock += 1
                state.rows[callRow].partner = state.rows.count - 1
                state.rows[callRow].leaf = node.children.isEmpty
            }
        case .orphan(let event):
            state.rows.append(
                ViewRow(
                    kind: .orphan, process: lane.process, thread: lane.thread, indent: indent,
                    clock: state.clock, event: event, detail: node.detail))
            state.clock += 1
        case .spawn(let spawn):
            state.rows.append(
                ViewRow(
                    kind: .spawn, process: lane.process, thread: lane.thread, indent: indent,
                    clock: state.clock, spawn: spawn, detail: node.detail))
            emitLane(spawn.lane, indent: indent + 1, &state)
        }
    }
}
