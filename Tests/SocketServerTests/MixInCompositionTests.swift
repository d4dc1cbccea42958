// The mixin design (a mixin is a protocol with its state in a stored object, and each combined
// class forwards to it in a few lines): every combined class really hands the request
// to another thread or process, and a user can combine a mixin with a server class of their own
// in the same few lines, as `class S(ThreadingMixIn, MyServer): pass` does in Python. The
// user's combinations here are those of CPython's own test, ThreadingErrorTestServer and
// ForkingErrorTestServer over BaseErrorTestServer (test_socketserver.swift).
import Glibc
import SocketServer
import Sockets
import TestSupport
import Testing

/// Replies with where it ran: the process id and the thread, as text.
final class WhereHandler: BaseRequestHandler {
    override func handle() throws {
        let place = "\(getpid()) \(UInt(bitPattern: Int(bitPattern: pthread_self())))"
        switch request {
        case .stream: try request.sendall(Array(place.utf8))
        case .datagram(_, let socket): _ = try socket.sendto(Array(place.utf8), clientAddress)
        }
    }
}

/// Serve one request with handle_request on this thread; return where the handler ran.
func whereServed(_ server: TCPServer) throws -> (pid: Int32, thread: UInt) {
    let datagram = type(of: server).socketType == SOCK_DGRAM
    let client = try Socket(type(of: server).addressFamily, datagram ? SOCK_DGRAM : SOCK_STREAM)
    defer { try? client.close() }
    try client.settimeout(5)
    if case .unix(let path) = server.serverAddress, datagram {
        try client.bind(.unix(path + ".client"))
    }
    if datagram {
        _ = try client.sendto(Array("where\n".utf8), server.serverAddress)
    } else {
        try client.connect(server.serverAddress)
        try client.sendall(Array("where\n".utf8))
    }
    try server.handleRequest()
    let reply = String(decoding: datagram ? try client.recvfrom(100).0 : try client.recv(100), as: UTF8.self)
    let parts = reply.split(separator: " ")
    return (Int32(parts.first ?? "") ?? -1, UInt(parts.last ?? "") ?? 0)
}

/// The address to serve on for `type`: loopback, or a socket file in `dir`.
func serveAddress(_ type: TCPServer.Type, _ dir: TempDir) -> SocketAddress {
    type.addressFamily == Sockets.AF_UNIX ? .unix(dir.file("s")) : .inet(host: HOST, port: 0)
}

/// Serves one request with each of `classes` (in `dir`, a fresh server each) and gives where
/// it was served to `check`.
func serveOneEach(_ classes: [TCPServer.Type], _ check: (TCPServer.Type, TCPServer, (pid: Int32, thread: UInt)) -> Void) throws {
    let dir = try TempDir()
    defer { dir.remove() }
    for type in classes {
        let server = try type.init(serveAddress(type, dir), WhereHandler.self)
        let served = try whereServed(server)
        try server.serverClose()  // a forking server waits for its child (block_on_close)
        unlink(dir.file("s"))
        unlink(dir.file("s") + ".client")
        check(type, server, served)
    }
}

func threadedElsewhereBody() throws {
    let here = UInt(bitPattern: Int(bitPattern: pthread_self()))
    let classes: [TCPServer.Type] = [
        ThreadingTCPServer.self, ThreadingUDPServer.self, ThreadingUnixStreamServer.self,
        ThreadingUnixDatagramServer.self, ThreadingErrorTestServer.self,
    ]
    try serveOneEach(classes) { type, _, served in
        #expect(served.pid == getpid(), "\(type)")
        #expect(served.thread != 0 && served.thread != here, "\(type) served on the calling thread")
    }
}

func forkedElsewhereBody() throws {
    let classes: [TCPServer.Type] = [
        ForkingTCPServer.self, ForkingUDPServer.self, ForkingUnixStreamServer.self,
        ForkingUnixDatagramServer.self, ForkingErrorTestServer.self,
    ]
    try serveOneEach(classes) { type, server, served in
        #expect(served.pid > 0 && served.pid != getpid(), "\(type) served in this process")
        #expect((server as? any ForkingMixIn)?.activeChildren?.isEmpty ?? true, "\(type) left a child")
    }
}

@Suite("MixIn composition", .serialized)
struct MixInCompositionTests {
    static let tests = [
        FreshProcessTest("every threading class, and a user's own combination, serves on another thread", threadedElsewhereBody),
        FreshProcessTest("every forking class, and a user's own combination, serves in a child process", forkedElsewhereBody),
    ]

    @Test("in a fresh process", .timeLimit(.minutes(1)), arguments: tests.map(\.name))
    func inFreshProcess(_ name: String) async {
        await #expect(processExitsWith: .success) { [name] in FreshProcessTest.run(name, of: MixInCompositionTests.tests) }
    }

    @Test("a user's combination keeps its own overrides and the mixin's attributes", .timeLimit(.minutes(1)))
    func ownClass() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let server = try ThreadingErrorTestServer(.inet(host: HOST, port: 0), BadHandler.self)
        defer { try? server.serverClose() }
        server.logPath = dir.file("log")
        #expect(server.daemonThreads == false && server.blockOnClose == true)
        try connectAndClose(server.serverAddress)
        try server.handleRequest()
        server.waitDone()  // the combination's own shutdown_request ran
        #expect(readFile(server.logPath) == "Handler called\nError handled\n", "the user's handle_error ran")
        #expect(server._threads is _Threads, "process_request made the instance's thread list")
    }
}
