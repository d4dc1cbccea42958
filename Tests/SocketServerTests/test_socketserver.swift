// Port of CPython Lib/test/test_socketserver.py (3.13.0): one suite per TestCase class, one
// test per test method, under the Python names. The forking tests of SocketServerTest and
// ErrorHandlerTest live in ForkingTests.swift, so that every test that forks is in one
// serialized suite.
//
// Each test that checks descriptors, threads or child processes, swaps a process-wide hook or
// sends a signal runs its body in a fresh process (an exit test, see Support.swift).
import Glibc
import Processes
import SocketServer
import Sockets
import Synchronization
import TestSupport
import Testing

// MARK: - SocketServerTest

/// Python: class SocketServerTest(unittest.TestCase): "Test all socket servers."
@Suite("SocketServerTest", .serialized)
struct SocketServerTest {
    /// The test_*Server methods but the forking ones (ForkingTests.swift): run_server over each
    /// class.
    static let servers = runServerClasses.filter { !$0.name.hasPrefix("Forking") }

    static let tests = servers.map { row in FreshProcessTest("test_" + row.name) { try runServer(row.server, row.handler, row.examine) } } + [
        // test_ForkingTCPServer, test_ForkingUnixStreamServer, test_ForkingUDPServer and
        // test_ForkingUnixDatagramServer: ForkingTests.swift.

        // Issue #2302: shutdown() should always succeed in making an other thread leave
        // serve_forever(), even when called before the loop has started.
        FreshProcessTest("test_shutdown", shutdownTwentyServers),
        // Issue #22435: the server socket wouldn't be closed if bind()/listen() failed.
        // CPython binds port -1 (OverflowError) 1024 times; here both an out-of-range port and
        // an address in use, 200 times each, and the descriptor count must not grow.
        FreshProcessTest("test_tcpserver_bind_leak", bindLeak),
    ]

    @Test("in a fresh process", .timeLimit(.minutes(1)), arguments: tests.map(\.name))
    func inFreshProcess(_ name: String) async {
        await #expect(processExitsWith: .success) { [name] in FreshProcessTest.run(name, of: SocketServerTest.tests) }
    }

    @Test("test_close_immediately", .timeLimit(.minutes(1)))
    func closeImmediately() throws {
        // Python: MyServer(ThreadingMixIn, TCPServer) with the handler `lambda: None`.
        let server = try ThreadingTCPServer(.inet(host: HOST, port: 0), BaseRequestHandler.self)
        #expect(server._threads is _NoThreads)
        try server.serverClose()
        #expect(server.socket.fileno() == -1)
    }

    @Test("test_context_manager", .timeLimit(.minutes(1)))
    func contextManager() throws {
        let server = try TCPServer(.inet(host: HOST, port: 0), StreamRequestHandler.self)
        try server.with { inside in
            #expect(inside === server)
            #expect(inside.socket.fileno() >= 0)
        }
        #expect(server.socket.fileno() == -1)
    }
}

/// test_shutdown's body: 20 servers, each thread started and immediately shut down.
func shutdownTwentyServers() throws {
    var threads: [(ServingThread, TCPServer)] = []
    for _ in 0..<20 {
        let server = try TCPServer(.inet(host: HOST, port: 0), StreamRequestHandler.self)
        threads.append((try ServingThread(server), server))
        server.shutdown()
    }
    for (thread, server) in threads {
        try thread.join()
        try server.serverClose()
        #expect(server.socket.fileno() == -1)
    }
}

