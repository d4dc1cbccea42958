// Swift-only: what the trace seam carries, captured without formatting.
//
// A probe runs on the server's hot path, so it only copies what it will need: the string
// literals that name the call (kept as pointers to the literal, never copied), the receiver's
// type, and the arguments and result as typed values (a descriptor number, an address, the
// bytes, a number). Python's repr of them is made later, when a view renders the recording.
import Glibc
import Sockets

// MARK: - Names

/// A name a probe announces: a function, a method, an argument.
///
/// Made from a string literal it keeps a pointer to the literal's bytes, which live as long as
/// the program, so announcing a call copies no text; made from a `String` (a test, a recorder
/// of another kind) it keeps the string. It becomes text when a view shows it.
///
/// Swift-only.
public struct TraceName: @unchecked Sendable, Hashable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    // `@unchecked`: the pointer is to immutable static storage.
    private enum Storage {
        case literal(UnsafePointer<UInt8>, Int)
        case text(String)
    }

    private let storage: Storage

    /// The name given by a string literal.
    @inline(__always)
    public init(_ literal: StaticString) {
        if literal.hasPointerRepresentation {
            storage = .literal(literal.utf8Start, literal.utf8CodeUnitCount)
        } else {
            storage = .text(literal.description)  // a one-scalar literal: no bytes to point at
        }
    }

    /// The name given by a string literal (`"get_request"`).
    @inline(__always)
    public init(stringLiteral value: StaticString) { self.init(value) }

    /// The name given as text.
    public init(_ text: String) { storage = .text(text) }

    private init(_ start: UnsafePointer<UInt8>, _ count: Int) { storage = .literal(start, count) }

    /// Runs `body` over the name's UTF-8 bytes.
    private func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        switch storage {
        case .literal(let start, let count): return body(UnsafeBufferPointer(start: start, count: count))
        case .text(let text):
            var copy = text
            return copy.withUTF8(body)
        }
    }

    /// The name as text.
    public var description: String {
        switch storage {
        case .literal(let start, let count):
            return String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
        case .text(let text): return text
        }
    }

    /// What follows the last dot (`"get_request"` of `"TCPServer.get_request"`), the whole name
    /// when it has none; found without copying a literal.
    public var lastComponent: TraceName {
        switch storage {
        case .literal(let start, let count):
            var index = count
            while index > 0, start[index - 1] != UInt8(ascii: ".") { index -= 1 }
            return index == 0 ? self : TraceName(start + index, count - index)
        case .text(let text):
            return TraceName(text.split(separator: ".").last.map(String.init) ?? text)
        }
    }

    /// Whether the name is empty.
    public var isEmpty: Bool { withBytes { $0.isEmpty } }

    public static func == (a: TraceName, b: TraceName) -> Bool {
        if case .literal(let x, let m) = a.storage, case .literal(let y, let n) = b.storage {
            if m != n { return false }
            if x == y { return true }
            return memcmp(x, y, m) == 0
        }
        return a.withBytes { x in b.withBytes { y in x.elementsEqual(y) } }
    }

    public func hash(into hasher: inout Hasher) {
        withBytes { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

// MARK: - Values

/// An argument or a result as a probe captured it.
///
/// Each case keeps what Python's repr of the value needs, read at the moment of the call (a
/// socket's descriptor, which `close` will later change, is read then); ``description`` makes
/// the repr. Client bytes are kept whole and cut when shown.
///
/// Swift-only: CPython's profiler hands out the objects themselves.
///
/// A string literal (`"None"`, as a test may write a result) is ``text(_:)``, shown as it is.
public enum TraceValue: Sendable, Equatable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// `None` (a function that returns nothing).
    case none
    /// `True` or `False`.
    case bool(Bool)
    /// An integer.
    case int(Int)
    /// A float (`poll_interval=0.5`).
    case float(Double)
    /// A `str`, shown quoted.
    case str(String)
    /// A `bytes` object, shown as Python's repr, cut at ``traceBytesLimit`` bytes.
    case bytes([UInt8])
    /// A socket: `<socket fd=5>`.
    case socket(fd: Int32)
    /// An address: `('127.0.0.1', 50432)`, `'/tmp/s'`.
    case address(SocketAddress)
    /// A thread: `<Thread(Thread-2 (process_request_thread))>`.
    case thread(name: String, daemon: Bool)
    /// An instance of a class with no repr of its own: `<TCPServer object>`.
    case object(TraceClass)
    /// A tuple: `(<socket fd=5>, ('127.0.0.1', 50432))`.
    indirect case tuple([TraceValue])
    /// Text made when the value was captured (a value of a type the seam does not know).
    case text(String)

    public init(stringLiteral value: String) { self = .text(value) }

    /// Python's repr of the value.
    public var description: String {
        switch self {
        case .none: return "None"
        case .bool(let flag): return flag ? "True" : "False"
        case .int(let number): return String(number)
        case .float(let number): return number.description
        case .str(let text): return pyStrRepr(text)
        case .bytes(let bytes): return pyBytesRepr(bytes, limit: traceBytesLimit)
        case .socket(let fd): return "<socket fd=\(fd)>"
        case .address(let address): return address.description
        case .thread(let name, let daemon): return "<Thread(\(name)\(daemon ? ", daemon" : ""))>"
        case .object(let type): return "<\(type) object>"
        case .tuple(let items):
            let texts = items.map(\.description)
            return texts.count == 1 ? "(\(texts[0]),)" : "(\(texts.joined(separator: ", ")))"
        case .text(let text): return text
        }
    }
}

/// A type whose values a probe can capture as a ``TraceValue``.
///
/// Swift-only.
public protocol TraceRepresentable {
    /// The value as the seam carries it.
    var traceValue: TraceValue { get }
}

extension Bool: TraceRepresentable {
    public var traceValue: TraceValue { .bool(self) }
}
extension Int: TraceRepresentable {
    public var traceValue: TraceValue { .int(self) }
}
extension Int32: TraceRepresentable {
    public var traceValue: TraceValue { .int(Int(self)) }
}
extension Double: TraceRepresentable {
    public var traceValue: TraceValue { .float(self) }
}
extension String: TraceRepresentable {
    public var traceValue: TraceValue { .str(self) }
}
extension Array: TraceRepresentable where Element == UInt8 {
    public var traceValue: TraceValue { .bytes(self) }
}
extension SocketAddress: TraceRepresentable {
    public var traceValue: TraceValue { .address(self) }
}
extension TraceValue: TraceRepresentable {
    public var traceValue: TraceValue { self }
}
extension Request: TraceRepresentable {
    public var traceValue: TraceValue {
        switch self {
        case .stream(let socket): return .socket(fd: socket.fileno())
        case .datagram(let data, let socket): return .tuple([.bytes(data), .socket(fd: socket.fileno())])
        }
    }
}
extension PThread: TraceRepresentable {
    public var traceValue: TraceValue { .thread(name: name, daemon: daemon) }
}
extension Optional: TraceRepresentable where Wrapped: TraceRepresentable {
    public var traceValue: TraceValue { self?.traceValue ?? .none }
}

/// A result as the seam carries it: typed where its type is known, else Python-style text.
///
/// In an optimised build each call is specialised for its `R` and the casts disappear.
@inline(__always)
func traceValue<R>(_ value: R) -> TraceValue {
    if R.self == Void.self { return .none }
    if let known = value as? any TraceRepresentable { return known.traceValue }
    if let (request, address) = value as? (Request, SocketAddress) {
        return .tuple([request.traceValue, .address(address)])
    }
    if R.self is AnyClass { return .object(.type(type(of: value as AnyObject))) }
    return .text(pyRepr(value))
}

// MARK: - Arguments

/// The arguments a probe announces with a call: none, one or two named values, or text.
///
/// Written at a call site as `.of("request", request, "client_address", clientAddress)`; a
/// string (`"n=\(n)"`, what a user's own probe may pass) is kept as text.
///
/// Swift-only.
public struct TraceArguments: Sendable, Equatable, CustomStringConvertible,
    ExpressibleByStringInterpolation
{
    private enum Storage: Sendable, Equatable {
        case none
        case one(TraceName, TraceValue)
        case two(TraceName, TraceValue, TraceName, TraceValue)
        case text(String)
    }

    private let storage: Storage

    private init(_ storage: Storage) { self.storage = storage }

    /// No arguments shown.
    public static let none = TraceArguments(.none)

    /// One named argument.
    @inline(__always)
    public static func of(_ name: TraceName, _ value: some TraceRepresentable) -> TraceArguments {
        TraceArguments(.one(name, value.traceValue))
    }

    /// Two named arguments.
    @inline(__always)
    public static func of(
        _ first: TraceName, _ firstValue: some TraceRepresentable, _ second: TraceName,
        _ secondValue: some TraceRepresentable
    ) -> TraceArguments {
        TraceArguments(.two(first, firstValue.traceValue, second, secondValue.traceValue))
    }

    /// Arguments given as text.
    public init(text: String) { storage = text.isEmpty ? .none : .text(text) }

    public init(stringLiteral value: String) { self.init(text: value) }

    public init(stringInterpolation: DefaultStringInterpolation) {
        self.init(text: String(stringInterpolation: stringInterpolation))
    }

    /// Whether there is nothing to show.
    public var isEmpty: Bool { storage == .none }

    /// The named values, in order; nil when the arguments were given as text.
    public var namedValues: [(name: TraceName, value: TraceValue)]? {
        switch storage {
        case .none: return []
        case .one(let name, let value): return [(name, value)]
        case .two(let a, let x, let b, let y): return [(a, x), (b, y)]
        case .text: return nil
        }
    }

    /// The arguments as a trace shows them: `request=<socket fd=5>, client_address=(...)`.
    public var description: String {
        switch storage {
        case .none: return ""
        case .one(let name, let value): return "\(name)=\(value)"
        case .two(let a, let x, let b, let y): return "\(a)=\(x), \(b)=\(y)"
        case .text(let text): return text
        }
    }
}
