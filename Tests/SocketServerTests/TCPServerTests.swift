// TCPServer, UDPServer and Unix-server behaviour that CPython's test_socketserver.py does not
// check (inventory 4.3, items 19-27 and 35-37): socket options, listen's backlog,
// bind_and_activate=False, IPv6, ENOTCONN, datagram truncation and replies, the unbound Unix
// datagram client, accepted sockets' blocking mode, the context manager, Unix socket files.
import Glibc
import SocketServer
import Sockets
import TestSupport
import Testing

// MARK: - Servers

final class ReuseAddressServer: TCPServer, @unchecked Sendable {
    override class var allowReuseAddress: Bool { true }
}

final class ReusePortServer: TCPServer, @unchecked Sendable {
    override class var allowReusePort: Bool { true }
}

/// Records the backlog server_activate passes to listen().
final class BacklogServer: TCPServer, @unchecked Sendable {
    override class var requestQueueSize: Int { 17 }
    let activatedWith = Box<Int?>(nil)

    override func serverActivate() throws {
        activatedWith.set(requestQueueSize)
        try super.serverActivate()
    }
}

/// Counts server_close calls: __init__ must call the most derived one when bind fails.
final class CloseCountingThreadingServer: ThreadingTCPServer, @unchecked Sendable {
    /// Class-level: a failed init leaves no instance to ask.
    static let closes = Box(0)

    override func serverClose() throws {
        Self.closes.increment()
        try super.serverClose()
    }
}

final class TCP6Server: TCPServer, @unchecked Sendable {
    override class var addressFamily: CInt { Sockets.AF_INET6 }
}

/// Whether this machine can bind ::1.
let ipv6Available: Bool = {
    guard let probe = try? Socket(Sockets.AF_INET6, SOCK_STREAM) else { return false }
    defer { try? probe.close() }
    return (try? probe.bind(.inet6(host: "::1", port: 0))) != nil
}()

/// `SO_ACCEPTCONN`: whether the socket listens.
func isListening(_ sock: Socket) throws -> Bool {
    try sock.getsockopt(Sockets.SOL_SOCKET, CInt(SO_ACCEPTCONN)) != 0
}

// MARK: - TCPServer setup

@Suite("TCPServer setup", .serialized)
struct TCPServerSetupTests {
    /// The class attributes' defaults are CPython's.
    @Test("request_queue_size is 5 and max_packet_size 8192 unless a class says otherwise")
    func classDefaults() {
        #expect(TCPServer.requestQueueSize == 5)
        #expect(UDPServer.maxPacketSize == 8192)
    }

    /// allow_reuse_address sets Sockets.SO_REUSEADDR before bind; the default does not, nor
    /// UDPServer's (which turns allow_reuse_port off too).
    @Test("allow_reuse_address sets Sockets.SO_REUSEADDR", .timeLimit(.minutes(1)))
    func reuseAddress() throws {
        let servers: [(server: TCPServer.Type, handler: BaseRequestHandler.Type, reuses: Bool)] = [
            (TCPServer.self, StreamRequestHandler.self, false),
            (ReuseAddressServer.self, StreamRequestHandler.self, true),
            (UDPServer.self, DatagramRequestHandler.self, false),
        ]
        for (serverClass, handler, reuses) in servers {
            let server = try serverClass.init(.inet(host: HOST, port: 0), handler)
            defer { try? server.serverClose() }
            #expect(server.allowReuseAddress == reuses, "\(serverClass)")
            #expect((try server.socket.getsockopt(Sockets.SOL_SOCKET, Sockets.SO_REUSEADDR) != 0) == reuses, "\(serverClass)")
        }
        #expect(!UDPServer.allowReuseAddress && !UDPServer.allowReusePort)
    }

