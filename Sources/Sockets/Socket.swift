// Swift-only emulation of Python's socket.socket (Lib/socket.py over Modules/socketmodule.c).
import Glibc
import Synchronization

/// `SOCK_CLOEXEC` as a `CInt`.
let SOCK_CLOEXEC_FLAG: CInt = CInt(Glibc.SOCK_CLOEXEC.rawValue)

/// A socket owning one file descriptor, as Python's `socket.socket`.
///
/// Created with `SOCK_CLOEXEC` (PEP 446); SIGPIPE is ignored process-wide the first time a
/// socket is made, so writes to a closed peer fail with EPIPE. Every operation retries EINTR
/// (PEP 475). With a timeout (``settimeout(_:)``) the descriptor is non-blocking and each
/// operation polls until its deadline, then throws ``OSError/timedOut``, as CPython's
/// `sock_call_ex`. Operations on a closed socket throw `OSError(errno: EBADF)`.
///
/// Thread safety: the descriptor, the timeout, and the closed flag with the count of open
/// ``makefile(_:buffering:)`` objects are three atomic words (every operation reads the first
/// two, so a lock here cost two allocations per accepted socket and a lock and unlock per
/// call); `family`, `type` and `proto` are immutable. As in CPython, closing a socket while
/// another thread is blocked on it is the caller's business.
///
/// Python: socket.socket (Lib/socket.py)
public final class Socket: @unchecked Sendable, CustomStringConvertible, FileDescriptorConvertible {
    /// The descriptor, -1 once really closed (only ``close()`` sets it, by exchange, so the
    /// descriptor is closed once).
    private let descriptor: Atomic<CInt>
    /// The timeout's bit pattern, or ``blocking`` for `nil` (a timeout is never NaN).
    private let timeoutBits = Atomic<UInt64>(blocking)
    private static let blocking = UInt64.max
    /// `2 × ioRefs + (1 if closed)`, one word so that closing and dropping the last io
    /// reference each read the other's half in the same atomic step. Python: _closed, _io_refs
    private let closedAndIORefs = Atomic<Int>(0)
    private static let closedBit = 1
    private static let oneIORef = 2
    /// The address family (`AF_INET`, `AF_INET6`, `AF_UNIX`).
    ///
    /// Python: socket.socket.family (Lib/socket.py)
    public let family: CInt
    /// The socket type (`SOCK_STREAM`, `SOCK_DGRAM`).
    ///
    /// Python: socket.socket.type (Lib/socket.py)
    public let type: CInt
    /// The protocol, usually 0.
    ///
    /// Python: socket.socket.proto (Lib/socket.py)
    public let proto: CInt

    /// Create a socket. The corresponding C function is `socket`, with `SOCK_CLOEXEC`.
    ///
    /// - Throws: ``OSError``.
    ///
    /// Python: socket.socket.__init__ (Lib/socket.py)
    public init(_ family: CInt = AF_INET, _ type: CInt = SOCK_STREAM, _ proto: CInt = 0) throws(OSError) {
        _ = ignoreSIGPIPE
        let fd = try sys_socket(family, type | SOCK_CLOEXEC_FLAG, proto)
        self.family = family
        self.type = type
        self.proto = proto
        self.descriptor = Atomic(fd)
    }

    /// Adopt an open descriptor; the socket starts blocking (timeout `nil`) and owns `fileno`.
    ///
    /// Python: socket.socket(family, type, proto, fileno) (Lib/socket.py)
    public init(family: CInt, type: CInt, proto: CInt = 0, fileno: CInt) {
        _ = ignoreSIGPIPE
        self.family = family
        self.type = type
        self.proto = proto
        self.descriptor = Atomic(fileno)
    }

    /// Closes a descriptor still open, as CPython's finaliser (without the ResourceWarning).
    deinit {
        let fd = descriptor.load(ordering: .acquiring)
        if fd >= 0 { _ = Glibc.close(fd) }
    }

    /// A pair of connected sockets. The corresponding C function is `socketpair`.
    ///
    /// - Throws: ``OSError``.
    ///
    /// Python: socket.socketpair (Lib/socket.py)
    public static func socketpair(_ family: CInt = AF_UNIX, _ type: CInt = SOCK_STREAM) throws(OSError) -> (
        Socket, Socket
    ) {
        _ = ignoreSIGPIPE
        let (a, b) = try sys_socketpair(family, type | SOCK_CLOEXEC_FLAG, 0)
        return (Socket(family: family, type: type, fileno: a), Socket(family: family, type: type, fileno: b))
    }

    // MARK: - State

