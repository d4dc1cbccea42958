// The lifecycle diagram: the notes' three phases of a server's life (construction, serving,
// shutdown), drawn from the calls of a traced run of the notes' example rather than from a
// hand-written list, so that the drawing shows what the port really does.
//
// This file only draws. Whoever runs the scenario turns the recording into `LifecycleCall`s
// (one per call, in the order they began) and hands them to `LifecyclePhase.phases(from:)`.

/// One call of a traced run, as the lifecycle diagram draws it.
public struct LifecycleCall: Sendable, Hashable {
    /// The Python qualified name of the version that ran (`"TCPServer.server_bind"`,
    /// `"MyTCPHandler.handle"`).
    public var function: String
    /// The class defining that version (`"TCPServer"`): the Mermaid participant.
    public var definingClass: String
    /// The nesting depth on its thread: 0 for a call made by the script or by a thread's
    /// body, 1 for a call made by a depth-0 call, and so on.
    public var depth: Int
    /// The thread it ran on, as the recording names it (`"main"`, `"server"`,
    /// `"Thread-1 (process_request_thread)"`, or a forked child's label).
    public var thread: String

    /// Makes a call.
    public init(function: String, definingClass: String, depth: Int, thread: String) {
        self.function = function
        self.definingClass = definingClass
        self.depth = depth
        self.thread = thread
    }

    /// The method name: `function` after its last dot (`"server_bind"`).
    public var method: String {
        function.split(separator: ".").last.map(String.init) ?? function
    }
}

/// A phase of the server's life and the calls made in it.
public struct LifecyclePhase: Sendable, Hashable {
    /// The phase's name (`"construction"`, `"serving"`, `"shutdown"`).
    public var name: String
    /// The calls, in the order they began (threads may interleave).
    public var calls: [LifecycleCall]

    /// Makes a phase.
    public init(name: String, calls: [LifecycleCall]) {
        self.name = name
        self.calls = calls
    }

    /// The notes' three phases, in order.
    public static let names = ["construction", "serving", "shutdown"]

    /// Splits the calls of a run into the notes' three phases by the depth-0 call each call
    /// is nested in (on its own thread): `__init__` is construction; `shutdown`,
    /// `server_close` and `__exit__` are shutdown; everything else (`serve_forever`,
    /// `handle_request`, a worker thread's `process_request_thread`) is serving.
    ///
    /// Always returns the three phases, in order, some possibly empty.
    public static func phases(from calls: [LifecycleCall]) -> [LifecyclePhase] {
        var buckets: [String: [LifecycleCall]] = [:]
        var rootPhase: [String: String] = [:]  // thread → phase of its current depth-0 call
        for call in calls {
            if call.depth == 0 || rootPhase[call.thread] == nil {
                rootPhase[call.thread] = phase(ofRoot: call.method)
            }
            buckets[rootPhase[call.thread]!, default: []].append(call)
        }
        return names.map { LifecyclePhase(name: $0, calls: buckets[$0] ?? []) }
    }

    private static func phase(ofRoot method: String) -> String {
        switch method {
        case "__init__": "construction"
        case "shutdown", "server_close", "__exit__": "shutdown"
        default: "serving"
        }
    }
}

/// Draws the phases of a traced run.
///
/// - ascii: one box per phase, joined by `|`/`v`; inside, the calls of each thread indented
///   by depth.
/// - mermaid: a `sequenceDiagram`, one `rect` per phase; the participants are the threads
///   and the classes whose versions ran, and each call is an arrow from its caller's class.
/// - dot: a `digraph` with one cluster per phase and an edge from each call to its callees.
///
/// Calls are grouped by thread (in order of each thread's first call) because how threads
/// interleave depends on timing, while the order of calls on one thread does not.
/// Consecutive identical calls on a thread (with identical nested calls) are drawn once and
/// marked "(repeated)": the number of idle `serve_forever` iterations depends on timing too.
public func renderLifecycle(phases: [LifecyclePhase], format: DiagramFormat) -> String {
    let prepared = phases.map { (name: $0.name, entries: LifecycleLayout.entries($0.calls)) }
    switch format {
    case .ascii: return LifecycleLayout.ascii(prepared)
    case .mermaid: return LifecycleLayout.mermaid(prepared)
    case .dot: return LifecycleLayout.dot(prepared)
    }
}

/// The layout shared by the three lifecycle renderers.
enum LifecycleLayout {
    /// A call as drawn: once, perhaps standing for several identical consecutive calls.
    struct Entry: Equatable {
        var call: LifecycleCall
        var repeated: Bool
    }

