// Helpers of the Sockets tests: a raw pthread (for signals aimed at it), connected pairs.
import Glibc
import Sockets
import TestSupport
import Testing

/// A joinable pthread running a `@Sendable` closure; its `pthread_t` is what `pthread_kill`
/// aims a signal at (a `PThread` keeps its own hidden).
final class TestThread: @unchecked Sendable {
    private final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let thread: pthread_t

    init(_ body: @escaping @Sendable () -> Void) {
        var t = pthread_t()
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        let rc = pthread_create(&t, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed")
        thread = t
    }

    func join() { pthread_join(thread, nil) }
}

/// A socket of `type` bound to an ephemeral port of 127.0.0.1, and the address it got.
/// Caller closes it.
func loopbackSocket(_ type: CInt) throws -> (Socket, SocketAddress) {
    let s = try Socket(AF_INET, type)
    do {
        try s.bind(.inet(host: "127.0.0.1", port: 0))
        return (s, try s.getsockname())
    } catch {
        try? s.close()
        throw error
    }
}

/// A listening TCP socket on 127.0.0.1 with an ephemeral port.
func tcpListener() throws -> (Socket, Int) {
    let (l, address) = try loopbackSocket(SOCK_STREAM)
    try l.listen(8)
    return (l, address.port!)
}

/// A connected TCP pair over 127.0.0.1: (client, server side). Caller closes both.
func tcpPair() throws -> (Socket, Socket) {
    let (l, port) = try tcpListener()
    defer { try? l.close() }
    let c = try Socket(AF_INET, SOCK_STREAM)
    try c.connect(.inet(host: "127.0.0.1", port: port))
    let (s, _) = try l.accept()
    return (c, s)
}

/// A connected TCP pair over 127.0.0.1, (client, server side), for `body`; both are closed
/// after it.
func withTCPPair<R>(_ body: (Socket, Socket) throws -> R) throws -> R {
    let (c, s) = try tcpPair()
    defer {
        try? c.close()
        try? s.close()
    }
    return try body(c, s)
}

/// The FD_CLOEXEC flag of `fd`.
func isCloexec(_ fd: CInt) -> Bool {
    fcntl(fd, F_GETFD) & FD_CLOEXEC != 0
}

/// Whether `fd` has O_NONBLOCK.
func isNonBlocking(_ fd: CInt) -> Bool {
    fcntl(fd, F_GETFL) & O_NONBLOCK != 0
}

/// Bytes of a string.
func b(_ s: String) -> [UInt8] { Array(s.utf8) }

/// The OSError `body` throws, or nil.
func osError(_ body: () throws -> Void) -> OSError? {
    do {
        try body()
        return nil
    } catch let e as OSError {
        return e
    } catch {
        return nil
    }
}

// The test files import both Glibc and Sockets, which export the same C names with the
// same type; declarations of this module shadow both, ending the ambiguity.
let AF_INET = Sockets.AF_INET
let AF_INET6 = Sockets.AF_INET6
let AF_UNIX = Sockets.AF_UNIX
let SOCK_STREAM = Sockets.SOCK_STREAM
let SOCK_DGRAM = Sockets.SOCK_DGRAM
let SOL_SOCKET = Sockets.SOL_SOCKET
let SO_REUSEADDR = Sockets.SO_REUSEADDR
let SO_TYPE = Sockets.SO_TYPE
let IPPROTO_TCP = Sockets.IPPROTO_TCP
let TCP_NODELAY = Sockets.TCP_NODELAY
let SHUT_WR = Sockets.SHUT_WR
