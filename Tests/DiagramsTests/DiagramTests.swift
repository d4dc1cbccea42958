// Tests of the class diagrams, the `mro` report and the lifecycle drawing.
//
// A diagram must not lie: the model is checked against CPython 3.13 (class statements, line
// numbers, MROs, which version of each method runs) and against the real Swift types (every
// superclass and mixin conformance), and every rendering is parsed back into edges that must
// be exactly the model's. The layout and the syntax of each format are checked too, and the
// committed files of diagrams/ must be what the code generates.
import Foundation
import SocketServer
import Sockets
import TestSupport
import Testing

@testable import Diagrams

// MARK: - Expectations taken from CPython 3.13.0

/// The classes of socketserver.py in file order, as CPython 3.13 lists them (section 1 of
/// the inventory; on Linux every guard holds).
private let cpythonClasses = """
    BaseServer TCPServer UDPServer ForkingMixIn _Threads _NoThreads ThreadingMixIn \
    ForkingUDPServer ForkingTCPServer ThreadingUDPServer ThreadingTCPServer UnixStreamServer \
    UnixDatagramServer ThreadingUnixStreamServer ThreadingUnixDatagramServer \
    ForkingUnixStreamServer ForkingUnixDatagramServer BaseRequestHandler StreamRequestHandler \
    _SocketWriter DatagramRequestHandler
    """.split(separator: " ").map(String.init)

/// `[c.__name__ for c in cls.__mro__]` for every class, printed by CPython 3.13.0.
private let cpythonMRO: [String: [String]] = Dictionary(
    uniqueKeysWithValues: """
        BaseServer object
        TCPServer BaseServer object
        UDPServer TCPServer BaseServer object
        ForkingMixIn object
        _Threads list object
        _NoThreads object
        ThreadingMixIn object
        ForkingUDPServer ForkingMixIn UDPServer TCPServer BaseServer object
        ForkingTCPServer ForkingMixIn TCPServer BaseServer object
        ThreadingUDPServer ThreadingMixIn UDPServer TCPServer BaseServer object
        ThreadingTCPServer ThreadingMixIn TCPServer BaseServer object
        UnixStreamServer TCPServer BaseServer object
        UnixDatagramServer UDPServer TCPServer BaseServer object
        ThreadingUnixStreamServer ThreadingMixIn UnixStreamServer TCPServer BaseServer object
        ThreadingUnixDatagramServer ThreadingMixIn UnixDatagramServer UDPServer TCPServer BaseServer object
        ForkingUnixStreamServer ForkingMixIn UnixStreamServer TCPServer BaseServer object
        ForkingUnixDatagramServer ForkingMixIn UnixDatagramServer UDPServer TCPServer BaseServer object
        BaseRequestHandler object
        StreamRequestHandler BaseRequestHandler object
        _SocketWriter BufferedIOBase _BufferedIOBase IOBase _IOBase object
        DatagramRequestHandler BaseRequestHandler object
        """.split(separator: "\n").map { line in
            let names = line.split(separator: " ").map(String.init)
            return (names[0], names)
        })

/// Every class, `def` and class attribute of Lib/socketserver.py 3.13.0 with its lines,
/// printed by walking `ast.parse` of the file (class and def: first and last line;
/// attribute: `= value` and its line).
private let cpythonDefinitions = """
    BaseServer 155 389
    BaseServer.timeout = None 201
    BaseServer.__init__ 203 208
    BaseServer.server_activate 210 216
    BaseServer.serve_forever 218 245
    BaseServer.shutdown 247 255
    BaseServer.service_actions 257 263
    BaseServer.handle_request 276 303
    BaseServer._handle_request_noblock 305 326
    BaseServer.handle_timeout 328 333
    BaseServer.verify_request 335 341
    BaseServer.process_request 343 350
    BaseServer.server_close 352 358
    BaseServer.finish_request 360 362
    BaseServer.shutdown_request 364 366
    BaseServer.close_request 368 370
    BaseServer.handle_error 372 383
    BaseServer.__enter__ 385 386
    BaseServer.__exit__ 388 389
    TCPServer 392 520
    TCPServer.address_family = socket.AF_INET 440
    TCPServer.socket_type = socket.SOCK_STREAM 442
    TCPServer.request_queue_size = 5 444
    TCPServer.allow_reuse_address = False 446
    TCPServer.allow_reuse_port = False 448
    TCPServer.__init__ 450 461
    TCPServer.server_bind 463 474
    TCPServer.server_activate 476 482
    TCPServer.server_close 484 490
    TCPServer.fileno 492 498
    TCPServer.get_request 500 506
    TCPServer.shutdown_request 508 516
    TCPServer.close_request 518 520
    UDPServer 523 549
    UDPServer.allow_reuse_address = False 527
    UDPServer.allow_reuse_port = False 529
    UDPServer.socket_type = socket.SOCK_DGRAM 531
    UDPServer.max_packet_size = 8192 533
    UDPServer.get_request 535 537
    UDPServer.server_activate 539 541
    UDPServer.shutdown_request 543 545
    UDPServer.close_request 547 549
    ForkingMixIn 552 637
    ForkingMixIn.timeout = 300 555
    ForkingMixIn.active_children = None 556
    ForkingMixIn.max_children = 40 557
    ForkingMixIn.block_on_close = True 559
    ForkingMixIn.collect_children 561 594
    ForkingMixIn.handle_timeout 596 601
    ForkingMixIn.service_actions 603 608
    ForkingMixIn.process_request 610 633
    ForkingMixIn.server_close 635 637
    _Threads 640 659
    _Threads.append 644 648
    _Threads.pop_all 650 652
    _Threads.join 654 656
    _Threads.reap 658 659
    _NoThreads 662 670
    _NoThreads.append 666 667
    _NoThreads.join 669 670
    ThreadingMixIn 673 710
    ThreadingMixIn.daemon_threads = False 678
    ThreadingMixIn.block_on_close = True 680
    ThreadingMixIn._threads = _NoThreads() 683
    ThreadingMixIn.process_request_thread 685 696
    ThreadingMixIn.process_request 698 706
    ThreadingMixIn.server_close 708 710
    ForkingUDPServer 714 714
    ForkingTCPServer 715 715
    ThreadingUDPServer 717 717
    ThreadingTCPServer 718 718
    UnixStreamServer 722 723
    UnixStreamServer.address_family = socket.AF_UNIX 723
    UnixDatagramServer 725 726
    UnixDatagramServer.address_family = socket.AF_UNIX 726
    ThreadingUnixStreamServer 728 728
    ThreadingUnixDatagramServer 730 730
    ForkingUnixStreamServer 733 733
    ForkingUnixDatagramServer 735 735
    BaseRequestHandler 737 772
    BaseRequestHandler.__init__ 755 763
    BaseRequestHandler.setup 765 766
    BaseRequestHandler.handle 768 769
    BaseRequestHandler.finish 771 772
    StreamRequestHandler 783 826
    StreamRequestHandler.rbufsize = -1 794
    StreamRequestHandler.wbufsize = 0 795
    StreamRequestHandler.timeout = None 798
    StreamRequestHandler.disable_nagle_algorithm = False 802
    StreamRequestHandler.setup 804 815
    StreamRequestHandler.finish 817 826
    _SocketWriter 828 845
    _SocketWriter.__init__ 833 834
    _SocketWriter.writable 836 837
    _SocketWriter.write 839 842
    _SocketWriter.fileno 844 845
    DatagramRequestHandler 847 858
    DatagramRequestHandler.setup 851 855
    DatagramRequestHandler.finish 857 858
    """