    /// allow_reuse_port sets Sockets.SO_REUSEPORT: two such servers may bind the same port.
    @Test("allow_reuse_port sets Sockets.SO_REUSEPORT", .timeLimit(.minutes(1)))
    func reusePort() throws {
        let first = try ReusePortServer(.inet(host: HOST, port: 0), StreamRequestHandler.self)
        defer { try? first.serverClose() }
        #expect(try first.socket.getsockopt(Sockets.SOL_SOCKET, Sockets.SO_REUSEPORT) != 0)
        let second = try ReusePortServer(first.serverAddress, StreamRequestHandler.self)
        defer { try? second.serverClose() }
        #expect(second.serverAddress == first.serverAddress)
        #expect(throws: OSError(errno: EADDRINUSE)) {
            _ = try TCPServer(first.serverAddress, StreamRequestHandler.self)
        }
    }

    /// request_queue_size is what server_activate passes to listen().
    @Test("request_queue_size is passed to listen", .timeLimit(.minutes(1)))
    func requestQueueSize() throws {
        let server = try BacklogServer(.inet(host: HOST, port: 0), StreamRequestHandler.self)
        defer { try? server.serverClose() }
        #expect(server.requestQueueSize == 17)
        #expect(server.activatedWith.value == 17)
        #expect(try isListening(server.socket))
    }

    /// bind_and_activate=False: the socket exists but is neither bound nor listening; the
    /// caller may set options, then bind and activate.
    @Test("bind_and_activate false defers bind and listen", .timeLimit(.minutes(1)))
    func bindAndActivateFalse() throws {
        let server = try TCPServer(
            .inet(host: HOST, port: 0), MyStreamHandler.self, bindAndActivate: false)
        defer { try? server.serverClose() }
        #expect(server.serverAddress == .inet(host: HOST, port: 0))
        #expect(try server.socket.getsockname() == .inet(host: "0.0.0.0", port: 0))
        #expect(try !isListening(server.socket))
        server.allowReuseAddress = true
        try server.serverBind()
        #expect(server.serverAddress.port != 0)
        #expect(try server.socket.getsockopt(Sockets.SOL_SOCKET, Sockets.SO_REUSEADDR) != 0)
        try server.serverActivate()
        #expect(try isListening(server.socket))
        let client = try connectedClient(server.serverAddress)
        defer { try? client.close() }
        try client.sendall(TEST_STR)
        try server.handleRequest()
        #expect(try receiveLine(client) == TEST_STR)
    }

    /// A failed bind closes the server through the most derived server_close (here
    /// ThreadingMixIn's) and re-raises.
    @Test("a failed bind calls server_close and re-raises", .timeLimit(.minutes(1)))
    func bindFailureCloses() throws {
        let holder = try TCPServer(.inet(host: HOST, port: 0), StreamRequestHandler.self)
        defer { try? holder.serverClose() }
        let before = CloseCountingThreadingServer.closes.value
        let error = #expect(throws: OSError.self) {
            _ = try CloseCountingThreadingServer(holder.serverAddress, StreamRequestHandler.self)
        }
        #expect(CloseCountingThreadingServer.closes.value - before == 1)
        #expect(error?.errno == EADDRINUSE)
        #expect(error?.description == "[Errno 98] Address already in use")
        #expect(error?.kind == .other)
    }

    /// A failed listen (server_activate) also closes the server and re-raises (Issue 22435).
    @Test("a failed listen calls server_close and re-raises", .timeLimit(.minutes(1)))
    func listenFailureCloses() throws {
        let before = CloseCountingThreadingServer.closes.value
        let error = #expect(throws: OSError.self) {
            try SyscallFaults.injecting(.init(.listen, errno: EADDRINUSE)) {
                _ = try CloseCountingThreadingServer(.inet(host: HOST, port: 0), StreamRequestHandler.self)
            }
        }
        #expect(error?.errno == EADDRINUSE)
        #expect(CloseCountingThreadingServer.closes.value - before == 1)
    }

    /// CPython raises OverflowError("bind(): port must be 0-65535.") for port -1; Sockets
    /// reports it as an OSError without errno, which should carry the same message.
    @Test("an out-of-range port fails with CPython's message", .timeLimit(.minutes(1)))
    func portOutOfRange() throws {
        let error = #expect(throws: OSError.self) {
            _ = try TCPServer(.inet(host: HOST, port: -1), StreamRequestHandler.self)
        }
        #expect(error?.errno == nil)
        #expect(error?.description == "bind(): port must be 0-65535.")
    }

    /// Sockets.AF_INET6 on ::1: the bound address is the 4-tuple, and a client is served.
    @Test("an Sockets.AF_INET6 server on ::1", .timeLimit(.minutes(1)), .enabled(if: ipv6Available))
    func ipv6() throws {
        let server = try TCP6Server(.inet6(host: "::1", port: 0), MyStreamHandler.self)
        #expect(server.serverAddress.host == "::1")
        #expect(server.serverAddress == (try server.socket.getsockname()))
        guard case .inet6(_, let port, 0, 0) = server.serverAddress else {
            Issue.record("server_address is not ('::1', port, 0, 0): \(server.serverAddress)")
            return
        }
        #expect(port > 0)
        let dir = try TempDir()
        defer { dir.remove() }
        let serving = try ServingThread(server)
        try streamExamine(Sockets.AF_INET6, server.serverAddress, dir, 0)
        server.shutdown()
        try serving.join()
        try server.serverClose()
        #expect(server.socket.fileno() == -1)
    }

    /// shutdown_request swallows the OSError of shutdown() (ENOTCONN on an unconnected
    /// socket) and still closes the request.
    @Test("shutdown_request swallows ENOTCONN", .timeLimit(.minutes(1)))
    func enotconn() throws {
        let server = try TCPServer(.inet(host: HOST, port: 0), StreamRequestHandler.self)
        defer { try? server.serverClose() }
        let probe = try Socket(Sockets.AF_INET, SOCK_STREAM)
        defer { try? probe.close() }
        #expect(throws: OSError(errno: ENOTCONN)) { try probe.shutdown(SHUT_WR) }
        let unconnected = try Socket(Sockets.AF_INET, SOCK_STREAM)
        try server.shutdownRequest(.stream(unconnected))
        #expect(unconnected.fileno() == -1, "close_request ran after the swallowed error")
    }

    /// The listening socket's timeout is not inherited: accepted sockets are blocking.
    @Test("accepted sockets are blocking when the listener has a timeout", .timeLimit(.minutes(1)))
    func acceptedBlocking() throws {
        let server = try TCPServer(.inet(host: HOST, port: 0), StreamRequestHandler.self)
        defer { try? server.serverClose() }
        try server.socket.settimeout(2)
        let client = try connectedClient(server.serverAddress)
        defer { try? client.close() }
        let (request, address) = try server.getRequest()
        defer { try? request.socket.close() }
        #expect(address == (try client.getsockname()))
        #expect(request.socket.gettimeout() == nil)
        #expect(fcntl(request.socket.fileno(), F_GETFL) & O_NONBLOCK == 0)
    }

    /// `with` closes the server when the body raises, and the body's error propagates;
    /// otherwise it returns the body's value.
    @Test("the context manager closes the server when the body throws", .timeLimit(.minutes(1)))
    func contextManagerThrowing() throws {
        let server = try TCPServer(.inet(host: HOST, port: 0), StreamRequestHandler.self)
        #expect(throws: ValueError("body failed")) {
            try server.with { _ in throw ValueError("body failed") }
        }
        #expect(server.socket.fileno() == -1)
        let other = try TCPServer(.inet(host: HOST, port: 0), StreamRequestHandler.self)
        #expect(try other.with { $0.serverAddress.port ?? 0 } > 0)
        #expect(other.socket.fileno() == -1)
    }

    /// server_close is idempotent.
    @Test("server_close twice", .timeLimit(.minutes(1)))
    func serverCloseTwice() throws {
        let server = try ThreadingTCPServer(.inet(host: HOST, port: 0), StreamRequestHandler.self)
        try server.serverClose()
        try server.serverClose()
        #expect(server.socket.fileno() == -1)
    }
}

