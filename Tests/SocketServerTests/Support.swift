// Helpers shared by the socketserver tests: the counterparts of test_socketserver.py's module
// helpers (receive, pickaddr, make_server, run_server, stream_examine, dgram_examine,
// simple_subprocess), a server with a connected client, and a load driver.
//
// Tests that fork, or that change process-wide state (PThread.excepthook, a signal handler,
// file descriptor 2, descriptor and thread counts), run their body in a fresh process, so
// that no other test's threads are there when it forks and the checks that nothing outlives
// it see only this test: rows of their suite's FreshProcessTest table, or an exit test of
// their own, `#expect(processExitsWith: .success) { isolated { ... } }`, where a trait of
// their own (a sanitizer that cannot run them) is needed. Their suites are `.serialized`.
import Glibc
import SocketServer
import Sockets
import Synchronization
import TestSupport
import Testing

/// Python: TEST_STR (Lib/test/test_socketserver.py)
let TEST_STR: [UInt8] = Array("hello world\n".utf8)

/// Python: HOST (test.support.socket_helper.HOST is "localhost"; we use its address).
let HOST = "127.0.0.1"

/// `threading.Event`: named apart from Swift Testing's `Event`.
typealias ThreadEvent = SocketServer.Event

/// The bytes of `text`.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// The text of `data` (UTF-8).
func text(_ data: [UInt8]) -> String { String(decoding: data, as: UTF8.self) }

// MARK: - Files and directories

/// Whether `path` exists.
func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

/// Append `text` to the file at `path` (open, write, close: works from a forked child too).
func appendLine(_ path: String, _ text: String) {
    let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
    guard fd >= 0 else { return }
    let data = bytes(text)
    _ = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

/// The virtual size of the process in kB (VmSize in /proc/self/status).
func virtualMemoryKB() -> Int {
    for line in readFile("/proc/self/status").split(separator: "\n") where line.hasPrefix("VmSize:") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0
    }
    return 0
}

/// The exit code of a wait status, nil when the child did not exit normally.
func exitCode(_ status: CInt) -> CInt? {
    (status & 0x7f) == 0 ? (status >> 8) & 0xff : nil
}

/// Wait for `pid` and return its exit code (nil if it was killed).
func waitExitCode(_ pid: Int32) throws -> CInt? {
    let (_, status) = try os.waitpid(pid, 0)
    return exitCode(status)
}

// MARK: - Threads

/// Runs `serve_forever` on a `PThread`, as run_server's serving thread; `join()` rethrows what
/// serve_forever threw.
final class ServingThread: Sendable {
    let thread: PThread
    let error: Box<(any Error)?>

    init(_ server: BaseServer, pollInterval: Double = 0.01) throws {
        let error = Box<(any Error)?>(nil)
        self.error = error
        thread = PThread(name: "\(type(of: server)) serving") {
            do {
                try server.serveForever(pollInterval: pollInterval)
            } catch let failure {
                error.set(failure)
            }
        }
        thread.daemon = true
        try thread.start()
    }

    /// Join the thread and rethrow serve_forever's error.
    func join() throws {
        try thread.join()
        if let failure = error.value { throw failure }
    }
}

/// Runs `body` on a new thread and reports whether it ended within `seconds` (the thread is
/// joined when it did).
func finishes(within seconds: Double, _ body: @escaping @Sendable () throws -> Void) throws -> Bool {
    let done = ThreadEvent()
    let thread = PThread(name: "bounded") {
        defer { done.set() }
        try body()
    }
    try thread.start()
    guard done.wait(seconds) else { return false }
    try thread.join()
    return true
}

// MARK: - Clients

/// A connected TCP or Unix stream client with a 5 s timeout.
func connectedClient(_ address: SocketAddress, family: CInt = Sockets.AF_INET) throws -> Socket {
    let client = try Socket(family, SOCK_STREAM)
    try client.connectOrClose(address, timeout: 5)
    return client
}

