// Swift-only emulation of Python's selectors module (Lib/selectors.py) over poll(2),
// select(2) and epoll(7).
import Glibc

/// An object with a file descriptor that a selector can watch.
///
/// Python: the `fileobj` argument of selectors (any object with a `fileno()` method)
public protocol FileDescriptorConvertible: AnyObject {
    /// The file descriptor; a negative value is invalid.
    func fileno() throws -> CInt
}

/// One registration: the object, its descriptor and the events watched.
///
/// Python: selectors.SelectorKey (Lib/selectors.py)
public struct SelectorKey: @unchecked Sendable {
    /// The registered object.
    public let fileobj: any FileDescriptorConvertible
    /// Its descriptor at registration time.
    public let fd: CInt
    /// The watched events: ``EVENT_READ``, ``EVENT_WRITE`` or both.
    public let events: Int
}

/// A selector: register objects for events, then wait until some are ready.
///
/// Selectors are not thread-safe (as in Python); use each from one thread.
///
/// Python: selectors.BaseSelector (Lib/selectors.py)
public protocol BaseSelector: AnyObject {
    /// An empty selector.
    ///
    /// - Throws: the error of the system call that makes it, if it needs one (epoll).
    ///
    /// Python: selectors.BaseSelector subclasses, called with no arguments
    init() throws
    /// Register `fileobj` for `events` (a nonzero subset of `EVENT_READ | EVENT_WRITE`).
    ///
    /// - Throws: `ValueError("Invalid file descriptor: -1")` for a negative descriptor,
    ///   `ValueError("Invalid events: N")`, `KeyError` when already registered, or the
    ///   error of the system call.
    ///
    /// Python: selectors.BaseSelector.register (Lib/selectors.py)
    func register(_ fileobj: any FileDescriptorConvertible, _ events: Int) throws -> SelectorKey
    /// Stop watching `fileobj` (found by identity even if it is now closed).
    ///
    /// - Throws: `KeyError` when it is not registered.
    ///
    /// Python: selectors.BaseSelector.unregister (Lib/selectors.py)
    func unregister(_ fileobj: any FileDescriptorConvertible) throws -> SelectorKey
    /// Wait until some registered objects are ready, or `timeout` seconds pass (`nil`: wait
    /// forever; ≤ 0: just poll). Returns the ready keys with the ready events.
    ///
    /// Python: selectors.BaseSelector.select (Lib/selectors.py)
    func select(_ timeout: Double?) throws -> [(key: SelectorKey, events: Int)]
    /// Forget every registration and release the selector's resources.
    ///
    /// Python: selectors.BaseSelector.close (Lib/selectors.py)
    func close()
    /// The registrations by descriptor.
    ///
    /// Python: selectors.BaseSelector.get_map (Lib/selectors.py)
    var map: [CInt: SelectorKey] { get }
}

// MARK: - _BaseSelectorImpl

/// The registration table shared by the selectors, in registration order.
///
/// Python: selectors._BaseSelectorImpl (Lib/selectors.py)
struct SelectorTable {
    private(set) var fdToKey: [CInt: SelectorKey] = [:]
    private(set) var order: [CInt] = []

    /// The descriptor of `fileobj`: an object whose `fileno()` is missing (AttributeError)
    /// or fails with TypeError or ValueError is an invalid file object.
    ///
    /// Python: selectors._fileobj_to_fd (Lib/selectors.py)
    static func fileobjToFD(_ fileobj: any FileDescriptorConvertible) throws -> CInt {
        let fd: CInt
        do {
            fd = try fileobj.fileno()
        } catch is AttributeError {
            throw ValueError("Invalid file object: \(objectRepr(fileobj))")
        } catch is ValueError {
            throw ValueError("Invalid file object: \(objectRepr(fileobj))")
        } catch is TypeError {
            throw ValueError("Invalid file object: \(objectRepr(fileobj))")
        }
        if fd < 0 { throw ValueError("Invalid file descriptor: \(fd)") }
        return fd
    }