/// For every class and every name some socketserver class of its MRO defines: the class
/// whose `__dict__` holds it first in `__mro__`, printed by CPython 3.13.0 (ABC machinery
/// such as `_abc_impl` left out). Golden/cpython-resolution.txt holds it, a class a line;
/// a line that starts with spaces goes on with the class above.
private func cpythonResolution() throws -> [String] {
    var classes: [String] = []
    for line in try #require(goldenText("cpython-resolution.txt")).split(separator: "\n") {
        if line.hasPrefix(" "), !classes.isEmpty {
            classes[classes.count - 1] += " " + line.drop { $0 == " " }
        } else {
            classes.append(String(line))
        }
    }
    return classes
}

// MARK: - The model against CPython

@Suite("Class model against CPython 3.13")
struct ClassModelTests {
    @Test func modelListsEveryClassOfSocketserverInFileOrder() {
        #expect(ClassModel.classNames == cpythonClasses)
    }

    @Test func classStatementsMethodsAndAttributesMatchTheSource() {
        var expected: [String] = []
        for cls in ClassModel.classes {
            expected.append("\(cls.name) \(cls.line ?? 0) \(cls.endLine ?? 0)")
            // ast order: the body's statements in line order.
            var members: [(Int, String)] = cls.methods.map {
                ($0.line, "\(cls.name).\($0.name) \($0.line) \($0.lines.upperBound)")
            }
            members += cls.attributes.map {
                ($0.line, "\(cls.name).\($0.name) = \($0.value) \($0.line)")
            }
            expected += members.sorted { $0.0 < $1.0 }.map(\.1)
        }
        let source = cpythonDefinitions.split(separator: "\n").map(String.init)
        #expect(expected == source)
    }

    @Test(arguments: cpythonClasses)
    func mroIsCPythons(_ name: String) {
        #expect(ClassModel.mro(of: name) == cpythonMRO[name])
    }

    @Test func c3GivesTheTextbookOrderAndRejectsAnInconsistentOne() {
        // The example of "The Python 2.3 Method MemberResolution Order" (Simionato).
        let bases: [String: [String]] = [
            "O": [], "F": ["O"], "E": ["O"], "D": ["O"], "C": ["D", "F"], "B": ["D", "E"],
            "A": ["B", "C"],
        ]
        #expect(
            ClassModel.c3Linearization(of: "A") { bases[$0] ?? [] }
                == ["A", "B", "C", "D", "E", "F", "O"])
        let crossed: [String: [String]] = [
            "O": [], "X": ["O"], "Y": ["O"], "A": ["X", "Y"], "B": ["Y", "X"], "Z": ["A", "B"],
        ]
        #expect(ClassModel.c3Linearization(of: "Z") { crossed[$0] ?? [] } == nil)
        #expect(ClassModel.mro(of: "NoSuchServer") == nil)
    }

    @Test func everyResolutionIsCPythons() throws {
        var actual: [String] = []
        for cls in ClassModel.classes {
            let names =
                ClassModel.overridableMethods(of: cls.name)
                + ClassModel.classAttributes(of: cls.name)
            let text = names.map { "\($0.name)=\($0.definingClass)" }.sorted()
            actual.append("\(cls.name) " + text.joined(separator: " "))
        }
        let expected = try cpythonResolution().map { line in
            let words = line.split(separator: " ").map(String.init)
            return ([words[0]] + words.dropFirst().sorted()).joined(separator: " ")
        }
        #expect(actual == expected)
    }

    @Test func resolveNamesTheClassWhoseVersionRuns() {
        #expect(
            ClassModel.resolve(method: "process_request", in: "ThreadingTCPServer")
                == "ThreadingMixIn")
        #expect(ClassModel.resolve(method: "get_request", in: "ThreadingTCPServer") == "TCPServer")
        #expect(
            ClassModel.resolve(method: "get_request", in: "ForkingUnixDatagramServer")
                == "UDPServer")
        #expect(
            ClassModel.resolve(method: "service_actions", in: "ForkingTCPServer") == "ForkingMixIn")
        #expect(ClassModel.resolve(method: "server_close", in: "UnixStreamServer") == "TCPServer")
        #expect(
            ClassModel.resolve(method: "handle", in: "StreamRequestHandler") == "BaseRequestHandler"
        )
        #expect(ClassModel.resolve(attribute: "timeout", in: "ForkingTCPServer") == "ForkingMixIn")
        #expect(ClassModel.resolve(method: "no_such_method", in: "TCPServer") == nil)
        #expect(ClassModel.resolve(method: "handle", in: "NoSuchClass") == nil)
        let resolution = ClassModel.resolution(ofMethod: "server_close", in: "ThreadingTCPServer")
        #expect(resolution?.line == 708)
        #expect(resolution?.overrides.map(\.className) == ["TCPServer", "BaseServer"])
    }

    @Test func swiftShapesFollowThePythonBases() {
        for cls in ClassModel.classes {
            guard let swift = cls.swift else {
                Issue.record("\(cls.name) has no Swift shape")
                continue
            }
            let mixins = cls.bases.filter { ClassModel.pyClass(named: $0)?.kind == .mixin }
            let others = cls.bases.filter { !mixins.contains($0) }
            #expect(
                swift.protocols.filter { ClassModel.pyClass(named: $0) != nil } == mixins,
                "\(cls.name)")
            switch cls.kind {
            case .mixin:
                #expect(swift.declaration == .classProtocol && swift.superclass == "BaseServer")
            case .helper where cls.name != "_SocketWriter":
                // _Threads(list) and _NoThreads: Python's list is no Swift superclass.
                #expect(swift.declaration == .finalClass && swift.superclass == nil)
            default:
                #expect(swift.superclass.map { [$0] } ?? [] == others, "\(cls.name)")
            }
        }
    }

    @Test func mixedServersAreMixinPlusServer() {
        let mixed = ClassModel.mixedServers
        // socketserver.py mixes 8 classes (the inventory's 10 concrete classes include the two
        // Unix servers, which mix nothing in and are drawn with the servers).
        #expect(mixed.count == 8)
        #expect(
            mixed.contains {
                $0 == ("ThreadingTCPServer", "ThreadingMixIn", "TCPServer")
            })
        for entry in mixed {
            #expect(
                entry.name == entry.mixin.replacingOccurrences(of: "MixIn", with: "")
                    + entry.server)
        }
    }
}

// MARK: - The model against the real Swift types

