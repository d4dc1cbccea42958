// The model of the port's types that every class diagram and `mro` report is drawn from.
//
// The diagrams are not drawn from the Swift runtime: Swift cannot list a class's subclasses or
// the methods a class defines. They are drawn from this table, and DiagramTests checks the
// table against the real types (every superclass and protocol conformance) and against
// CPython (every MRO, every method resolution), so that a diagram cannot lie without a test
// failing. Line numbers are those of Lib/socketserver.py in CPython 3.13.0.

/// What part a class plays in socketserver.
public enum ClassKind: String, Sendable, CaseIterable {
    /// A ServerClass: BaseServer and everything below it.
    case server
    /// A RequestHandlerClass: BaseRequestHandler and its subclasses.
    case handler
    /// ForkingMixIn or ThreadingMixIn: a Python mixin, a Swift protocol.
    case mixin
    /// A private helper class of the module (`_Threads`, `_NoThreads`, `_SocketWriter`).
    case helper
    /// A class socketserver.py inherits from but does not define (`object`, `list`, io's).
    case builtin
}

/// A method as a class body defines it (`def name(...)`).
public struct PyMethod: Sendable, Hashable {
    /// The Python name (`"get_request"`, `"__init__"`).
    public let name: String
    /// Its lines in Lib/socketserver.py 3.13: the `def` to the last line of the body.
    public let lines: ClosedRange<Int>

    /// The line of the `def`.
    public var line: Int { lines.lowerBound }

    /// Makes a method entry from the lines of its `def` and of its body's end.
    public init(_ name: String, _ line: Int, _ endLine: Int) {
        self.name = name
        lines = line...max(line, endLine)
    }
}

/// A class attribute as a class body assigns it (`timeout = None`).
public struct PyAttribute: Sendable, Hashable {
    /// The attribute's name.
    public let name: String
    /// The assigned expression, as written in the source (`"socket.AF_INET"`, `"300"`).
    public let value: String
    /// The line of the assignment in Lib/socketserver.py 3.13.
    public let line: Int

    /// Makes an attribute entry.
    public init(_ name: String, _ value: String, _ line: Int) {
        self.name = name
        self.value = value
        self.line = line
    }
}

/// How the port declares a Python class in Swift.
public struct SwiftShape: Sendable, Hashable {
    /// The kind of Swift declaration.
    public enum Declaration: String, Sendable {
        /// `open class`: users subclass it, as they subclass the Python class.
        case openClass = "open class"
        /// `public final class`: a private helper nobody subclasses.
        case finalClass = "public final class"
        /// `public protocol P: BaseServer`: a mixin (Swift has no multiple inheritance).
        case classProtocol = "public protocol"
    }

    /// The declaration keyword(s).
    public let declaration: Declaration
    /// The Swift superclass; for a protocol, its class constraint (`BaseServer`).
    public let superclass: String?
    /// The protocols the declaration names, in order: the mixin of a mixed server, or a
    /// Swift-only protocol standing for Python's duck typing (`FileDescriptorConvertible`
    /// for `fileno()`, `ContextManager` for `with`, `_ThreadList` for `_Threads`/`_NoThreads`).
    public let protocols: [String]
    /// The Swift module declaring the type (`SocketServer`, or `Sockets` for `BufferedIOBase`).
    public let module: String

    /// Makes a shape.
    public init(
        _ declaration: Declaration, superclass: String? = nil, protocols: [String] = [],
        module: String = "SocketServer"
    ) {
        self.declaration = declaration
        self.superclass = superclass
        self.protocols = protocols
        self.module = module
    }
}