/// test_tcpserver_bind_leak's body.
func bindLeak() throws {
    let before = fdCount()
    for _ in 0..<200 {
        #expect {
            _ = try TCPServer(.inet(host: HOST, port: -1), StreamRequestHandler.self)
        } throws: { error in
            // Python: OverflowError("bind(): port must be 0-65535.")
            (error as? OSError)?.errno == nil
                && ((error as? OSError)?.strerror.hasSuffix("port must be 0-65535.") ?? false)
        }
    }
    #expect(fdCount() <= before, "an out-of-range port leaks no descriptor")

    let holder = try TCPServer(.inet(host: HOST, port: 0), StreamRequestHandler.self)
    defer { try? holder.serverClose() }
    let inUse = fdCount()
    for _ in 0..<200 {
        #expect(throws: OSError(errno: EADDRINUSE)) {
            _ = try TCPServer(holder.serverAddress, StreamRequestHandler.self)
        }
    }
    #expect(fdCount() <= inUse, "an address in use leaks no descriptor")
}

// MARK: - ErrorHandlerTest

/// The exception BadHandler raises (a Codable tag, so exit tests can capture it).
enum ErrorToRaise: String, Codable, Sendable {
    case valueError, systemExit

    /// Python: `self.server.exception('Test error')`.
    func make() -> any Error {
        switch self {
        case .valueError: ValueError("Test error")
        case .systemExit: SystemExit(1)
        }
    }
}

/// Python: class BaseErrorTestServer(socketserver.TCPServer): what BadHandler raises, the log
/// file (Python: TESTFN), and wait_done.
class BaseErrorTestServer: TCPServer, @unchecked Sendable {
    var exception = ErrorToRaise.valueError
    var logPath = ""

    override func handleError(_ request: Request, _ clientAddress: SocketAddress) throws {
        appendLine(logPath, "Error handled\n")
    }

    func waitDone() {}
}

/// Python: class ThreadingErrorTestServer(socketserver.ThreadingMixIn, BaseErrorTestServer).
final class ThreadingErrorTestServer: BaseErrorTestServer, ThreadingMixIn, @unchecked Sendable {
    let threadingMixIn = ThreadingMixInState()
    let done = ThreadEvent()

    func processRequestThread(_ request: Request, _ clientAddress: SocketAddress) throws {
        try threadingProcessRequestThread(request, clientAddress)
    }
    override func processRequest(_ request: Request, _ clientAddress: SocketAddress) throws {
        try threadingProcessRequest(request, clientAddress)
    }
    override func serverClose() throws { try threadingServerClose { try super.serverClose() } }

    override func shutdownRequest(_ request: Request) throws {
        try super.shutdownRequest(request)
        done.set()
    }

    override func waitDone() {
        #expect(done.wait(5), "the worker thread shut the request down")
    }
}

/// Python: class ForkingErrorTestServer(socketserver.ForkingMixIn, BaseErrorTestServer).
final class ForkingErrorTestServer: BaseErrorTestServer, ForkingMixIn, @unchecked Sendable {
    let forkingMixIn = ForkingMixInState()
    override class var timeout: Double? { ForkingMixInState.timeout }
    func collectChildren(blocking: Bool) throws { try forkingCollectChildren(blocking: blocking) }
    override func handleTimeout() throws { try forkingHandleTimeout() }
    override func serviceActions() throws { try forkingServiceActions() }
    override func processRequest(_ request: Request, _ clientAddress: SocketAddress) throws {
        try forkingProcessRequest(request, clientAddress)
    }
    override func serverClose() throws { try forkingServerClose { try super.serverClose() } }
}

/// Python: class BadHandler(socketserver.BaseRequestHandler).
final class BadHandler: BaseRequestHandler {
    override func handle() throws {
        let server = self.server as! BaseErrorTestServer
        appendLine(server.logPath, "Handler called\n")
        throw server.exception.make()
    }
}

