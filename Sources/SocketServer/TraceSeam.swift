// Swift-only: the trace seam.
//
// CPython needs none of this: `sys.setprofile` watches socketserver from outside. Swift has no
// such hook, so the port announces its own calls here and a recorder (the Tracing module) may
// listen. With no recorder attached every probe costs one atomic load and a branch.
import Glibc
import Sockets
import Synchronization

/// One call the port announces: what a trace names it by.
///
/// Every field is captured without making text: names are string literals, the receiver's
/// class is its type, the arguments are typed values. Text is made when a view renders.
///
/// Swift-only: CPython's profiler sees the frame object instead.
public struct TraceCall: Sendable {
    /// The Python qualified name of the function that runs, as defined in socketserver.py
    /// (`"TCPServer.get_request"`, `"ThreadingMixIn.process_request"`), or nil at a call site,
    /// where only the method name is known until the running body announces itself.
    public var function: TraceName?
    /// The Python method name (`"get_request"`, `"__init__"`).
    public var method: TraceName
    /// The Swift name of the declaration (`"getRequest()"`); nil at a call site, where it is
    /// the method's name by the port's naming rule (``swiftName(ofPython:)``), made when shown.
    public var swift: TraceName?
    /// The line of the `def` in Lib/socketserver.py 3.13; nil where `function` is nil.
    public var line: Int?
    /// The identity of the receiver (`self`).
    public var receiver: ObjectIdentifier
    /// The runtime class of the receiver (`ThreadingTCPServer`).
    public var receiverClass: TraceClass
    /// The arguments (`client_address=('127.0.0.1', 50432)` once shown).
    public var arguments: TraceArguments
    /// Where in the Swift sources the probe is (`SocketServer/SocketServer.swift`, line), if
    /// known: the body's probe, or for a call site the line that makes the call.
    public var source: TraceSourceLocation?

    /// Makes a call description.
    @inline(__always)
    public init(
        function: TraceName?, method: TraceName, swift: TraceName?, line: Int?,
        receiver: ObjectIdentifier, receiverType: any AnyObject.Type, arguments: TraceArguments,
        source: TraceSourceLocation? = nil
    ) {
        self.function = function
        self.method = method
        self.swift = swift
        self.line = line
        self.receiver = receiver
        self.receiverClass = .type(receiverType)
        self.arguments = arguments
        self.source = source
    }

    /// Makes a call description from text, as a test or a recorder of another kind may have it.
    public init(
        function: String?, method: String, swift: String, line: Int?, receiver: ObjectIdentifier,
        receiverClass: String, detail: String
    ) {
        self.function = function.map(TraceName.init(_:))
        self.method = TraceName(method)
        self.swift = TraceName(swift)
        self.line = line
        self.receiver = receiver
        self.receiverClass = .name(receiverClass)
        self.arguments = TraceArguments(text: detail)
    }

    /// The Swift name as shown: the declared one, else the method's by the naming rule.
    public var swiftText: String { swift?.description ?? swiftName(ofPython: method.description) }
}

/// A place in the Swift sources: a file as `#fileID` names it and a line.
///
/// Swift-only.
public struct TraceSourceLocation: Sendable, Equatable {
    /// `"SocketServer/SocketServer.swift"`: the module and the file name.
    public var file: TraceName
    /// The line, from 1.
    public var line: Int

    /// Makes a location.
    @inline(__always)
    public init(file: TraceName, line: Int) {
        self.file = file
        self.line = line
    }

    /// `SocketServer/SocketServer.swift:302`.
    public var description: String { "\(file):\(line)" }
}

/// The class of a receiver: its type, named only when shown, or a name given as text.
///
/// Swift-only.
public enum TraceClass: Sendable, Equatable, CustomStringConvertible {
    /// A class, by its type.
    case type(any AnyObject.Type)
    /// A class, by name.
    case name(String)

    /// The class name without the module prefix (`"ThreadingTCPServer"`).
    public var description: String {
        switch self {
        case .type(let type): return _typeName(type, qualified: false)
        case .name(let name): return name
        }
    }

    public static func == (a: TraceClass, b: TraceClass) -> Bool {
        switch (a, b) {
        case (.type(let x), .type(let y)): return ObjectIdentifier(x) == ObjectIdentifier(y)
        case (.name(let x), .name(let y)): return x == y
        default: return a.description == b.description
        }
    }
}

/// How a call ended.
///
/// Swift-only.
public enum TraceOutcome: Sendable, Equatable {
    /// The call returned this result (``TraceValue/none`` for `None`).
    case returned(TraceValue)
    /// The call threw; the text is the exception line (`"ValueError: boom"`).
    case raised(String)
}