    /// `repr(fileobj)`: its `description` if it has one, else Python's default form,
    /// `<SocketServer.BaseServer object at 0x7f51a1476e40>` (the Swift module and type name,
    /// and the object's address).
    ///
    /// Python: object.__repr__ (Objects/typeobject.c)
    static func objectRepr(_ fileobj: any FileDescriptorConvertible) -> String {
        if let described = fileobj as? any CustomStringConvertible { return described.description }
        let address = UInt(bitPattern: ObjectIdentifier(fileobj))
        return "<\(String(reflecting: type(of: fileobj))) object at 0x\(String(address, radix: 16))>"
    }

    /// Python: selectors._BaseSelectorImpl._fileobj_lookup (Lib/selectors.py)
    func lookup(_ fileobj: any FileDescriptorConvertible) throws -> CInt {
        do {
            return try Self.fileobjToFD(fileobj)
        } catch let error as ValueError {
            for fd in order where fdToKey[fd]!.fileobj === fileobj {
                return fd
            }
            throw error
        }
    }

    /// Python: selectors._BaseSelectorImpl.register (Lib/selectors.py)
    mutating func register(_ fileobj: any FileDescriptorConvertible, _ events: Int) throws -> SelectorKey {
        if events == 0 || events & ~(EVENT_READ | EVENT_WRITE) != 0 {
            throw ValueError("Invalid events: \(events)")
        }
        let key = SelectorKey(fileobj: fileobj, fd: try lookup(fileobj), events: events)
        if fdToKey[key.fd] != nil {
            throw KeyError("\(String(describing: fileobj)) (FD \(key.fd)) is already registered")
        }
        fdToKey[key.fd] = key
        order.append(key.fd)
        return key
    }

    /// Python: selectors._BaseSelectorImpl.unregister (Lib/selectors.py)
    mutating func unregister(_ fileobj: any FileDescriptorConvertible) throws -> SelectorKey {
        let fd: CInt
        do {
            fd = try lookup(fileobj)
        } catch is ValueError {
            throw KeyError("\(String(describing: fileobj)) is not registered")
        }
        guard let key = fdToKey.removeValue(forKey: fd) else {
            throw KeyError("\(String(describing: fileobj)) is not registered")
        }
        order.removeAll { $0 == fd }
        return key
    }

    /// Python: selectors._BaseSelectorImpl.close (Lib/selectors.py)
    mutating func removeAll() {
        fdToKey.removeAll()
        order.removeAll()
    }

    /// What a select returns for the (descriptor, events) pairs its system call reported: the
    /// key of each registered descriptor with the ready events it watches (a descriptor no
    /// longer registered is left out).
    ///
    /// Python: the `key = self._fd_to_key.get(fd)` loop of each selector's select (Lib/selectors.py)
    func ready<Reported: Sequence<(fd: CInt, events: Int)>>(_ reported: Reported) -> [(key: SelectorKey, events: Int)] {
        reported.compactMap { fd, events in fdToKey[fd].map { ($0, events & $0.events) } }
    }

    /// Python's mapping of poll-like revents to selector events: any bit but the write bit
    /// reads as EVENT_READ, any bit but the read bit as EVENT_WRITE.
    static func events(_ revents: UInt32, readBit: UInt32, writeBit: UInt32) -> Int {
        ((revents & ~readBit) != 0 ? EVENT_WRITE : 0) | ((revents & ~writeBit) != 0 ? EVENT_READ : 0)
    }
}

/// A selector's wait: `attempt` called again on EINTR with what is left of `timeout` (PEP 475),
/// and a SIGINT that arrived raised as ``KeyboardInterrupt``, before the wait or when it
/// interrupts the wait.
///
/// - Returns: what `attempt` returned, or nil when the time ran out.
///
/// Python: the EINTR loop of select.poll.poll, select.select and select.epoll.poll (Modules/selectmodule.c)
func waitRetryingEINTR<R>(timeout: Double?, _ attempt: (_ left: Double?) throws(OSError) -> R) throws -> R? {
    try InterruptSignal.check()
    let result = try retryingEINTR(timeout: timeout, unless: { InterruptSignal.isPending }, attempt)
    try InterruptSignal.check()
    return result
}

// MARK: - PollSelector