/// One Python class: its class statement, what its body defines, and its Swift shape.
public struct PyClass: Sendable, Hashable {
    /// The Python name (`"ThreadingTCPServer"`).
    public let name: String
    /// The module defining it (`"socketserver"`; `"builtins"`, `"io"`, `"_io"` for builtins).
    public let module: String
    /// The bases of the class statement, in order (`["ThreadingMixIn", "TCPServer"]`);
    /// empty means `object` (and only `object` itself has no base at all).
    public let bases: [String]
    /// The line of the class statement in Lib/socketserver.py 3.13 (nil for builtins).
    public let line: Int?
    /// The last line of the class body (nil for builtins).
    public let endLine: Int?
    /// The part the class plays.
    public let kind: ClassKind
    /// The `if` that guards the class statement (`hasattr(os, "fork")`), if any: on Linux
    /// every guard holds, so the port declares every class unconditionally.
    public let guardCondition: String?
    /// The methods the body defines, in source order. Builtins list none: their methods are
    /// C code the port does not trace.
    public let methods: [PyMethod]
    /// The class attributes the body assigns, in source order.
    public let attributes: [PyAttribute]
    /// The Swift declaration; nil for builtins that the port does not declare.
    public let swift: SwiftShape?

    /// Makes a class entry.
    public init(
        _ name: String, module: String = "socketserver", bases: [String], line: Int?,
        endLine: Int?, kind: ClassKind, guardCondition: String? = nil,
        methods: [PyMethod] = [], attributes: [PyAttribute] = [], swift: SwiftShape?
    ) {
        self.name = name
        self.module = module
        self.bases = bases
        self.line = line
        self.endLine = endLine
        self.kind = kind
        self.guardCondition = guardCondition
        self.methods = methods
        self.attributes = attributes
        self.swift = swift
    }

    /// The class statement as written (`class ThreadingTCPServer(ThreadingMixIn, TCPServer)`).
    public var classStatement: String {
        "class \(name)" + (bases.isEmpty ? "" : "(\(bases.joined(separator: ", ")))")
    }

    /// The Swift declaration's first line (`open class UDPServer: TCPServer`), if declared.
    public var swiftDeclaration: String? {
        guard let swift else { return nil }
        let inherits = (swift.superclass.map { [$0] } ?? []) + swift.protocols
        return "\(swift.declaration.rawValue) \(name)"
            + (inherits.isEmpty ? "" : ": " + inherits.joined(separator: ", "))
    }

    /// The method named `name` if this body defines it.
    public func method(_ name: String) -> PyMethod? { methods.first { $0.name == name } }

    /// The attribute named `name` if this body assigns it.
    public func attribute(_ name: String) -> PyAttribute? { attributes.first { $0.name == name } }
}

/// Which class's version of a method (or attribute) a class runs, and what it hides.
public struct MemberResolution: Sendable, Hashable {
    /// The method or attribute name.
    public let name: String
    /// The class whose definition runs: the first class of the MRO that defines it.
    public let definingClass: String
    /// The line of that definition.
    public let line: Int
    /// The other classes of the MRO defining it, in MRO order: the versions it overrides.
    public let overrides: [(className: String, line: Int)]

    /// Two resolutions are equal when every field is.
    public static func == (lhs: MemberResolution, rhs: MemberResolution) -> Bool {
        lhs.name == rhs.name && lhs.definingClass == rhs.definingClass && lhs.line == rhs.line
            && lhs.overrides.map(\.className) == rhs.overrides.map(\.className)
            && lhs.overrides.map(\.line) == rhs.overrides.map(\.line)
    }

    /// Hashes the same fields as `==` compares.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(definingClass)
        hasher.combine(line)
        for entry in overrides {
            hasher.combine(entry.className)
            hasher.combine(entry.line)
        }
    }
}