    /// The descriptor, or -1 once the socket is really closed.
    ///
    /// Python: socket.socket.fileno (Lib/socket.py)
    public func fileno() -> CInt {
        descriptor.load(ordering: .acquiring)
    }

    /// Whether ``close()`` was called (the descriptor may stay open while makefile objects
    /// are open).
    ///
    /// Python: socket.socket._closed (Lib/socket.py)
    public var closed: Bool {
        closedAndIORefs.load(ordering: .acquiring) & Self.closedBit != 0
    }

    /// The descriptor and timeout, or EBADF when closed.
    @inline(__always)
    private func snapshot() throws(OSError) -> (fd: CInt, timeout: Double?) {
        let fd = descriptor.load(ordering: .acquiring)
        if fd < 0 { throw OSError(errno: EBADF) }
        return (fd, gettimeout())
    }

    // MARK: - sock_call_ex

    /// `data.withUnsafeBytes` keeping the typed error (the standard one rethrows `any Error`).
    private func withBytes<R>(_ data: [UInt8], _ body: (UnsafeRawBufferPointer) throws(OSError) -> R)
        throws(OSError) -> R
    {
        var result: Result<R, OSError>? = nil
        data.withUnsafeBytes { buf in
            result = Result { () throws(OSError) -> R in try body(buf) }
        }
        return try result!.get()
    }

    /// Swift-only: run `op` as CPython's `sock_call_ex` does: with a timeout, first poll
    /// for readiness until the deadline (throwing ``OSError/timedOut``), retry EINTR, and
    /// poll again on EAGAIN.
    private func sockCall<R>(
        _ fd: CInt, writing: Bool, connect: Bool = false, timeout: Double?, deadline: Double? = nil,
        _ op: () throws(OSError) -> R
    ) throws(OSError) -> R {
        let hasTimeout = (timeout ?? 0) > 0
        var deadline = deadline
        while true {
            if hasTimeout || connect {
                var interval: Double? = nil
                if hasTimeout, let timeout {
                    let end = deadline ?? (monotonicNow() + timeout)
                    deadline = end
                    interval = end - monotonicNow()
                    if interval! < 0 { throw OSError.timedOut }
                }
                let ready = try retryingEINTR(timeout: interval) { (left) throws(OSError) in
                    try Self.waitForFD(fd, writing: writing, connect: connect, left ?? interval)
                }
                if ready != true { throw OSError.timedOut }
            }
            do throws(OSError) {
                return try retryingEINTR(op)
            } catch where hasTimeout && (error.errno == EAGAIN || error.errno == EWOULDBLOCK) {
                continue
            }
        }
    }

    /// One poll(2) of a single descriptor; false on timeout (CPython `internal_select`).
    private static func waitForFD(_ fd: CInt, writing: Bool, connect: Bool, _ interval: Double?) throws(OSError)
        -> Bool
    {
        var pfd = pollfd()
        pfd.fd = fd
        pfd.events = Int16(writing ? POLLOUT : POLLIN)
        if connect { pfd.events |= Int16(POLLERR) }
        let n = try sys_poll(&pfd, 1, pollMilliseconds(interval))
        return n > 0
    }

    // MARK: - Operations

    /// Bind to a local address.
    ///
    /// - Throws: ``OSError`` ("[Errno 98] Address already in use", ...).
    ///
    /// Python: socket.socket.bind (Lib/socket.py)
    public func bind(_ address: SocketAddress) throws(OSError) {
        let (fd, _) = try snapshot()
        try address.withSockAddr(family: family, caller: "bind()") { (sa, len) throws(OSError) in
            try sys_bind(fd, sa, len)
        }
    }

    /// Listen for connections; a negative backlog is 0.
    ///
    /// Python: socket.socket.listen (Lib/socket.py)
    public func listen(_ backlog: Int = 128) throws(OSError) {
        let (fd, _) = try snapshot()
        try sys_listen(fd, CInt(clamping: max(backlog, 0)))
    }

    /// Accept a connection: the new socket and the peer's address.
    ///
    /// The new socket has `SOCK_CLOEXEC` and is blocking (timeout `nil`) even when this
    /// listening socket has a timeout, as CPython when `getdefaulttimeout()` is `None`.
    /// The corresponding C function is `accept4`.
    ///
    /// Python: socket.socket.accept (Lib/socket.py)
    public func accept() throws(OSError) -> (Socket, SocketAddress) {
        let (fd, timeout) = try snapshot()
        let (newFD, address) = try SocketAddress.fromKernel { (sa, len) throws(OSError) -> CInt in
            try sockCall(fd, writing: false, timeout: timeout) { () throws(OSError) -> CInt in
                len.pointee = socklen_t(MemoryLayout<sockaddr_storage>.size)
                return try sys_accept4(fd, sa, len, SOCK_CLOEXEC_FLAG)
            }
        }
        let sock = Socket(family: family, type: type, proto: proto, fileno: newFD)
        // Python: if getdefaulttimeout() is None and self.gettimeout(): sock.setblocking(True)
        // accept4 without SOCK_NONBLOCK already returns a blocking descriptor.
        return (sock, address)
    }