/// Python: create_connection(address) then close: a client that connects and goes away.
func connectAndClose(_ address: SocketAddress, family: CInt = Sockets.AF_INET) throws {
    try connectedClient(address, family: family).close()
}

/// Read from `sock` until `\n` or end of stream.
func receiveLine(_ sock: Socket) throws -> [UInt8] {
    var buf = try sock.recv(100)
    var data = buf
    while !data.isEmpty && !buf.contains(0x0A) {
        data = try sock.recv(100)
        buf += data
    }
    return buf
}

/// Read from `sock` until end of stream.
func receiveAll(_ sock: Socket) throws -> [UInt8] {
    var result: [UInt8] = []
    while true {
        let data = try sock.recv(65536)
        if data.isEmpty { return result }
        result += data
    }
}

/// Python: stream_examine: send TEST_STR, read the echoed line.
func streamExamine(_ family: CInt, _ address: SocketAddress, _ dir: TempDir, _ round: Int) throws {
    let s = try connectedClient(address, family: family)
    defer { try? s.close() }
    try s.sendall(TEST_STR)
    #expect(try receiveLine(s) == TEST_STR, "stream echo, round \(round)")
}

/// Python: dgram_examine: a datagram client (bound when Sockets.AF_UNIX) sends TEST_STR and reads the
/// reply.
func dgramExamine(_ family: CInt, _ address: SocketAddress, _ dir: TempDir, _ round: Int) throws {
    let s = try Socket(family, SOCK_DGRAM)
    defer { try? s.close() }
    try s.settimeout(5)
    if family == Sockets.AF_UNIX {
        try s.bind(.unix(dir.file("client\(round)")))
    }
    _ = try s.sendto(TEST_STR, address)
    #expect(try receiveLine(s) == TEST_STR, "datagram echo, round \(round)")
}

/// A `serverClass` server on 127.0.0.1 with `handler`, and a client connected to it, for
/// `body`; both are closed after it.
func withServerAndClient<Server: TCPServer, Result>(
    _ serverClass: Server.Type, _ handler: BaseRequestHandler.Type, _ body: (Server, Socket) throws -> Result
) throws -> Result {
    let server = try serverClass.init(.inet(host: HOST, port: 0), handler)
    defer { try? server.serverClose() }
    let client = try connectedClient(server.serverAddress)
    defer { try? client.close() }
    return try body(server, client)
}

// MARK: - run_server

/// Python: MyHandler(StreamRequestHandler): `line = rfile.readline(); wfile.write(line)`.
final class MyStreamHandler: StreamRequestHandler {
    override func handle() throws {
        let line = try rfile.readline()
        _ = try wfile.write(line)
    }
}

/// Python: MyHandler(DatagramRequestHandler): `line = rfile.readline(); wfile.write(line)`.
final class MyDatagramHandler: DatagramRequestHandler {
    override func handle() throws {
        let line = try rfile.readline()
        _ = try wfile.write(line)
    }
}

/// Python: MyServer.handle_error: `self.close_request(request); raise`. Every server class
/// of run_server has one subclass with this override (Swift cannot subclass a class
/// parameter as `class MyServer(svrcls)` does).
func closeAndReraise(_ server: TCPServer, _ request: Request) throws {
    try server.closeRequest(request)
    throw sys.exception() ?? RuntimeError("handle_error called outside an except block")
}

final class MyTCPServer: TCPServer, @unchecked Sendable {
    override func handleError(_ request: Request, _ clientAddress: SocketAddress) throws {
        try closeAndReraise(self, request)
    }
}

final class MyThreadingTCPServer: ThreadingTCPServer, @unchecked Sendable {
    override func handleError(_ request: Request, _ clientAddress: SocketAddress) throws {
        try closeAndReraise(self, request)
    }
}

final class MyForkingTCPServer: ForkingTCPServer, @unchecked Sendable {
    override func handleError(_ request: Request, _ clientAddress: SocketAddress) throws {
        try closeAndReraise(self, request)
    }
}

