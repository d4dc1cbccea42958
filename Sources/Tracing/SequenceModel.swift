// Swift-only: the one model behind the sequence and Mermaid views: objects talking to objects.
//
// A reader draws socketserver's flow as messages between objects: the program builds a
// server, the server's loop turns, a client connects, the server hands the request to a
// handler. This model reads a recording in causal order and says who sent what to whom:
//
// - Participants are objects: the program behind a lane nobody started through the port, each
//   server object by its class, each handler by the request it serves (`MyTCPHandler #1`),
//   `_Threads`, and each client (from the address `get_request` returned). An object that runs
//   in several threads or processes has a lifeline in each, so that every thread and every
//   forked child is a box of its own: the moment work moves to a new box is ThreadingMixIn's
//   or ForkingMixIn's whole point.
// - A call to another lifeline is a message; the receiver is activated while it sends messages
//   of its own, and a result (or an exception) goes back as a reply. An object's calls to
//   itself are its own steps, written in a note on its lifeline (`a() › b()`: b ran inside a),
//   so that arrows are left for what crosses between objects.
// - A thread start, a fork and a child's `os._exit` are notes; `serve_forever`'s turns are a
//   loop (real-clock mode counts the idle ones); requests whose threads or children overlapped
//   in time are a `par` (real-clock mode only: which ones overlap is timing, like idle turns).

/// A lifeline of a sequence diagram.
struct SequenceParticipant {
    /// How Mermaid draws the head of the lifeline.
    enum Shape { case participant, actor }

    /// The object (`"TCPServer"`, `"MyTCPHandler #1"`, `"program"`, `"client 1"`).
    let object: String
    /// The lane it runs in; nil for a client (not traced).
    let lane: LaneID?
    /// A Mermaid identifier, unique in the diagram (`P0_T1_TCPServer`).
    let id: String
    /// What the diagram calls it (the object).
    var label: String { object }
    let shape: Shape
}

/// A thread or process: the lifelines that ran in it.
struct SequenceBox {
    let lane: LaneID
    /// `P0 T1 Thread-1 (serve_forever)`, `P1 T1 forked child of P0`.
    let title: String
    /// The lane that started this one, if it was started through the port.
    let spawnedBy: LaneID?
    /// Its participants, indices into ``SequenceModel/participants``, left to right.
    var members: [Int]
}

/// How a message is drawn.
enum SequenceArrow {
    /// A call that waits for its end.
    case call
    /// A message nobody waits for: a thread's first call, a fork, a client connecting.
    case async
    /// A result coming back.
    case reply
    /// An exception coming back.
    case raise
}

/// One statement of the diagram, in order.
enum SequenceStatement {
    /// A message; `activate` starts the receiver's bar, `deactivate` ends the sender's.
    case message(from: Int, to: Int, arrow: SequenceArrow, text: String, activate: Bool, deactivate: Bool)
    /// Steps of an object on its lifeline: pieces in order, each but the first starting with
    /// how it follows the one before (`", "` a call at the same level, `" › "` a call inside
    /// the one before).
    case steps(Int, [String])
    /// A lane event: a thread start, a fork, an `os._exit`.
    case event(Int, String)
    /// The end of a participant's bar.
    case deactivate(Int)
    /// The start of `serve_forever`'s loop.
    case loop(String)
    /// The start of a group of overlapping requests, with its first branch.
    case par(String)
    /// The next branch of a `par`.
    case branch(String)
    /// The end of the innermost loop or par.
    case end
}

/// A recording as objects talking to objects, for the sequence and Mermaid views.
struct SequenceModel {
    /// Every lifeline, in the order the diagram declares them: boxes in order of first
    /// appearance, each box's participants together, clients where they first appear.
    private(set) var participants: [SequenceParticipant] = []
    /// The boxes, in declaration order.
    private(set) var boxes: [SequenceBox] = []
    /// The statements, in causal order.
    private(set) var statements: [SequenceStatement] = []
    /// Declaration order: boxes and clients, each box's members together.
    private(set) var layout: [Layout] = []

    /// What the diagram declares, in order.
    enum Layout {
        case box(Int)
        case client(Int)
    }