/// Python: BaseErrorTestServer.__init__: one client connects and closes, handle_request,
/// server_close in a finally, then wait_done; then check_result.
func runErrorTest(_ serverClass: BaseErrorTestServer.Type, _ exception: ErrorToRaise, handled: Bool) throws {
    let dir = try TempDir()
    defer { dir.remove() }
    let log = dir.file("log")
    let server = try serverClass.init(.inet(host: HOST, port: 0), BadHandler.self)
    server.exception = exception
    server.logPath = log
    try connectAndClose(server.serverAddress)
    do {
        try server.handleRequest()
    } catch {
        try server.serverClose()
        #expect(readFile(log) == "Handler called\n" + (handled ? "Error handled\n" : ""), "check_result")
        throw error
    }
    try server.serverClose()
    server.waitDone()
    #expect(readFile(log) == "Handler called\n" + (handled ? "Error handled\n" : ""), "check_result")
}

/// Python: class ErrorHandlerTest(unittest.TestCase): the servers pass normal exceptions from
/// the handler to handle_error(), and exiting exceptions like SystemExit are not passed.
/// test_forking_handled and test_forking_not_handled: ForkingTests.swift.
@Suite("ErrorHandlerTest", .serialized)
struct ErrorHandlerTest {
    @Test("test_sync_handled", .timeLimit(.minutes(1)))
    func syncHandled() throws {
        try runErrorTest(BaseErrorTestServer.self, .valueError, handled: true)
    }

    @Test("test_sync_not_handled", .timeLimit(.minutes(1)))
    func syncNotHandled() throws {
        let error = #expect(throws: SystemExit.self) {
            try runErrorTest(BaseErrorTestServer.self, .systemExit, handled: false)
        }
        #expect(error?.code == 1)
    }

    @Test("test_threading_handled", .timeLimit(.minutes(1)))
    func threadingHandled() throws {
        try runErrorTest(ThreadingErrorTestServer.self, .valueError, handled: true)
    }

    /// The worker lets SystemExit escape to threading.excepthook; handle_error is not called.
    /// Runs in a fresh process: it replaces the process-wide excepthook.
    @Test("test_threading_not_handled", .timeLimit(.minutes(1)))
    func threadingNotHandled() async {
        await #expect(processExitsWith: .success) {
            isolated { try threadingNotHandledBody() }
        }
    }
}

/// test_threading_not_handled's body (Python: catch_threading_exception).
func threadingNotHandledBody() throws {
    let seen = Box<[any Error]>([])
    let saved = PThread.excepthook
    PThread.excepthook = { args in seen.append(args.error) }
    defer { PThread.excepthook = saved }
    try runErrorTest(ThreadingErrorTestServer.self, .systemExit, handled: false)
    #expect(seen.value.count == 1, "the excepthook saw one exception")
    #expect(seen.value.first is SystemExit, "cm.exc_type is SystemExit")
}

// MARK: - SocketWriterTest

/// The server of SocketWriterTest: what the handler saw.
final class WriterTestServer: TCPServer, @unchecked Sendable {
    let wfile = Box<IOBase?>(nil)
    let wfileFileno = Box<CInt>(-2)
    let requestFileno = Box<CInt>(-3)
    let sent1 = Box<Int>(-1)
    let received = Box<[UInt8]>([])
    let sent2 = Box<Int>(-1)
    let sendCalls = Box<Int>(0)
    let handlerThread = Box<pthread_t?>(nil)
}

/// Python: SocketWriterTest.test_basics's Handler.
final class BasicsHandler: StreamRequestHandler {
    override func handle() throws {
        let server = self.server as! WriterTestServer
        server.wfile.set(wfile)
        server.wfileFileno.set(try wfile.fileno())
        server.requestFileno.set(request.socket.fileno())
    }
}

/// Python: test.support.SOCK_MAX_SIZE (16 MiB + 1).
let SOCK_MAX_SIZE = 16 * 1024 * 1024 + 1

/// How many SIGUSR1 signals the handler of test_write has seen (touched before the handler is
/// installed, so the signal handler never runs a lazy initialiser).
let interrupted = Atomic<Int>(0)