/// The model of socketserver's classes, for diagrams and `mro` reports.
public enum ClassModel {
    /// Every class of Lib/socketserver.py 3.13, in file order (21 on Linux).
    public static let classes: [PyClass] = [
        PyClass(
            "BaseServer", bases: [], line: 155, endLine: 389, kind: .server,
            methods: [
                PyMethod("__init__", 203, 208), PyMethod("server_activate", 210, 216),
                PyMethod("serve_forever", 218, 245), PyMethod("shutdown", 247, 255),
                PyMethod("service_actions", 257, 263), PyMethod("handle_request", 276, 303),
                PyMethod("_handle_request_noblock", 305, 326),
                PyMethod("handle_timeout", 328, 333), PyMethod("verify_request", 335, 341),
                PyMethod("process_request", 343, 350), PyMethod("server_close", 352, 358),
                PyMethod("finish_request", 360, 362), PyMethod("shutdown_request", 364, 366),
                PyMethod("close_request", 368, 370), PyMethod("handle_error", 372, 383),
                PyMethod("__enter__", 385, 386), PyMethod("__exit__", 388, 389),
            ],
            attributes: [PyAttribute("timeout", "None", 201)],
            swift: SwiftShape(
                .openClass, protocols: ["FileDescriptorConvertible", "ContextManager"])),
        PyClass(
            "TCPServer", bases: ["BaseServer"], line: 392, endLine: 520, kind: .server,
            methods: [
                PyMethod("__init__", 450, 461), PyMethod("server_bind", 463, 474),
                PyMethod("server_activate", 476, 482), PyMethod("server_close", 484, 490),
                PyMethod("fileno", 492, 498), PyMethod("get_request", 500, 506),
                PyMethod("shutdown_request", 508, 516), PyMethod("close_request", 518, 520),
            ],
            attributes: [
                PyAttribute("address_family", "socket.AF_INET", 440),
                PyAttribute("socket_type", "socket.SOCK_STREAM", 442),
                PyAttribute("request_queue_size", "5", 444),
                PyAttribute("allow_reuse_address", "False", 446),
                PyAttribute("allow_reuse_port", "False", 448),
            ],
            swift: SwiftShape(.openClass, superclass: "BaseServer")),
        PyClass(
            "UDPServer", bases: ["TCPServer"], line: 523, endLine: 549, kind: .server,
            methods: [
                PyMethod("get_request", 535, 537), PyMethod("server_activate", 539, 541),
                PyMethod("shutdown_request", 543, 545), PyMethod("close_request", 547, 549),
            ],
            attributes: [
                PyAttribute("allow_reuse_address", "False", 527),
                PyAttribute("allow_reuse_port", "False", 529),
                PyAttribute("socket_type", "socket.SOCK_DGRAM", 531),
                PyAttribute("max_packet_size", "8192", 533),
            ],
            swift: SwiftShape(.openClass, superclass: "TCPServer")),
        PyClass(
            "ForkingMixIn", bases: [], line: 552, endLine: 637, kind: .mixin,
            guardCondition: "hasattr(os, \"fork\")",
            methods: [
                PyMethod("collect_children", 561, 594), PyMethod("handle_timeout", 596, 601),
                PyMethod("service_actions", 603, 608), PyMethod("process_request", 610, 633),
                PyMethod("server_close", 635, 637),
            ],
            attributes: [
                PyAttribute("timeout", "300", 555), PyAttribute("active_children", "None", 556),
                PyAttribute("max_children", "40", 557),
                PyAttribute("block_on_close", "True", 559),
            ],
            swift: SwiftShape(.classProtocol, superclass: "BaseServer")),
        PyClass(
            "_Threads", bases: ["list"], line: 640, endLine: 659, kind: .helper,
            methods: [
                PyMethod("append", 644, 648), PyMethod("pop_all", 650, 652),
                PyMethod("join", 654, 656), PyMethod("reap", 658, 659),
            ],
            swift: SwiftShape(.finalClass, protocols: ["_ThreadList"])),
        PyClass(
            "_NoThreads", bases: [], line: 662, endLine: 670, kind: .helper,
            methods: [PyMethod("append", 666, 667), PyMethod("join", 669, 670)],
            swift: SwiftShape(.finalClass, protocols: ["_ThreadList"])),
        PyClass(
            "ThreadingMixIn", bases: [], line: 673, endLine: 710, kind: .mixin,
            methods: [
                PyMethod("process_request_thread", 685, 696),
                PyMethod("process_request", 698, 706), PyMethod("server_close", 708, 710),
            ],
            attributes: [
                PyAttribute("daemon_threads", "False", 678),
                PyAttribute("block_on_close", "True", 680),
                PyAttribute("_threads", "_NoThreads()", 683),
            ],
            swift: SwiftShape(.classProtocol, superclass: "BaseServer")),
        mixed("ForkingUDPServer", "ForkingMixIn", "UDPServer", 714, "hasattr(os, \"fork\")"),
        mixed("ForkingTCPServer", "ForkingMixIn", "TCPServer", 715, "hasattr(os, \"fork\")"),
        mixed("ThreadingUDPServer", "ThreadingMixIn", "UDPServer", 717, nil),
        mixed("ThreadingTCPServer", "ThreadingMixIn", "TCPServer", 718, nil),
        PyClass(
            "UnixStreamServer", bases: ["TCPServer"], line: 722, endLine: 723, kind: .server,
            guardCondition: "hasattr(socket, 'AF_UNIX')",
            attributes: [PyAttribute("address_family", "socket.AF_UNIX", 723)],
            swift: SwiftShape(.openClass, superclass: "TCPServer")),
        PyClass(
            "UnixDatagramServer", bases: ["UDPServer"], line: 725, endLine: 726, kind: .server,
            guardCondition: "hasattr(socket, 'AF_UNIX')",
            attributes: [PyAttribute("address_family", "socket.AF_UNIX", 726)],
            swift: SwiftShape(.openClass, superclass: "UDPServer")),
        mixed(
            "ThreadingUnixStreamServer", "ThreadingMixIn", "UnixStreamServer", 728,
            "hasattr(socket, 'AF_UNIX')"),
        mixed(
            "ThreadingUnixDatagramServer", "ThreadingMixIn", "UnixDatagramServer", 730,
            "hasattr(socket, 'AF_UNIX')"),
        mixed(
            "ForkingUnixStreamServer", "ForkingMixIn", "UnixStreamServer", 733,
            "hasattr(socket, 'AF_UNIX') and hasattr(os, \"fork\")"),
        mixed(
            "ForkingUnixDatagramServer", "ForkingMixIn", "UnixDatagramServer", 735,
            "hasattr(socket, 'AF_UNIX') and hasattr(os, \"fork\")"),
        PyClass(
            "BaseRequestHandler", bases: [], line: 737, endLine: 772, kind: .handler,
            methods: [
                PyMethod("__init__", 755, 763), PyMethod("setup", 765, 766),
                PyMethod("handle", 768, 769), PyMethod("finish", 771, 772),
            ],
            swift: SwiftShape(.openClass)),
        PyClass(
            "StreamRequestHandler", bases: ["BaseRequestHandler"], line: 783, endLine: 826,
            kind: .handler,
            methods: [PyMethod("setup", 804, 815), PyMethod("finish", 817, 826)],
            attributes: [
                PyAttribute("rbufsize", "-1", 794), PyAttribute("wbufsize", "0", 795),
                PyAttribute("timeout", "None", 798),
                PyAttribute("disable_nagle_algorithm", "False", 802),
            ],
            swift: SwiftShape(.openClass, superclass: "BaseRequestHandler")),
        PyClass(
            "_SocketWriter", bases: ["BufferedIOBase"], line: 828, endLine: 845, kind: .helper,
            methods: [
                PyMethod("__init__", 833, 834), PyMethod("writable", 836, 837),
                PyMethod("write", 839, 842), PyMethod("fileno", 844, 845),
            ],
            swift: SwiftShape(.openClass, superclass: "BufferedIOBase")),
        PyClass(
            "DatagramRequestHandler", bases: ["BaseRequestHandler"], line: 847, endLine: 858,
            kind: .handler,
            methods: [PyMethod("setup", 851, 855), PyMethod("finish", 857, 858)],
            swift: SwiftShape(.openClass, superclass: "BaseRequestHandler")),
    ]

