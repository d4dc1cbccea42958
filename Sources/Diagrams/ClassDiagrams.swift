// The class diagrams: servers, handlers and mixins, each as ASCII (the notes' boxes),
// Mermaid classDiagram and Graphviz DOT.
//
// Every drawing is made from one `ClassGraph`, itself made from `ClassModel`'s Swift shapes;
// DiagramTests checks the graph against the real Swift types and each rendering against the
// graph, so no edge can be drawn that the code does not have.

/// The text formats a diagram can be printed in.
public enum DiagramFormat: String, Sendable, CaseIterable {
    /// Boxes and arrows in the notes' style.
    case ascii
    /// Mermaid: a `classDiagram` (classes) or a `sequenceDiagram` (lifecycle).
    case mermaid
    /// Graphviz DOT: a `digraph`.
    case dot

    /// The file extension used in `diagrams/`.
    public var fileExtension: String {
        switch self {
        case .ascii: "txt"
        case .mermaid: "mmd"
        case .dot: "dot"
        }
    }
}

/// The diagrams `socketserver-trace diagram` draws.
public enum DiagramKind: String, Sendable, CaseIterable {
    /// BaseServer → TCPServer → UDPServer, and the two Unix servers.
    case servers
    /// BaseRequestHandler → StreamRequestHandler, DatagramRequestHandler.
    case handlers
    /// The eight mixed servers: mixin + server, and what the mixin takes over.
    case mixins
    /// The three phases of a server's life, from a traced run (see `LifecyclePhase`).
    case lifecycle

    /// The kinds drawn from the class model alone (everything but `lifecycle`).
    public static let classKinds: [DiagramKind] = [.servers, .handlers, .mixins]
}

/// One edge of a class diagram: `child` is a subclass of, or conforms to, `parent`.
public struct ClassEdge: Sendable, Hashable {
    /// How the child relates to the parent in Swift.
    public enum Relation: String, Sendable {
        /// `class Child: Parent` (Python: `class Child(Parent)`).
        case subclass
        /// `class Child: Server, Parent` where Parent is a mixin protocol (Python: the
        /// mixin is the first base).
        case conforms
    }

    /// The subclass or conforming class.
    public let child: String
    /// The superclass or protocol.
    public let parent: String
    /// Subclass or conformance.
    public let relation: Relation

    /// Makes an edge.
    public init(child: String, parent: String, relation: Relation) {
        self.child = child
        self.parent = parent
        self.relation = relation
    }
}

/// The classes and edges one diagram draws.
public struct ClassGraph: Sendable, Hashable {
    /// Which diagram this is.
    public let kind: DiagramKind
    /// The classes drawn, in file order.
    public let classes: [String]
    /// The edges drawn, in file order of the child.
    public let edges: [ClassEdge]

    /// The graph of one class diagram (`lifecycle` has no class graph: it is empty).
    ///
    /// The edges are the Swift shapes of `ClassModel` (superclass and mixin protocol), which
    /// the tests compare with the real types; for these classes they are also exactly the
    /// Python bases, which the tests check too.
    public static func of(_ kind: DiagramKind) -> ClassGraph {
        let names: [String]
        switch kind {
        case .servers:
            // The five classes of the notes' drawing: the servers that mix nothing in.
            names = ClassModel.classes(ofKind: .server).filter { cls in
                !cls.bases.contains { ClassModel.pyClass(named: $0)?.kind == .mixin }
            }.map(\.name)
        case .handlers:
            names = ClassModel.classes(ofKind: .handler).map(\.name)
        case .mixins:
            let mixed = ClassModel.mixedServers
            let used = Set(mixed.flatMap { [$0.name, $0.mixin, $0.server] })
            names = ClassModel.classNames.filter(used.contains)
        case .lifecycle:
            names = []
        }
        let drawn = Set(names)
        var edges: [ClassEdge] = []
        for name in names {
            guard let swift = ClassModel.pyClass(named: name)?.swift else { continue }
            if let parent = swift.superclass, drawn.contains(parent),
                swift.declaration != .classProtocol
            {
                edges.append(ClassEdge(child: name, parent: parent, relation: .subclass))
            }
            for proto in swift.protocols where drawn.contains(proto) {
                edges.append(ClassEdge(child: name, parent: proto, relation: .conforms))
            }
        }
        return ClassGraph(kind: kind, classes: names, edges: edges)
    }

    /// The classes drawn as direct subclasses of `name`, in file order.
    public func children(of name: String) -> [String] {
        edges.filter { $0.parent == name && $0.relation == .subclass }.map(\.child)
    }
}

/// The text of a diagram in a format.
///
/// - Parameter lifecycle: the phases of a traced run, used only by `.lifecycle` (the class
///   diagrams ignore it).
public func renderDiagram(
    _ kind: DiagramKind, format: DiagramFormat, lifecycle: [LifecyclePhase] = []
) -> String {
    switch kind {
    case .lifecycle: return renderLifecycle(phases: lifecycle, format: format)
    case .servers, .handlers, .mixins: return ClassDiagrams.render(kind, format: format)
    }
}