final class MyUnixStreamServer: UnixStreamServer, @unchecked Sendable {
    override func handleError(_ request: Request, _ clientAddress: SocketAddress) throws {
        try closeAndReraise(self, request)
    }
}

final class MyThreadingUnixStreamServer: ThreadingUnixStreamServer, @unchecked Sendable {
    override func handleError(_ request: Request, _ clientAddress: SocketAddress) throws {
        try closeAndReraise(self, request)
    }
}

final class MyForkingUnixStreamServer: ForkingUnixStreamServer, @unchecked Sendable {
    override func handleError(_ request: Request, _ clientAddress: SocketAddress) throws {
        try closeAndReraise(self, request)
    }
}

final class MyUDPServer: UDPServer, @unchecked Sendable {
    override func handleError(_ request: Request, _ clientAddress: SocketAddress) throws {
        try closeAndReraise(self, request)
    }
}

final class MyThreadingUDPServer: ThreadingUDPServer, @unchecked Sendable {
    override func handleError(_ request: Request, _ clientAddress: SocketAddress) throws {
        try closeAndReraise(self, request)
    }
}

final class MyForkingUDPServer: ForkingUDPServer, @unchecked Sendable {
    override func handleError(_ request: Request, _ clientAddress: SocketAddress) throws {
        try closeAndReraise(self, request)
    }
}

final class MyUnixDatagramServer: UnixDatagramServer, @unchecked Sendable {
    override func handleError(_ request: Request, _ clientAddress: SocketAddress) throws {
        try closeAndReraise(self, request)
    }
}

final class MyThreadingUnixDatagramServer: ThreadingUnixDatagramServer, @unchecked Sendable {
    override func handleError(_ request: Request, _ clientAddress: SocketAddress) throws {
        try closeAndReraise(self, request)
    }
}

final class MyForkingUnixDatagramServer: ForkingUnixDatagramServer, @unchecked Sendable {
    override func handleError(_ request: Request, _ clientAddress: SocketAddress) throws {
        try closeAndReraise(self, request)
    }
}

/// How a run_server client talks to the server.
enum Examine {
    case stream, datagram

    /// The handler that answers such a client: it echoes the line.
    var handler: BaseRequestHandler.Type {
        switch self {
        case .stream: MyStreamHandler.self
        case .datagram: MyDatagramHandler.self
        }
    }

    func callAsFunction(_ family: CInt, _ address: SocketAddress, _ dir: TempDir, _ round: Int) throws {
        switch self {
        case .stream: try streamExamine(family, address, dir, round)
        case .datagram: try dgramExamine(family, address, dir, round)
        }
    }
}

/// run_server's servers (test_socketserver.py's MyServer over each concrete class), by the
/// Python name of the class (MyX subclasses X), with the handler of their socket type and how
/// a client checks them.
let runServerClasses: [(name: String, server: TCPServer.Type, handler: BaseRequestHandler.Type, examine: Examine)] = {
    let servers: [TCPServer.Type] = [
        MyTCPServer.self, MyThreadingTCPServer.self, MyForkingTCPServer.self,
        MyUnixStreamServer.self, MyThreadingUnixStreamServer.self, MyForkingUnixStreamServer.self,
        MyUDPServer.self, MyThreadingUDPServer.self, MyForkingUDPServer.self,
        MyUnixDatagramServer.self, MyThreadingUnixDatagramServer.self, MyForkingUnixDatagramServer.self,
    ]
    return servers.map { server in
        let examine: Examine = server.socketType == Sockets.SOCK_DGRAM ? .datagram : .stream
        return (String(String(describing: server).dropFirst("My".count)), server, examine.handler, examine)
    }
}()

/// Python: pickaddr(proto): ("localhost", 0), or a fresh Unix path.
func pickaddr(_ family: CInt, _ dir: TempDir) -> SocketAddress {
    family == Sockets.AF_UNIX ? .unix(dir.file("server")) : .inet(host: HOST, port: 0)
}