// MARK: - Unix servers

@Suite("Unix servers")
struct UnixServerTests {
    /// server_close does not unlink the socket file: a new server at that path fails with
    /// EADDRINUSE until the file is removed.
    @Test("server_close leaves the socket file", .timeLimit(.minutes(1)))
    func socketFileStays() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.file("s")
        let server = try UnixStreamServer(.unix(path), StreamRequestHandler.self)
        #expect(server.serverAddress == .unix(path))
        try server.serverClose()
        #expect(exists(path))
        #expect(throws: OSError(errno: EADDRINUSE)) {
            _ = try UnixStreamServer(.unix(path), StreamRequestHandler.self)
        }
        unlink(path)
        let again = try UnixStreamServer(.unix(path), StreamRequestHandler.self)
        try again.serverClose()
    }

    /// A datagram from an unbound Sockets.AF_UNIX client has no address (None): the handler runs, and
    /// finish's sendto raises TypeError, which reaches handle_error.
    @Test("an unbound Unix datagram client makes finish raise TypeError", .timeLimit(.minutes(1)))
    func unboundDatagramClient() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let server = try RecordingDatagramServer(.unix(dir.file("s")), RecordingDatagramHandler.self)
        defer { try? server.serverClose() }
        let client = try Socket(Sockets.AF_UNIX, SOCK_DGRAM)
        defer { try? client.close() }
        _ = try client.sendto(TEST_STR, server.serverAddress)
        try server.handleRequest()
        #expect(server.clientAddresses.value == [.unnamed])
        #expect(server.packets.value == [TEST_STR])
        #expect(server.handled.value == ["TypeError: a bytes-like object is required, not 'NoneType'"])
    }
}