    /// - Parameters:
    ///   - recording: what to draw.
    ///   - detailLimit: the longest arguments or result a label shows (nil: whole, for a view
    ///     that cuts whole lines).
    ///   - filter: what to show.
    init(_ recording: Recording, detailLimit: Int?, filter: TraceFilter) {
        let view = CausalView(recording, fold: true, filter: filter)
        // Classes made anew for each request (handlers), from the whole recording: a filter may
        // leave out the `__init__` but not the handler's number.
        let perRequest = Set(
            recording.events.filter { $0.kind == .call && $0.method == "__init__" && $0.request != nil }.map(\.selfClass))
        var builder = SequenceBuilder(view, detailLimit: detailLimit, perRequest: perRequest)
        builder.build(FlowNode.forest(view.rows))
        (participants, boxes, layout, statements) = builder.declared()
    }

    /// The participants a statement draws on.
    static func participants(of statement: SequenceStatement) -> [Int] {
        switch statement {
        case .message(let from, let to, _, _, _, _): return [from, to]
        case .steps(let who, _), .event(let who, _), .deactivate(let who): return [who]
        case .loop, .par, .branch, .end: return []
        }
    }
}

/// A call, spawn or orphan end of a causal view, with what ran inside it.
final class FlowNode {
    let row: ViewRow
    var children: [FlowNode] = []
    /// The return or raise row of a call.
    var end: ViewRow?

    init(_ row: ViewRow) { self.row = row }

    /// The rows as a forest: a call holds the rows between it and its end, a spawn the rows
    /// of the lane it started.
    static func forest(_ rows: [ViewRow]) -> [FlowNode] {
        var roots: [FlowNode] = []
        var stack: [FlowNode] = []
        var calls: [Int: FlowNode] = [:]
        for (index, row) in rows.enumerated() {
            switch row.kind {
            case .return, .raise:
                guard let partner = row.partner, let node = calls[partner],
                    stack.contains(where: { $0 === node })
                else { continue }
                while stack.last !== node { stack.removeLast() }
                stack.removeLast()
                node.end = row
            case .call, .spawn, .orphan:
                while let top = stack.last, top.row.indent >= row.indent { stack.removeLast() }
                let node = FlowNode(row)
                if let parent = stack.last { parent.children.append(node) } else { roots.append(node) }
                guard row.kind != .orphan else { continue }
                stack.append(node)
                if row.kind == .call { calls[index] = node }
            }
        }
        return roots
    }

    /// The event of a call or orphan row.
    var event: TraceEvent? { row.event }

    /// Whether this is a call of `method`.
    func isCall(_ method: String) -> Bool { row.kind == .call && row.event?.method == method }

    /// The latest time in the subtree (a lane's rows included), for overlaps.
    var lastTime: UInt64 {
        let own = row.event?.time ?? row.spawn?.time ?? 0
        return children.reduce(max(own, end?.event?.time ?? 0)) { max($0, $1.lastTime) }
    }

    /// Every spawn in the subtree, outermost first.
    var spawns: [FlowNode] {
        children.flatMap { $0.row.kind == .spawn ? [$0] : $0.spawns }
    }
}

/// Where calls are being made: the lane, the lifeline whose activation they are in, the
/// objects of the frames open on the lane, and the lifeline's own open calls.
private struct Scope {
    var lane: LaneID
    /// The object making the calls.
    var actor: String
    /// The lane of that object's lifeline (for a thread's first call, the spawning lane).
    var actorLane: LaneID
    /// The frames open on the lane: the receiver's class and object, outermost first.
    var objects: [(cls: String, object: String)]
    /// The actor's own calls open around here, outermost first.
    var path: [String]
}

/// Builds a ``SequenceModel``.
private struct SequenceBuilder {
    let view: CausalView
    let detailLimit: Int?
    /// Classes whose objects are made for a request, named by it (`MyTCPHandler #1`).
    let perRequest: Set<String>
    var participants: [SequenceParticipant] = []
    var index: [String: Int] = [:]
    var usedIDs: Set<String> = []
    var statements: [SequenceStatement] = []
    /// Requests whose client has been drawn.
    var announced: Set<Int> = []
    var pending: PendingSteps?

    /// The steps of one lifeline not written yet: groups of calls, each inside the last
    /// call of the group before it.
    struct PendingSteps {
        var who: Int
        var pieces: [String]
        /// The path the latest group is at.
        var path: [String]
        /// The last step, if it has steps of its own to come.
        var opened: String?
    }

    /// The longest argument text a step shows; longer ones are `…`.
    static let stepArgumentLimit = 24