    /// A call and the calls it made.
    private struct Node: Equatable {
        var call: LifecycleCall
        var children: [Node]
        var repeated = false

        /// Same function, same nested calls (the thread is the same by construction).
        func sameShape(as other: Node) -> Bool {
            call.function == other.call.function && call.definingClass == other.call.definingClass
                && children.count == other.children.count
                && zip(children, other.children).allSatisfy { $0.sameShape(as: $1) }
        }
    }

    /// The calls of one phase grouped by thread, repeats folded, in drawing order.
    static func entries(_ calls: [LifecycleCall]) -> [Entry] {
        var threads: [String] = []
        for call in calls where !threads.contains(call.thread) { threads.append(call.thread) }
        return threads.flatMap { thread in
            flatten(fold(tree(calls.filter { $0.thread == thread })))
        }
    }

    /// The calls of one thread as a forest, using each call's depth.
    private static func tree(_ calls: [LifecycleCall]) -> [Node] {
        var roots: [Node] = []
        var stack: [Node] = []  // open calls, outermost first
        func close() {
            let node = stack.removeLast()
            if stack.isEmpty {
                roots.append(node)
            } else {
                stack[stack.count - 1].children.append(node)
            }
        }
        for call in calls {
            while let top = stack.last, top.call.depth >= call.depth { close() }
            stack.append(Node(call: call, children: []))
        }
        while !stack.isEmpty { close() }
        return roots
    }

    /// Consecutive siblings of the same shape folded into one marked `repeated`, at every
    /// level.
    private static func fold(_ nodes: [Node]) -> [Node] {
        foldRuns(nodes, children: \.children, sameShape: { $0.sameShape(as: $1) }) { first, _ in
            first.repeated = true
        }
    }

    private static func flatten(_ nodes: [Node]) -> [Entry] {
        nodes.flatMap { [Entry(call: $0.call, repeated: $0.repeated)] + flatten($0.children) }
    }

    // MARK: ASCII

    static func ascii(_ phases: [(name: String, entries: [Entry])]) -> String {
        var bodies: [(title: String, lines: [String])] = []
        for (index, phase) in phases.enumerated() {
            var lines: [String] = []
            var thread: String?
            let base = phase.entries.map(\.call.depth).min() ?? 0
            for entry in phase.entries {
                if entry.call.thread != thread {
                    thread = entry.call.thread
                    lines.append("thread \(entry.call.thread)")
                }
                var line =
                    String(repeating: "  ", count: 1 + entry.call.depth - base)
                    + entry.call.function
                if entry.repeated { line += "  (repeated)" }
                if line.count > AsciiDrawing.maxWidth - 4 {
                    line = String(line.prefix(AsciiDrawing.maxWidth - 7)) + "..."
                }
                lines.append(line)
            }
            if lines.isEmpty { lines.append("(no calls)") }
            bodies.append(("\(index + 1). \(phase.name)", lines))
        }
        let width = min(
            AsciiDrawing.maxWidth,
            4 + (bodies.flatMap { $0.lines + [$0.title] }.map(\.count).max() ?? 0))
        var lines: [String] = []
        for (index, body) in bodies.enumerated() {
            if index > 0 { lines += ["    |", "    v"] }
            lines += AsciiDrawing.box(title: body.title, body: body.lines, width: width)
        }
        return AsciiDrawing.text(lines)
    }

    // MARK: Mermaid

    /// Sequence-diagram keywords. Mermaid's lexer (sequenceDiagram.jison, case-insensitive)
    /// reads these as keywords wherever a participant name could start, so a class named
    /// like one (`End`, `Note`) is given an alias.
    static let sequenceKeywords: Set<String> = [
        "box", "participant", "actor", "create", "destroy", "loop", "rect", "opt", "alt",
        "else", "par", "par_over", "and", "critical", "option", "break", "end", "links",
        "link", "properties", "details", "over", "note", "activate", "deactivate", "title",
        "sequencediagram", "autonumber", "off", "as",
    ]