// MARK: - UDPServer

/// A Unix datagram server that records the packets, client addresses and handle_error's
/// exception lines.
final class RecordingDatagramServer: UnixDatagramServer, @unchecked Sendable {
    let packets = Box<[[UInt8]]>([])
    let clientAddresses = Box<[SocketAddress]>([])
    let handled = Box<[String]>([])

    override func handleError(_ request: Request, _ clientAddress: SocketAddress) throws {
        handled.append(sys.exception().map(pythonExceptionLine) ?? "None")
    }
}

/// Records what it got in a RecordingDatagramServer or RecordingUDPServer.
final class RecordingDatagramHandler: DatagramRequestHandler {
    override func handle() throws {
        if let server = server as? RecordingDatagramServer {
            server.packets.update { $0.append(packet) }
            server.clientAddresses.update { $0.append(clientAddress) }
        }
    }
}

/// What UDPHandler does with the datagram.
enum DatagramScript: Sendable {
    case echo, nothing, writeThenRaise
}

/// A UDP server that records the packets and handle_error calls, with a per-server script and
/// an optional verify_request refusal.
final class RecordingUDPServer: UDPServer, @unchecked Sendable {
    let packets = Box<[[UInt8]]>([])
    let log = Box<[String]>([])
    var script = DatagramScript.echo
    var refuse = false

    override func verifyRequest(_ request: Request, _ clientAddress: SocketAddress) throws -> Bool {
        !refuse
    }

    override func handleError(_ request: Request, _ clientAddress: SocketAddress) throws {
        log.append("handle_error " + (sys.exception().map(pythonExceptionLine) ?? "None"))
    }

    override func shutdownRequest(_ request: Request) throws {
        log.append("shutdown_request")
        try super.shutdownRequest(request)
    }
}

/// A UDP server whose max_packet_size is 8 for the class.
final class SmallPacketUDPServer: UDPServer, @unchecked Sendable {
    override class var maxPacketSize: Int { 8 }
}

final class UDPHandler: DatagramRequestHandler {
    override func handle() throws {
        guard let server = server as? RecordingUDPServer else {
            _ = try wfile.write(try rfile.read())
            return
        }
        server.packets.update { $0.append(packet) }
        switch server.script {
        case .echo: _ = try wfile.write(try rfile.read())
        case .nothing: break
        case .writeThenRaise:
            _ = try wfile.write(bytes("partial"))
            throw ValueError("handle failed")
        }
    }
}