    init(_ view: CausalView, detailLimit: Int?, perRequest: Set<String>) {
        self.view = view
        self.detailLimit = detailLimit
        self.perRequest = perRequest
    }

    mutating func build(_ roots: [FlowNode]) {
        for node in roots {
            let lane = node.row.laneKey
            visit(node, Scope(lane: lane, actor: "program", actorLane: lane, objects: [], path: []))
        }
        flush()
    }

    // MARK: Participants

    /// The lifeline of `object` in `lane` (nil lane: a client), made on first use.
    mutating func participant(_ object: String, _ lane: LaneID?) -> Int {
        let key = "\(object)@\(lane?.description ?? "")"
        if let known = index[key] { return known }
        // Letters and digits, one `_` for each run of anything else.
        var base = ""
        for character in (lane.map { "\($0.process)_\($0.thread)_" } ?? "") + object {
            if character.isASCII && (character.isLetter || character.isNumber) {
                base.append(character)
            } else if !base.isEmpty && base.last != "_" {
                base.append("_")
            }
        }
        if base.hasSuffix("_") { base.removeLast() }
        var id = base
        var suffix = 2
        while usedIDs.contains(id) {
            id = "\(base)_\(suffix)"
            suffix += 1
        }
        usedIDs.insert(id)
        participants.append(
            SequenceParticipant(object: object, lane: lane, id: id, shape: lane == nil ? .actor : .participant))
        index[key] = participants.count - 1
        return participants.count - 1
    }

    /// The object a call runs on: the open frame's object of the same class, the object of
    /// its request for a class made for each request (a handler), or the one object of its
    /// class.
    func object(of event: TraceEvent, _ objects: [(cls: String, object: String)]) -> String {
        if let open = objects.last(where: { $0.cls == event.selfClass }) { return open.object }
        let cls = escapeUnsafeCharacters(event.selfClass)
        if perRequest.contains(event.selfClass), let request = event.request { return "\(cls) #\(request)" }
        return cls
    }

    /// The title of a lane's box.
    func title(_ lane: LaneID) -> String {
        let name = view.lane(lane)?.name ?? ""
        if let parent = view.processes.first(where: { $0.label == lane.process })?.parent {
            return "\(lane.process) \(lane.thread) forked child of \(parent)"
        }
        return "\(lane.process) \(lane.thread)" + (name.isEmpty ? "" : " \(name)")
    }

    // MARK: Texts

    /// `text` cut to the detail limit.
    func cut(_ text: String) -> String { detailLimit.map { cutText(text, to: $0) } ?? text }

    /// The function as the receiver's reader names it: the method, qualified by the class
    /// that defines it when that is not the receiver's own (`BaseServer.__init__`).
    func name(_ event: TraceEvent) -> String {
        escapeUnsafeCharacters(
            event.definingClass.isEmpty || event.definingClass == event.selfClass
                ? event.method : "\(event.definingClass).\(event.method)")
    }

    /// A message: `name(arguments)`.
    func messageText(_ node: FlowNode) -> String {
        "\(name(node.event!))(\(cut(node.row.detail)))"
    }

    /// A step: `name(arguments)`, with `…` for arguments too long to show.
    func stepText(_ node: FlowNode) -> String {
        let detail = node.row.detail
        let shown = detail.count <= Self.stepArgumentLimit ? detail : "…"
        return "\(name(node.event!))(\(shown))"
    }

    /// How a call ended, for a step with nothing inside: ` → result`, ` ✗ exception`, or
    /// nothing for None.
    func ending(_ node: FlowNode) -> String {
        guard let end = node.end else { return "" }
        if end.kind == .raise { return " ✗ " + cut(end.detail) }
        let result = resultText(end.detail)
        return result == "None" ? "" : " → " + cut(result)
    }

    /// How a call with steps inside ended, as a step after them: `name returned result`,
    /// `name raised exception`, or nil for None.
    func endingStep(_ node: FlowNode) -> String? {
        guard let end = node.end else { return nil }
        let method = node.event!.method
        if end.kind == .raise { return "\(method) raised " + cut(end.detail) }
        let result = resultText(end.detail)
        return result == "None" ? nil : "\(method) returned " + cut(result)
    }

    /// ` ×N` for a call standing for N identical ones, in real-clock mode.
    func folds(_ node: FlowNode) -> String {
        !view.deterministic && node.row.folded > 1 ? " ×\(node.row.folded)" : ""
    }