    static func mermaid(_ phases: [(name: String, entries: [Entry])]) -> String {
        // Dunders escaped as in the class diagrams, so that both show `__init__` alike.
        func escaped(_ text: String) -> String { Mermaid.escape(text, dunders: true) }
        var ids: [String: String] = [:]  // "thread:x" / "class:X" → participant id
        var order: [String] = []  // ids in declaration order (left to right)
        var declarations: [String] = []
        func participant(_ key: String, preferred: String, label: String) {
            guard ids[key] == nil else { return }
            let lower = preferred.lowercased()
            let safe =
                preferred.first.map { $0.isLetter || $0 == "_" } == true
                && preferred.allSatisfy { ($0.isLetter || $0.isNumber || $0 == "_") && $0.isASCII }
                && !sequenceKeywords.contains(lower) && !order.contains(preferred)
            let id = safe ? preferred : "P\(order.count + 1)"
            ids[key] = id
            order.append(id)
            declarations.append(
                "    participant \(id)" + (id == label ? "" : " as \(escaped(label))"))
        }
        let entries = phases.flatMap(\.entries)
        for entry in entries {
            participant(
                "thread:\(entry.call.thread)", preferred: "T\(order.count + 1)",
                label: "thread \(entry.call.thread)")
        }
        for entry in entries {
            participant(
                "class:\(entry.call.definingClass)", preferred: entry.call.definingClass,
                label: entry.call.definingClass)
        }
        if order.isEmpty { participant("none", preferred: "T1", label: "no calls recorded") }
        var lines = [
            "sequenceDiagram",
            "    %% The lifecycle of a server in the notes' example, from a traced run of the",
            "    %% Swift port. Generated by the Diagrams module: do not edit.",
        ]
        lines += declarations
        let colours = ["rgb(235, 243, 255)", "rgb(235, 250, 238)", "rgb(255, 243, 232)"]
        for (index, phase) in phases.enumerated() {
            lines.append("    rect \(colours[index % colours.count])")
            // The note spans every participant of the phase: leftmost to rightmost.
            let used = Set(
                phase.entries.flatMap {
                    [ids["thread:\($0.call.thread)"]!, ids["class:\($0.call.definingClass)"]!]
                })
            let span = order.filter(used.contains)
            let left = span.first ?? order[0]
            let right = span.last ?? order[0]
            let over = left == right ? left : "\(left),\(right)"
            lines.append("    Note over \(over): \(index + 1). \(escaped(phase.name))")
            // The caller of each call: the class of the innermost open call on its thread.
            var open: [String: [(depth: Int, id: String)]] = [:]
            for entry in phase.entries {
                let thread = entry.call.thread
                var stack = open[thread] ?? []
                while let top = stack.last, top.depth >= entry.call.depth { stack.removeLast() }
                let from = stack.last?.id ?? ids["thread:\(thread)"]!
                let to = ids["class:\(entry.call.definingClass)"]!
                let text = escaped(entry.call.method) + "()" + (entry.repeated ? " (repeated)" : "")
                lines.append("    \(from)->>\(to): \(text)")
                stack.append((entry.call.depth, to))
                open[thread] = stack
            }
            if phase.entries.isEmpty { lines.append("    Note over \(order[0]): no calls") }
            lines.append("    end")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: DOT

    static func dot(_ phases: [(name: String, entries: [Entry])]) -> String {
        var lines = [
            "// The lifecycle of a server in the notes' example, from a traced run of the Swift",
            "// port. Generated by the Diagrams module: do not edit.",
            "digraph lifecycle {",
            "    rankdir=TB;",
            "    ordering=out;",
            "    node [shape=box, fontname=\"Helvetica\", fontsize=10];",
            "    edge [fontname=\"Helvetica\", fontsize=9];",
        ]
        var edges: [String] = []
        var number = 0
        var previousRoot: String?
        for (index, phase) in phases.enumerated() {
            lines.append("    subgraph cluster_\(index + 1) {")
            lines.append("        label=\(Dot.quote("\(index + 1). \(phase.name)"));")
            var open: [String: [(depth: Int, id: String)]] = [:]
            for entry in phase.entries {
                number += 1
                let id = "n\(number)"
                let label =
                    entry.call.function + (entry.repeated ? " (repeated)" : "")
                    + "\n[\(entry.call.thread)]"
                lines.append("        \(id) [label=\(Dot.quote(label))];")
                var stack = open[entry.call.thread] ?? []
                while let top = stack.last, top.depth >= entry.call.depth { stack.removeLast() }
                if let caller = stack.last {
                    edges.append("    \(caller.id) -> \(id);")
                } else {
                    if let previous = previousRoot {
                        edges.append("    \(previous) -> \(id) [style=dashed, label=\"then\"];")
                    }
                    previousRoot = id
                }
                stack.append((entry.call.depth, id))
                open[entry.call.thread] = stack
            }
            lines.append("    }")
        }
        lines += edges
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }
}
