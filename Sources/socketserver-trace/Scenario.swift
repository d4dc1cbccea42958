// The scenarios the CLI runs: a server class, a handler, clients, arranged as CPython's own
// tests and docs arrange them, so that a trace compares one to one with CPython's.
import Glibc
import SocketServer
import Sockets
import Synchronization

/// A concrete server class of socketserver.py, as `--server` names it.
struct ServerClass: Sendable {
    /// The Python name, which is the Swift one too (`"ThreadingTCPServer"`).
    let name: String
    /// The port's class.
    let type: TCPServer.Type
    /// The same class with `verify_request` returning False, as a Python user would write it
    /// (`class RejectingTCPServer(TCPServer): def verify_request(self, *a): return False`);
    /// traces name it, as CPython's do, `Rejecting` + `name`.
    let rejecting: TCPServer.Type

    init(_ name: String, _ type: TCPServer.Type, rejecting: TCPServer.Type) {
        assert(_typeName(type, qualified: false) == name, "\(type) is not Python's \(name)")
        assert(
            _typeName(rejecting, qualified: false) == "Rejecting" + name
                && _getSuperclass(rejecting) == type,
            "\(rejecting) is not Rejecting\(name), a subclass of \(name)")
        self.name = name
        self.type = type
        self.rejecting = rejecting
    }
}

/// The twelve concrete server classes, in the order of Lib/socketserver.py, each with its
/// rejecting variant (declared right below, one line each).
let serverClasses: [ServerClass] = [
    ServerClass("TCPServer", TCPServer.self, rejecting: RejectingTCPServer.self),
    ServerClass("UDPServer", UDPServer.self, rejecting: RejectingUDPServer.self),
    ServerClass("ForkingUDPServer", ForkingUDPServer.self, rejecting: RejectingForkingUDPServer.self),
    ServerClass("ForkingTCPServer", ForkingTCPServer.self, rejecting: RejectingForkingTCPServer.self),
    ServerClass("ThreadingUDPServer", ThreadingUDPServer.self, rejecting: RejectingThreadingUDPServer.self),
    ServerClass("ThreadingTCPServer", ThreadingTCPServer.self, rejecting: RejectingThreadingTCPServer.self),
    ServerClass("UnixStreamServer", UnixStreamServer.self, rejecting: RejectingUnixStreamServer.self),
    ServerClass("UnixDatagramServer", UnixDatagramServer.self, rejecting: RejectingUnixDatagramServer.self),
    ServerClass(
        "ThreadingUnixStreamServer", ThreadingUnixStreamServer.self,
        rejecting: RejectingThreadingUnixStreamServer.self),
    ServerClass(
        "ThreadingUnixDatagramServer", ThreadingUnixDatagramServer.self,
        rejecting: RejectingThreadingUnixDatagramServer.self),
    ServerClass(
        "ForkingUnixStreamServer", ForkingUnixStreamServer.self,
        rejecting: RejectingForkingUnixStreamServer.self),
    ServerClass(
        "ForkingUnixDatagramServer", ForkingUnixDatagramServer.self,
        rejecting: RejectingForkingUnixDatagramServer.self),
]

// The rejecting variants of the table. Only a subclass can override verifyRequest, and Swift
// has no subclass of a class parameter (`class Rejecting<Base: TCPServer>: Base` does not
// compile), so there is one per class; a trace names each by its Swift name.
final class RejectingTCPServer: TCPServer, @unchecked Sendable { override func verifyRequest(_: Request, _: SocketAddress) -> Bool { false } }
final class RejectingUDPServer: UDPServer, @unchecked Sendable { override func verifyRequest(_: Request, _: SocketAddress) -> Bool { false } }
final class RejectingForkingUDPServer: ForkingUDPServer, @unchecked Sendable { override func verifyRequest(_: Request, _: SocketAddress) -> Bool { false } }
final class RejectingForkingTCPServer: ForkingTCPServer, @unchecked Sendable { override func verifyRequest(_: Request, _: SocketAddress) -> Bool { false } }
final class RejectingThreadingUDPServer: ThreadingUDPServer, @unchecked Sendable { override func verifyRequest(_: Request, _: SocketAddress) -> Bool { false } }
final class RejectingThreadingTCPServer: ThreadingTCPServer, @unchecked Sendable { override func verifyRequest(_: Request, _: SocketAddress) -> Bool { false } }
final class RejectingUnixStreamServer: UnixStreamServer, @unchecked Sendable { override func verifyRequest(_: Request, _: SocketAddress) -> Bool { false } }
final class RejectingUnixDatagramServer: UnixDatagramServer, @unchecked Sendable { override func verifyRequest(_: Request, _: SocketAddress) -> Bool { false } }
final class RejectingThreadingUnixStreamServer: ThreadingUnixStreamServer, @unchecked Sendable { override func verifyRequest(_: Request, _: SocketAddress) -> Bool { false } }
final class RejectingThreadingUnixDatagramServer: ThreadingUnixDatagramServer, @unchecked Sendable { override func verifyRequest(_: Request, _: SocketAddress) -> Bool { false } }
final class RejectingForkingUnixStreamServer: ForkingUnixStreamServer, @unchecked Sendable { override func verifyRequest(_: Request, _: SocketAddress) -> Bool { false } }
final class RejectingForkingUnixDatagramServer: ForkingUnixDatagramServer, @unchecked Sendable { override func verifyRequest(_: Request, _: SocketAddress) -> Bool { false } }

