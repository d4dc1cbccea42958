// Swift-only: one thin wrapper per system call, with a fault-injection hook for tests.
//
// CPython makes these calls in C (Modules/socketmodule.c, Modules/selectmodule.c,
// Modules/posixmodule.c). Every wrapper goes through `systemCall`, which enters the fault hook,
// steps outside the fork gate, calls C, and reads `errno` right after the call, before
// anything else can run. Retrying EINTR and waiting for
// timeouts is done by the callers (Socket.swift, Selectors.swift), as CPython does in
// `sock_call_ex` and the `select` module.
import Glibc
import Synchronization

// MARK: - Fault injection

/// Swift-only, for tests: the system calls ``SyscallFaults`` can count and make fail.
///
/// CPython has no such hook; its tests use real signals and mocks of Python functions.
public enum Syscall: String, Sendable, CaseIterable {
    /// `socket(2)` and `socketpair(2)`.
    case socket
    /// `bind(2)`.
    case bind
    /// `listen(2)`.
    case listen
    /// `accept4(2)`.
    case accept
    /// `connect(2)`.
    case connect
    /// `recv(2)`.
    case recv
    /// `recvfrom(2)`.
    case recvfrom
    /// `send(2)`.
    case send
    /// `sendto(2)`.
    case sendto
    /// `shutdown(2)`.
    case shutdown
    /// `close(2)`.
    case close
    /// `poll(2)`.
    case poll
    /// `select(2)`.
    case select
    /// `epoll_wait(2)`.
    case epollWait
    /// `setsockopt(2)`.
    case setsockopt
    /// `getsockname(2)`.
    case getsockname
    /// `waitpid(2)`.
    case waitpid
    /// `getsockopt(2)`.
    case getsockopt
    /// `getpeername(2)`.
    case getpeername
    /// `fcntl(2)`.
    case fcntl
    /// `epoll_create1(2)`.
    case epollCreate
    /// `epoll_ctl(2)`.
    case epollCtl
    /// `write(2)`.
    case write

    var index: Int {
        switch self {
        case .socket: 0
        case .bind: 1
        case .listen: 2
        case .accept: 3
        case .connect: 4
        case .recv: 5
        case .recvfrom: 6
        case .send: 7
        case .sendto: 8
        case .shutdown: 9
        case .close: 10
        case .poll: 11
        case .select: 12
        case .epollWait: 13
        case .setsockopt: 14
        case .getsockname: 15
        case .waitpid: 16
        case .getsockopt: 17
        case .getpeername: 18
        case .fcntl: 19
        case .epollCreate: 20
        case .epollCtl: 21
        case .write: 22
        }
    }
    static let count = 23

    /// The C function's name, as a reader of strace knows it (`epoll_wait`, `accept`).
    public var cName: String {
        switch self {
        case .epollWait: "epoll_wait"
        case .epollCreate: "epoll_create1"
        case .epollCtl: "epoll_ctl"
        default: rawValue
        }
    }
}

/// Swift-only, for tests: count system calls, and make the next calls of one fail with an errno
/// before the real call is made (the model of swift-system's mocking).
///
/// Every wrapper in Syscalls.swift enters this hook. Counts and injected faults belong to the
/// calling thread, so tests running in parallel never see each other's; a fault lives only
/// inside ``injecting(_:body:)``, which checks that `body` consumed it, and calls are counted
/// only while some thread is inside ``counting(body:)`` or ``injecting(_:body:)``. The cost
/// when no thread is: one relaxed atomic load (the thread-local lookup and the add it saves
/// were about 250 instructions of an untraced TCP request, by callgrind).
///
/// CPython has no such hook; its tests use real signals and mocks of Python functions.
public enum SyscallFaults {
    /// How many ``counting(body:)`` and ``injecting(_:body:)`` scopes are open, on all threads.
    private static let observers = Atomic<Int>(0)

    /// The next `count` calls of `syscall` on this thread fail with `errno`.
    public struct Fault: Sendable, Equatable, CustomStringConvertible {
        /// The wrapper that fails.
        public var syscall: Syscall
        /// The errno its failures report.
        public var errno: CInt
        /// How many calls fail (how many are left, once injected).
        public var count: Int

