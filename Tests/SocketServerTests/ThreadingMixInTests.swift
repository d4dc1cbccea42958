// ThreadingMixIn behaviour that CPython's test_socketserver.py does not check (inventory 4.3,
// item 17): daemon_threads, block_on_close, and server_close joining the workers.
import Glibc
import SocketServer
import Sockets
import TestSupport
import Testing

/// A threading server whose handler waits for `release`, and that signals when a worker has
/// shut its request down.
final class GatedThreadingServer: ThreadingTCPServer, @unchecked Sendable {
    let release = ThreadEvent()
    let entered = ThreadEvent()
    let requestDone = ThreadEvent()

    override func shutdownRequest(_ request: Request) throws {
        try super.shutdownRequest(request)
        requestDone.set()
    }
}

/// Waits in handle() until the server's `release` is set (at most 5 s).
final class GatedHandler: StreamRequestHandler {
    override func handle() throws {
        let server = self.server as! GatedThreadingServer
        server.entered.set()
        _ = server.release.wait(5)
        _ = try wfile.write(bytes("released\n"))
    }
}

/// Sleeps 0.3 s in handle(), then answers.
final class SlowHandler: StreamRequestHandler {
    override func handle() throws {
        sleep(seconds: 0.3)
        _ = try wfile.write(bytes("slow\n"))
    }
}

@Suite("ThreadingMixIn")
struct ThreadingMixInTests {
    /// Serve one request with a gated handler (and check what `whileHandling` checks); then
    /// server_close must return while the handler is still blocked; then release the worker
    /// and wait for it.
    func serverCloseDoesNotWait(
        _ server: GatedThreadingServer, whileHandling check: (GatedThreadingServer) throws -> Void = { _ in }
    ) throws {
        let client = try connectedClient(server.serverAddress)
        defer { try? client.close() }
        try server.handleRequest()
        try check(server)
        #expect(server.entered.wait(5), "the worker is in handle()")
        #expect(try finishes(within: 1) { try server.serverClose() }, "server_close did not join the worker")
        server.release.set()
        #expect(try receiveLine(client) == bytes("released\n"))
        #expect(server.requestDone.wait(5))
    }

    /// daemon_threads = True: the worker is not tracked and not joined.
    @Test("daemon threads are not tracked or joined", .timeLimit(.minutes(1)))
    func daemonThreads() throws {
        let server = try GatedThreadingServer(.inet(host: HOST, port: 0), GatedHandler.self)
        server.daemonThreads = true
        try serverCloseDoesNotWait(server) { server in
            let threads = try #require(server._threads as? _Threads, "block_on_close made an instance list")
            #expect(threads.count == 0, "the daemon worker is not in the list")
        }
    }

    /// block_on_close = False: no instance _threads (the class-level _NoThreads), no join.
    @Test("block_on_close false keeps no threads and does not join", .timeLimit(.minutes(1)))
    func blockOnCloseFalse() throws {
        let server = try GatedThreadingServer(.inet(host: HOST, port: 0), GatedHandler.self)
        server.blockOnClose = false
        try serverCloseDoesNotWait(server)
        #expect(server._threads is _NoThreads)
        #expect(server.threadingMixIn.ownThreads == nil)
    }

    /// The default: server_close blocks until the workers finish.
    @Test("server_close joins the workers by default", .timeLimit(.minutes(1)))
    func serverCloseJoins() throws {
        try withServerAndClient(ThreadingTCPServer.self, SlowHandler.self) { server, client throws in
            try server.handleRequest()
            let threads = try #require(server._threads as? _Threads)
            #expect(threads.count == 1)
            let start = now()
            try server.serverClose()
            #expect(now() - start >= 0.2, "server_close waited for the worker")
            #expect(threads.count == 0)
            #expect(try receiveLine(client) == bytes("slow\n"))
        }
    }