/// The class diagram renderers.
enum ClassDiagrams {
    static func render(_ kind: DiagramKind, format: DiagramFormat) -> String {
        let graph = ClassGraph.of(kind)
        switch (kind, format) {
        case (.mixins, .ascii): return mixinsAscii(graph)
        case (_, .ascii): return treeAscii(graph)
        case (_, .mermaid): return mermaid(graph)
        case (_, .dot): return dot(graph)
        }
    }

    static let titles: [DiagramKind: String] = [
        .servers: "Server classes",
        .handlers: "RequestHandler classes",
        .mixins: "Mixed servers: mixin + server",
    ]

    // MARK: ASCII

    /// The notes' drawing of a tree, then a key naming each class's class statement line.
    static func treeAscii(_ graph: ClassGraph) -> String {
        let parents = Set(graph.edges.map(\.child))
        guard let root = graph.classes.first(where: { !parents.contains($0) }) else { return "" }
        var lines: [String]
        if let rows = AsciiDrawing.spineRows(root: root, children: graph.children(of:)) {
            lines = AsciiDrawing.drawSpine(rows)
        } else {
            // A tree the notes' layout cannot hold: one `base ---> subclass` row per edge,
            // less pretty but still every edge and nothing else.
            lines = graph.edges.enumerated().flatMap { index, edge in
                (index == 0 ? [] : [""])
                    + AsciiDrawing.drawSpine([.init(spine: edge.parent, right: edge.child)])
            }
        }
        lines.append("")
        let lineNumbers = graph.classes.compactMap { name in
            ClassModel.pyClass(named: name)?.line.map { "\(name) L\($0)" }
        }
        let key =
            "An arrow points from a base class to its subclass, in Python (the class statement)"
            + " and in Swift (the superclass of the port's class)."
            + (lineNumbers.isEmpty
                ? "" : " Lib/socketserver.py 3.13: " + lineNumbers.joined(separator: ", ") + ".")
        lines += AsciiDrawing.wrap(key, width: 92)
        return AsciiDrawing.text(lines)
    }

    /// A grid of mixin × server, then one box per mixed server listing what its mixin takes
    /// over (the versions that now run instead of the server's) and what it adds.
    static func mixinsAscii(_ graph: ClassGraph) -> String {
        // The mixed servers are the graph's: a conformance edge and a subclass edge each.
        let mixed: [(name: String, mixin: String, server: String)] = graph.edges.compactMap {
            edge in
            guard edge.relation == .conforms,
                let server = graph.edges.first(where: {
                    $0.child == edge.child && $0.relation == .subclass
                })?.parent
            else { return nil }
            return (edge.child, edge.parent, server)
        }
        let mixins = ClassModel.classes(ofKind: .mixin).map(\.name).reversed()  // Threading first
        let servers = graph.classes.filter { name in mixed.contains { $0.server == name } }
        let lineNumbers = mixed.compactMap { ClassModel.pyClass(named: $0.name)?.line }
        var lines = [
            "Mixin + server = mixed server (Lib/socketserver.py 3.13, lines"
                + " \(lineNumbers.min() ?? 0)-\(lineNumbers.max() ?? 0))",
            "",
        ]
        lines += AsciiDrawing.table(
            header: ["server"] + mixins.map { "+ \($0)" },
            rows: servers.map { server in
                [server]
                    + mixins.map { mixin in
                        mixed.first { $0.server == server && $0.mixin == mixin }?.name ?? ""
                    }
            })
        lines.append("")
        lines += AsciiDrawing.wrap(
            "In Swift each mixin is a protocol (protocol ThreadingMixIn: BaseServer); a mixed"
                + " server subclasses its server, conforms to the mixin and overrides what the"
                + " mixin takes over, so the same versions run as in Python's MRO:", width: 92)
        lines.append("")

        // Each row: section, member, the version that runs, the version it replaces.
        var boxes: [(title: String, rows: [[String]])] = []
        for entry in mixed {
            guard let mixin = ClassModel.pyClass(named: entry.mixin),
                let cls = ClassModel.pyClass(named: entry.name)
            else { continue }
            var takesOver: [[String]] = []
            var adds: [[String]] = []
            let members: [(label: String, line: Int, resolved: MemberResolution?)] =
                mixin.attributes.map {
                    (
                        "\($0.name) = \($0.value)", $0.line,
                        ClassModel.resolution(ofAttribute: $0.name, in: entry.name)
                    )
                }
                + mixin.methods.map {
                    (
                        "\($0.name)()", $0.line,
                        ClassModel.resolution(ofMethod: $0.name, in: entry.name)
                    )
                }
            for member in members.sorted(by: { $0.line < $1.line }) {
                guard let resolved = member.resolved else { continue }
                let runs = "\(resolved.definingClass) L\(resolved.line)"
                if let replaced = resolved.overrides.first {
                    takesOver.append([
                        member.label, runs, "instead of \(replaced.className) L\(replaced.line)",
                    ])
                } else {
                    adds.append([member.label, runs, ""])
                }
            }
            let rows =
                takesOver.enumerated().map { [$0.offset == 0 ? "takes over" : ""] + $0.element }
                + adds.enumerated().map { [$0.offset == 0 ? "adds" : ""] + $0.element }
            let title = "\(entry.name) = \(entry.mixin) + \(entry.server)  (L\(cls.line ?? 0))"
            boxes.append((title, rows))
        }
        // One column layout for all boxes, so that they line up.
        var widths = [0, 0, 0, 0]
        for box in boxes {
            for row in box.rows {
                for (index, cell) in row.enumerated() {
                    widths[index] = max(widths[index], cell.count)
                }
            }
        }
        let inner = max(
            widths.reduce(0, +) + 2 * (widths.count - 1), boxes.map(\.title.count).max() ?? 0)
        for (index, box) in boxes.enumerated() {
            if index > 0 { lines.append("") }
            let body = box.rows.map { row in
                zip(row, widths).map { AsciiDrawing.pad($0, $1) }.joined(separator: "  ")
            }
            lines += AsciiDrawing.box(title: box.title, body: body, width: inner + 4)
        }
        return AsciiDrawing.text(lines)
    }