/// Every class the port declares for a class of socketserver.py, by its Python name.
private let realTypes: [(name: String, type: AnyClass)] = [
    ("BaseServer", BaseServer.self), ("TCPServer", TCPServer.self),
    ("UDPServer", UDPServer.self), ("_Threads", _Threads.self),
    ("_NoThreads", _NoThreads.self), ("ForkingUDPServer", ForkingUDPServer.self),
    ("ForkingTCPServer", ForkingTCPServer.self), ("ThreadingUDPServer", ThreadingUDPServer.self),
    ("ThreadingTCPServer", ThreadingTCPServer.self), ("UnixStreamServer", UnixStreamServer.self),
    ("UnixDatagramServer", UnixDatagramServer.self),
    ("ThreadingUnixStreamServer", ThreadingUnixStreamServer.self),
    ("ThreadingUnixDatagramServer", ThreadingUnixDatagramServer.self),
    ("ForkingUnixStreamServer", ForkingUnixStreamServer.self),
    ("ForkingUnixDatagramServer", ForkingUnixDatagramServer.self),
    ("BaseRequestHandler", BaseRequestHandler.self),
    ("StreamRequestHandler", StreamRequestHandler.self), ("_SocketWriter", _SocketWriter.self),
    ("DatagramRequestHandler", DatagramRequestHandler.self),
    ("BufferedIOBase", BufferedIOBase.self), ("IOBase", IOBase.self),
]

/// The protocols the model names, as runtime conformance checks.
private let realProtocols: [String: @Sendable (AnyClass) -> Bool] = [
    "ThreadingMixIn": { $0 is any ThreadingMixIn.Type },
    "ForkingMixIn": { $0 is any ForkingMixIn.Type },
    "FileDescriptorConvertible": { $0 is any FileDescriptorConvertible.Type },
    "ContextManager": { $0 is any ContextManager.Type },
    "_ThreadList": { $0 is any _ThreadList.Type },
]

// The mixins are class-bound to BaseServer (`protocol ThreadingMixIn: BaseServer`), as the
// model says: these only compile if they are.
private func threadingMixInIsABaseServer(_ server: any ThreadingMixIn) -> BaseServer { server }
private func forkingMixInIsABaseServer(_ server: any ForkingMixIn) -> BaseServer { server }

private func realType(_ name: String) -> AnyClass? {
    realTypes.first { $0.name == name }?.type
}

@Suite("Class model against the real Swift types")
struct RealTypeTests {
    @Test func everyClassOfThePortIsInTheModelAndBack() {
        let modelled = ClassModel.classes.filter { $0.kind != .mixin }.map(\.name)
        let real = realTypes.map(\.name).filter { ClassModel.pyClass(named: $0)?.kind != .builtin }
        #expect(Set(real) == Set(modelled))
        for entry in realTypes {
            // The Swift class carries the Python name.
            #expect(String(describing: entry.type) == entry.name)
        }
        let named = Set(
            (ClassModel.classes + ClassModel.builtins).flatMap { $0.swift?.protocols ?? [] })
        #expect(
            Set(realProtocols.keys) == named.union(ClassModel.classes(ofKind: .mixin).map(\.name)))
    }

    @Test func everySwiftSuperclassIsTheRealOne() {
        for entry in realTypes {
            let superclass = _getSuperclass(entry.type).map(ObjectIdentifier.init)
            let modelled = ClassModel.pyClass(named: entry.name)?.swift?.superclass
            #expect(
                superclass == modelled.flatMap(realType).map(ObjectIdentifier.init),
                "\(entry.name): superclass \(modelled ?? "none") in the model")
        }
    }

    @Test func everyMixinConformanceIsRealAndNoOtherIs() {
        for entry in realTypes {
            let modelled = Set(ClassModel.swiftProtocols(of: entry.name))
            for (proto, conforms) in realProtocols {
                #expect(
                    conforms(entry.type) == modelled.contains(proto),
                    "\(entry.name) conforming to \(proto)")
            }
        }
    }

    @Test(arguments: DiagramKind.classKinds)
    func everyEdgeDrawnIsARealRelation(_ kind: DiagramKind) {
        for edge in ClassGraph.of(kind).edges {
            guard let child = realType(edge.child) else {
                Issue.record("\(edge.child) is no Swift class of the port")
                continue
            }
            switch edge.relation {
            case .subclass:
                let parent = realType(edge.parent).map(ObjectIdentifier.init)
                #expect(
                    _getSuperclass(child).map(ObjectIdentifier.init) == parent,
                    "\(edge.child) → \(edge.parent)")
            case .conforms:
                #expect(
                    realProtocols[edge.parent]?(child) == true, "\(edge.child) ⇢ \(edge.parent)")
            }
        }
    }
}

// MARK: - What the diagrams draw

@Suite("Class graphs")
struct ClassGraphTests {
    @Test func everyServerAndHandlerClassIsDrawn() {
        let servers = Set(ClassGraph.of(.servers).classes + ClassGraph.of(.mixins).classes)
        for cls in ClassModel.classes(ofKind: .server) + ClassModel.classes(ofKind: .mixin) {
            #expect(servers.contains(cls.name), "\(cls.name) is in no server diagram")
        }
        #expect(
            ClassGraph.of(.handlers).classes == ClassModel.classes(ofKind: .handler).map(\.name))
        #expect(
            ClassGraph.of(.servers).classes
                == [
                    "BaseServer", "TCPServer", "UDPServer", "UnixStreamServer",
                    "UnixDatagramServer",
                ])
    }

    @Test func theIssuesEdgesAreDrawn() {
        let servers = Set(ClassGraph.of(.servers).edges.map { "\($0.parent) → \($0.child)" })
        #expect(
            servers == [
                "BaseServer → TCPServer", "TCPServer → UDPServer", "TCPServer → UnixStreamServer",
                "UDPServer → UnixDatagramServer",
            ])
        let handlers = Set(ClassGraph.of(.handlers).edges.map { "\($0.parent) → \($0.child)" })
        #expect(
            handlers == [
                "BaseRequestHandler → StreamRequestHandler",
                "BaseRequestHandler → DatagramRequestHandler",
            ])
        let mixins = ClassGraph.of(.mixins).edges
        #expect(mixins.filter { $0.relation == .conforms }.count == 8)
        #expect(
            mixins.contains(
                ClassEdge(
                    child: "ThreadingTCPServer", parent: "ThreadingMixIn", relation: .conforms)))
        #expect(
            mixins.contains(
                ClassEdge(child: "ThreadingTCPServer", parent: "TCPServer", relation: .subclass)))
    }

    @Test(arguments: DiagramKind.classKinds)
    func everyEdgeIsAPythonBase(_ kind: DiagramKind) {
        for edge in ClassGraph.of(kind).edges {
            #expect(ClassModel.pyClass(named: edge.child)?.bases.contains(edge.parent) == true)
        }
    }
}

// MARK: - ASCII

/// The notes' two drawings (socketserver-notes.zh.txt), trailing spaces removed.
private let notesServers = """
            +------------+
            | BaseServer |
            +------------+
                  |
                  v
            +-----------+        +------------------+
            | TCPServer |------->| UnixStreamServer |
            +-----------+        +------------------+
                  |
                  v
            +-----------+        +--------------------+
            | UDPServer |------->| UnixDatagramServer |
            +-----------+        +--------------------+
    """

private let notesHandlers = """
              +--------------------+        +----------------------+
              | BaseRequestHandler |------->| StreamRequestHandler |
              +--------------------+        +----------------------+
                        |
                        v
            +------------------------+
            | DatagramRequestHandler |
            +------------------------+
    """