        /// A fault of `count` failed calls of `syscall` with `errno`.
        public init(_ syscall: Syscall, errno: CInt, count: Int = 1) {
            self.syscall = syscall
            self.errno = errno
            self.count = count
        }

        /// `"2 × accept (errno 4)"`.
        public var description: String { "\(count) × \(syscall.rawValue) (errno \(errno))" }
    }

    /// What ``injecting(_:body:)`` throws when `body` left faults unconsumed.
    public struct Unconsumed: Error, CustomStringConvertible {
        /// The faults left, with the number of calls that did not happen.
        public let faults: [Fault]
        /// `"injected system call failures were not consumed: 1 × poll (errno 4)"`.
        public var description: String {
            "injected system call failures were not consumed: "
                + faults.map(\.description).joined(separator: ", ")
        }
    }

    /// Runs `body` with `faults` injected on the calling thread, then removes them.
    ///
    /// - Returns: what `body` returned.
    /// - Throws: what `body` threw; else ``Unconsumed`` when a fault was not used up.
    public static func injecting<R>(_ faults: Fault..., body: () throws -> R) throws -> R {
        observers.wrappingAdd(1, ordering: .relaxed)
        defer { observers.wrappingSubtract(1, ordering: .relaxed) }
        let thread = ThreadFaults.current
        let base = thread.pending.count
        thread.pending += faults.filter { $0.count > 0 }
        let result: R
        do {
            result = try body()
        } catch {
            thread.pending.removeSubrange(base...)
            throw error
        }
        let left = thread.pending[base...].filter { $0.count > 0 }
        thread.pending.removeSubrange(base...)
        if !left.isEmpty { throw Unconsumed(faults: Array(left)) }
        return result
    }

    /// Runs `body` and counts the system calls it makes on the calling thread (those of other
    /// threads, and of a forked child, are not counted).
    ///
    /// - Returns: what `body` returned, and the calls made, by wrapper.
    public static func counting<R>(body: () throws -> R) rethrows -> (result: R, calls: SyscallCounts) {
        observers.wrappingAdd(1, ordering: .relaxed)
        defer { observers.wrappingSubtract(1, ordering: .relaxed) }
        let thread = ThreadFaults.current
        let before = thread.counts
        let result = try body()
        return (result, SyscallCounts(zip(thread.counts, before).map { $0 - $1 }))
    }

    /// Count one entry into the wrapper of `syscall`; return an injected errno, if any (the
    /// innermost `injecting` scope's first).
    @inline(__always)
    static func enter(_ syscall: Syscall) -> CInt? {
        // A thread's own scope raised this before its body ran, so its own calls see it.
        if observers.load(ordering: .relaxed) == 0 { return nil }
        let thread = ThreadFaults.current
        thread.counts[syscall.index] += 1
        if thread.pending.isEmpty { return nil }
        guard let i = thread.pending.lastIndex(where: { $0.syscall == syscall && $0.count > 0 }) else {
            return nil
        }
        thread.pending[i].count -= 1
        return thread.pending[i].errno
    }
}

/// Swift-only, for tests and measurements: how many times each wrapper of Syscalls.swift was
/// entered, as ``SyscallFaults/counting(body:)`` returns it.
public struct SyscallCounts: Sendable, Equatable, CustomStringConvertible {
    private var counts: [Int]

    /// No calls.
    public init() { counts = [Int](repeating: 0, count: Syscall.count) }

    init(_ counts: [Int]) { self.counts = counts }

    /// The calls of `syscall`.
    public subscript(_ syscall: Syscall) -> Int {
        get { counts[syscall.index] }
        set { counts[syscall.index] = newValue }
    }

    /// The calls of every kind.
    public var total: Int { counts.reduce(0, +) }

    /// The kinds called at least once, with their counts, in the order of ``Syscall``.
    public var nonzero: [(syscall: Syscall, count: Int)] {
        Syscall.allCases.compactMap { counts[$0.index] > 0 ? ($0, counts[$0.index]) : nil }
    }

    /// The calls of both.
    public static func + (a: SyscallCounts, b: SyscallCounts) -> SyscallCounts {
        SyscallCounts(zip(a.counts, b.counts).map { $0 + $1 })
    }

    /// `"poll 1, accept 1, recv 1"`: the kinds called, by C name, in the order of ``Syscall``.
    public var description: String {
        nonzero.map { "\($0.syscall.cName) \($0.count)" }.joined(separator: ", ")
    }
}