/// Python: SocketWriterTest.test_write's Handler; it stays in handle() until the signal was
/// delivered, so that the test never signals a thread that has ended.
final class WriteHandler: StreamRequestHandler {
    override func handle() throws {
        let server = self.server as! WriterTestServer
        server.handlerThread.set(pthread_self())
        server.sent1.set(try wfile.write(bytes("write data\n")))
        // Should be sent immediately, without requiring flush()
        server.received.set(try rfile.readline())
        let bigChunk = [UInt8](repeating: 0, count: SOCK_MAX_SIZE)
        let (sent, calls) = try SyscallFaults.counting { try wfile.write(bigChunk) }
        server.sent2.set(sent)
        server.sendCalls.set(calls[.send])
        waitUntil(timeout: 10) { interrupted.load(ordering: .acquiring) > 0 }
    }
}

/// Python: class SocketWriterTest(unittest.TestCase).
@Suite("SocketWriterTest", .serialized)
struct SocketWriterTest {
    @Test("test_basics", .timeLimit(.minutes(1)))
    func basics() throws {
        let server = try WriterTestServer(.inet(host: HOST, port: 0), BasicsHandler.self)
        defer { try? server.serverClose() }
        try connectAndClose(server.serverAddress)
        try server.handleRequest()
        #expect(server.wfile.value is BufferedIOBase)
        #expect(server.wfile.value is _SocketWriter)
        #expect(server.wfileFileno.value == server.requestFileno.value)
    }

    /// wfile.write() sends data immediately, and does not truncate sends when interrupted by a
    /// Unix signal (SIGUSR1 without SA_RESTART, sent to the thread blocked in send()). Runs in
    /// a fresh process: it installs a signal handler.
    @Test("test_write", .timeLimit(.minutes(1)))
    func write() async {
        await #expect(processExitsWith: .success) {
            isolated { try socketWriterWrite() }
        }
    }
}

/// test_write's body.
func socketWriterWrite() throws {
    _ = interrupted.load(ordering: .relaxed)
    var action = sigaction()
    action.__sigaction_handler.sa_handler = { _ in
        interrupted.add(1, ordering: .releasing)
    }
    sigemptyset(&action.sa_mask)
    action.sa_flags = 0  // no SA_RESTART: a blocked send() is interrupted
    var original = sigaction()
    #expect(sigaction(SIGUSR1, &action, &original) == 0)
    defer { sigaction(SIGUSR1, &original, nil) }

    let server = try WriterTestServer(.inet(host: HOST, port: 0), WriteHandler.self)
    defer { try? server.serverClose() }
    let serving = PThread(name: "handle_request") {
        // Threads made by Swift's concurrency runtime block SIGUSR1, and a new thread inherits
        // its creator's mask: let this one take the signal, as CPython's main thread does.
        unblockSignals([SIGUSR1])
        try server.handleRequest()
    }
    try serving.start()
    defer { try? serving.join() }

    let s = try connectedClient(server.serverAddress)
    defer { try? s.close() }
    let response1 = try receiveLine(s)
    try s.sendall(bytes("client response\n"))
    var first: [UInt8] = []
    while first.count < 100 {
        let data = try s.recv(100 - first.count)
        if data.isEmpty { break }
        first += data
    }
    // The server thread should now be blocking in a send() syscall. Keep sending the signal
    // in case an earlier one is delivered at an inconvenient moment.
    let thread = try #require(server.handlerThread.value)
    for _ in 0..<20 {
        pthread_kill(thread, SIGUSR1)
        if waitUntil(timeout: 1, { interrupted.load(ordering: .acquiring) > 0 }) { break }
    }
    let received2 = try receiveAll(s).count
    try serving.join()

    #expect(interrupted.load(ordering: .acquiring) > 0, "the signal was delivered")
    #expect(server.sent1.value == response1.count)
    #expect(response1 == bytes("write data\n"))
    #expect(server.received.value == bytes("client response\n"))
    #expect(server.sent2.value == SOCK_MAX_SIZE)
    #expect(received2 == SOCK_MAX_SIZE - 100)
    // A blocking send() interrupted by the handler returns a partial count (or EINTR), and
    // sendall goes on: more than one send() for the big chunk.
    #expect(server.sendCalls.value >= 2, "the signal interrupted send(): \(server.sendCalls.value) calls")
}