    /// Connect to a remote address; with a timeout, wait for the connection until it expires.
    ///
    /// Python: socket.socket.connect (Lib/socket.py)
    public func connect(_ address: SocketAddress) throws(OSError) {
        let (fd, timeout) = try snapshot()
        try address.withSockAddr(family: family, caller: "connect()") { (sa, len) throws(OSError) in
            let failure: OSError
            do throws(OSError) {
                try sys_connect(fd, sa, len)
                return
            } catch {
                failure = error
            }
            // CPython internal_connect: wait on EINTR, or on EINPROGRESS with a timeout.
            let waitConnect =
                failure.errno == EINTR ? timeout != 0 : ((timeout ?? 0) > 0 && failure.errno == EINPROGRESS)
            guard waitConnect else { throw failure }
            try sockCall(fd, writing: true, connect: true, timeout: timeout) { () throws(OSError) in
                let err = try sys_getsockopt(fd, SOL_SOCKET, SO_ERROR)
                if err != 0 && err != EISCONN { throw OSError(errno: err) }
            }
        }
    }

    /// Receive up to `bufsize` bytes; `[]` means the peer closed the connection.
    ///
    /// Differs from Python: a negative `bufsize` throws `OSError("negative buffersize in
    /// recv")` where CPython raises `ValueError`.
    ///
    /// Python: socket.socket.recv (Lib/socket.py)
    public func recv(_ bufsize: Int, _ flags: CInt = 0) throws(OSError) -> [UInt8] {
        if bufsize < 0 { throw OSError("negative buffersize in recv") }
        return try received(bufsize) { (buffer) throws(OSError) -> Int in try recvInto(buffer, flags) }
    }