/// Python: SocketServerTest.make_server (the subclass is chosen by the caller).
func makeServer(_ serverClass: TCPServer.Type, _ address: SocketAddress, _ handler: BaseRequestHandler.Type)
    throws -> TCPServer
{
    let server = try serverClass.init(address, handler)
    #expect(server.serverAddress == (try server.socket.getsockname()), "server_address is the bound name")
    return server
}

/// Python: SocketServerTest.run_server: serve_forever on a thread (poll_interval 0.01), three
/// client round trips, shutdown, join, server_close; then the socket is closed and a forking
/// server has no active child left (bpo-31151).
func runServer(_ serverClass: TCPServer.Type, _ handler: BaseRequestHandler.Type, _ examine: Examine) throws {
    let dir = try TempDir()
    defer { dir.remove() }
    let server = try makeServer(serverClass, pickaddr(serverClass.addressFamily, dir), handler)
    // We had the OS pick a port, so pull the real address out of the server.
    let address = server.serverAddress
    let serving = try ServingThread(server)
    for round in 0..<3 {
        try examine(serverClass.addressFamily, address, dir, round)
    }
    server.shutdown()
    try serving.join()
    try server.serverClose()
    #expect(server.socket.fileno() == -1, "server_close closed the socket")
    if let forking = server as? any ForkingMixIn {
        // bpo-31151: Check that ForkingMixIn.server_close() waits until all children completed
        #expect(forking.activeChildren?.isEmpty ?? true, "server_close reaped every child")
    }
}

/// Python: simple_subprocess: a foreign child that exits with 72 must be left alone by the
/// forking server (Issue 1540386), then reaped here with that status.
func simpleSubprocess(_ body: () throws -> Void) throws {
    let pid = try os.fork()
    if pid == 0 {
        // Don't raise an exception; it would be caught by the test harness.
        os._exit(72)
    }
    var reaped = false
    defer {
        if !reaped { _ = try? os.waitpid(pid, 0) }
    }
    try body()
    let code = try waitExitCode(pid)
    reaped = true
    #expect(code == 72, "the foreign child was not reaped by the server")
}

// MARK: - Standard error

/// Run `body` with file descriptor 2 redirected to a temporary file; return what was written.
func capturingStderr(_ body: () throws -> Void) throws -> String {
    let dir = try TempDir()
    defer { dir.remove() }
    let path = dir.file("stderr")
    let fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw OSError.lastError() }
    fflush(nil)
    let saved = dup(2)
    dup2(fd, 2)
    close(fd)
    defer {
        dup2(saved, 2)
        close(saved)
    }
    try body()
    return readFile(path)
}

/// What a load of requests came to: how many were sent (a client takes no ticket after the
/// deadline), how many answered right, and what went wrong with the others.
struct LoadOutcome {
    var sent: Int
    var answered: Int
    var failures: [String]
}

/// Sends up to `requests` requests from `clients` threads until `deadline`: each thread takes
/// the next ticket and runs `exchange(ticket, client index)`, which returns nil for a right
/// reply, or what was wrong with it.
func driveLoad(
    requests: Int, clients: Int, until deadline: Double, _ exchange: @escaping @Sendable (Int, Int) throws -> String?
) throws -> LoadOutcome {
    let tickets = Box(0)
    let answered = Box(0)
    let failures = Box<[String]>([])
    let threads = (0..<clients).map { index in
        PThread(name: "client \(index)") {
            while now() < deadline {
                var ticket = 0
                tickets.update { ticket = $0; $0 += 1 }
                guard ticket < requests else { return }
                do {
                    if let problem = try exchange(ticket, index) {
                        failures.append("request \(ticket): \(problem)")
                    } else {
                        answered.increment()
                    }
                } catch {
                    failures.append("request \(ticket): \(error)")
                }
            }
        }
    }
    for thread in threads { try thread.start() }
    for thread in threads { try thread.join() }
    return LoadOutcome(sent: min(tickets.value, requests), answered: answered.value, failures: failures.value)
}