/// A selector over poll(2). Any revents other than POLLOUT alone (POLLIN, POLLHUP,
/// POLLERR, POLLNVAL) reads as ``EVENT_READ``, so a closed descriptor reads as ready.
/// EINTR is retried with the remaining timeout (PEP 475).
///
/// Python: selectors.PollSelector (Lib/selectors.py)
public final class PollSelector: BaseSelector {
    // Neither is accessed in overlap (a selector belongs to the thread that selects on it, as
    // in CPython); the run-time exclusivity checks cost two a select, about 150 instructions.
    @exclusivity(unchecked) private var table = SelectorTable()
    /// The `pollfd` of each registered descriptor, in registration order: kept in step with
    /// the table rather than made on every select (a server selects once per request), and
    /// handed to poll(2) as it is, which writes only the `revents`.
    @exclusivity(unchecked) private var pollfds: [pollfd] = []

    /// An empty selector.
    ///
    /// Python: selectors.PollSelector.__init__ (Lib/selectors.py)
    public init() {}

    /// Python: selectors._PollLikeSelector.register (Lib/selectors.py)
    public func register(_ fileobj: any FileDescriptorConvertible, _ events: Int) throws -> SelectorKey {
        let key = try table.register(fileobj, events)
        var watched: Int16 = 0
        if events & EVENT_READ != 0 { watched |= Int16(POLLIN) }
        if events & EVENT_WRITE != 0 { watched |= Int16(POLLOUT) }
        pollfds.append(pollfd(fd: key.fd, events: watched, revents: 0))
        return key
    }

    /// Python: selectors._PollLikeSelector.unregister (Lib/selectors.py)
    public func unregister(_ fileobj: any FileDescriptorConvertible) throws -> SelectorKey {
        let key = try table.unregister(fileobj)
        pollfds.removeAll { $0.fd == key.fd }
        return key
    }

    /// `nil` waits forever, ≤ 0 polls, otherwise poll(2) for `ceil(timeout * 1000)` ms.
    ///
    /// Python: selectors._PollLikeSelector.select (Lib/selectors.py)
    public func select(_ timeout: Double? = nil) throws -> [(key: SelectorKey, events: Int)] {
        // Python: timeout = math.ceil(timeout * 1e3) (milliseconds), 0 when <= 0, None → -1.
        let milliseconds: Double? = timeout.map { $0 <= 0 ? 0 : ($0 * 1000).rounded(.up) }
        let seconds = milliseconds.map { $0 / 1000 }
        // Python: select.poll.poll, retrying EINTR with the recomputed timeout.
        let ms = milliseconds.map { $0 >= Double(CInt.max) ? CInt.max : CInt($0) } ?? -1
        let polled = try waitRetryingEINTR(timeout: seconds) { (left) throws(OSError) -> Int in
            let wait = left.map(pollMilliseconds) ?? ms
            return try pollfds.withUnsafeMutableBufferPointer { (buf) throws(OSError) -> Int in
                try sys_poll(buf.baseAddress, buf.count, wait)
            }
        }
        guard polled != nil else { return [] }
        return table.ready(
            pollfds.lazy.filter { $0.revents != 0 }.map { p in
                let revents = UInt32(UInt16(bitPattern: p.revents))
                return (p.fd, SelectorTable.events(revents, readBit: UInt32(POLLIN), writeBit: UInt32(POLLOUT)))
            })
    }

    /// Python: selectors._BaseSelectorImpl.close (Lib/selectors.py)
    public func close() {
        table.removeAll()
        pollfds.removeAll()
    }

    /// Python: selectors._BaseSelectorImpl.get_map (Lib/selectors.py)
    public var map: [CInt: SelectorKey] { table.fdToKey }
}

// MARK: - SelectSelector

/// A selector over select(2), limited to descriptors below `FD_SETSIZE` (1024).
///
/// Python: selectors.SelectSelector (Lib/selectors.py)
public final class SelectSelector: BaseSelector {
    private var table = SelectorTable()
    private static let fdSetSize = MemoryLayout<fd_set>.size * 8  // FD_SETSIZE

    /// An empty selector.
    ///
    /// Python: selectors.SelectSelector.__init__ (Lib/selectors.py)
    public init() {}

    /// Python: selectors.SelectSelector.register (Lib/selectors.py)
    public func register(_ fileobj: any FileDescriptorConvertible, _ events: Int) throws -> SelectorKey {
        try table.register(fileobj, events)
    }