    // MARK: Mermaid

    /// A Mermaid `classDiagram`: one class block per class (its Python attributes and
    /// methods), `Parent <|-- Child` for a subclass and `Mixin <|.. Child` for a conformance.
    static func mermaid(_ graph: ClassGraph) -> String {
        var lines = [
            "classDiagram",
            "    %% \(titles[graph.kind] ?? graph.kind.rawValue) of Lib/socketserver.py (CPython 3.13)",
            "    %% as the Swift port declares them. Generated by the Diagrams module: do not edit.",
        ]
        let detailed = graph.kind != .mixins
        // A class diagram renders members as Markdown: dunders are escaped too.
        func escaped(_ text: String) -> String { Mermaid.escape(text, dunders: true) }
        for name in graph.classes {
            guard let cls = ClassModel.pyClass(named: name) else { continue }
            var members: [String] = []
            if cls.kind == .mixin { members.append("<<protocol>>") }
            if detailed || cls.kind == .mixin {
                members += cls.attributes.map { "+\(escaped($0.name)) = \(escaped($0.value))" }
                members += cls.methods.map { "+\(escaped($0.name))()" }
            }
            if members.isEmpty {
                lines.append("    class \(name)")
            } else {
                lines.append("    class \(name) {")
                lines += members.map { "        " + $0 }
                lines.append("    }")
            }
        }
        for edge in graph.edges {
            switch edge.relation {
            case .subclass: lines.append("    \(edge.parent) <|-- \(edge.child)")
            case .conforms: lines.append("    \(edge.parent) <|.. \(edge.child) : mixin")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: DOT

    /// A Graphviz `digraph`, base classes on top (`rankdir=BT`), each edge from the child to
    /// its parent with UML's hollow arrowhead: solid for a subclass, dashed for a conformance.
    static func dot(_ graph: ClassGraph) -> String {
        var lines = [
            "// \(titles[graph.kind] ?? graph.kind.rawValue) of Lib/socketserver.py (CPython 3.13)",
            "// as the Swift port declares them. Generated by the Diagrams module: do not edit.",
            "digraph \(graph.kind.rawValue) {",
            "    rankdir=BT;",
            "    node [shape=record, fontname=\"Helvetica\", fontsize=10];",
            "    edge [arrowhead=empty, fontname=\"Helvetica\", fontsize=9];",
        ]
        let detailed = graph.kind != .mixins
        for name in graph.classes {
            guard let cls = ClassModel.pyClass(named: name) else { continue }
            var fields = [
                (cls.kind == .mixin ? "\\<\\<protocol\\>\\>\\n" : "")
                    + "\(name)\\nL\(cls.line ?? 0)"
            ]
            if detailed || cls.kind == .mixin {
                let attributes = cls.attributes.map {
                    Dot.recordEscape("\($0.name) = \($0.value)") + "\\l"
                }
                let methods = cls.methods.map { Dot.recordEscape("\($0.name)()") + "\\l" }
                if !attributes.isEmpty { fields.append(attributes.joined()) }
                if !methods.isEmpty { fields.append(methods.joined()) }
            }
            lines.append("    \(name) [label=\"{\(fields.joined(separator: "|"))}\"];")
        }
        for edge in graph.edges {
            switch edge.relation {
            case .subclass:
                lines.append("    \(edge.child) -> \(edge.parent) [label=\"subclass\"];")
            case .conforms:
                lines.append(
                    "    \(edge.child) -> \(edge.parent) [label=\"conforms\", style=dashed];")
            }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }
}