/// Where handlers print (the notes' `print`): standard output, or standard error when a
/// machine-readable trace goes to standard output. Unbuffered, so a forked child's lines
/// are neither lost nor repeated.
let programOutputFD = Atomic<CInt>(1)

/// Send program output to `fd` (1 or 2).
func setProgramOutput(_ fd: CInt) { programOutputFD.store(fd, ordering: .relaxed) }

/// Print a line of program output.
func say(_ line: String) {
    sys.writeAll(programOutputFD.load(ordering: .relaxed), line + "\n")
}

/// The notes' handler: `self.client_address[0]` as Python prints it (the whole address for a
/// Unix client, which has no host part).
func clientHost(_ address: SocketAddress) -> String {
    switch address {
    case .inet(let host, _), .inet6(let host, _, _, _): return host
    default: return address.description
    }
}

/// The notes' MyTCPHandler: read up to 1024 bytes, print them, send them back upper-cased.
/// On a datagram server it does the same with `request[0]` and `request[1]`.
final class MyTCPHandler: BaseRequestHandler {
    /// The request's bytes, stripped (the notes' `self.data`).
    var data: [UInt8] = []

    override func handle() throws {
        switch request {
        case .stream:
            // self.request is the TCP socket connected to the client
            data = pyBytesStrip(try request.recv(1024))
            say("\(clientHost(clientAddress)) wrote:")
            say(pyBytesRepr(data))
            // just send back the same data, but upper-cased
            try request.sendall(pyBytesUpper(data))
        case .datagram(let packet, let socket):
            data = pyBytesStrip(packet)
            say("\(clientHost(clientAddress)) wrote:")
            say(pyBytesRepr(data))
            _ = try socket.sendto(pyBytesUpper(data), clientAddress)
        }
    }
}

/// A StreamRequestHandler: one line in, the same line upper-cased out.
final class MyStreamHandler: StreamRequestHandler {
    override func handle() throws {
        let line = try rfile.readline()
        _ = try wfile.write(pyBytesUpper(line))
    }
}

/// A DatagramRequestHandler: one line in, the same line upper-cased out.
final class MyDatagramHandler: DatagramRequestHandler {
    override func handle() throws {
        let line = try rfile.readline()
        _ = try wfile.write(pyBytesUpper(line))
    }
}

/// A handler whose handle() raises, as CPython's BadHandler in test_socketserver.
final class BadHandler: BaseRequestHandler {
    override func handle() throws {
        throw ValueError("boom")
    }
}

/// What a scenario runs.
struct Scenario: Sendable {
    enum Handler: String, CaseIterable { case uppercase, stream, datagram, error }
    enum Mode: String, CaseIterable { case serveForever = "serve_forever", handleRequest = "handle_request" }

    var serverName = "TCPServer"
    var handler = Handler.uppercase
    var requests = 1
    var reject = false
    var mode = Mode.serveForever
    var timeout: Double? = nil
    /// The payload of request `i` (1-based): the notes' "hello world" for the default run.
    var payload: @Sendable (Int) -> [UInt8] = { Array("hello \($0)\n".utf8) }

    var serverType: TCPServer.Type {
        let server = serverClasses.first { $0.name == serverName }!
        return reject ? server.rejecting : server.type
    }
    var isDatagram: Bool { serverType.socketType == Sockets.SOCK_DGRAM }
    var isUnix: Bool { serverType.addressFamily == Sockets.AF_UNIX }

    var handlerType: BaseRequestHandler.Type {
        switch handler {
        case .uppercase: return MyTCPHandler.self
        case .stream: return MyStreamHandler.self
        case .datagram: return MyDatagramHandler.self
        case .error: return BadHandler.self
        }
    }

    /// Why this combination cannot run, if it cannot.
    var problem: String? {
        if handler == .stream && isDatagram {
            return "the stream handler needs a stream server, and \(serverName) is a datagram server"
        }
        if handler == .datagram && !isDatagram {
            return "the datagram handler needs a datagram server, and \(serverName) is a stream server"
        }
        if requests < 0 || requests > 1000 { return "--requests must be between 0 and 1000" }
        if let timeout, !(timeout >= 0 && timeout <= 60) { return "--timeout must be between 0 and 60 seconds" }
        return nil
    }