    // MARK: Steps

    /// Add a step of `who` at `path`: to the note being written when it continues it (the
    /// same group, or the inside of its last step), else in a new note.
    mutating func step(_ who: Int, _ path: [String], _ text: String, opens: String? = nil) {
        if var note = pending, note.who == who {
            if note.path == path {
                note.pieces.append(", " + text)
                note.opened = opens
                pending = note
                return
            }
            if let opened = note.opened, path == note.path + [opened] {
                note.pieces.append(" › " + text)
                note.path = path
                note.opened = opens
                pending = note
                return
            }
        }
        flush()
        let prefix = path.isEmpty ? "" : path.joined(separator: " › ") + " › "
        pending = PendingSteps(who: who, pieces: [prefix + text], path: path, opened: opens)
    }

    /// Write the note being built.
    mutating func flush() {
        guard let note = pending else { return }
        statements.append(.steps(note.who, note.pieces))
        pending = nil
    }

    mutating func emit(_ statement: SequenceStatement) {
        flush()
        statements.append(statement)
    }

    // MARK: Walking

    mutating func visit(_ node: FlowNode, _ scope: Scope, decorate: ((String) -> String)? = nil) {
        switch node.row.kind {
        case .call: visitCall(node, scope, decorate: decorate)
        case .spawn: visitSpawn(node, scope)
        case .orphan:
            let actor = participant(scope.actor, scope.actorLane)
            let event = node.event!
            let how = event.kind == .raise ? "raised" : "returned"
            step(actor, scope.path, "\(event.method) \(how) \(cut(resultText(node.row.detail)))")
        case .return, .raise: break
        }
    }

    mutating func visitCall(_ node: FlowNode, _ scope: Scope, decorate: ((String) -> String)?) {
        let event = node.event!
        let actor = participant(scope.actor, scope.actorLane)
        let object = object(of: event, scope.objects)
        let receiver = participant(object, scope.lane)
        announceClient(node, to: receiver)
        var inner = scope
        inner.objects.append((event.selfClass, object))

        if receiver == actor {
            // A step of the object's own.
            let text = decorate?(stepText(node)) ?? stepText(node) + folds(node)
            if node.children.isEmpty {
                step(actor, scope.path, text + ending(node))
                return
            }
            step(actor, scope.path, text, opens: event.method)
            inner.path.append(event.method)
            walkBody(node, inner)
            if let end = endingStep(node) { step(actor, scope.path, end) }
            return
        }

        // A message to another lifeline (another object, or this one in another thread).
        let crossLane = scope.actorLane != scope.lane
        let bar = sendsMessages(node)
        emit(.message(
            from: actor, to: receiver, arrow: crossLane ? .async : .call, text: messageText(node) + folds(node),
            activate: bar, deactivate: false))
        inner.actor = object
        inner.actorLane = scope.lane
        inner.path = []
        walkBody(node, inner)
        if let end = node.end, !crossLane, end.kind == .raise || resultText(end.detail) != "None" {
            let raised = end.kind == .raise
            let text = raised ? "✗ " + cut(end.detail) : cut(resultText(end.detail))
            emit(.message(from: receiver, to: actor, arrow: raised ? .raise : .reply, text: text, activate: false, deactivate: bar))
            return
        }
        if crossLane, node.end?.kind == .raise, let raised = endingStep(node) { step(receiver, [], raised) }
        if bar { emit(.deactivate(receiver)) }
    }

    /// Whether a call sends messages while it runs: a call to another object, a spawn, or a
    /// client's first appearance inside it (so that its receiver gets a bar).
    func sendsMessages(_ node: FlowNode) -> Bool {
        let own = node.event!.selfClass
        func sends(_ child: FlowNode) -> Bool {
            switch child.row.kind {
            case .spawn: return true
            case .call:
                let event = child.event!
                if event.selfClass != own { return true }
                if event.method == "get_request", let request = child.end?.event?.request,
                    !announced.contains(request)
                {
                    return true
                }
                return child.children.contains(where: sends)
            default: return false
            }
        }
        return node.children.contains(where: sends)
    }