    /// Python: selectors.SelectSelector.unregister (Lib/selectors.py)
    public func unregister(_ fileobj: any FileDescriptorConvertible) throws -> SelectorKey {
        try table.unregister(fileobj)
    }

    private static func set(_ fd: CInt, in set: inout fd_set) {
        withUnsafeMutableBytes(of: &set) { raw in
            let offset = Int(fd) / 64 * 8
            let word = raw.load(fromByteOffset: offset, as: UInt64.self) | (1 << UInt64(fd % 64))
            raw.storeBytes(of: word, toByteOffset: offset, as: UInt64.self)
        }
    }

    private static func isSet(_ fd: CInt, in set: fd_set) -> Bool {
        withUnsafeBytes(of: set) { raw in
            raw.load(fromByteOffset: Int(fd) / 64 * 8, as: UInt64.self) & (1 << UInt64(fd % 64)) != 0
        }
    }

    /// select(2) with `max(timeout, 0)` seconds (`nil`: forever).
    ///
    /// - Throws: `ValueError("filedescriptor out of range in select()")` for a descriptor
    ///   ≥ 1024; ``OSError`` (EBADF for a closed descriptor).
    ///
    /// Python: selectors.SelectSelector.select (Lib/selectors.py)
    public func select(_ timeout: Double? = nil) throws -> [(key: SelectorKey, events: Int)] {
        let seconds = timeout.map { max($0, 0) }
        let keys = table.order.map { table.fdToKey[$0]! }
        var nfds: CInt = 0
        for key in keys where Int(key.fd) >= Self.fdSetSize {
            throw ValueError("filedescriptor out of range in select()")
        }
        var readers = fd_set()
        var writers = fd_set()
        let selected = try waitRetryingEINTR(timeout: seconds) { (left) throws(OSError) -> Int in
            readers = fd_set()
            writers = fd_set()
            for key in keys {
                if key.events & EVENT_READ != 0 { Self.set(key.fd, in: &readers) }
                if key.events & EVENT_WRITE != 0 { Self.set(key.fd, in: &writers) }
                nfds = max(nfds, key.fd + 1)
            }
            guard let wait = left ?? seconds else { return try sys_select(nfds, &readers, &writers, nil) }
            var tv = timeval()
            let micros = (wait * 1e6).rounded(.up)
            tv.tv_sec = Int(micros / 1e6)
            tv.tv_usec = Int(micros) - tv.tv_sec * 1_000_000
            return try sys_select(nfds, &readers, &writers, &tv)
        }
        guard selected != nil else { return [] }
        return table.ready(
            keys.lazy.map { key in
                let events =
                    (Self.isSet(key.fd, in: readers) ? EVENT_READ : 0) | (Self.isSet(key.fd, in: writers) ? EVENT_WRITE : 0)
                return (key.fd, events)
            }.filter { $0.events != 0 })
    }

    /// Python: selectors._BaseSelectorImpl.close (Lib/selectors.py)
    public func close() {
        table.removeAll()
    }

    /// Python: selectors._BaseSelectorImpl.get_map (Lib/selectors.py)
    public var map: [CInt: SelectorKey] { table.fdToKey }
}

// MARK: - EpollSelector

/// A selector over epoll(7), with its own descriptor (`EPOLL_CLOEXEC`) closed by ``close()``.
///
/// Python: selectors.EpollSelector (Lib/selectors.py)
public final class EpollSelector: BaseSelector {
    private var table = SelectorTable()
    private var epfd: CInt

    /// A new epoll instance. The corresponding C function is `epoll_create1`.
    ///
    /// - Throws: ``OSError``.
    ///
    /// Python: selectors.EpollSelector.__init__ (Lib/selectors.py)
    public init() throws(OSError) {
        epfd = try sys_epoll_create1(EPOLL_CLOEXEC)
    }

    deinit {
        if epfd >= 0 { try? sys_close(epfd) }
    }

    /// The epoll descriptor, -1 once closed.
    ///
    /// Python: selectors.EpollSelector.fileno (Lib/selectors.py)
    public func fileno() -> CInt { epfd }