/// What a recorder implements to listen to the port.
///
/// Every method may be called from any thread of the process, and from a forked child.
///
/// Swift-only: CPython's equivalent is a `sys.setprofile` callback.
public protocol TraceRecorder: AnyObject, Sendable {
    /// A call begins on the current thread.
    ///
    /// A body announcing `function` right inside a call site that announced the same method
    /// on the same receiver is the same call: the recorder then names the call site's frame
    /// and returns false, and the body's end is not reported.
    /// - Returns: whether a new frame was opened (its end will be reported with `end`).
    func begin(_ call: consuming TraceCall) -> Bool
    /// The innermost open frame of the current thread ends.
    func end(_ outcome: TraceOutcome)
    /// Called on the thread that starts a new thread, before it starts.
    /// - Returns: what the new thread inherits (the request it serves, where it was spawned).
    func threadWillStart(name: String) -> any Sendable
    /// Called first thing on the new thread with what `threadWillStart` returned.
    func threadDidStart(name: String, inherited: any Sendable)
    /// Called last thing on a thread started by the port.
    func threadWillEnd()
    /// Called right before `fork()`, on the forking thread.
    /// - Returns: what the child inherits.
    func processWillFork() -> any Sendable
    /// Called in the parent after a successful `fork()`.
    func processDidFork(child pid: Int32, inherited: any Sendable)
    /// Called in the child right after `fork()`.
    /// - Returns: the recorder the child uses from now on (it must not touch locks that
    ///   another thread of the parent may have held at the fork).
    func childDidStart(inherited: any Sendable) -> any TraceRecorder
    /// Called in a forked child right before `_exit(status)`: the child's events must reach
    /// the parent's recording before this returns.
    func childWillExit(status: Int32)
}

/// The attached recorder, if any.
///
/// Swift-only. The slot is an atomic pointer so that a probe never takes a lock (a lock held by
/// another thread at `fork()` would hang the child).
///
/// Freeing a detached recorder: a probe that finds the slot empty stops there (one atomic load
/// and a branch, the cost of tracing when nothing listens). A probe that finds a box first
/// counts itself in `inFlight`, loads the slot again and copies out a strong reference to the
/// recorder, then counts itself out; from then on it holds the recorder itself, not the box.
/// `attach` swaps the slot, then waits until no probe is counted before it releases the old
/// box. Both sides use sequentially consistent operations, so either `attach` sees the probe's
/// count (and waits for it) or the probe's second load sees the new slot (and never touches
/// the old box); the first load only decides whether to go on. A count costs nothing when no
/// recorder is attached, and the wait lasts a few instructions of some probe. We chose this
/// over hazard pointers or a lock because it keeps the empty path a single load and adds no
/// lock a forked child could inherit held.
///
/// The wait is bounded: should the count not reach zero within a second (a thread stopped in
/// a debugger inside its probe, or probes of a newly attached recorder following each other
/// without a gap), the old box is kept for the rest of the process: a leak, never a read of
/// freed memory.
/// In a forked child the count was copied from the parent, possibly with other threads'
/// probes in it that will never finish there: the child resets it, and keeps the parent's box
/// rather than release it (the release could run the parent recorder's `deinit`, which takes
/// a lock, and the child exits soon anyway).
public enum Trace {
    /// Keeps a recorder alive while it is attached.
    final class Box: Sendable {
        let recorder: any TraceRecorder
        /// The process that attached it (to tell a forked child from its parent).
        let pid: Int32
        init(_ recorder: any TraceRecorder, pid: Int32) {
            self.recorder = recorder
            self.pid = pid
        }
    }

    private static let slot = Atomic<Unmanaged<Box>?>(nil)
    /// Probes between their second load of the slot and their copy of the recorder.
    private static let inFlight = Atomic<Int>(0)
    /// How long `attach` waits for probes before it gives up freeing the old box.
    static let releaseWaitNanoseconds: UInt64 = 1_000_000_000

    /// Attach `recorder` (or detach with nil), and free the recorder attached before, once no
    /// probe is reading it. Recorders are meant to be attached while no server runs.
    public static func attach(_ recorder: (any TraceRecorder)?) {
        let me = getpid()
        let box = recorder.map { Unmanaged.passRetained(Box($0, pid: me)) }
        guard let old = slot.exchange(box, ordering: .sequentiallyConsistent) else { return }
        guard old.takeUnretainedValue().pid == me else {
            // A forked child replacing its parent's recorder: no thread of the child reads it.
            inFlight.store(0, ordering: .sequentiallyConsistent)
            return
        }
        guard waitForProbes() else { return }  // a probe still counted: keep the box
        old.release()
    }

    /// Waits until no probe is counted, spinning with short sleeps, for at most
    /// ``releaseWaitNanoseconds``.
    /// - Returns: whether the count reached zero.
    private static func waitForProbes() -> Bool {
        var start = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        var spins = 0
        while inFlight.load(ordering: .sequentiallyConsistent) != 0 {
            spins += 1
            if spins < 100 { continue }
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            let elapsed = (now.tv_sec - start.tv_sec) * 1_000_000_000 + (now.tv_nsec - start.tv_nsec)
            if elapsed >= Int(releaseWaitNanoseconds) { return false }
            ForkGate.outside { _ = usleep(50) }
        }
        return true
    }

    /// The attached recorder: one atomic load when none is.
    @inline(__always)
    public static var recorder: (any TraceRecorder)? {
        guard slot.load(ordering: .relaxed) != nil else { return nil }
        return retainAttached()
    }