    /// The children of a call; `serve_forever`'s turns as a loop.
    mutating func walkBody(_ node: FlowNode, _ scope: Scope) {
        let children = node.children
        let isTurn = { (child: FlowNode) in child.isCall("_handle_request_noblock") || child.isCall("service_actions") }
        guard node.isCall("serve_forever"), let first = children.firstIndex(where: isTurn),
            let last = children.lastIndex(where: isTurn)
        else {
            for child in children { visit(child, scope) }
            return
        }
        for child in children[..<first] { visit(child, scope) }
        emit(.loop("serve_forever: a turn per select()"))
        walkTurns(Array(children[first...last]), scope)
        emit(.end)
        for child in children[(last + 1)...] { visit(child, scope) }
    }

    /// The loop's turns (each ends with `service_actions`), requests whose spawned lanes
    /// overlap in time grouped in a `par` (real-clock mode).
    mutating func walkTurns(_ nodes: [FlowNode], _ scope: Scope) {
        var turns: [[FlowNode]] = [[]]
        for node in nodes {
            turns[turns.count - 1].append(node)
            if node.isCall("service_actions") { turns.append([]) }
        }
        turns.removeAll { $0.isEmpty }
        var index = 0
        var previous: FlowNode?
        while index < turns.count {
            var group = [turns[index]]
            if !view.deterministic, var running = Self.span(turns[index]) {
                while index + group.count < turns.count, let next = Self.span(turns[index + group.count]),
                    next.start < running.end
                {
                    group.append(turns[index + group.count])
                    running.end = max(running.end, next.end)
                }
            }
            let parallel = group.count > 1
            for (branch, turn) in group.enumerated() {
                if parallel {
                    let label = requestLabel(turn)
                    emit(branch == 0 ? .par(label) : .branch(label))
                }
                for node in turn {
                    visit(node, scope, decorate: node.isCall("service_actions") ? idleWording(node, after: previous) : nil)
                    previous = node
                }
            }
            if parallel { emit(.end) }
            index += group.count
        }
    }

    /// When the lanes a turn spawned ran: from the first spawn to their last event.
    static func span(_ turn: [FlowNode]) -> (start: UInt64, end: UInt64)? {
        let spawns = turn.flatMap(\.spawns)
        guard let first = spawns.compactMap({ $0.row.spawn?.time }).min() else { return nil }
        return (first, spawns.map(\.lastTime).max() ?? first)
    }

    /// `request N` for a turn's branch of a `par`.
    func requestLabel(_ turn: [FlowNode]) -> String {
        for node in turn {
            if let request = Self.request(in: node)?.request { return "request \(request)" }
        }
        return "a request"
    }

    /// In real-clock mode, a folded `service_actions` stands for the turn's own and the idle
    /// turns after it: say how many were idle (the text it gets has no fold count).
    func idleWording(_ node: FlowNode, after previous: FlowNode?) -> ((String) -> String)? {
        guard !view.deterministic else { return nil }
        let busy = previous?.isCall("_handle_request_noblock") == true
        let idle = node.row.folded - (busy ? 1 : 0)
        guard idle > 0 else { return { $0 } }
        return { busy ? "\($0), then ×\(idle) idle turns" : "×\(idle) idle turns: \($0)" }
    }

    // MARK: Clients

    /// The request a `get_request` in the subtree returned, and its result text.
    static func request(in node: FlowNode) -> (request: Int, result: String)? {
        if node.isCall("get_request"), let end = node.end, let request = end.event?.request {
            return (request, resultText(end.detail))
        }
        guard node.row.kind == .call else { return nil }
        for child in node.children {
            if let found = request(in: child) { return found }
        }
        return nil
    }

    /// Before the call that accepts a request (`_handle_request_noblock`, or `get_request`
    /// when that is all there is), the client that sent it, once.
    mutating func announceClient(_ node: FlowNode, to receiver: Int) {
        guard node.isCall("_handle_request_noblock") || node.isCall("get_request"),
            let (request, result) = Self.request(in: node), announced.insert(request).inserted
        else { return }
        let client = participant("client \(request)", nil)
        let parts = topLevelItems(result)
        let what = parts.first?.hasPrefix("(") == true ? "datagram" : "connect"
        let text = parts.count == 2 ? "\(what) from \(cut(parts[1]))" : what
        emit(.message(from: client, to: receiver, arrow: .async, text: text, activate: false, deactivate: false))
    }

    // MARK: Spawns