    /// The classes socketserver.py inherits from without defining them, with their real
    /// CPython bases, so that C3 over them gives CPython's MRO exactly
    /// (`_SocketWriter → BufferedIOBase → _BufferedIOBase → IOBase → _IOBase → object`).
    /// Their methods are not listed: they are C code that the port does not trace. Only the
    /// io classes have Swift counterparts (module Sockets: `BufferedIOBase: IOBase`, the
    /// bases of `_SocketWriter`); the C halves `_io._BufferedIOBase` and `_io._IOBase` do not.
    public static let builtins: [PyClass] = [
        PyClass(
            "object", module: "builtins", bases: [], line: nil, endLine: nil, kind: .builtin,
            swift: nil),
        PyClass(
            "list", module: "builtins", bases: ["object"], line: nil, endLine: nil,
            kind: .builtin, swift: nil),
        PyClass(
            "_IOBase", module: "_io", bases: ["object"], line: nil, endLine: nil,
            kind: .builtin, swift: nil),
        PyClass(
            "IOBase", module: "io", bases: ["_IOBase"], line: nil, endLine: nil,
            kind: .builtin, swift: SwiftShape(.openClass, module: "Sockets")),
        PyClass(
            "_BufferedIOBase", module: "_io", bases: ["_IOBase"], line: nil, endLine: nil,
            kind: .builtin, swift: nil),
        PyClass(
            "BufferedIOBase", module: "io", bases: ["_BufferedIOBase", "IOBase"], line: nil,
            endLine: nil, kind: .builtin,
            swift: SwiftShape(.openClass, superclass: "IOBase", module: "Sockets")),
    ]