    /// The slow path of ``recorder``: a strong reference to the attached recorder, taken while
    /// counted in `inFlight`.
    @inline(never)
    private static func retainAttached() -> (any TraceRecorder)? {
        inFlight.wrappingAdd(1, ordering: .sequentiallyConsistent)
        defer { inFlight.wrappingSubtract(1, ordering: .sequentiallyConsistent) }
        return slot.load(ordering: .sequentiallyConsistent)?.takeUnretainedValue().recorder
    }
}

/// The runtime class name of `object`, without the module prefix.
func className(of object: AnyObject) -> String {
    _typeName(type(of: object), qualified: false)  // the cheapest way to a class name
}

/// Announce a body: the function of socketserver.py that `receiver` runs now.
///
/// Each ported declaration wraps its body in one such probe, so that the trace can name the
/// class whose version ran. Public so that a subclass may announce its own overrides
/// (`traced("MyTCPHandler.handle", line: 0, self) { ... }`); the arguments may be given as
/// typed values (`.of("n", n)`) or as text (`"n=\(n)"`).
///
/// Swift-only: CPython's profiler sees every frame.
@inline(__always)
public func traced<R>(
    _ function: StaticString, line: Int, _ receiver: AnyObject,
    _ arguments: @autoclosure () -> TraceArguments = .none, swift: StaticString = #function,
    swiftFile: StaticString = #fileID, swiftLine: UInt = #line, _ body: () throws -> R
) rethrows -> R {
    guard let recorder = Trace.recorder else { return try body() }
    let name = TraceName(function)
    let call = TraceCall(
        function: name, method: name.lastComponent, swift: TraceName(swift), line: line,
        receiver: ObjectIdentifier(receiver), receiverType: type(of: receiver),
        arguments: arguments(), source: TraceSourceLocation(file: TraceName(swiftFile), line: Int(swiftLine)))
    return try record(call, recorder, body)
}

/// Announce a call site: the port calls `method` on `receiver`, which a user may have
/// overridden (without calling `super`), so the call is recorded here, where it is made.
///
/// Swift-only.
@inline(__always)
func dispatched<R>(
    _ method: StaticString, _ receiver: AnyObject,
    _ arguments: @autoclosure () -> TraceArguments = .none, swiftFile: StaticString = #fileID,
    swiftLine: UInt = #line, _ body: () throws -> R
) rethrows -> R {
    guard let recorder = Trace.recorder else { return try body() }
    let call = TraceCall(
        function: nil, method: TraceName(method), swift: nil, line: nil,
        receiver: ObjectIdentifier(receiver), receiverType: type(of: receiver),
        arguments: arguments(), source: TraceSourceLocation(file: TraceName(swiftFile), line: Int(swiftLine)))
    return try record(call, recorder, body)
}

/// Runs `body` inside a frame: begin, then end with its result or its error.
@inline(__always)
func record<R>(_ call: consuming TraceCall, _ recorder: any TraceRecorder, _ body: () throws -> R) rethrows
    -> R
{
    guard recorder.begin(call) else { return try body() }
    do {
        let result = try body()
        recorder.end(.returned(traceValue(result)))
        return result
    } catch {
        recorder.end(.raised(pythonExceptionLine(error)))
        throw error
    }
}

/// A frame opened by hand, where a closure cannot wrap the body: an initializer that must
/// call `super.init` before `self` exists, so the receiver is named by its class.
///
/// Swift-only.
struct InitializerFrame {
    private let recorder: (any TraceRecorder)?
    private let pushed: Bool

    /// Begins the frame of `function` for an object of class `type` being initialised.
    init(
        _ function: StaticString, line: Int, _ type: AnyClass,
        _ arguments: @autoclosure () -> TraceArguments = .none, swift: StaticString = #function,
        swiftFile: StaticString = #fileID, swiftLine: UInt = #line
    ) {
        recorder = Trace.recorder
        guard let recorder else {
            pushed = false
            return
        }
        let name = TraceName(function)
        pushed = recorder.begin(
            TraceCall(
                function: name, method: name.lastComponent, swift: TraceName(swift), line: line,
                receiver: ObjectIdentifier(type), receiverType: type, arguments: arguments(),
                source: TraceSourceLocation(file: TraceName(swiftFile), line: Int(swiftLine))))
    }

    /// Ends the frame: the initializer returned.
    func end() {
        if pushed { recorder?.end(.returned(.none)) }
    }

    /// Ends the frame: the initializer threw `error`.
    func end(raising error: any Error) {
        if pushed { recorder?.end(.raised(pythonExceptionLine(error))) }
    }
}

/// The Swift spelling of a Python method name, by the port's mechanical naming rule:
/// `verify_request` → `verifyRequest`, `_handle_request_noblock` → `_handleRequestNoblock`,
/// `__init__` → `init` (dunders lose their underscores).
public func swiftName(ofPython name: String) -> String {
    if name.hasPrefix("__") && name.hasSuffix("__") { return String(name.dropFirst(2).dropLast(2)) }
    let leading = name.prefix { $0 == "_" }
    let words = name.dropFirst(leading.count).split(separator: "_")
    guard let first = words.first else { return name }
    return String(leading) + first + words.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
}