// MARK: - MiscTestCase

/// Python: test_shutdown_request_called_if_verify_request_false's MyServer.
final class VerifyFalseServer: TCPServer, @unchecked Sendable {
    let shutdownCalled = Box(0)

    override func verifyRequest(_ request: Request, _ clientAddress: SocketAddress) throws -> Bool {
        false
    }

    override func shutdownRequest(_ request: Request) throws {
        shutdownCalled.increment()
        try super.shutdownRequest(request)
    }
}

/// Python: class MiscTestCase(unittest.TestCase).
@Suite("MiscTestCase")
struct MiscTestCase {
    /// Python checks `__all__`; Swift has none, so every name of `__all__` (18 on Linux) must be
    /// a public declaration of the module under the same name, and the version "0.4".
    @Test("test_all", .timeLimit(.minutes(1)))
    func all() {
        let classes: [(Any.Type, String)] = [
            (BaseServer.self, "BaseServer"), (TCPServer.self, "TCPServer"), (UDPServer.self, "UDPServer"),
            (ThreadingUDPServer.self, "ThreadingUDPServer"), (ThreadingTCPServer.self, "ThreadingTCPServer"),
            (BaseRequestHandler.self, "BaseRequestHandler"),
            (StreamRequestHandler.self, "StreamRequestHandler"),
            (DatagramRequestHandler.self, "DatagramRequestHandler"),
            ((any ThreadingMixIn).self, "ThreadingMixIn"),
            (ForkingUDPServer.self, "ForkingUDPServer"), (ForkingTCPServer.self, "ForkingTCPServer"),
            ((any ForkingMixIn).self, "ForkingMixIn"),
            (UnixStreamServer.self, "UnixStreamServer"), (UnixDatagramServer.self, "UnixDatagramServer"),
            (ThreadingUnixStreamServer.self, "ThreadingUnixStreamServer"),
            (ThreadingUnixDatagramServer.self, "ThreadingUnixDatagramServer"),
            (ForkingUnixStreamServer.self, "ForkingUnixStreamServer"),
            (ForkingUnixDatagramServer.self, "ForkingUnixDatagramServer"),
        ]
        #expect(classes.count == 18)
        for (type, name) in classes {
            #expect(String(describing: type) == name)
        }
        #expect(__version__ == "0.4")
    }

    /// Issue #26309: BaseServer should call shutdown_request even if verify_request is False.
    @Test("test_shutdown_request_called_if_verify_request_false", .timeLimit(.minutes(1)))
    func shutdownRequestCalledIfVerifyRequestFalse() throws {
        let server = try VerifyFalseServer(.inet(host: HOST, port: 0), StreamRequestHandler.self)
        try connectAndClose(server.serverAddress)
        try server.handleRequest()
        #expect(server.shutdownCalled.value == 1)
        try server.serverClose()
    }

    /// bpo-37193: users reported a memory leak due to the saving of every request thread.
    /// Ensure that not all threads are kept forever.
    @Test("test_threads_reaped", .timeLimit(.minutes(1)))
    func threadsReaped() throws {
        let server = try ThreadingTCPServer(.inet(host: HOST, port: 0), StreamRequestHandler.self)
        for _ in 0..<10 {
            let client = try connectedClient(server.serverAddress)
            defer { try? client.close() }
            try server.handleRequest()
            // Wait until the worker shut the request down (CPython's threads are done long
            // before the next request; on a loaded machine ours may not be): at the next
            // append, every earlier worker has ended, or is about to.
            _ = try client.recv(1)
        }
        let threads = try #require(server._threads as? _Threads)
        #expect(threads.count < 10)
        try server.serverClose()
    }
}