/// A box (or a table) found in an ascii drawing.
private struct FoundBox {
    var top: Int
    var bottom: Int
    var left: Int
    var right: Int
    /// The text of its first content line.
    var name: String
}

/// What an ascii drawing is made of, read back from the text alone.
private struct AsciiReading {
    var boxes: [FoundBox] = []
    /// Arrows as (from, to) box names.
    var arrows: [(from: String, to: String)] = []
    /// Everything that is not a well-formed box or a connected arrow.
    var problems: [String] = []
}

/// Reads an ascii drawing: every `+--+` border must open or close a box whose content lines
/// have `|` under each `+`; every `--->` must run from a box's right side to a box's left
/// side; every lone `|` over a `v` must run from a box's bottom to the next box's top; and
/// no `|` or `+` may stand anywhere else.
private func readAscii(_ text: String) -> AsciiReading {
    let grid = text.split(separator: "\n", omittingEmptySubsequences: false).map(Array.init)
    func at(_ row: Int, _ column: Int) -> Character {
        guard row >= 0, row < grid.count, column >= 0, column < grid[row].count else { return " " }
        return grid[row][column]
    }
    var reading = AsciiReading()
    var covered = Set<[Int]>()

    // Border segments: `+` (`-`+ `+`)+ runs.
    struct Segment: Hashable {
        var row: Int
        var left: Int
        var right: Int
        var pluses: [Int]
    }
    var segments: [Segment] = []
    for (row, line) in grid.enumerated() {
        var column = 0
        while column < line.count {
            guard line[column] == "+", at(row, column + 1) == "-" else {
                column += 1
                continue
            }
            var end = column
            var pluses = [column]
            while "+-".contains(at(row, end + 1)) {
                end += 1
                if line[end] == "+" { pluses.append(end) }
            }
            if line[end] != "+" {
                reading.problems.append("line \(row + 1): border ends in '-' at column \(end)")
            }
            segments.append(Segment(row: row, left: column, right: end, pluses: pluses))
            for c in column...end { covered.insert([row, c]) }
            column = end + 1
        }
    }
    // A `+` in running text ("ThreadingMixIn + TCPServer") is no corner: only one touching a
    // `-` or a `|` must belong to a border.
    for (row, line) in grid.enumerated() {
        for (column, character) in line.enumerated() where character == "+" {
            let touches =
                at(row, column - 1) == "-" || at(row, column + 1) == "-"
                || at(row - 1, column) == "|"
                || at(row + 1, column) == "|"
            if touches && !covered.contains([row, column]) {
                reading.problems.append("line \(row + 1): stray '+' at column \(column)")
            }
        }
    }

    // Sections: an opening border, content lines, a closing border of the same extent.
    var closers = Set<Segment>()
    var openers = Set<Segment>()
    var sections: [FoundBox] = []
    for segment in segments
    where at(segment.row + 1, segment.left) == "|" && at(segment.row + 1, segment.right) == "|" {
        openers.insert(segment)
        var row = segment.row + 1
        var closed: Segment?
        while row < grid.count {
            if let closer = segments.first(where: {
                $0.row == row && $0.left == segment.left && $0.right == segment.right
            }) {
                closed = closer
                break
            }
            for column in segment.pluses {
                if at(row, column) != "|" {
                    reading.problems.append(
                        "line \(row + 1): expected '|' at column \(column) under the border of line \(segment.row + 1)"
                    )
                }
                covered.insert([row, column])
            }
            row += 1
        }
        guard let closer = closed else {
            reading.problems.append(
                "line \(segment.row + 1): box at column \(segment.left) never closes")
            continue
        }
        if closer.pluses != segment.pluses {
            reading.problems.append(
                "line \(closer.row + 1): closing border's corners differ from line \(segment.row + 1)"
            )
        }
        closers.insert(closer)
        let first =
            segment.row + 1 < closer.row
            ? String(grid[segment.row + 1][(segment.left + 1)..<segment.right]).trimmingCharacters(
                in: .whitespaces)
            : ""
        sections.append(
            FoundBox(
                top: segment.row, bottom: closer.row, left: segment.left, right: segment.right,
                name: first))
    }
    for segment in segments where !openers.contains(segment) && !closers.contains(segment) {
        reading.problems.append(
            "line \(segment.row + 1): border at column \(segment.left) belongs to no box")
    }
    // A box is a run of sections stacked on shared borders (a title over a body).
    for section in sections.sorted(by: { $0.top < $1.top }) {
        if let index = reading.boxes.firstIndex(where: {
            $0.bottom == section.top && $0.left == section.left && $0.right == section.right
        }) {
            reading.boxes[index].bottom = section.bottom
        } else {
            reading.boxes.append(section)
        }
    }
    func box(containingRow row: Int, side column: Int, leftSide: Bool) -> FoundBox? {
        reading.boxes.first {
            $0.top < row && row < $0.bottom && (leftSide ? $0.left : $0.right) == column
        }
    }
    func inside(_ row: Int, _ column: Int) -> Bool {
        reading.boxes.contains {
            $0.top <= row && row <= $0.bottom && $0.left <= column && column <= $0.right
        }
    }

    /// An arrow found at `row` and `column` joins `from` to `to`; without a box at either end,
    /// it is a problem.
    func addArrow(_ kind: String, row: Int, column: Int, from: FoundBox?, to: FoundBox?) {
        if let from, let to {
            reading.arrows.append((from.name, to.name))
        } else {
            reading.problems.append("line \(row + 1): \(kind) at column \(column) does not join two boxes")
        }
    }

    // Horizontal arrows: `-` up to a `>`.
    for (row, line) in grid.enumerated() {
        for (column, character) in line.enumerated() where character == ">" && !inside(row, column)
        {
            var start = column
            while at(row, start - 1) == "-" { start -= 1 }
            let shaft = start < column
            addArrow(
                "arrow", row: row, column: column,
                from: shaft ? box(containingRow: row, side: start - 1, leftSide: false) : nil,
                to: box(containingRow: row, side: column + 1, leftSide: true))
        }
    }
    // Vertical arrows: a lone `|`, then a lone `v` under it.
    for (row, line) in grid.enumerated() {
        let marks = line.enumerated().filter { $0.element != " " }
        guard marks.count == 1, marks[0].element == "|", !inside(row, marks[0].offset) else {
            continue
        }
        let column = marks[0].offset
        covered.insert([row, column])
        let below =
            row + 1 < grid.count ? grid[row + 1].enumerated().filter { $0.element != " " } : []
        let head = below.count == 1 && below[0].element == "v" && below[0].offset == column
        addArrow(
            "vertical arrow", row: row, column: column,
            from: head ? reading.boxes.first { $0.bottom == row - 1 && $0.left < column && column < $0.right } : nil,
            to: reading.boxes.first { $0.top == row + 2 && $0.left < column && column < $0.right })
    }
    for (row, line) in grid.enumerated() {
        for (column, character) in line.enumerated()
        where character == "|" && !covered.contains([row, column]) {
            reading.problems.append("line \(row + 1): stray '|' at column \(column)")
        }
    }
    return reading
}