/// Per-thread syscall counts and injected faults, kept in a pthread key (released when the
/// thread exits).
private final class ThreadFaults {
    // Only the owning thread touches its box, so the runtime's exclusivity checks (two per
    // system call, about a sixth of an untraced TCP request by callgrind) guard nothing here.
    @exclusivity(unchecked) var counts = [Int](repeating: 0, count: Syscall.count)
    @exclusivity(unchecked) var pending: [SyscallFaults.Fault] = []

    static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { raw in
            if let raw { Unmanaged<ThreadFaults>.fromOpaque(raw).release() }
        }
        return key
    }()

    static var current: ThreadFaults {
        if let raw = pthread_getspecific(key) {
            return Unmanaged<ThreadFaults>.fromOpaque(raw).takeUnretainedValue()
        }
        let box = ThreadFaults()
        pthread_setspecific(key, Unmanaged.passRetained(box).toOpaque())
        return box
    }
}

// MARK: - Clock

/// Swift-only: seconds on the monotonic clock, for deadlines (CPython: `_PyDeadline_Init`
/// over `_PyTime_GetMonotonicClock`).
func monotonicNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Swift-only: a timeout in seconds as poll(2) milliseconds, rounded up (CPython's
/// `_PyTime_AsMilliseconds(..., _PyTime_ROUND_CEILING)`); `nil` or negative → -1 (forever).
func pollMilliseconds(_ seconds: Double?) -> CInt {
    guard let seconds, seconds >= 0 else { return -1 }
    let ms = (seconds * 1000).rounded(.up)
    return ms >= Double(CInt.max) ? CInt.max : CInt(ms)
}

// MARK: - EINTR

/// Calls `attempt` again for as long as it fails with EINTR, as CPython does since PEP 475.
///
/// With a `timeout` (seconds), `attempt` receives nil on its first call, meaning "the whole
/// timeout, as the caller expressed it", and on each retry the seconds left of it; once nothing
/// is left, an EINTR ends the loop with nil (a selector then reports nothing ready, as CPython's
/// does). An EINTR also ends it with nil when `interrupted` says so (a signal that the caller
/// raises as an exception).
/// - Returns: what `attempt` returned, or nil when the time ran out.
func retryingEINTR<R>(
    timeout: Double?, unless interrupted: () -> Bool = { false },
    _ attempt: (_ left: Double?) throws(OSError) -> R
) throws(OSError) -> R? {
    let deadline = timeout.map { monotonicNow() + $0 }
    var left: Double? = nil
    while true {
        do throws(OSError) {
            return try attempt(left)
        } catch where error.errno == EINTR {
            if interrupted() { return nil }
            if let deadline {
                let remaining = deadline - monotonicNow()
                if remaining < 0 { return nil }
                left = remaining
            }
        }
    }
}

/// Calls `attempt` again for as long as it fails with EINTR (PEP 475), with no deadline.
func retryingEINTR<R>(_ attempt: () throws(OSError) -> R) throws(OSError) -> R {
    while true {
        do throws(OSError) {
            return try attempt()
        } catch where error.errno == EINTR {
            continue
        }
    }
}

// MARK: - Wrappers

/// Makes one system call as every wrapper here does: the fault hook first, then the call itself
/// outside the ``ForkGate`` (it may block), with `errno` read right after it and nothing but C
/// in between.
///
/// - Parameters:
///   - syscall: what the fault hook counts and may fail.
///   - call: the C call (its result is negative on failure).
/// - Returns: the call's result.
/// - Throws: ``OSError`` with the injected errno, or the real one when the call failed.
@inline(__always)
func systemCall<T: FixedWidthInteger>(_ syscall: Syscall, _ call: () -> T) throws(OSError) -> T {
    if let injected = SyscallFaults.enter(syscall) { throw OSError(errno: injected) }
    var error: CInt = 0
    let result = ForkGate.outside { () -> T in
        let result = call()
        error = Glibc.errno
        return result
    }
    if result < 0 { throw OSError(errno: error) }
    return result
}

/// Ignore SIGPIPE once, process-wide, so writes to a closed peer fail with EPIPE.
///
/// Swift-only: CPython does it at interpreter start-up (`signal(SIGPIPE, SIG_IGN)` in
/// `Python/pylifecycle.c`). The global is initialised lazily, the first time a socket is made.
let ignoreSIGPIPE: Void = {
    _ = Glibc.signal(SIGPIPE, SIG_IGN)
}()

/// One `socket` call. The corresponding C function is `socket`.
func sys_socket(_ domain: CInt, _ type: CInt, _ proto: CInt) throws(OSError) -> CInt {
    try systemCall(.socket) { Glibc.socket(domain, type, proto) }
}

/// One `socketpair` call. The corresponding C function is `socketpair`.
func sys_socketpair(_ domain: CInt, _ type: CInt, _ proto: CInt) throws(OSError) -> (CInt, CInt) {
    let pair = UnsafeMutablePointer<CInt>.allocate(capacity: 2)
    defer { pair.deallocate() }
    _ = try systemCall(.socket) { Glibc.socketpair(domain, type, proto, pair) }
    return (pair[0], pair[1])
}

/// One `bind` call. The corresponding C function is `bind`.
func sys_bind(_ fd: CInt, _ addr: UnsafePointer<sockaddr>, _ len: socklen_t) throws(OSError) {
    _ = try systemCall(.bind) { Glibc.bind(fd, addr, len) }
}

/// One `listen` call. The corresponding C function is `listen`.
func sys_listen(_ fd: CInt, _ backlog: CInt) throws(OSError) {
    _ = try systemCall(.listen) { Glibc.listen(fd, backlog) }
}

/// One `accept4` call. The corresponding C function is `accept4`.
func sys_accept4(
    _ fd: CInt, _ addr: UnsafeMutablePointer<sockaddr>, _ len: UnsafeMutablePointer<socklen_t>,
    _ flags: CInt
) throws(OSError) -> CInt {
    try systemCall(.accept) { c_accept4(fd, addr, len, flags) }
}

/// One `connect` call. The corresponding C function is `connect`.
func sys_connect(_ fd: CInt, _ addr: UnsafePointer<sockaddr>, _ len: socklen_t) throws(OSError) {
    _ = try systemCall(.connect) { Glibc.connect(fd, addr, len) }
}

/// One `recv` call. The corresponding C function is `recv`.
func sys_recv(_ fd: CInt, _ buf: UnsafeMutableRawBufferPointer, _ flags: CInt) throws(OSError) -> Int {
    let (base, count) = (buf.baseAddress, buf.count)
    return try systemCall(.recv) { Glibc.recv(fd, base, count, flags) }
}

/// One `recvfrom` call. The corresponding C function is `recvfrom`.
func sys_recvfrom(
    _ fd: CInt, _ buf: UnsafeMutableRawBufferPointer, _ flags: CInt,
    _ addr: UnsafeMutablePointer<sockaddr>, _ len: UnsafeMutablePointer<socklen_t>
) throws(OSError) -> Int {
    let (base, count) = (buf.baseAddress, buf.count)
    return try systemCall(.recvfrom) { Glibc.recvfrom(fd, base, count, flags, addr, len) }
}

/// One `send` call. The corresponding C function is `send`.
func sys_send(_ fd: CInt, _ buf: UnsafeRawBufferPointer, _ flags: CInt) throws(OSError) -> Int {
    let (base, count) = (buf.baseAddress, buf.count)
    return try systemCall(.send) { Glibc.send(fd, base, count, flags) }
}

/// One `sendto` call. The corresponding C function is `sendto`.
func sys_sendto(
    _ fd: CInt, _ buf: UnsafeRawBufferPointer, _ flags: CInt,
    _ addr: UnsafePointer<sockaddr>, _ len: socklen_t
) throws(OSError) -> Int {
    let (base, count) = (buf.baseAddress, buf.count)
    return try systemCall(.sendto) { Glibc.sendto(fd, base, count, flags, addr, len) }
}

/// One `shutdown` call. The corresponding C function is `shutdown`.
func sys_shutdown(_ fd: CInt, _ how: CInt) throws(OSError) {
    _ = try systemCall(.shutdown) { Glibc.shutdown(fd, how) }
}

/// One `close` call, never retried (on Linux the fd is released even on EINTR).
/// The corresponding C function is `close`.
func sys_close(_ fd: CInt) throws(OSError) {
    _ = try systemCall(.close) { Glibc.close(fd) }
}

/// One `poll` call. The corresponding C function is `poll`.
func sys_poll(_ fds: UnsafeMutablePointer<pollfd>?, _ nfds: Int, _ timeoutMs: CInt) throws(OSError) -> Int {
    let count = nfds_t(nfds)
    return Int(try systemCall(.poll) { Glibc.poll(fds, count, timeoutMs) })
}

/// One `select` call. The corresponding C function is `select`.
func sys_select(
    _ nfds: CInt, _ readfds: UnsafeMutablePointer<fd_set>?, _ writefds: UnsafeMutablePointer<fd_set>?,
    _ timeout: UnsafeMutablePointer<timeval>?
) throws(OSError) -> Int {
    Int(try systemCall(.select) { Glibc.select(nfds, readfds, writefds, nil, timeout) })
}

// accept4 is declared only under _GNU_SOURCE, which the Glibc module does not import.
@_silgen_name("accept4") private func c_accept4(
    _ fd: CInt, _ addr: UnsafeMutablePointer<sockaddr>?, _ len: UnsafeMutablePointer<socklen_t>?, _ flags: CInt
) -> CInt

// epoll is not in the Glibc module map; declare the three functions by their C symbols.
@_silgen_name("epoll_create1") private func c_epoll_create1(_ flags: CInt) -> CInt
@_silgen_name("epoll_ctl") private func c_epoll_ctl(
    _ epfd: CInt, _ op: CInt, _ fd: CInt, _ event: UnsafeMutableRawPointer?) -> CInt
@_silgen_name("epoll_wait") private func c_epoll_wait(
    _ epfd: CInt, _ events: UnsafeMutableRawPointer?, _ maxevents: CInt, _ timeout: CInt) -> CInt

/// `EPOLL_CLOEXEC` (= `O_CLOEXEC`).
let EPOLL_CLOEXEC: CInt = 0o2_000_000
/// `EPOLLIN`.
let EPOLLIN: UInt32 = 0x001
/// `EPOLLOUT`.
let EPOLLOUT: UInt32 = 0x004
/// `EPOLL_CTL_ADD`.
let EPOLL_CTL_ADD: CInt = 1
/// `EPOLL_CTL_DEL`.
let EPOLL_CTL_DEL: CInt = 2
/// `EPOLL_CTL_MOD`.
let EPOLL_CTL_MOD: CInt = 3
#if arch(x86_64)
/// Size of `struct epoll_event`: glibc packs it on x86_64 (4-byte events, then 8-byte data).
let epollEventSize = 12
/// Where `data` starts in a `struct epoll_event`.
let epollDataOffset = 4
#else
/// Size of `struct epoll_event`: naturally aligned elsewhere (4-byte events, padding, 8-byte data).
let epollEventSize = 16
/// Where `data` starts in a `struct epoll_event`.
let epollDataOffset = 8
#endif

/// One `epoll_create1` call. The corresponding C function is `epoll_create1`.
func sys_epoll_create1(_ flags: CInt) throws(OSError) -> CInt {
    try systemCall(.epollCreate) { c_epoll_create1(flags) }
}

/// One `epoll_ctl` call with a `struct epoll_event` of `events` and the descriptor as data.
/// The corresponding C function is `epoll_ctl`.
func sys_epoll_ctl(_ epfd: CInt, _ op: CInt, _ fd: CInt, _ events: UInt32) throws(OSError) {
    let event = UnsafeMutableRawPointer.allocate(byteCount: epollEventSize, alignment: 8)
    defer { event.deallocate() }
    event.storeBytes(of: events, toByteOffset: 0, as: UInt32.self)
    event.storeBytes(of: UInt64(UInt32(bitPattern: fd)), toByteOffset: epollDataOffset, as: UInt64.self)
    _ = try systemCall(.epollCtl) { c_epoll_ctl(epfd, op, fd, event) }
}

/// One `epoll_wait` call into `buffer` (room for `maxEvents` packed `epoll_event`s).
/// The corresponding C function is `epoll_wait`.
func sys_epoll_wait(
    _ epfd: CInt, _ buffer: UnsafeMutableRawBufferPointer, _ maxEvents: CInt, _ timeoutMs: CInt
) throws(OSError) -> Int {
    let events = buffer.baseAddress
    return Int(try systemCall(.epollWait) { c_epoll_wait(epfd, events, maxEvents, timeoutMs) })
}

/// One `setsockopt` call with an `int` value. The corresponding C function is `setsockopt`.
func sys_setsockopt(_ fd: CInt, _ level: CInt, _ option: CInt, _ value: CInt) throws(OSError) {
    var v = value
    let size = socklen_t(MemoryLayout<CInt>.size)
    _ = try systemCall(.setsockopt) { Glibc.setsockopt(fd, level, option, &v, size) }
}

/// One `getsockopt` call for an `int` value. The corresponding C function is `getsockopt`.
func sys_getsockopt(_ fd: CInt, _ level: CInt, _ option: CInt) throws(OSError) -> CInt {
    var v: CInt = 0
    var len = socklen_t(MemoryLayout<CInt>.size)
    _ = try systemCall(.getsockopt) { Glibc.getsockopt(fd, level, option, &v, &len) }
    return v
}

/// One `getsockname` call. The corresponding C function is `getsockname`.
func sys_getsockname(
    _ fd: CInt, _ addr: UnsafeMutablePointer<sockaddr>, _ len: UnsafeMutablePointer<socklen_t>
) throws(OSError) {
    _ = try systemCall(.getsockname) { Glibc.getsockname(fd, addr, len) }
}

/// One `getpeername` call. The corresponding C function is `getpeername`.
func sys_getpeername(
    _ fd: CInt, _ addr: UnsafeMutablePointer<sockaddr>, _ len: UnsafeMutablePointer<socklen_t>
) throws(OSError) {
    _ = try systemCall(.getpeername) { Glibc.getpeername(fd, addr, len) }
}

/// One `fcntl(fd, F_GETFL)` call. The corresponding C function is `fcntl`.
func sys_fcntl_getfl(_ fd: CInt) throws(OSError) -> CInt {
    try systemCall(.fcntl) { Glibc.fcntl(fd, F_GETFL) }
}

/// One `fcntl(fd, F_SETFL, flags)` call. The corresponding C function is `fcntl`.
func sys_fcntl_setfl(_ fd: CInt, _ flags: CInt) throws(OSError) {
    _ = try systemCall(.fcntl) { Glibc.fcntl(fd, F_SETFL, flags) }
}

/// One `waitpid` call. The corresponding C function is `waitpid`.
func sys_waitpid(_ pid: pid_t, _ status: UnsafeMutablePointer<CInt>, _ options: CInt) throws(OSError) -> pid_t {
    try systemCall(.waitpid) { Glibc.waitpid(pid, status, options) }
}

/// One `write` call. The corresponding C function is `write`.
func sys_write(_ fd: CInt, _ buf: UnsafeRawBufferPointer) throws(OSError) -> Int {
    let (base, count) = (buf.baseAddress, buf.count)
    return try systemCall(.write) { Glibc.write(fd, base, count) }
}

/// Write all of `bytes` to `fd`, retrying interrupted and short writes (as Python's
/// `os.write` in a loop, or a `FileIO` with buffering 0).
///
/// - Throws: ``OSError`` for any error but EINTR.
public func os_writeAll(_ fd: CInt, _ bytes: UnsafeRawBufferPointer) throws(OSError) {
    var offset = 0
    while offset < bytes.count {
        let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
        offset += try retryingEINTR { () throws(OSError) in try sys_write(fd, rest) }
    }
}

/// Wait for a child process: `(0, 0)` with `WNOHANG` while it runs, `(pid, status)` once
/// reaped. EINTR is retried (PEP 475); ECHILD throws an ``OSError`` of kind
/// ``OSError/Kind/childProcess`` (`ChildProcessError`).
///
/// - Parameters:
///   - pid: the child, or -1 for any child.
///   - options: `WNOHANG` or 0.
/// - Returns: the reaped pid (0 if none) and its raw wait status.
/// - Throws: ``OSError``.
///
/// Python: os.waitpid (Modules/posixmodule.c)
public func os_waitpid(_ pid: pid_t, _ options: CInt) throws(OSError) -> (pid: pid_t, status: CInt) {
    var status: CInt = 0
    let r = try retryingEINTR { () throws(OSError) in try sys_waitpid(pid, &status, options) }
    return (r, r == 0 ? 0 : status)
}