    /// The bytes `fill` writes into a buffer of `capacity` bytes (it returns how many).
    ///
    /// The buffer is a temporary one, copied out at its length: the array initialiser that
    /// writes in place is not specialised here and looks up the array's type at run time on
    /// every call (callgrind: a fifteenth of an untraced TCP request).
    @inline(__always)
    private func received(
        _ capacity: Int, _ fill: (UnsafeMutableRawBufferPointer) throws(OSError) -> Int
    ) throws(OSError) -> [UInt8] {
        var failure: OSError? = nil
        let bytes = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(capacity, 1)) { buffer -> [UInt8] in
            do throws(OSError) {
                let count = try fill(UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[..<capacity])))
                return Array(buffer[..<count])
            } catch {
                failure = error
                return []
            }
        }
        if let failure { throw failure }
        return bytes
    }

    /// Receive into `buffer`; returns the number of bytes, 0 at end of stream.
    ///
    /// Python: socket.socket.recv_into (Lib/socket.py)
    public func recvInto(_ buffer: UnsafeMutableRawBufferPointer, _ flags: CInt = 0) throws(OSError) -> Int {
        let (fd, timeout) = try snapshot()
        return try sockCall(fd, writing: false, timeout: timeout) { () throws(OSError) -> Int in
            try sys_recv(fd, buffer, flags)
        }
    }

    /// Receive one datagram of at most `bufsize` bytes (the rest is silently dropped) and
    /// its sender's address.
    ///
    /// Python: socket.socket.recvfrom (Lib/socket.py)
    public func recvfrom(_ bufsize: Int, _ flags: CInt = 0) throws(OSError) -> ([UInt8], SocketAddress) {
        if bufsize < 0 { throw OSError("negative buffersize in recvfrom") }
        let (fd, timeout) = try snapshot()
        var address = SocketAddress.unnamed
        let bytes = try received(bufsize) { (buffer) throws(OSError) -> Int in
            let (count, from) = try SocketAddress.fromKernel { (sa, len) throws(OSError) -> Int in
                try sockCall(fd, writing: false, timeout: timeout) { () throws(OSError) -> Int in
                    len.pointee = socklen_t(MemoryLayout<sockaddr_storage>.size)
                    return try sys_recvfrom(fd, buffer, flags, sa, len)
                }
            }
            address = from
            return count
        }
        return (bytes, address)
    }

    /// Send bytes; returns how many were sent, which may be fewer than `data.count`.
    ///
    /// Python: socket.socket.send (Lib/socket.py)
    public func send(_ data: [UInt8], _ flags: CInt = 0) throws(OSError) -> Int {
        let (fd, timeout) = try snapshot()
        return try withBytes(data) { (buf) throws(OSError) -> Int in
            try sockCall(fd, writing: true, timeout: timeout) { () throws(OSError) -> Int in
                try sys_send(fd, buf, flags)
            }
        }
    }

    /// Send all the bytes, calling send(2) until done; EINTR is retried. With a timeout, the
    /// timeout bounds the total duration (Python 3.5+).
    ///
    /// Python: socket.socket.sendall (Lib/socket.py)
    public func sendall(_ data: [UInt8], _ flags: CInt = 0) throws(OSError) {
        let (fd, timeout) = try snapshot()
        let deadline: Double? = (timeout ?? 0) > 0 ? monotonicNow() + timeout! : nil
        try withBytes(data) { (all) throws(OSError) in
            var offset = 0
            repeat {
                if let deadline, deadline - monotonicNow() <= 0 { throw OSError.timedOut }
                let rest = UnsafeRawBufferPointer(rebasing: all[offset...])
                offset += try sockCall(fd, writing: true, timeout: timeout, deadline: deadline) {
                    () throws(OSError) -> Int in
                    try sys_send(fd, rest, flags)
                }
            } while offset < all.count
        }
    }

    /// Send a datagram to `address`; returns the number of bytes sent.
    ///
    /// Python: socket.socket.sendto (Lib/socket.py)
    public func sendto(_ data: [UInt8], _ address: SocketAddress) throws(OSError) -> Int {
        let (fd, timeout) = try snapshot()
        return try address.withSockAddr(family: family, caller: "sendto()") { (sa, len) throws(OSError) -> Int in
            try withBytes(data) { (buf) throws(OSError) -> Int in
                try sockCall(fd, writing: true, timeout: timeout) { () throws(OSError) -> Int in
                    try sys_sendto(fd, buf, 0, sa, len)
                }
            }
        }
    }

    /// Shut down one or both halves of the connection (`SHUT_RD`, `SHUT_WR`, `SHUT_RDWR`).
    ///
    /// Python: socket.socket.shutdown (Lib/socket.py)
    public func shutdown(_ how: CInt) throws(OSError) {
        let (fd, _) = try snapshot()
        try sys_shutdown(fd, how)
    }

    /// Close the socket. Idempotent. Marks the socket closed first; the descriptor is really
    /// closed now, or when the last open ``makefile(_:buffering:)`` object closes. The close
    /// is never retried and ECONNRESET is ignored (CPython `sock_close`).
    ///
    /// Python: socket.socket.close (Lib/socket.py)
    public func close() throws(OSError) {
        let before = closedAndIORefs.bitwiseOr(Self.closedBit, ordering: .acquiringAndReleasing).oldValue
        guard before < Self.oneIORef else { return }
        // Python: self._real_close()
        let fd = descriptor.exchange(-1, ordering: .acquiringAndReleasing)
        guard fd >= 0 else { return }
        do throws(OSError) {
            try sys_close(fd)
        } catch where error.errno == ECONNRESET {
            // CPython sock_close: ECONNRESET on close is not an error.
        }
    }

    /// One makefile object closed: drop an io reference, and really close the socket if it
    /// was closed and this was the last one.
    ///
    /// Python: socket.socket._decref_socketios (Lib/socket.py)
    func _decrefSocketios() throws(OSError) {
        var current = closedAndIORefs.load(ordering: .acquiring)
        while current >= Self.oneIORef {
            let (exchanged, seen) = closedAndIORefs.compareExchange(
                expected: current, desired: current - Self.oneIORef, ordering: .acquiringAndReleasing)
            if exchanged { break }
            current = seen
        }
        if current & Self.closedBit != 0 { try close() }
    }

    /// Set the timeout: `nil` blocking, 0 non-blocking, > 0 seconds per operation.
    ///
    /// Differs from Python: a failure of fcntl(2) (e.g. on a closed socket) is ignored.
    ///
    /// - Throws: `ValueError("Timeout value out of range")` for a negative value.
    ///
    /// Python: socket.socket.settimeout (Lib/socket.py)
    public func settimeout(_ value: Double?) throws(ValueError) {
        if let value {
            if value.isNaN { throw ValueError("Invalid value NaN (not a number)") }
            if value < 0 { throw ValueError("Timeout value out of range") }
        }
        storeTimeout(value)
    }

    /// The timeout in seconds, `nil` when blocking.
    ///
    /// Python: socket.socket.gettimeout (Lib/socket.py)
    public func gettimeout() -> Double? {
        let bits = timeoutBits.load(ordering: .acquiring)
        return bits == Self.blocking ? nil : Double(bitPattern: bits)
    }

    /// `setblocking(true)` is `settimeout(nil)`; `setblocking(false)` is `settimeout(0)`.
    ///
    /// Python: socket.socket.setblocking (Lib/socket.py)
    public func setblocking(_ flag: Bool) {
        storeTimeout(flag ? nil : 0)
    }

    /// Stores a timeout already checked, and makes the descriptor non-blocking when there is one.
    private func storeTimeout(_ value: Double?) {
        timeoutBits.store(value.map(\.bitPattern) ?? Self.blocking, ordering: .releasing)
        Self.setNonBlocking(fileno(), value != nil)
    }

    private static func setNonBlocking(_ fd: CInt, _ nonBlocking: Bool) {
        guard fd >= 0, let flags = try? sys_fcntl_getfl(fd) else { return }
        let newFlags = nonBlocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK
        if newFlags != flags { try? sys_fcntl_setfl(fd, newFlags) }
    }

    /// Set an integer socket option.
    ///
    /// Python: socket.socket.setsockopt (Lib/socket.py)
    public func setsockopt(_ level: CInt, _ option: CInt, _ value: CInt) throws(OSError) {
        let (fd, _) = try snapshot()
        try sys_setsockopt(fd, level, option, value)
    }

    /// Read an integer socket option.
    ///
    /// Python: socket.socket.getsockopt (Lib/socket.py)
    public func getsockopt(_ level: CInt, _ option: CInt) throws(OSError) -> CInt {
        let (fd, _) = try snapshot()
        return try sys_getsockopt(fd, level, option)
    }

    /// The local address.
    ///
    /// Python: socket.socket.getsockname (Lib/socket.py)
    public func getsockname() throws(OSError) -> SocketAddress {
        let (fd, _) = try snapshot()
        return try SocketAddress.fromKernel { (sa, len) throws(OSError) in try sys_getsockname(fd, sa, len) }.1
    }

    /// The remote address.
    ///
    /// Python: socket.socket.getpeername (Lib/socket.py)
    public func getpeername() throws(OSError) -> SocketAddress {
        let (fd, _) = try snapshot()
        return try SocketAddress.fromKernel { (sa, len) throws(OSError) in try sys_getpeername(fd, sa, len) }.1
    }

    /// A file object over the socket.
    ///
    /// `mode` is made of `r`, `w` and `b` only (else `ValueError`). `buffering` `nil` or
    /// negative means ``DEFAULT_BUFFER_SIZE``; 0 returns the raw ``SocketIO`` (binary only);
    /// otherwise a ``BufferedReader`` ("rb"), ``BufferedWriter`` ("wb") or ``BufferedRWPair``
    /// ("rwb"). Each call adds an io reference that keeps the descriptor open after
    /// ``close()`` until the file object is closed.
    ///
    /// Differs from Python: text modes (no `b`) return the same binary object; CPython wraps
    /// it in a `TextIOWrapper`.
    ///
    /// Python: socket.socket.makefile (Lib/socket.py)
    public func makefile(_ mode: String = "r", buffering: Int? = nil) throws -> IOBase {
        if !mode.allSatisfy({ "rwb".contains($0) }) {
            throw ValueError("invalid mode \(pyStrRepr(mode)) (only r, w, b allowed)")
        }
        let writing = mode.contains("w")
        let reading = mode.contains("r") || !writing
        let binary = mode.contains("b")
        var rawmode = ""
        if reading { rawmode += "r" }
        if writing { rawmode += "w" }
        let raw = try SocketIO(self, rawmode)
        closedAndIORefs.wrappingAdd(Self.oneIORef, ordering: .acquiringAndReleasing)
        var buffering = buffering ?? -1
        if buffering < 0 { buffering = DEFAULT_BUFFER_SIZE }
        if buffering == 0 {
            if !binary { throw ValueError("unbuffered streams must be binary") }
            return raw
        }
        if reading && writing {
            return try BufferedRWPair(raw, raw, buffering)
        } else if reading {
            return try BufferedReader(raw, buffering)
        } else {
            return try BufferedWriter(raw, buffering)
        }
    }

    /// "<socket fd=5, family=2, type=1>", or "<socket [closed]>" after ``close()``.
    ///
    /// Differs from Python: CPython's repr is longer
    /// ("<socket.socket fd=5, family=2, type=1, proto=0, laddr=...>").
    public var description: String {
        let fd = fileno()
        if closed { return "<socket [closed]>" }
        return "<socket fd=\(fd), family=\(family), type=\(type)>"
    }
}