    /// A concrete mixed server: `class X(Mixin, Server): pass`, which the port declares as
    /// `open class X: Server, Mixin` (the superclass first, as Swift requires).
    private static func mixed(
        _ name: String, _ mixin: String, _ server: String, _ line: Int, _ guardText: String?
    ) -> PyClass {
        PyClass(
            name, bases: [mixin, server], line: line, endLine: line, kind: .server,
            guardCondition: guardText,
            swift: SwiftShape(.openClass, superclass: server, protocols: [mixin]))
    }

    private static let byName: [String: PyClass] = Dictionary(
        uniqueKeysWithValues: (classes + builtins).map { ($0.name, $0) })

    /// The class named `name` (a socketserver.py class or a builtin base), if modelled.
    public static func pyClass(named name: String) -> PyClass? { byName[name] }

    /// The names of every socketserver.py class, in file order.
    public static var classNames: [String] { classes.map(\.name) }

    /// The classes of one kind, in file order.
    public static func classes(ofKind kind: ClassKind) -> [PyClass] {
        classes.filter { $0.kind == kind }
    }

    /// The Python bases of `name`: `object` stands behind a statement without bases.
    static func pythonBases(_ name: String) -> [String] {
        guard name != "object", let cls = byName[name] else { return [] }
        return cls.bases.isEmpty ? ["object"] : cls.bases
    }

    /// The socketserver.py classes whose class statement names `name` as a base, in file order.
    public static func subclasses(of name: String) -> [PyClass] {
        classes.filter { $0.bases.contains(name) }
    }

    /// The mixed servers (`class X(Mixin, Server)`) as (class, mixin, server), in file order.
    public static var mixedServers: [(name: String, mixin: String, server: String)] {
        classes.compactMap { cls in
            guard cls.bases.count == 2, byName[cls.bases[0]]?.kind == .mixin else { return nil }
            return (cls.name, cls.bases[0], cls.bases[1])
        }
    }

    /// CPython's method resolution order of `name`, computed by C3 linearization as
    /// `type.__mro__` does; nil for an unknown class.
    public static func mro(of name: String) -> [String]? {
        guard byName[name] != nil else { return nil }
        return c3Linearization(of: name, bases: pythonBases)
    }

    /// C3 linearization (the algorithm of Python 2.3+ `__mro__`) of `name`, given each
    /// class's ordered bases. Nil when no consistent order exists (Python raises TypeError).
    ///
    /// Public so that tests can check it on textbook hierarchies as well as on socketserver.
    public static func c3Linearization(of name: String, bases: (String) -> [String])
        -> [String]?
    {
        var memo: [String: [String]] = [:]
        var visiting: Set<String> = []
        func linearize(_ cls: String) -> [String]? {
            if let known = memo[cls] { return known }
            guard visiting.insert(cls).inserted else { return nil }  // a cycle
            defer { visiting.remove(cls) }
            let parents = bases(cls)
            var sequences: [[String]] = []
            for parent in parents {
                guard let line = linearize(parent) else { return nil }
                sequences.append(line)
            }
            sequences.append(parents)
            var result = [cls]
            while true {
                sequences.removeAll { $0.isEmpty }
                if sequences.isEmpty { break }
                // The first head that appears in no tail is next; none means inconsistent.
                guard
                    let head = sequences.lazy.map({ $0[0] }).first(where: { candidate in
                        !sequences.contains { $0.dropFirst().contains(candidate) }
                    })
                else { return nil }
                result.append(head)
                for index in sequences.indices where sequences[index].first == head {
                    sequences[index].removeFirst()
                }
            }
            memo[cls] = result
            return result
        }
        return linearize(name)
    }

