// The design floor: what the framework's servers do for one request, as system calls and
// nothing else, written directly on Glibc. TCPServer's turn is poll on the listening socket,
// accept, the handler's recv(1024) and send, then shutdown(SHUT_WR) and close; UDPServer's is
// poll, recvfrom(8192) and sendto. The same backlog (the `_serve` QUEUE, 5 by default, as
// request_queue_size) and the same 0.5 s poll timeout (poll_interval). The gap between a
// framework row and its floor is what the framework costs.
import Glibc

import enum Sockets.ForkGate
import func Sockets.pyIsSpace

/// Serves TCP on 127.0.0.1 for ever: one request per turn, or a new thread per request.
func serveTCPFloor(threaded: Bool, queueSize: Int) -> Never {
    let (listener, port) = loopbackSocket(SOCK_STREAM)
    guard listen(listener, Int32(queueSize)) == 0 else { floorFailed("listen") }
    announceReady(port: port)
    serveReadableTurns(listener) { peer, length in
        let connection = floorAccept4(listener, peer, length, Int32(SOCK_CLOEXEC.rawValue))
        guard connection >= 0 else { return }
        if threaded {
            startAnswerThread(connection)
        } else {
            answer(connection)
        }
    }
}

/// A socket of `type` bound to 127.0.0.1 on a port the system picks, and that port.
func loopbackSocket(_ type: __socket_type) -> (fd: CInt, port: Int) {
    let fd = socket(AF_INET, Int32(type.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { floorFailed("socket") }
    return (fd, bindLoopback(fd))
}

/// The floor's loop, for ever: poll `fd` (0.5 s, as poll_interval), and each time it is
/// readable run `turn` with room for the peer's address and its length.
func serveReadableTurns(
    _ fd: CInt, _ turn: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Void
) -> Never {
    var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    while true {
        guard poll(&ready, 1, 500) > 0 else { continue }
        var peer = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        withUnsafeMutablePointer(to: &peer) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { turn($0, &length) }
        }
    }
}

// accept4 is declared only under _GNU_SOURCE, which the Glibc module does not import.
@_silgen_name("accept4") private func floorAccept4(
    _ fd: CInt, _ addr: UnsafeMutablePointer<sockaddr>?, _ len: UnsafeMutablePointer<socklen_t>?, _ flags: CInt
) -> CInt

/// The handler and the end of the request on one connection: recv(1024), strip and
/// upper-case in place, send it all, shutdown(SHUT_WR), close.
func answer(_ connection: CInt) {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1024) { buffer in
        let base = buffer.baseAddress!
        let count = recv(connection, base, 1024, 0)
        if count > 0 {
            let (start, end) = stripAndUpperInPlace(base, count)
            var sent = start
            while sent < end {
                let written = send(connection, base + sent, end - sent, Int32(MSG_NOSIGNAL))
                if written <= 0 { break }
                sent += written
            }
        }
    }
    shutdown(connection, Int32(SHUT_WR))
    close(connection)
}

/// A detached thread that answers `connection`; when no thread can start, the serving thread
/// answers it.
func startAnswerThread(_ connection: CInt) {
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    var thread = pthread_t()
    let argument = UnsafeMutableRawPointer(bitPattern: Int(connection) + 1)
    if pthread_create(&thread, &attributes, answerThreadEntry, argument) != 0 {
        answer(connection)
    }
    pthread_attr_destroy(&attributes)
}

/// The body of a thread of the threaded floor (a raw pthread, so it takes part in the fork
/// gate itself, from its first line to its last, as the port's PThread does).
private func answerThreadEntry(_ argument: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    ForkGate.enroll()
    answer(CInt(Int(bitPattern: argument) - 1))
    ForkGate.withdraw()
    return nil
}

/// Serves UDP on 127.0.0.1 for ever: poll, recvfrom(8192), strip and upper-case, sendto.
func serveUDPFloor() -> Never {
    let (socketFD, port) = loopbackSocket(SOCK_DGRAM)
    announceReady(port: port)
    let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: 8192)
    serveReadableTurns(socketFD) { peer, length in
        let count = recvfrom(socketFD, buffer, 8192, 0, peer, length)
        guard count >= 0 else { return }
        let (start, end) = stripAndUpperInPlace(buffer, count)
        _ = sendto(socketFD, buffer + start, end - start, Int32(MSG_NOSIGNAL), peer, length.pointee)
    }
}

/// `bytes.strip().upper()` on `count` bytes at `base`, in place; returns the kept range.
func stripAndUpperInPlace(_ base: UnsafeMutablePointer<UInt8>, _ count: Int) -> (Int, Int) {
    var start = 0
    var end = count
    while start < end && pyIsSpace(base[start]) { start += 1 }
    while end > start && pyIsSpace(base[end - 1]) { end -= 1 }
    for index in start..<end where base[index] >= 97 && base[index] <= 122 {
        base[index] -= 32
    }
    return (start, end)
}

/// Binds `fd` to 127.0.0.1 port 0 and returns the port it got.
func bindLoopback(_ fd: CInt) -> Int {
    var address = loopbackAddress(port: 0)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard bound == 0 else { floorFailed("bind") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { floorFailed("getsockname") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// 127.0.0.1 and `port`, as a `sockaddr_in`.
func loopbackAddress(port: UInt16) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
    return address
}

/// Reports a failed system call of the floor on standard error and exits 1.
func floorFailed(_ call: String) -> Never {
    let code = errno
    let text = "socketserver-bench: error: \(call): \(String(cString: strerror(code)))\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
    exit(1)
}