/// Every ascii text the module prints: class diagrams, lifecycle, every `mro` report.
private func allAsciiOutputs() -> [(name: String, text: String)] {
    DiagramKind.classKinds.map { ("\($0.rawValue).txt", renderDiagram($0, format: .ascii)) }
        + [("lifecycle.txt", renderLifecycle(phases: sampleLifecycle(), format: .ascii))]
        + ClassModel.classNames.map { ("mro \($0)", mroReport($0) ?? "") }
}

@Suite("ASCII diagrams")
struct AsciiDiagramTests {
    @Test func serversIsTheNotesDrawing() {
        let drawing = renderDiagram(.servers, format: .ascii).split(
            separator: "\n", omittingEmptySubsequences: false)
        #expect(drawing.prefix(13).joined(separator: "\n") == notesServers)
    }

    @Test func handlersIsTheNotesDrawing() {
        let drawing = renderDiagram(.handlers, format: .ascii).split(
            separator: "\n", omittingEmptySubsequences: false)
        #expect(drawing.prefix(8).joined(separator: "\n") == notesHandlers)
    }

    @Test func theReaderReadsTheNotesOwnDrawings() {
        // The checker itself must accept the drawings it is meant to recognise.
        for drawing in [notesServers, notesHandlers] {
            let reading = readAscii(drawing)
            #expect(reading.problems.isEmpty, "\(reading.problems)")
        }
        #expect(readAscii(notesServers).arrows.count == 4)
        #expect(readAscii(notesHandlers).arrows.count == 2)
    }

    @Test func theReaderCatchesBrokenDrawings() {
        let misaligned = notesServers.replacingOccurrences(
            of: "| BaseServer |", with: "| BaseServer  |")
        #expect(!readAscii(misaligned).problems.isEmpty)
        let dangling = notesServers.replacingOccurrences(
            of: "|------->| UnixStream", with: "|-------> UnixStream")
        #expect(!readAscii(dangling).problems.isEmpty)
        let gap = notesServers.replacingOccurrences(
            of: "+-----------+        +--------------------+",
            with: "+-----------+        +-------------------+")
        #expect(!readAscii(gap).problems.isEmpty)
    }

    @Test(arguments: allAsciiOutputs().map(\.name))
    func boxesLineUpAndArrowsConnect(_ name: String) {
        let text = allAsciiOutputs().first { $0.name == name }!.text
        let reading = readAscii(text)
        #expect(reading.problems.isEmpty, "\(name): \(reading.problems)")
    }

    @Test(arguments: allAsciiOutputs().map(\.name))
    func noLineIsLongerThan100Columns(_ name: String) {
        let text = allAsciiOutputs().first { $0.name == name }!.text
        for line in text.split(separator: "\n") {
            #expect(line.count <= 100, "\(name): \(line)")
            #expect(line.last != " ", "\(name): trailing space")
        }
        #expect(text.hasSuffix("\n") && !text.hasSuffix("\n\n"))
    }

    @Test func aTreeTheNotesLayoutCannotHoldIsDrawnEdgeByEdge() {
        // A class with two subclasses that have subclasses of their own.
        let edges = [("A", "B"), ("A", "C"), ("B", "D"), ("C", "E")].map {
            ClassEdge(child: $0.1, parent: $0.0, relation: .subclass)
        }
        let graph = ClassGraph(kind: .servers, classes: ["A", "B", "C", "D", "E"], edges: edges)
        #expect(AsciiDrawing.spineRows(root: "A", children: graph.children(of:)) == nil)
        let reading = readAscii(ClassDiagrams.treeAscii(graph))
        #expect(reading.problems.isEmpty, "\(reading.problems)")
        #expect(
            Set(reading.arrows.map { "\($0.from) → \($0.to)" })
                == Set(edges.map { "\($0.parent) → \($0.child)" }))
    }

    @Test(arguments: [DiagramKind.servers, .handlers])
    func theArrowsDrawnAreTheModelsEdges(_ kind: DiagramKind) {
        let reading = readAscii(renderDiagram(kind, format: .ascii))
        let drawn = Set(reading.arrows.map { "\($0.from) → \($0.to)" })
        let graph = ClassGraph.of(kind)
        #expect(drawn == Set(graph.edges.map { "\($0.parent) → \($0.child)" }))
        #expect(Set(reading.boxes.map(\.name)) == Set(graph.classes))
    }

    @Test func mixinsShowEachMixedServerAndWhatItsMixinTakesOver() throws {
        let text = renderDiagram(.mixins, format: .ascii)
        let reading = readAscii(text)
        for entry in ClassModel.mixedServers {
            let title = "\(entry.name) = \(entry.mixin) + \(entry.server)"
            guard let box = reading.boxes.first(where: { $0.name.hasPrefix(title) }) else {
                Issue.record("no box for \(title)")
                continue
            }
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)[
                box.top...box.bottom]
            let body = lines.joined(separator: "\n")
            for method in ["process_request()", "server_close()"] {
                #expect(body.contains(method), "\(entry.name): \(method)")
            }
            if entry.mixin == "ForkingMixIn" {
                for method in ["handle_timeout()", "service_actions()", "collect_children()"] {
                    #expect(body.contains(method), "\(entry.name): \(method)")
                }
            } else {
                #expect(body.contains("process_request_thread()"))
            }
            // What the box says runs is what the model resolves.
            #expect(
                body.contains(
                    "\(entry.mixin) L\(ClassModel.resolution(ofMethod: "process_request", in: entry.name)!.line)"
                ))
        }
        // The grid names every mixed server once, in the row of its server and the column
        // of its mixin: exactly the graph's edges.
        #expect(
            text.contains(
                "| TCPServer          | ThreadingTCPServer          | ForkingTCPServer          |"))
        let grid = try #require(reading.boxes.first)
        let cells = text.split(separator: "\n", omittingEmptySubsequences: false)[
            (grid.top + 1)..<grid.bottom
        ].filter { $0.hasPrefix("|") }.map {
            $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        let header = cells[0].dropFirst().map { $0.replacingOccurrences(of: "+ ", with: "") }
        var drawn: Set<ClassEdge> = []
        for row in cells.dropFirst() {
            for (mixin, name) in zip(header, row.dropFirst()) where !name.isEmpty {
                drawn.insert(ClassEdge(child: name, parent: row[0], relation: .subclass))
                drawn.insert(ClassEdge(child: name, parent: mixin, relation: .conforms))
            }
        }
        let graph = ClassGraph.of(.mixins).edges.filter {
            ClassModel.pyClass(named: $0.child)?.bases.count == 2
        }
        #expect(drawn == Set(graph))
    }
}

// MARK: - Mermaid