    /// A worker's Exception goes to handle_error on the worker thread, then shutdown_request.
    @Test("a worker's exception goes to handle_error", .timeLimit(.minutes(1)))
    func workerHandleError() throws {
        try withServerAndClient(ThreadingRecordingServer.self, FailingHandler.self) { server, client throws in
            try server.handleRequest()
            try server.serverClose()
            #expect(server.log.value == ["handle_error ValueError: boom", "shutdown_request"])
            #expect(try client.recv(100).isEmpty)
        }
    }

    /// A failed Thread.start leaves the unstarted thread in `_threads`: the request goes to
    /// handle_error ("can't start new thread"), and server_close later raises RuntimeError
    /// ("cannot join thread before it is started"). The start is made to fail by a low
    /// address-space limit (no room for a thread stack), in a fresh process.
    @Test(
        "a failed Thread.start makes server_close raise RuntimeError", .timeLimit(.minutes(1)),
        .disabled(if: sanitizer != nil, "a sanitizer's runtime needs the address space RLIMIT_AS takes away"))
    func threadStartFailure() async {
        await #expect(processExitsWith: .success) {
            isolated { try threadStartFailureBody() }
        }
    }

    /// bpo-37193 was a leak of every request thread. The threads reaped from `_threads` (and
    /// daemon threads) are never joined again, so each one must not keep its stack: serving
    /// many requests must not grow the process by a stack per request. Runs in a fresh
    /// process, where the virtual size is this test's alone.
    @Test("reaped worker threads release their stacks", .timeLimit(.minutes(1)))
    func reapedThreadsReleased() async {
        await #expect(processExitsWith: .success) {
            isolated { try reapedThreadsBody() }
        }
    }
}

/// A threading server logging handle_error (with the exception) and shutdown_request.
final class ThreadingRecordingServer: ThreadingTCPServer, @unchecked Sendable {
    let log = Box<[String]>([])

    override func handleError(_ request: Request, _ clientAddress: SocketAddress) throws {
        log.append("handle_error " + (sys.exception().map(pythonExceptionLine) ?? "None"))
    }

    override func shutdownRequest(_ request: Request) throws {
        log.append("shutdown_request")
        try super.shutdownRequest(request)
    }
}

func threadStartFailureBody() throws {
    try withServerAndClient(ThreadingRecordingServer.self, MyStreamHandler.self) { server, client throws in
        var saved = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &saved)
        var low = saved
        low.rlim_cur = rlim_t(virtualMemoryKB() * 1024 + 2 * 1024 * 1024)
        setrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &low)
        do {
            defer { setrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &saved) }
            try server.handleRequest()
        }
        #expect(server.log.value == ["handle_error RuntimeError: can't start new thread", "shutdown_request"])
        let threads = try #require(server._threads as? _Threads)
        #expect(threads.count == 1, "the unstarted thread stays in _threads")
        #expect(throws: RuntimeError("cannot join thread before it is started")) { try server.serverClose() }
        #expect(server.socket.fileno() == -1, "the socket was closed before the join")
        #expect(try client.recv(100).isEmpty, "the request was shut down")
    }
}

func reapedThreadsBody() throws {
    let server = try ThreadingTCPServer(.inet(host: HOST, port: 0), MyStreamHandler.self)
    defer { try? server.serverClose() }
    func serveOne() throws {
        let client = try connectedClient(server.serverAddress)
        defer { try? client.close() }
        try client.sendall(TEST_STR)
        try server.handleRequest()
        #expect(try receiveLine(client) == TEST_STR)
        #expect(try client.recv(10).isEmpty)
        // The worker ends right after shutdown_request: wait for it, so that the next append
        // reaps it.
        let threads = server._threads as? _Threads
        #expect(waitUntil { !(threads?.threads.contains { $0.isAlive() } ?? false) })
    }
    for _ in 0..<5 { try serveOne() }
    let before = virtualMemoryKB()
    for _ in 0..<40 { try serveOne() }
    let grown = virtualMemoryKB() - before
    // A leaked default pthread stack is 8 MiB: 40 of them would be 320 MiB.
    #expect(grown < 64 * 1024, "the process grew by \(grown) kB over 40 reaped worker threads")
}
