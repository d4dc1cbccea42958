// A bounded load test of every concrete server class: a few thousand requests from sixteen
// concurrent clients, every reply checked, and descriptors, threads and children back to their
// baseline afterwards. Each class runs in a fresh process (forking servers must, and the
// baseline checks then see only this test).
import Glibc
import SocketServer
import Sockets
import TestSupport
import Testing

/// The twelve classes under test, by Python name, with the handler of their kind.
let loadClasses = Dictionary(uniqueKeysWithValues: runServerClasses.map { ($0.name, (server: $0.server, handler: $0.handler)) })

@Suite("Load", .serialized)
struct LoadTests {
    @Test(
        "2,000 requests from 16 clients: none lost, none wrong", .timeLimit(.minutes(2)),
        arguments: loadClasses.keys.sorted())
    func load(_ name: String) async {
        await #expect(processExitsWith: .success) { [name] in
            isolated(deadline: 100) { try loadBody(name, requests: 2000, clients: 16, seconds: 80) }
        }
    }
}

/// Serves `requests` requests of `name`'s class from `clients` threads, each request on a new
/// connection (or from a new datagram socket), within `seconds`; every reply must be the
/// client's own line.
func loadBody(_ name: String, requests: Int, clients: Int, seconds: Double) throws {
    let (serverClass, handler) = loadClasses[name]!
    let dir = try TempDir()
    defer { dir.remove() }
    let family = serverClass.addressFamily
    let datagram = serverClass.socketType == Sockets.SOCK_DGRAM
    let server = try serverClass.init(pickaddr(family, dir), handler)
    let address = server.serverAddress
    let serving = try ServingThread(server)
    let deadline = now() + seconds
    let outcome = try driveLoad(requests: requests, clients: clients, until: deadline) { ticket, index in
        let line = bytes("request \(ticket) from client \(index)\n")
        let reply: [UInt8]
        if datagram {
            let socket = try Socket(family, Sockets.SOCK_DGRAM)
            defer { try? socket.close() }
            try socket.settimeout(5)
            if family == Sockets.AF_UNIX {
                let path = dir.file("c\(ticket)")
                try socket.bind(.unix(path))
                defer { unlink(path) }
                _ = try socket.sendto(line, address)
                reply = try socket.recv(8192)
            } else {
                _ = try socket.sendto(line, address)
                reply = try socket.recv(8192)
            }
        } else {
            let socket = try connectWhenAccepted(address, family: family, until: deadline)
            defer { try? socket.close() }
            try socket.sendall(line)
            reply = try receiveAll(socket)
        }
        return reply == line ? nil : "got \(text(reply).debugDescription)"
    }
    server.shutdown()
    try serving.join()
    try server.serverClose()
    #expect(outcome.failures.isEmpty, "\(name): \(outcome.failures.count) failed: \(outcome.failures.prefix(5))")
    #expect(outcome.answered == requests, "\(name): answered \(outcome.answered) of \(requests) in \(seconds) s")
}

/// A connected stream client with a 5 s timeout. A Unix stream socket with a timeout is
/// non-blocking, and its `connect` fails at once with EAGAIN while the server's listen queue
/// (`request_queue_size`, 5) is full, where TCP would wait; CPython raises the same
/// `BlockingIOError`. So a client retries that, briefly, until `deadline`.
func connectWhenAccepted(_ address: SocketAddress, family: CInt, until deadline: Double) throws -> Socket {
    while true {
        do {
            return try connectedClient(address, family: family)
        } catch let error as OSError where error.errno == EAGAIN && now() < deadline {
            sleep(seconds: 0.001)
        }
    }
}