/// Checks Mermaid classDiagram text line by line against the subset of the grammar
/// (mermaid's classDiagram.jison) that the module emits; returns the problems and the
/// relations read.
private func checkMermaidClassDiagram(_ text: String) -> (problems: [String], edges: [ClassEdge]) {
    var problems: [String] = []
    var edges: [ClassEdge] = []
    var declared: Set<String> = []
    var inBody = false
    // A class name is ALPHA tokens (\w+). The lexer reads these words (jison ends each
    // keyword rule with \b) as keywords or arrows (`o` is aggregation) instead.
    let keywords: Set<String> = [
        "o", "class", "classDiagram", "namespace", "click", "call", "callback", "link", "href",
        "note", "style", "cssClass", "classDef", "_self", "_blank", "_parent", "_top",
    ]
    func validName(_ name: Substring) -> Bool {
        name.wholeMatch(of: #/[A-Za-z_][A-Za-z0-9_]*/#) != nil && !keywords.contains(String(name))
    }
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    guard lines.first == "classDiagram" else { return (["first line is not classDiagram"], []) }
    if lines.last != "" { problems.append("no final newline") }
    for (index, line) in lines.dropFirst().dropLast().enumerated() {
        let number = index + 2
        if line.hasSuffix(" ") { problems.append("line \(number): trailing space") }
        // `.*direction\s+TB[^\n]*` is a lexer rule outside class bodies: it swallows any
        // line that says so.
        if !inBody, line.contains(#/direction\s+(TB|BT|RL|LR)/#) {
            problems.append("line \(number): reads as a direction")
        }
        if inBody {
            if line == "    }" {
                inBody = false
            } else if let match = line.wholeMatch(of: #/        (<<\w+>>|[+\-#~]?[^{}\n]+)/#) {
                let member = match.1
                let raw = member.replacing(#/#\d+;/#, with: "x")
                if raw.contains("__") {
                    problems.append("line \(number): a dunder renders as Markdown bold")
                }
                if raw.contains("#") || raw.contains("~") {
                    problems.append("line \(number): '#' or '~' in a member")
                }
            } else {
                problems.append("line \(number): not a member: \(line)")
            }
        } else if line.hasPrefix("    %%") {
            continue
        } else if let match = line.wholeMatch(of: #/    class (\S+)( \{)?/#) {
            if !validName(match.1) { problems.append("line \(number): bad class name \(match.1)") }
            declared.insert(String(match.1))
            inBody = match.2 != nil
        } else if let match = line.wholeMatch(
            of: #/    (\S+) (<\|--|<\|\.\.) (\S+)( : ([^:;\n]+))?/#)
        {
            for name in [match.1, match.3]
            where !validName(name) || !declared.contains(String(name)) {
                problems.append("line \(number): \(name) is not a declared class")
            }
            edges.append(
                ClassEdge(
                    child: String(match.3), parent: String(match.1),
                    relation: match.2 == "<|--" ? .subclass : .conforms))
        } else {
            problems.append("line \(number): not in the grammar: \(line)")
        }
    }
    if inBody { problems.append("class body not closed") }
    return (problems, edges)
}

/// Checks Mermaid sequenceDiagram text against the subset of sequenceDiagram.jison that
/// the lifecycle renderer emits.
private func checkMermaidSequenceDiagram(_ text: String) -> [String] {
    var problems: [String] = []
    var declared: Set<String> = []
    var depth = 0
    // Keywords of the (case-insensitive) lexer, which it reads before a participant name.
    let keywords: Set<String> = [
        "box", "participant", "actor", "create", "destroy", "loop", "rect", "opt", "alt", "else",
        "par", "par_over", "and", "critical", "option", "break", "end", "links", "link",
        "properties", "details", "over", "note", "activate", "deactivate", "title",
        "sequencediagram", "autonumber", "off", "as",
    ]
    func validID(_ id: Substring) -> Bool {
        id.wholeMatch(of: #/[A-Za-z_][A-Za-z0-9_]*/#) != nil && !keywords.contains(id.lowercased())
    }
    // Message and note text: TXT is [^#\n;]+ once entity codes (#95;) are encoded.
    func validText(_ text: Substring) -> Bool {
        let raw = text.replacing(#/#\w+;/#, with: "x")
        return !raw.isEmpty && !raw.contains("#") && !raw.contains(";") && !raw.contains("__")
    }
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    guard lines.first == "sequenceDiagram" else { return ["first line is not sequenceDiagram"] }
    if lines.last != "" { problems.append("no final newline") }
    for (index, line) in lines.dropFirst().dropLast().enumerated() {
        let number = index + 2
        if line.hasPrefix("    %%") { continue }
        if let match = line.wholeMatch(of: #/    participant (\S+)( as (.+))?/#) {
            if !validID(match.1) {
                problems.append("line \(number): bad participant id \(match.1)")
            }
            if let label = match.3, !validText(label) {
                problems.append("line \(number): bad label")
            }
            declared.insert(String(match.1))
        } else if line.wholeMatch(of: #/    rect rgb\(\d{1,3}, \d{1,3}, \d{1,3}\)/#) != nil {
            depth += 1
        } else if line == "    end" {
            depth -= 1
            if depth < 0 { problems.append("line \(number): end without rect") }
        } else if let match = line.wholeMatch(of: #/    Note over (\w+)(,(\w+))?: (.+)/#) {
            for id in [match.1, match.3].compactMap({ $0 }) where !declared.contains(String(id)) {
                problems.append("line \(number): \(id) not declared")
            }
            if !validText(match.4) { problems.append("line \(number): bad note text") }
        } else if let match = line.wholeMatch(of: #/    (\w+)->>(\w+): (.+)/#) {
            for id in [match.1, match.2] where !declared.contains(String(id)) {
                problems.append("line \(number): \(id) not declared")
            }
            if !validText(match.3) {
                problems.append("line \(number): bad message text \(match.3)")
            }
        } else {
            problems.append("line \(number): not in the grammar: \(line)")
        }
    }
    if depth != 0 { problems.append("rect not closed") }
    return problems
}

@Suite("Mermaid diagrams")
struct MermaidTests {
    @Test func theCheckerRejectsWhatMermaidRejects() {
        #expect(
            !checkMermaidClassDiagram("classDiagram\n    class A {\n        +__init__()\n    }\n")
                .problems.isEmpty)
        #expect(!checkMermaidClassDiagram("classDiagram\n    A <|-- B\n").problems.isEmpty)
        #expect(!checkMermaidClassDiagram("classDiagram\n    class note\n").problems.isEmpty)
        #expect(!checkMermaidClassDiagram("classDiagram\n    class o\n").problems.isEmpty)
        #expect(checkMermaidClassDiagram("classDiagram\n    class object\n").problems.isEmpty)
        #expect(!checkMermaidClassDiagram("classDiagram\n    class A {\n").problems.isEmpty)
        #expect(!checkMermaidSequenceDiagram("sequenceDiagram\n    participant end\n").isEmpty)
        #expect(
            !checkMermaidSequenceDiagram("sequenceDiagram\n    participant A\n    A->>A: a; b\n")
                .isEmpty)
        #expect(!checkMermaidSequenceDiagram("sequenceDiagram\n    rect rgb(1, 2, 3)\n").isEmpty)
    }

    @Test func mixinsAreProtocolsWithRealizationArrows() {
        let text = renderDiagram(.mixins, format: .mermaid)
        #expect(text.contains("    class ThreadingMixIn {\n        <<protocol>>\n"))
        #expect(text.contains("    ThreadingMixIn <|.. ThreadingTCPServer : mixin\n"))
        #expect(text.contains("    TCPServer <|-- ThreadingTCPServer\n"))
    }

    @Test func dundersAreEscaped() {
        let text = renderDiagram(.servers, format: .mermaid)
        #expect(text.contains("+#95;#95;init#95;#95;()"))
        #expect(text.contains("+_handle_request_noblock()"))
    }

    /// The one escaper every Mermaid text of the package goes through (the trace view of
    /// Tracing too): syntax characters as entity codes, one line, no trailing blanks; dunders
    /// only when asked.
    @Test func theSharedEscaper() {
        #expect(Mermaid.escape("a;b#c") == "a#59;b#35;c")
        #expect(Mermaid.escape("<socket fd=3> \"x\" 100%") == "#lt;socket fd=3#gt; #quot;x#quot; 100#37;")
        #expect(Mermaid.escape("two\nlines\r") == "two lines")
        #expect(Mermaid.escape("end End send end_x END.") == "#101;nd #69;nd send end_x #69;ND.")
        #expect(Mermaid.escape("__init__ server_address") == "__init__ server_address")
        #expect(Mermaid.escape("__init__ a_b", dunders: true) == "#95;#95;init#95;#95; a#95;b")
        #expect(Mermaid.escape("_handle_request_noblock", dunders: true) == "_handle_request_noblock")
        for text in ["hello world", "TCPServer", "Thread-1 (process_request_thread)"] {
            #expect(Mermaid.escape(text) == text)
            #expect(Mermaid.escape(text, dunders: true) == text)
        }
    }

    @Test func lifecycleIsASequenceDiagram() {
        let text = renderLifecycle(phases: sampleLifecycle(), format: .mermaid)
        #expect(checkMermaidSequenceDiagram(text).isEmpty, "\(checkMermaidSequenceDiagram(text))")
        #expect(text.contains("    T1->>TCPServer: #95;#95;init#95;#95;()\n"))
        #expect(text.contains("    TCPServer->>BaseServer: #95;#95;init#95;#95;()\n"))
        #expect(text.contains("    BaseServer->>TCPServer: get_request()\n"))
        #expect(text.contains(": service_actions() (repeated)\n"))
        #expect(text.components(separatedBy: "    rect ").count == 4)
    }

    @Test func awkwardParticipantNamesGetAliases() {
        let phases = [
            LifecyclePhase(
                name: "serving",
                calls: [
                    LifecycleCall(
                        function: "End.handle", definingClass: "End", depth: 0,
                        thread: "Thread-1 (process_request_thread)"),
                    LifecycleCall(
                        function: "My Handler.setup", definingClass: "My Handler", depth: 1,
                        thread: "Thread-1 (process_request_thread)"),
                ])
        ]
        let text = renderLifecycle(phases: phases, format: .mermaid)
        #expect(checkMermaidSequenceDiagram(text).isEmpty, "\(text)")
        // The word `end` is escaped in labels too (Mermaid's lexer may read it as a keyword).
        #expect(text.contains("participant P2 as #69;nd\n"))
    }
}

// MARK: - DOT

/// Checks DOT text: one `digraph`, balanced braces and closed strings, every statement a
/// known form, every edge between declared nodes. Returns the problems and the edges.
private func checkDot(_ text: String) -> (problems: [String], edges: [(String, String, String)]) {
    var problems: [String] = []
    var edges: [(String, String, String)] = []
    var nodes: Set<String> = []
    var depth = 0
    var quotes = QuoteTracker()
    for character in text {
        if quotes.take(character) {
            if character == "\n" { problems.append("newline inside a string") }
            continue
        }
        switch character {
        case "{": depth += 1
        case "}":
            depth -= 1
            if depth < 0 { problems.append("unbalanced }") }
        default: break
        }
    }
    if quotes.inString { problems.append("unclosed string") }
    if depth != 0 { problems.append("unbalanced braces") }
    let lines = text.split(separator: "\n").filter { !$0.hasPrefix("//") }
    guard let first = lines.first, first.wholeMatch(of: #/digraph \w+ \{/#) != nil,
        lines.last == "}"
    else {
        return (problems + ["not one digraph"], [])
    }
    let attributes = #/\[(\w+=("([^"\\]|\\.)*"|\w+)(, )?)+\]/#
    for line in lines.dropFirst().dropLast() {
        let statement = line.trimmingCharacters(in: .whitespaces)
        if let match = statement.wholeMatch(of: #/(\w+) -> (\w+)( (\[.*\]))?;/#) {
            if let list = match.4, list.wholeMatch(of: attributes) == nil {
                problems.append("bad attributes: \(line)")
            }
            let label =
                match.4.flatMap { $0.firstMatch(of: #/label="(\w+)"/#)?.1 }.map(String.init) ?? ""
            edges.append((String(match.1), String(match.2), label))
        } else if let match = statement.wholeMatch(of: #/(\w+) (\[.*\]);/#) {
            if match.2.wholeMatch(of: attributes) == nil {
                problems.append("bad attributes: \(line)")
            }
            if !["node", "edge", "graph"].contains(String(match.1)) {
                nodes.insert(String(match.1))
            }
        } else if statement.wholeMatch(of: #/\w+=("([^"\\]|\\.)*"|\w+);/#) != nil
            || statement.wholeMatch(of: #/subgraph cluster_\d+ \{/#) != nil || statement == "}"
        {
            continue
        } else {
            problems.append("not a DOT statement: \(line)")
        }
    }
    for edge in edges where !nodes.contains(edge.0) || !nodes.contains(edge.1) {
        problems.append("edge \(edge.0) -> \(edge.1) between undeclared nodes")
    }
    return (problems, edges)
}

@Suite("DOT diagrams")
struct DotTests {
    @Test func lifecycleDigraphIsWellFormed() {
        let (problems, edges) = checkDot(renderLifecycle(phases: sampleLifecycle(), format: .dot))
        #expect(problems.isEmpty, "\(problems)")
        #expect(!edges.isEmpty)
    }

    @Test func theCheckerRejectsBrokenDot() {
        #expect(!checkDot("digraph x {\n    a -> b;\n}\n").problems.isEmpty)
        #expect(!checkDot("digraph x {\n    a [label=\"{a}\"];\n").problems.isEmpty)
    }
}

// MARK: - Mermaid and DOT

/// An edge as the text formats' checkers give it back: "child -> parent relation".
private func edgeText(_ edge: ClassEdge) -> String {
    "\(edge.child) -> \(edge.parent) \(edge.relation.rawValue)"
}

/// A class diagram in `format` as its checker reads it back: the problems, and the edges.
private func readBack(_ text: String, as format: DiagramFormat) -> (problems: [String], edges: [String]) {
    switch format {
    case .mermaid:
        let (problems, edges) = checkMermaidClassDiagram(text)
        return (problems, edges.map(edgeText))
    case .dot:
        let (problems, edges) = checkDot(text)
        return (problems, edges.map { "\($0.0) -> \($0.1) \($0.2)" })
    case .ascii:
        return (["the ASCII drawing is read back by readAscii"], [])
    }
}

@Suite("Class diagrams in Mermaid and DOT")
struct TextDiagramTests {
    /// Each follows its format's grammar and draws exactly the model's edges, in its order.
    @Test(arguments: DiagramKind.classKinds, [DiagramFormat.mermaid, .dot])
    func drawsTheModelsEdges(_ kind: DiagramKind, _ format: DiagramFormat) {
        let (problems, edges) = readBack(renderDiagram(kind, format: format), as: format)
        #expect(problems.isEmpty, "\(problems)")
        #expect(edges == ClassGraph.of(kind).edges.map(edgeText))
    }
}

// MARK: - mro

@Suite("mro report")
struct MROReportTests {
    @Test func threadingTCPServer() throws {
        let report = try #require(mroReport("ThreadingTCPServer"))
        #expect(
            report.contains("ThreadingTCPServer → ThreadingMixIn → TCPServer → BaseServer → object")
        )
        #expect(report.contains("chain: ThreadingTCPServer → TCPServer → BaseServer"))
        #expect(report.contains("+ ThreadingMixIn (protocol, forwarding overrides)"))
        let rows = report.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        func runs(_ method: String) -> String? {
            rows.first { $0.first == method }?.dropFirst().first
        }
        #expect(runs("process_request") == "ThreadingMixIn")
        #expect(runs("server_close") == "ThreadingMixIn")
        #expect(runs("get_request") == "TCPServer")
        #expect(runs("verify_request") == "BaseServer")
        #expect(runs("_handle_request_noblock") == "BaseServer")
    }

    @Test(arguments: ClassModel.classNames)
    func everyClassHasAReportWithItsMRO(_ name: String) throws {
        let report = try #require(mroReport(name))
        // The MRO may wrap: join its lines back.
        let lines = report.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.hasPrefix("Python MRO") })
        let mro = lines[(start + 1)...].prefix { $0.hasPrefix("  ") && !$0.hasPrefix("  (") }
            .map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        #expect(mro == (cpythonMRO[name] ?? []).joined(separator: " → "))
        for method in ClassModel.overridableMethods(of: name) {
            #expect(report.contains("\n  \(method.name) "), "\(name).\(method.name)")
        }
    }

    @Test func unknownClassHasNoReport() {
        #expect(mroReport("NoSuchServer") == nil)
    }
}

// MARK: - Lifecycle

/// A run shaped like the inventory's scenario (a), for testing the renderers only (the
/// committed lifecycle diagram comes from a real traced run).
private func sampleLifecycle() -> [LifecyclePhase] {
    func call(_ function: String, _ depth: Int, _ thread: String) -> LifecycleCall {
        LifecycleCall(
            function: function, definingClass: String(function.split(separator: ".")[0]),
            depth: depth, thread: thread)
    }
    let calls = [
        call("TCPServer.__init__", 0, "main"), call("BaseServer.__init__", 1, "main"),
        call("TCPServer.server_bind", 1, "main"), call("TCPServer.server_activate", 1, "main"),
        call("BaseServer.serve_forever", 0, "server"), call("TCPServer.fileno", 1, "server"),
        call("BaseServer.service_actions", 1, "server"),
        call("BaseServer._handle_request_noblock", 1, "server"),
        call("TCPServer.get_request", 2, "server"), call("BaseServer.verify_request", 2, "server"),
        call("BaseServer.process_request", 2, "server"),
        call("BaseServer.finish_request", 3, "server"),
        call("BaseRequestHandler.__init__", 4, "server"),
        call("BaseRequestHandler.setup", 5, "server"), call("MyTCPHandler.handle", 5, "server"),
        call("BaseRequestHandler.finish", 5, "server"),
        call("TCPServer.shutdown_request", 3, "server"),
        call("TCPServer.close_request", 4, "server"),
        call("BaseServer.shutdown", 0, "main"),
        call("BaseServer.service_actions", 1, "server"),
        call("BaseServer.service_actions", 1, "server"),
        call("BaseServer.service_actions", 1, "server"),
        call("TCPServer.server_close", 0, "main"),
    ]
    return LifecyclePhase.phases(from: calls)
}

@Suite("Lifecycle")
struct LifecycleTests {
    @Test func callsFallIntoTheNotesThreePhases() {
        let phases = sampleLifecycle()
        #expect(phases.map(\.name) == ["construction", "serving", "shutdown"])
        #expect(
            phases[0].calls.map(\.method) == [
                "__init__", "__init__", "server_bind", "server_activate",
            ])
        #expect(phases[1].calls.first?.function == "BaseServer.serve_forever")
        #expect(phases[1].calls.count == 17)
        #expect(
            phases[2].calls.map(\.function) == ["BaseServer.shutdown", "TCPServer.server_close"])
    }

    @Test func asciiBoxesEachPhaseAndFoldsRepeats() {
        let text = renderLifecycle(phases: sampleLifecycle(), format: .ascii)
        let reading = readAscii(text)
        #expect(reading.problems.isEmpty, "\(reading.problems)")
        #expect(reading.boxes.map(\.name) == ["1. construction", "2. serving", "3. shutdown"])
        #expect(reading.arrows.count == 2)
        #expect(text.contains("|     BaseServer._handle_request_noblock "))
        #expect(text.contains("|     BaseServer.service_actions  (repeated) "))
        #expect(text.components(separatedBy: "service_actions").count == 3)
        #expect(text.contains("| thread server "))
    }

    @Test func emptyPhasesStillDraw() {
        let phases = LifecyclePhase.phases(from: [])
        for format in DiagramFormat.allCases {
            #expect(!renderLifecycle(phases: phases, format: format).isEmpty)
        }
        #expect(
            checkMermaidSequenceDiagram(renderLifecycle(phases: phases, format: .mermaid)).isEmpty)
        #expect(readAscii(renderLifecycle(phases: phases, format: .ascii)).problems.isEmpty)
    }
}

// MARK: - diagrams/

@Suite("diagrams/ folder")
struct DiagramFilesTests {
    /// The package's root, found from this file's path (Tests/DiagramsTests/DiagramTests.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    @Test func everyDiagramInEveryFormatIsGenerated() {
        let names = DiagramFiles.all().map(\.name)
        for kind in DiagramKind.classKinds {
            for format in DiagramFormat.allCases {
                #expect(names.contains("\(kind.rawValue).\(format.fileExtension)"))
            }
        }
        #expect(names.contains("README.md"))
        let withLifecycle = DiagramFiles.all(lifecycle: sampleLifecycle()).map(\.name)
        #expect(withLifecycle.contains("lifecycle.mmd"))
    }

    /// Regenerates diagrams/ in memory and compares byte for byte with the committed files;
    /// with SOCKETSERVER_REGENERATE_DIAGRAMS=1 it first writes them (the documented command).
    /// The class diagrams here; the lifecycle files and the README (which shows the lifecycle)
    /// need a traced run of the CLI's scenario, so CLITests checks every file through the CLI.
    @Test func committedFilesAreWhatTheCodeGenerates() throws {
        let folder = Self.root.appendingPathComponent("diagrams")
        let files = DiagramFiles.all().filter { $0.name != "README.md" }
        for file in files {
            let url = folder.appendingPathComponent(file.name)
            let committed = try? Data(contentsOf: url)
            #expect(
                committed == Data(file.contents.utf8),
                "diagrams/\(file.name) differs from the code: run \(DiagramFiles.regenerateCommand)"
            )
        }
        let generated = Set(files.map(\.name) + ["README.md"])
        let present = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for name in present
        where !generated.contains(name) && !name.hasPrefix(".") && !name.hasPrefix("lifecycle.") {
            Issue.record("diagrams/\(name) is not generated by the code (stale?)")
        }
    }
}