    mutating func visitSpawn(_ node: FlowNode, _ scope: Scope) {
        let spawn = node.row.spawn!
        let lane = spawn.lane
        let spawner = participant(scope.actor, scope.actorLane)
        switch spawn.kind {
        case .thread:
            let name = node.row.detail
            if let first = node.children.first(where: { $0.row.kind == .call }) {
                let target = participant(object(of: first.event!, []), lane)
                emit(.event(target, "\(name) starts"))
            } else {
                emit(.event(spawner, "starts \(spawn.thread) \(name)"))
            }
            let inner = Scope(lane: lane, actor: scope.actor, actorLane: scope.actorLane, objects: [], path: [])
            for child in node.children { visit(child, inner) }
        case .fork:
            // The child's copy of the object its first call runs on (the forking one, unless
            // a filter left that out).
            let first = node.children.first { $0.row.kind == .call }
            let copied = first.map { object(of: $0.event!, scope.objects) } ?? scope.actor
            let child = participant(copied, lane)
            let record = view.processes.first { $0.label == spawn.process }
            let pid = !view.deterministic && (record?.pid ?? 0) > 0 ? " pid \(record!.pid)" : ""
            emit(.event(child, "fork: child \(spawn.process)\(pid)"))
            let bar = !node.children.isEmpty
            emit(.message(from: spawner, to: child, arrow: .async, text: "os.fork()", activate: bar, deactivate: false))
            let inner = Scope(lane: lane, actor: copied, actorLane: lane, objects: scope.objects, path: [])
            for grandchild in node.children { visit(grandchild, inner) }
            if let status = record?.exitStatus { emit(.event(child, "os._exit(\(status))")) }
            if bar { emit(.deactivate(child)) }
        }
    }

    // MARK: Declaration order

    /// The participants in declaration order (boxes together), with the statements renumbered.
    mutating func declared() -> ([SequenceParticipant], [SequenceBox], [SequenceModel.Layout], [SequenceStatement]) {
        flush()
        var order: [Int] = []
        var layout: [SequenceModel.Layout] = []
        var boxes: [SequenceBox] = []
        var boxed: Set<LaneID> = []
        for (number, participant) in participants.enumerated() {
            guard let lane = participant.lane else {
                layout.append(.client(order.count))
                order.append(number)
                continue
            }
            guard boxed.insert(lane).inserted else { continue }
            let members = participants.indices.filter { participants[$0].lane == lane }
            boxes.append(
                SequenceBox(
                    lane: lane, title: title(lane), spawnedBy: view.lane(lane)?.spawn?.parentLane,
                    members: Array(order.count..<(order.count + members.count))))
            layout.append(.box(boxes.count - 1))
            order += members
        }
        var renumber = [Int](repeating: 0, count: participants.count)
        for (position, number) in order.enumerated() { renumber[number] = position }
        let renumbered = statements.map { statement -> SequenceStatement in
            switch statement {
            case .message(let from, let to, let arrow, let text, let activate, let deactivate):
                return .message(
                    from: renumber[from], to: renumber[to], arrow: arrow, text: text, activate: activate,
                    deactivate: deactivate)
            case .steps(let who, let text): return .steps(renumber[who], text)
            case .event(let who, let text): return .event(renumber[who], text)
            case .deactivate(let who): return .deactivate(renumber[who])
            case .loop, .par, .branch, .end: return statement
            }
        }
        return (order.map { participants[$0] }, boxes, layout, renumbered)
    }
}

/// The items of a Python tuple's text, split at its top-level commas (`"(a, (b, c))"` →
/// `["a", "(b, c)"]`); the text itself when it is no tuple.
func topLevelItems(_ text: String) -> [String] {
    guard text.hasPrefix("("), text.hasSuffix(")") else { return [text] }
    let inner = text.dropFirst().dropLast()
    var items: [String] = []
    var current = ""
    var depth = 0
    var quote: Character? = nil
    var escaped = false
    for character in inner {
        if let open = quote {
            current.append(character)
            if escaped { escaped = false } else if character == "\\" { escaped = true } else if character == open { quote = nil }
            continue
        }
        switch character {
        case "'", "\"": quote = character
        case "(", "[", "{", "<": depth += 1
        case ")", "]", "}", ">": depth -= 1
        case "," where depth == 0:
            items.append(current.trimmingSpaces())
            current = ""
            continue
        default: break
        }
        current.append(character)
    }
    items.append(current.trimmingSpaces())
    return items
}

extension String {
    /// The string without leading and trailing spaces.
    func trimmingSpaces() -> String {
        var text = Substring(self)
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return String(text)
    }
}