    private func checkOpen() throws {
        if epfd < 0 { throw ValueError("I/O operation on closed epoll object") }
    }

    /// Register, then `epoll_ctl(ADD)`; the registration is undone if that fails.
    ///
    /// Python: selectors._PollLikeSelector.register (Lib/selectors.py)
    public func register(_ fileobj: any FileDescriptorConvertible, _ events: Int) throws -> SelectorKey {
        let key = try table.register(fileobj, events)
        var pollerEvents: UInt32 = 0
        if events & EVENT_READ != 0 { pollerEvents |= EPOLLIN }
        if events & EVENT_WRITE != 0 { pollerEvents |= EPOLLOUT }
        do {
            try checkOpen()
            try sys_epoll_ctl(epfd, EPOLL_CTL_ADD, key.fd, pollerEvents)
        } catch {
            _ = try? table.unregister(fileobj)
            throw error
        }
        return key
    }

    /// Unregister, then `epoll_ctl(DEL)`, ignoring its errors (the descriptor may be closed).
    ///
    /// Python: selectors._PollLikeSelector.unregister (Lib/selectors.py)
    public func unregister(_ fileobj: any FileDescriptorConvertible) throws -> SelectorKey {
        let key = try table.unregister(fileobj)
        if epfd >= 0 { try? sys_epoll_ctl(epfd, EPOLL_CTL_DEL, key.fd, 0) }
        return key
    }

    /// `nil` waits forever, ≤ 0 polls, otherwise `ceil(timeout * 1000)` ms. EINTR is
    /// retried with the recomputed timeout.
    ///
    /// Python: selectors.EpollSelector.select (Lib/selectors.py)
    public func select(_ timeout: Double? = nil) throws -> [(key: SelectorKey, events: Int)] {
        try checkOpen()
        // Python: timeout = math.ceil(timeout * 1e3) (milliseconds), 0 when <= 0, None → -1.
        let milliseconds: Double? = timeout.map { $0 <= 0 ? 0 : ($0 * 1000).rounded(.up) }
        let seconds = milliseconds.map { $0 / 1000 }
        let maxEvents = max(table.fdToKey.count, 1)
        var buffer = [UInt8](repeating: 0, count: maxEvents * epollEventSize)
        let ms = milliseconds.map { $0 >= Double(CInt.max) ? CInt.max : CInt($0) } ?? -1
        let epfd = self.epfd
        let waited = try waitRetryingEINTR(timeout: seconds) { (left) throws(OSError) -> Int in
            let wait = left.map(pollMilliseconds) ?? ms
            var result: Result<Int, OSError> = .success(0)
            buffer.withUnsafeMutableBytes { raw in
                result = Result { () throws(OSError) -> Int in try sys_epoll_wait(epfd, raw, CInt(maxEvents), wait) }
            }
            return try result.get()
        }
        guard let n = waited else { return [] }
        return table.ready(
            (0..<n).lazy.map { i in
                let (revents, data) = buffer.withUnsafeBytes { raw in
                    (
                        raw.loadUnaligned(fromByteOffset: i * epollEventSize, as: UInt32.self),
                        raw.loadUnaligned(fromByteOffset: i * epollEventSize + epollDataOffset, as: UInt64.self)
                    )
                }
                return (CInt(truncatingIfNeeded: data), SelectorTable.events(revents, readBit: EPOLLIN, writeBit: EPOLLOUT))
            })
    }

    /// Close the epoll descriptor and forget every registration.
    ///
    /// Python: selectors.EpollSelector.close (Lib/selectors.py)
    public func close() {
        if epfd >= 0 {
            try? sys_close(epfd)
            epfd = -1
        }
        table.removeAll()
    }

    /// Python: selectors._BaseSelectorImpl.get_map (Lib/selectors.py)
    public var map: [CInt: SelectorKey] { table.fdToKey }
}

// MARK: - DefaultSelector

/// The most efficient selector the platform has: the first of kqueue, epoll, devpoll, poll and
/// select that exists, which on Linux is epoll (socketserver does not use it: see
/// `_ServerSelector`).
///
/// Python: selectors.DefaultSelector (Lib/selectors.py)
public typealias DefaultSelector = EpollSelector