    /// Run the scenario; returns the replies the clients received, in order.
    func run() throws -> [String] {
        let directory = isUnix ? try TemporaryDirectory() : nil
        defer { directory?.remove() }
        let address: SocketAddress =
            isUnix ? .unix(directory!.path + "/server.sock") : .inet(host: "127.0.0.1", port: 0)
        let server = try serverType.init(address, handlerType)
        if let timeout { server.timeout = timeout }
        var replies: [String] = []
        switch mode {
        case .serveForever:
            let serving = PThread(targetName: "serve_forever") {
                try server.serveForever()
            }
            try serving.start()
            for i in 0..<requests {
                replies.append(try client(server.serverAddress, server.socket, payload(i + 1), directory, i))
                waitForWorkers(server)
            }
            server.shutdown()
            try serving.join()
            try server.serverClose()
        case .handleRequest:
            let target = server.serverAddress
            let serverSocket: Socket = server.socket
            let collected = Collected()
            let clients = PThread(name: "client") { [self] in
                for i in 0..<requests {
                    collected.append(try client(target, serverSocket, payload(i + 1), directory, i))
                    waitForWorkers(server)
                }
            }
            if requests > 0 { try clients.start() }
            for _ in 0..<max(requests, 1) {
                try server.handleRequest()
            }
            if requests > 0 { try clients.join() }
            try server.serverClose()
            replies = collected.items
        }
        return replies
    }

    /// Wait (at most two seconds) until the worker threads of a ThreadingMixIn server have
    /// ended, so that the next request's `_Threads.reap` finds the same threads every run.
    /// The client's reply arrives at `shutdown_request`, a moment before its worker ends.
    private func waitForWorkers(_ server: TCPServer) {
        guard let threads = (server as? any ThreadingMixIn)?._threads as? _Threads else { return }
        let deadline = time(nil) + 2
        while threads.threads.contains(where: { $0.isAlive() }) && time(nil) < deadline {
            ForkGate.outside { _ = usleep(1000) }
        }
    }

    /// Wait (at most two seconds) until the server has read the datagram just sent, when no
    /// reply will tell: otherwise shutdown() could come before the datagram is handled.
    private func waitUntilReceived(_ serverSocket: Socket) {
        var pending = pollfd(fd: serverSocket.fileno(), events: Int16(POLLIN), revents: 0)
        let deadline = time(nil) + 2
        while poll(&pending, 1, 0) > 0 && time(nil) < deadline {
            ForkGate.outside { _ = usleep(1000) }
        }
    }

    /// Whether `error` is the server having closed the request without reading our line (a
    /// rejected request, a failing handler): the kernel may then reset the connection instead
    /// of ending it, or (on a Unix socket) refuse our line with EPIPE, depending on timing;
    /// either way nothing comes back, which the stream's end says too.
    private func closedUnread(_ error: OSError) -> Bool {
        (error.kind == .connectionReset || error.kind == .brokenPipe) && (reject || handler == .error)
    }

    /// One read of a stream client; a connection closed unread ends the stream.
    private func receiveChunk(_ socket: Socket) throws -> [UInt8] {
        do {
            return try socket.recv(8192)
        } catch {
            if closedUnread(error) { return [] }
            throw error
        }
    }

    /// One client: send the payload, read the reply (bounded by a timeout).
    private func client(_ address: SocketAddress, _ serverSocket: Socket, _ payload: [UInt8], _ directory: TemporaryDirectory?, _ index: Int) throws -> String {
        let family = serverType.addressFamily
        let socket = try Socket(family, isDatagram ? Sockets.SOCK_DGRAM : Sockets.SOCK_STREAM)
        defer { try? socket.close() }
        try socket.settimeout(5)
        if isDatagram {
            if let directory { try socket.bind(.unix(directory.path + "/client\(index).sock")) }
            _ = try socket.sendto(payload, address)
            if handler == .error || reject {
                waitUntilReceived(serverSocket)
                return "(no reply)"
            }
            let (reply, _) = try socket.recvfrom(8192)
            return pyBytesRepr(reply)
        }
        try socket.connect(address)
        do {
            try socket.sendall(payload)
        } catch {
            if closedUnread(error) { return pyBytesRepr([]) }
            throw error
        }
        var reply: [UInt8] = []
        while true {
            let chunk = try receiveChunk(socket)
            if chunk.isEmpty { break }
            reply += chunk
        }
        return pyBytesRepr(reply)
    }
}

/// Replies collected by the client thread.
final class Collected: Sendable {
    private let storage = Lock<[String]>([])
    func append(_ item: String) { storage.withLock { $0.append(item) } }
    var items: [String] { storage.withLock { $0 } }
}

/// A short temporary directory for Unix sockets (paths must stay under 108 bytes).
final class TemporaryDirectory: Sendable {
    let path: String
    init() throws {
        var template = Array("/tmp/ssw-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw OSError.lastError()
        }
        path = String(cString: made)
    }
    /// Remove the directory and the sockets in it (server_close does not unlink them).
    func remove() {
        if let dir = opendir(path) {
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                if name != "." && name != ".." { unlink(path + "/" + name) }
            }
            closedir(dir)
        }
        rmdir(path)
    }
}