    /// The class whose `method` runs on an instance of `className`: the first class of the
    /// MRO whose body defines it. Nil if no modelled class defines it (or the class is
    /// unknown).
    public static func resolve(method: String, in className: String) -> String? {
        resolution(ofMethod: method, in: className)?.definingClass
    }

    /// The class whose class attribute `attribute` an instance of `className` reads.
    public static func resolve(attribute: String, in className: String) -> String? {
        resolution(ofAttribute: attribute, in: className)?.definingClass
    }

    /// Which version of `method` runs for `className`, and the versions it overrides.
    public static func resolution(ofMethod method: String, in className: String)
        -> MemberResolution?
    {
        resolve(method, in: className) { cls in cls.method(method)?.line }
    }

    /// Which assignment of the class attribute `attribute` `className` sees, and which it hides.
    public static func resolution(ofAttribute attribute: String, in className: String)
        -> MemberResolution?
    {
        resolve(attribute, in: className) { cls in cls.attribute(attribute)?.line }
    }

    private static func resolve(_ name: String, in className: String, line: (PyClass) -> Int?)
        -> MemberResolution?
    {
        guard let order = mro(of: className) else { return nil }
        let defining = order.compactMap { cls in
            byName[cls].flatMap(line).map { (className: cls, line: $0) }
        }
        guard let first = defining.first else { return nil }
        return MemberResolution(
            name: name, definingClass: first.className, line: first.line,
            overrides: Array(defining.dropFirst()))
    }

    /// Every method an instance of `className` has from socketserver.py, each with the class
    /// whose version runs. Python has no `final`, so every one of them is overridable,
    /// private ones (`_handle_request_noblock`) included.
    ///
    /// Order: base classes first, each in source order, so that a table reads like the file
    /// (BaseServer's methods, then what TCPServer adds, then the mixin's own).
    public static func overridableMethods(of className: String) -> [MemberResolution] {
        members(
            of: className, names: { $0.methods.map(\.name) },
            resolve: { resolution(ofMethod: $0, in: className) })
    }

    /// Every class attribute `className` sees, each with the class whose assignment wins.
    public static func classAttributes(of className: String) -> [MemberResolution] {
        members(
            of: className, names: { $0.attributes.map(\.name) },
            resolve: { resolution(ofAttribute: $0, in: className) })
    }

    private static func members(
        of className: String, names: (PyClass) -> [String], resolve: (String) -> MemberResolution?
    ) -> [MemberResolution] {
        guard let order = mro(of: className) else { return [] }
        var seen: Set<String> = []
        var result: [MemberResolution] = []
        for cls in order.reversed() {
            guard let entry = byName[cls] else { continue }
            for name in names(entry) where seen.insert(name).inserted {
                if let resolved = resolve(name) { result.append(resolved) }
            }
        }
        return result
    }

    /// The Swift superclass chain of `className`, the class first (`ThreadingTCPServer`,
    /// `TCPServer`, `BaseServer`); for a protocol, the protocol and its class constraint.
    /// Stops at a class the model does not know (BufferedIOBase's own bases live in Sockets).
    public static func swiftChain(of className: String) -> [String] {
        var chain: [String] = []
        var next: String? = className
        while let name = next, !chain.contains(name) {
            chain.append(name)
            next = byName[name]?.swift?.superclass
        }
        return chain
    }

    /// The protocols `className` conforms to in Swift, its own and its superclasses'.
    public static func swiftProtocols(of className: String) -> [String] {
        var result: [String] = []
        for name in swiftChain(of: className) {
            for proto in byName[name]?.swift?.protocols ?? [] where !result.contains(proto) {
                result.append(proto)
            }
        }
        return result
    }

    /// The mixin protocols `className` conforms to in Swift (`ThreadingMixIn`, `ForkingMixIn`).
    public static func mixinProtocols(of className: String) -> [String] {
        swiftProtocols(of: className).filter { byName[$0]?.kind == .mixin }
    }
}
