// `socketserver-bench _serve ROW QUEUE LIFETIME [PATH]`: the hidden command the driver starts
// each server with, in a process of its own. It binds 127.0.0.1 port 0 (or the Unix socket
// PATH), writes `ready PORT` on standard output once it listens, and serves until the driver
// stops it with SIGTERM, or until LIFETIME seconds have passed (SIGALRM), whichever comes
// first: a server outlives a killed driver by LIFETIME at most.
import Glibc
import Processes
import SocketServer
import Sockets
import Tracing

/// The port's classes a row may name.
let portClasses: [String: TCPServer.Type] = [
    "TCPServer": TCPServer.self, "ThreadingTCPServer": ThreadingTCPServer.self,
    "ForkingTCPServer": ForkingTCPServer.self, "UnixStreamServer": UnixStreamServer.self,
    "UDPServer": UDPServer.self, "ThreadingUDPServer": ThreadingUDPServer.self,
]

/// The notes' handler without its prints: `self.data = self.request.recv(1024).strip()`, then
/// `self.request.sendall(self.data.upper())`. On a datagram server, the datagram and the
/// server's socket take the place of the connection, as in the documentation's
/// MyUDPHandler.
final class BenchHandler: BaseRequestHandler {
    /// The request's bytes, stripped (the notes' `self.data`).
    var data: [UInt8] = []

    override func handle() throws {
        // A datagram request brings its bytes; a stream request's are read from the connection.
        data = pyBytesStrip(try request.data ?? request.recv(1024))
        if case .datagram(_, let socket) = request {
            _ = try socket.sendto(pyBytesUpper(data), clientAddress)
        } else {
            try request.sendall(pyBytesUpper(data))
        }
    }
}

/// Tells the driver that the server listens: `ready PORT` (0 for a Unix socket).
func announceReady(port: Int) {
    sys.writeAll(1, "ready \(port)\n")
}

enum ServeCommand {
    static let usage = "usage: socketserver-bench _serve ROW QUEUE LIFETIME [PATH]"

    /// Runs the server of one row; never returns while it serves.
    static func run(_ arguments: [String]) throws -> Never {
        guard (3...4).contains(arguments.count),
            let row = allRows.first(where: { $0.name == arguments[0] }),
            let queueSize = Int(arguments[1]), queueSize >= 0,
            let lifetime = UInt32(arguments[2])
        else {
            throw UsageError(message: "_serve: expected ROW QUEUE LIFETIME [PATH]", usage: usage)
        }
        let path = arguments.count == 4 ? arguments[3] : nil
        if (row.transport == .unix) != (path != nil) {
            throw UsageError(message: "_serve: a Unix row needs PATH, and only a Unix row", usage: usage)
        }
        alarm(lifetime)
        switch row.implementation {
        case .port(let className, let traced):
            try servePort(portClasses[className]!, traced: traced, queueSize: queueSize, path: path)
        case .tcpFloor(let threaded):
            serveTCPFloor(threaded: threaded, queueSize: queueSize)
        case .udpFloor:
            serveUDPFloor()
        case .cpython:
            throw UsageError(message: "_serve: \(row.name) runs in CPython, not here", usage: usage)
        }
    }

    /// One of the port's servers, built as a Python user would build it to choose the
    /// backlog: `bind_and_activate=False`, set `request_queue_size`, then `server_bind()` and
    /// `server_activate()`. Serves on the main thread, the only thread of the process (a
    /// forking server must fork from a process with no other thread running Swift code).
    static func servePort(
        _ serverClass: TCPServer.Type, traced: Bool, queueSize: Int, path: String?
    ) throws -> Never {
        if traced { Trace.attach(Recorder(deterministic: false)) }
        let address: SocketAddress = path.map { .unix($0) } ?? .inet(host: "127.0.0.1", port: 0)
        let server = try serverClass.init(address, BenchHandler.self, bindAndActivate: false)
        server.requestQueueSize = queueSize
        do {
            try server.serverBind()
            try server.serverActivate()
        } catch {
            try? server.serverClose()
            throw error
        }
        announceReady(port: server.serverAddress.port ?? 0)
        try server.serveForever()
        exit(0)
    }
}