@Suite("UDPServer")
struct UDPServerTests {
    /// A UDP client with a short timeout.
    func udpClient(timeout: Double = 5) throws -> Socket {
        let client = try Socket(Sockets.AF_INET, SOCK_DGRAM)
        try client.settimeout(timeout)
        return client
    }

    /// Datagrams longer than max_packet_size are silently truncated (8192 by default).
    @Test("datagrams are truncated at max_packet_size", .timeLimit(.minutes(1)))
    func truncation() throws {
        let server = try RecordingUDPServer(.inet(host: HOST, port: 0), UDPHandler.self)
        defer { try? server.serverClose() }
        #expect(server.maxPacketSize == 8192)
        let client = try udpClient()
        defer { try? client.close() }
        let big = [UInt8](repeating: 0x61, count: 10_000)
        _ = try client.sendto(big, server.serverAddress)
        try server.handleRequest()
        #expect(server.packets.value.map(\.count) == [8192])
        #expect(try client.recv(20_000).count == 8192)

        server.maxPacketSize = 5
        _ = try client.sendto(bytes("0123456789"), server.serverAddress)
        try server.handleRequest()
        #expect(server.packets.value.last == bytes("01234"))
        #expect(try client.recv(100) == bytes("01234"))

        let small = try SmallPacketUDPServer(.inet(host: HOST, port: 0), UDPHandler.self)
        defer { try? small.serverClose() }
        #expect(small.maxPacketSize == 8)
        _ = try client.sendto(bytes("0123456789"), small.serverAddress)
        try small.handleRequest()
        #expect(try client.recv(100) == bytes("01234567"))
    }

    /// A RecordingUDPServer following `script` (refusing every datagram if `refuse`) that has
    /// handled TEST_STR from a client whose timeout is `timeout`; both closed after `body`.
    func afterOneDatagram(
        _ script: DatagramScript, refuse: Bool = false, timeout: Double = 5,
        _ body: (RecordingUDPServer, Socket) throws -> Void
    ) throws {
        let server = try RecordingUDPServer(.inet(host: HOST, port: 0), UDPHandler.self)
        defer { try? server.serverClose() }
        server.script = script
        server.refuse = refuse
        let client = try udpClient(timeout: timeout)
        defer { try? client.close() }
        _ = try client.sendto(TEST_STR, server.serverAddress)
        try server.handleRequest()
        try body(server, client)
    }

    /// The handler writes nothing: an empty datagram is still sent back.
    @Test("an empty reply datagram is sent", .timeLimit(.minutes(1)))
    func emptyReply() throws {
        try afterOneDatagram(.nothing) { server, client in
            let (reply, from) = try client.recvfrom(100)
            #expect(reply.isEmpty)
            #expect(from == server.serverAddress)
        }
    }

    /// finish sends wfile even when handle raised; then handle_error runs.
    @Test("the reply is sent after handle raised", .timeLimit(.minutes(1)))
    func replyAfterRaise() throws {
        try afterOneDatagram(.writeThenRaise) { server, client throws in
            #expect(try client.recv(100) == bytes("partial"))
            #expect(server.log.value == ["handle_error ValueError: handle failed", "shutdown_request"])
        }
    }

    /// verify_request refusing a datagram: no handler, no reply, shutdown_request (a no-op for
    /// UDP) is called and the server socket stays open.
    @Test("verify_request false on a datagram sends nothing", .timeLimit(.minutes(1)))
    func verifyFalse() throws {
        try afterOneDatagram(.echo, refuse: true, timeout: 0.2) { server, client in
            #expect(server.packets.value.isEmpty)
            #expect(server.log.value == ["shutdown_request"])
            #expect(server.socket.fileno() >= 0, "the shared socket is not closed")
            let error = #expect(throws: OSError.self) { _ = try client.recv(100) }
            #expect(error?.kind == .timeout)
        }
    }
}
