// BaseServer behaviour that CPython's test_socketserver.py does not check (inventory 4.3,
// items 1-10 and 34): handle_request's timeout, the serve_forever loop and shutdown, the error
// paths of the request pipeline, handle_error's report, and EINTR in poll and accept.
import Glibc
import SocketServer
import Sockets
import TestSupport
import Testing

// MARK: - Servers and handlers that record

/// What ScriptedHandler does.
enum HandlerScript: Sendable {
    case echo, setupRaises, handleRaises, handleRaisesSystemExit, handleRaisesKeyboardInterrupt
}

/// A TCP server that logs every hook of the request pipeline, in order, and can be told to
/// fail in some of them.
final class RecordingServer: TCPServer, @unchecked Sendable {
    let log = Box<[String]>([])
    /// `sys.exception()` as handle_error saw it, one per call.
    let handled = Box<[any Error]>([])
    let lastRequest = Box<Socket?>(nil)
    let serviceActionsCalls = Box(0)
    let timeouts = Box(0)
    /// Set when serve_forever has registered the socket with its selector (it asks `fileno`
    /// right before its first select).
    let selecting = SocketServer.Event()
    var script = HandlerScript.echo
    var getRequestError: (any Error)? = nil
    var verifyError: (any Error)? = nil
    var failShutdownOnce = false

    override func fileno() throws -> CInt {
        selecting.set()
        return try super.fileno()
    }

    override func getRequest() throws -> (Request, SocketAddress) {
        log.append("get_request")
        if let error = getRequestError {
            getRequestError = nil
            throw error
        }
        return try super.getRequest()
    }

    override func verifyRequest(_ request: Request, _ clientAddress: SocketAddress) throws -> Bool {
        log.append("verify_request")
        lastRequest.set(request.socket)
        if let error = verifyError { throw error }
        return true
    }

    override func processRequest(_ request: Request, _ clientAddress: SocketAddress) throws {
        log.append("process_request")
        try super.processRequest(request, clientAddress)
    }

    override func handleError(_ request: Request, _ clientAddress: SocketAddress) throws {
        log.append("handle_error")
        handled.append(sys.exception() ?? RuntimeError("no exception"))
    }

    override func shutdownRequest(_ request: Request) throws {
        log.append("shutdown_request")
        if failShutdownOnce {
            failShutdownOnce = false
            throw ValueError("shutdown failed")
        }
        try super.shutdownRequest(request)
    }

    override func closeRequest(_ request: Request) throws {
        log.append("close_request")
        try super.closeRequest(request)
    }

    override func serviceActions() throws {
        serviceActionsCalls.increment()
    }

    override func handleTimeout() throws {
        timeouts.increment()
    }
}

/// A stream handler that logs setup, handle and finish in its RecordingServer and follows the
/// server's script.
final class ScriptedHandler: StreamRequestHandler {
    var recorder: RecordingServer { server as! RecordingServer }

    override func setup() throws {
        recorder.log.append("setup")
        if recorder.script == .setupRaises { throw ValueError("setup failed") }
        try super.setup()
    }

    override func handle() throws {
        recorder.log.append("handle")
        switch recorder.script {
        case .echo, .setupRaises:
            _ = try wfile.write(try rfile.readline())
        case .handleRaises: throw ValueError("handle failed")
        case .handleRaisesSystemExit: throw SystemExit(3)
        case .handleRaisesKeyboardInterrupt: throw KeyboardInterrupt()
        }
    }

    override func finish() throws {
        recorder.log.append("finish")
        try super.finish()
    }
}

/// A RecordingServer on 127.0.0.1 with the scripted handler.
func recordingServer(_ script: HandlerScript = .echo) throws -> RecordingServer {
    let server = try RecordingServer(.inet(host: HOST, port: 0), ScriptedHandler.self)
    server.script = script
    return server
}

// MARK: - handle_request timeouts

/// The socket's and the server's timeouts of a handle_request test (nil: none).
struct Timeouts: Sendable, CustomTestStringConvertible {
    let testDescription: String
    let socket: Double?
    let server: Double?
}

@Suite("handle_request timeouts", .serialized)
struct HandleRequestTimeoutTests {
    /// No request within the timeout: handle_timeout is called once, after at least the
    /// timeout (the deadline loop). The server's timeout (self.timeout, None by default) and
    /// the socket's ("support people who used socket.settimeout() to escape handle_request
    /// before self.timeout was available") both count: the smaller one wins.
    @Test(
        "handle_request times out after the smaller of the two timeouts", .timeLimit(.minutes(1)),
        arguments: [
            Timeouts(testDescription: "server timeout calls handle_timeout after the timeout", socket: nil, server: 0.2),
            Timeouts(testDescription: "socket timeout applies when the server timeout is nil", socket: 0.3, server: nil),
            Timeouts(testDescription: "min(socket timeout, server timeout) wins: the socket's", socket: 0.1, server: 5),
            Timeouts(testDescription: "min(socket timeout, server timeout) wins: the server's", socket: 5, server: 0.1),
        ])
    func timesOut(_ timeouts: Timeouts) throws {
        let server = try recordingServer()
        defer { try? server.serverClose() }
        #expect(server.timeout == nil)
        if let socket = timeouts.socket { try server.socket.settimeout(socket) }
        server.timeout = timeouts.server
        let elapsed = try secondsTaken { try server.handleRequest() }
        #expect(server.timeouts.value == 1)
        #expect(elapsed >= [timeouts.socket, timeouts.server].compactMap { $0 }.min()!)
        #expect(elapsed < 2)
        #expect(server.log.value.isEmpty, "no request was handled")
    }

    /// A timeout of 0 is one poll(0), then handle_timeout.
    @Test("timeout 0 polls once", .timeLimit(.minutes(1)))
    func zeroTimeout() throws {
        let server = try recordingServer()
        defer { try? server.serverClose() }
        server.timeout = 0
        let (_, calls) = try SyscallFaults.counting { try server.handleRequest() }
        #expect(calls[.poll] == 1)
        #expect(server.timeouts.value == 1)
    }

    /// A waiting request is handled, and handle_timeout is not called.
    @Test("a pending request is served, not timed out", .timeLimit(.minutes(1)))
    func pendingRequest() throws {
        let server = try recordingServer()
        defer { try? server.serverClose() }
        server.timeout = 5
        let client = try connectedClient(server.serverAddress)
        defer { try? client.close() }
        try client.sendall(TEST_STR)
        #expect(try secondsTaken { try server.handleRequest() } < 2)
        #expect(server.timeouts.value == 0)
        #expect(try receiveLine(client) == TEST_STR)
    }

    /// ForkingMixIn.timeout = 300; the other servers have None.
    @Test("ForkingMixIn's default timeout is 300", .timeLimit(.minutes(1)))
    func forkingTimeout() throws {
        #expect(ForkingTCPServer.timeout == 300)
        #expect(ForkingUDPServer.timeout == 300)
        #expect(ForkingUnixStreamServer.timeout == 300)
        #expect(ForkingUnixDatagramServer.timeout == 300)
        #expect(TCPServer.timeout == nil)
        #expect(ThreadingTCPServer.timeout == nil)
        #expect(BaseServer.timeout == nil)
        let forking = try ForkingTCPServer(.inet(host: HOST, port: 0), StreamRequestHandler.self)
        #expect(forking.timeout == 300)
        try forking.serverClose()
        let plain = try TCPServer(.inet(host: HOST, port: 0), StreamRequestHandler.self)
        #expect(plain.timeout == nil)
        try plain.serverClose()
    }

    /// ForkingMixIn.handle_timeout collects the children.
    @Test("ForkingMixIn.handle_timeout calls collect_children", .timeLimit(.minutes(1)))
    func forkingHandleTimeout() throws {
        let server = try CollectCountingServer(.inet(host: HOST, port: 0), StreamRequestHandler.self)
        defer { try? server.serverClose() }
        server.timeout = 0.05
        try server.handleRequest()
        #expect(server.collected.value == [false])
    }
}

/// A forking server that records its collect_children calls (it never forks here).
final class CollectCountingServer: ForkingTCPServer, @unchecked Sendable {
    let collected = Box<[Bool]>([])

    override func collectChildren(blocking: Bool = false) throws {
        collected.update { $0.append(blocking) }
        try super.collectChildren(blocking: blocking)
    }
}

// MARK: - serve_forever and shutdown

@Suite("serve_forever and shutdown")
struct ServeForeverTests {
    /// service_actions runs on every iteration of the loop, idle ones too, and the loop polls
    /// (it does not spin).
    @Test("service_actions is called on idle iterations", .timeLimit(.minutes(1)))
    func serviceActionsIdle() throws {
        let server = try recordingServer()
        let start = now()
        let serving = try ServingThread(server, pollInterval: 0.01)
        #expect(waitUntil { server.serviceActionsCalls.value >= 5 }, "five idle turns")
        let elapsed = now() - start
        server.shutdown()
        try serving.join()
        try server.serverClose()
        // Five idle turns each waited poll_interval in select: the loop polls, it does not spin.
        #expect(elapsed >= 0.04, "five idle turns took \(elapsed) s at poll_interval 0.01")
        #expect(server.log.value.isEmpty)
    }

    /// bpo-35017: when shutdown() is called during select(), the loop exits right after the
    /// select without calling _handle_request_noblock or service_actions.
    @Test("shutdown during select skips service_actions (bpo-35017)", .timeLimit(.minutes(1)))
    func shutdownDuringSelect() throws {
        let server = try recordingServer()
        defer { try? server.serverClose() }
        let serving = try ServingThread(server, pollInterval: 0.3)
        // The loop is at (or in) its first select(0.3): shutdown comes before that select ends.
        #expect(server.selecting.wait(5))
        server.shutdown()
        try serving.join()
        #expect(server.serviceActionsCalls.value == 0)
        #expect(server.log.value.isEmpty)
    }

    /// shutdown() after a completed loop returns at once and leaves the flag set: the next
    /// serve_forever returns immediately without serving, and resets the flag.
    @Test("a stale shutdown flag ends the next serve_forever at once", .timeLimit(.minutes(1)))
    func staleShutdownFlag() throws {
        let server = try recordingServer()
        defer { try? server.serverClose() }
        let serving = try ServingThread(server)
        #expect(server.selecting.wait(5), "the loop started")
        server.shutdown()
        try serving.join()

        #expect(try finishes(within: 2) { server.shutdown() }, "shutdown with no loop returned")
        let client = try connectedClient(server.serverAddress)
        defer { try? client.close() }
        try client.sendall(TEST_STR)
        let actions = server.serviceActionsCalls.value
        #expect(try finishes(within: 2) { try server.serveForever(pollInterval: 0.01) })
        #expect(server.serviceActionsCalls.value == actions, "the loop body never ran")
        #expect(server.log.value.isEmpty, "the waiting client was not served")

        // The flag was reset: the next loop serves the waiting client.
        let again = try ServingThread(server)
        #expect(try receiveLine(client) == TEST_STR)
        server.shutdown()
        try again.join()
    }

    /// shutdown() before any loop ran blocks until a serve_forever starts (and ends at once).
    @Test("shutdown before the first loop waits for one", .timeLimit(.minutes(1)))
    func shutdownBeforeLoop() throws {
        let server = try recordingServer()
        defer { try? server.serverClose() }
        let returned = ThreadEvent()
        let stopper = PThread(name: "shutdown") {
            server.shutdown()
            returned.set()
        }
        try stopper.start()
        #expect(!returned.wait(0.1), "shutdown blocks while no loop has run")
        #expect(try finishes(within: 2) { try server.serveForever(pollInterval: 0.01) })
        #expect(returned.wait(2), "shutdown returned once the loop ended")
        try stopper.join()
        #expect(server.serviceActionsCalls.value == 0)
    }

    /// serve_forever and handle_request register fileno() == -1 with the selector:
    /// ValueError("Invalid file descriptor: -1"); shutdown() then returns at once.
    @Test("serve_forever and handle_request on a closed server raise ValueError", .timeLimit(.minutes(1)))
    func closedServer() throws {
        let server = try recordingServer()
        try server.serverClose()
        #expect(throws: ValueError("Invalid file descriptor: -1")) {
            try server.serveForever(pollInterval: 0.01)
        }
        #expect(throws: ValueError("Invalid file descriptor: -1")) {
            try server.handleRequest()
        }
        #expect(try finishes(within: 2) { server.shutdown() })
        try server.serverClose()  // idempotent
        #expect(server.socket.fileno() == -1)
    }

    /// Closing the listening socket under a running serve_forever makes it spin: poll reports
    /// POLLNVAL as readable and accept's EBADF is swallowed. shutdown() still ends it. Runs in
    /// a fresh process: in a shared one another test may reuse the closed descriptor number.
    @Test("closing the socket under serve_forever busy-spins until shutdown", .timeLimit(.minutes(1)))
    func closedUnderLoop() async {
        await #expect(processExitsWith: .success) {
            isolated { try closedUnderLoopBody() }
        }
    }

    /// A KeyboardInterrupt from the handler ends serve_forever after shutdown_request; a later
    /// shutdown() does not block.
    @Test("KeyboardInterrupt ends serve_forever", .timeLimit(.minutes(1)))
    func keyboardInterrupt() throws {
        let server = try recordingServer(.handleRaisesKeyboardInterrupt)
        defer { try? server.serverClose() }
        let serving = try ServingThread(server)
        let client = try connectedClient(server.serverAddress)
        defer { try? client.close() }
        try client.sendall(TEST_STR)
        #expect(try client.recv(100).isEmpty, "the request was shut down")
        #expect(throws: KeyboardInterrupt.self) { try serving.join() }
        #expect(try finishes(within: 2) { server.shutdown() })
        #expect(!server.log.value.contains("handle_error"))
    }
}

func closedUnderLoopBody() throws {
    let server = try recordingServer()
    let serving = try ServingThread(server, pollInterval: 0.05)
    // Past its first turn, the loop has registered the socket (asking fileno more than once).
    #expect(waitUntil { server.serviceActionsCalls.value > 0 }, "the loop turned once")
    try server.socket.close()
    let start = server.serviceActionsCalls.value
    let began = now()
    let spun = waitUntil(timeout: 10) { server.serviceActionsCalls.value - start > 50 }
    let elapsed = now() - began
    server.shutdown()
    try serving.join()
    try server.serverClose()
    // A polling loop needs 50 × poll_interval = 2.5 s for 50 turns; a spinning one far less.
    #expect(spun && elapsed < 2.5, "the loop spun: 50 turns in \(elapsed) s at poll_interval 0.05")
    #expect(!server.log.value.contains("process_request"))
}

// MARK: - The request pipeline's error paths

/// A RecordingServer following `script`, told by `prepare` where to fail, and a client
/// connected to it that has sent TEST_STR; both are closed after `body`.
func withSentRequest(
    _ script: HandlerScript = .echo, prepare: (RecordingServer) -> Void = { _ in },
    _ body: (RecordingServer, Socket) throws -> Void
) throws {
    let server = try recordingServer(script)
    defer { try? server.serverClose() }
    prepare(server)
    let client = try connectedClient(server.serverAddress)
    defer { try? client.close() }
    try client.sendall(TEST_STR)
    try body(server, client)
}

/// A hook of the handler that raises, and the hooks the pipeline then calls.
struct RaisingHook: Sendable, CustomTestStringConvertible {
    let testDescription: String
    let script: HandlerScript
    let log: [String]
    let error: String
}

@Suite("request pipeline error paths", .serialized)
struct RequestPipelineTests {
    @Test("the success path calls the hooks in order", .timeLimit(.minutes(1)))
    func successOrder() throws {
        try withSentRequest { server, client in
            try server.handleRequest()
            #expect(try receiveLine(client) == TEST_STR)
            #expect(
                server.log.value == [
                    "get_request", "verify_request", "process_request", "setup", "handle", "finish",
                    "shutdown_request", "close_request",
                ])
            #expect(server.lastRequest.value?.fileno() == -1, "the request socket is closed")
        }
    }

    /// get_request raising OSError is swallowed: no other hook runs; the connection waits in
    /// the backlog and the next handle_request serves it.
    @Test("an OSError from accept is swallowed", .timeLimit(.minutes(1)))
    func getRequestOSError() throws {
        try withSentRequest { server, client in
            try SyscallFaults.injecting(.init(.accept, errno: ECONNABORTED)) { try server.handleRequest() }
            #expect(server.log.value == ["get_request"])
            try server.handleRequest()
            #expect(try receiveLine(client) == TEST_STR)
            #expect(server.log.value.filter { $0 == "process_request" }.count == 1)
        }
    }

    /// Only OSError is swallowed: another error from get_request propagates.
    @Test("a non-OSError from get_request propagates", .timeLimit(.minutes(1)))
    func getRequestOtherError() throws {
        try withSentRequest(prepare: { $0.getRequestError = ValueError("not an OSError") }) { server, _ in
            #expect(throws: ValueError("not an OSError")) { try server.handleRequest() }
            #expect(server.log.value == ["get_request"])
        }
    }

    /// verify_request raising propagates, and the request is never shut down or closed.
    @Test("verify_request raising propagates and leaks the request", .timeLimit(.minutes(1)))
    func verifyRaises() throws {
        try withSentRequest(prepare: { $0.verifyError = ValueError("verify failed") }) { server, _ in
            #expect(throws: ValueError("verify failed")) { try server.handleRequest() }
            #expect(server.log.value == ["get_request", "verify_request"])
            let request = try #require(server.lastRequest.value)
            #expect(request.fileno() >= 0, "the request was not closed")
            try request.close()
        }
    }

    /// shutdown_request raising an Exception on the sync path: handle_error runs, then
    /// shutdown_request a second time.
    @Test("shutdown_request raising runs handle_error, then shutdown_request again", .timeLimit(.minutes(1)))
    func shutdownRequestRaises() throws {
        try withSentRequest(prepare: { $0.failShutdownOnce = true }) { server, client in
            try server.handleRequest()
            #expect(
                server.log.value == [
                    "get_request", "verify_request", "process_request", "setup", "handle", "finish",
                    "shutdown_request", "handle_error", "shutdown_request", "close_request",
                ])
            #expect(server.handled.value.count == 1)
            #expect(server.handled.value.first as? ValueError == ValueError("shutdown failed"))
            #expect(try receiveLine(client) == TEST_STR)
        }
    }

    /// setup() raising: handle and finish are skipped. handle() raising: finish still runs
    /// (try/finally). Then handle_error and shutdown_request, and the client sees the end.
    @Test(
        "a raising hook of the handler goes to handle_error", .timeLimit(.minutes(1)),
        arguments: [
            RaisingHook(
                testDescription: "setup raising skips handle and finish", script: .setupRaises,
                log: ["setup", "handle_error"], error: "setup failed"),
            RaisingHook(
                testDescription: "finish runs when handle raises", script: .handleRaises,
                log: ["setup", "handle", "finish", "handle_error"], error: "handle failed"),
        ])
    func raisingHook(_ hook: RaisingHook) throws {
        try withSentRequest(hook.script) { server, client in
            try server.handleRequest()
            #expect(
                server.log.value
                    == ["get_request", "verify_request", "process_request"] + hook.log + ["shutdown_request", "close_request"])
            #expect(server.handled.value.first as? ValueError == ValueError(hook.error))
            #expect(try client.recv(100).isEmpty)
        }
    }

    /// A BaseException (SystemExit) on the sync path: shutdown_request runs, then the error
    /// propagates; handle_error is not called.
    @Test("a BaseException shuts the request down and propagates", .timeLimit(.minutes(1)))
    func baseException() throws {
        try withSentRequest(.handleRaisesSystemExit) { server, client throws in
            let error = #expect(throws: SystemExit.self) { try server.handleRequest() }
            #expect(error?.code == 3)
            #expect(
                server.log.value == [
                    "get_request", "verify_request", "process_request", "setup", "handle", "finish",
                    "shutdown_request", "close_request",
                ])
            #expect(try client.recv(100).isEmpty, "the client sees the end of the stream")
        }
    }
}

// MARK: - handle_error's report

/// handle_error writes to standard error: these tests redirect descriptor 2, so each runs in
/// a fresh process.
@Suite("handle_error output", .serialized)
struct HandleErrorOutputTests {
    static let tests = [
        // CPython prints 40 dashes, "Exception occurred during processing of request from",
        // the address (str of the tuple), the traceback (ending with the exception line), 40
        // dashes.
        FreshProcessTest("handle_error reports the address and the exception on stderr", handleErrorFormatBody),
        // traceback.print_exc() with no exception being handled prints just "NoneType: None":
        // the whole report is four lines.
        FreshProcessTest("handle_error outside an except block prints CPython's four lines", handleErrorNoExceptionBody),
        // CPython prints the address with print(), that is str(): a tuple shows as its repr,
        // but a Unix path shows bare, and an unbound Unix stream client ('') as nothing at all.
        FreshProcessTest("handle_error prints a Unix client address with str()", handleErrorUnixAddressBody),
        // A worker's uncaught exception is reported by the default threading.excepthook:
        // "Exception in thread Thread-N (process_request_thread):", ..., the exception line.
        FreshProcessTest("the default excepthook reports a worker's uncaught exception", defaultExcepthookBody),
        // The default handle_error of a real failing request.
        FreshProcessTest("a failing request is reported by the default handle_error", handleErrorEndToEndBody),
    ]

    @Test("in a fresh process", .timeLimit(.minutes(1)), arguments: tests.map(\.name))
    func inFreshProcess(_ name: String) async {
        await #expect(processExitsWith: .success) { [name] in FreshProcessTest.run(name, of: HandleErrorOutputTests.tests) }
    }
}

let dashes = String(repeating: "-", count: 40)

/// What a plain TCPServer's handle_error writes on standard error for a request (one end of a
/// socket pair) from `address`, while `error` is being handled (nil: outside any except block).
func handleErrorReport(from address: SocketAddress, handling error: (any Error)? = nil) throws -> String {
    let server = try TCPServer(.inet(host: HOST, port: 0), StreamRequestHandler.self)
    defer { try? server.serverClose() }
    return try withSocketPair { request, _ in
        try capturingStderr {
            guard let error else { return try server.handleError(.stream(request), address) }
            try sys.handling(error) { try server.handleError(.stream(request), address) }
        }
    }
}

func handleErrorFormatBody() throws {
    let output = try handleErrorReport(from: .inet(host: "127.0.0.1", port: 1234), handling: ValueError("boom"))
    let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    #expect(lines.first == dashes)
    #expect(lines.count > 1 && lines[1] == "Exception occurred during processing of request from ('127.0.0.1', 1234)")
    #expect(lines.count > 2 && lines[2] == "Traceback (most recent call last):")
    #expect(lines.suffix(3) == ["ValueError: boom", dashes, ""], "the exception line, dashes, end")
}

func handleErrorNoExceptionBody() throws {
    let output = try handleErrorReport(from: .inet(host: "127.0.0.1", port: 1234))
    #expect(
        output == """
            \(dashes)
            Exception occurred during processing of request from ('127.0.0.1', 1234)
            NoneType: None
            \(dashes)

            """)
}

func handleErrorEndToEndBody() throws {
    try withServerAndClient(TCPServer.self, FailingHandler.self) { server, client throws in
        let clientAddress = try client.getsockname()
        let output = try capturingStderr { try server.handleRequest() }
        #expect(output.hasPrefix(dashes + "\nException occurred during processing of request from \(clientAddress)\n"))
        #expect(output.hasSuffix("\nValueError: boom\n" + dashes + "\n"))
        #expect(try client.recv(100).isEmpty, "the request was shut down after handle_error")
    }
}

func handleErrorUnixAddressBody() throws {
    let dir = try TempDir()
    defer { dir.remove() }
    let server = try UnixStreamServer(.unix(dir.file("s")), FailingHandler.self)
    defer { try? server.serverClose() }
    let client = try connectedClient(server.serverAddress, family: Sockets.AF_UNIX)
    defer { try? client.close() }
    let stream = try capturingStderr { try server.handleRequest() }
    #expect(stream.contains("\nException occurred during processing of request from \n"), "\(stream)")

    let datagramServer = try UnixDatagramServer(.unix(dir.file("d")), FailingHandler.self)
    defer { try? datagramServer.serverClose() }
    let datagramClient = try Socket(Sockets.AF_UNIX, SOCK_DGRAM)
    defer { try? datagramClient.close() }
    try datagramClient.bind(.unix(dir.file("c")))
    _ = try datagramClient.sendto(TEST_STR, datagramServer.serverAddress)
    let datagram = try capturingStderr { try datagramServer.handleRequest() }
    #expect(
        datagram.contains("\nException occurred during processing of request from \(dir.file("c"))\n"),
        "\(datagram)")
}

/// Serves one request whose handler raises ValueError("boom") on a threading server whose
/// handle_error re-raises (as run_server's MyServer), and returns what the worker thread's
/// uncaught exception wrote to standard error, checking its first and last lines.
func workerExceptionReport() throws -> (output: String, lines: [String]) {
    try withServerAndClient(MyThreadingTCPServer.self, FailingHandler.self) { server, client throws in
        let output = try capturingStderr {
            try server.handleRequest()
            try server.serverClose()  // joins the worker: its report is written
        }
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("Exception in thread Thread-") == true, "\(output)")
        #expect(lines.first?.hasSuffix(" (process_request_thread):") == true, "\(output)")
        #expect(lines.last == "ValueError: boom", "\(output)")
        return (output, lines)
    }
}

/// The default excepthook reports a worker's uncaught exception.
func defaultExcepthookBody() throws {
    _ = try workerExceptionReport()
}

/// A handler that fails with ValueError("boom").
final class FailingHandler: BaseRequestHandler {
    override func handle() throws { throw ValueError("boom") }
}

// MARK: - EINTR

/// Serves with EINTR injected into three polls and two accepts of the serving thread (from the
/// start of serve_forever to its end, which checks that all were used), counts that thread's
/// polls and accepts over the whole serve, and records what get_request raised.
final class EINTRServer: TCPServer, @unchecked Sendable {
    let injected = Box(false)
    let getRequestErrors = Box<[any Error]>([])
    let pollCalls = Box(0)
    let acceptCalls = Box(0)

    override func serveForever(pollInterval: Double = 0.5) throws {
        let (_, calls) = try SyscallFaults.counting {
            try SyscallFaults.injecting(
                .init(.poll, errno: EINTR, count: 3), .init(.accept, errno: EINTR, count: 2)
            ) {
                injected.set(true)
                try super.serveForever(pollInterval: pollInterval)
            }
        }
        pollCalls.set(calls[.poll])
        acceptCalls.set(calls[.accept])
    }

    override func getRequest() throws -> (Request, SocketAddress) {
        do {
            return try super.getRequest()
        } catch {
            getRequestErrors.append(error)
            throw error
        }
    }
}

@Suite("EINTR", .serialized)
struct EINTRTests {
    /// EINTR in poll (the selector) and in accept is retried (PEP 475): serve_forever goes on,
    /// and get_request never sees the interruption.
    @Test("serve_forever retries EINTR in poll and accept", .timeLimit(.minutes(1)))
    func serveForever() throws {
        let server = try EINTRServer(.inet(host: HOST, port: 0), MyStreamHandler.self)
        let serving = try ServingThread(server)
        #expect(waitUntil { server.injected.value })
        let client = try connectedClient(server.serverAddress)
        defer { try? client.close() }
        try client.sendall(TEST_STR)
        #expect(try receiveLine(client) == TEST_STR)
        server.shutdown()
        try serving.join()
        try server.serverClose()
        #expect(server.getRequestErrors.value.isEmpty, "accept's EINTR did not reach get_request")
        #expect(server.acceptCalls.value == 3, "two interrupted accepts, then the real one")
        #expect(server.pollCalls.value >= 4, "three interrupted polls were retried")
    }

    /// handle_request's wait survives EINTR: it still times out after the full timeout, and
    /// still serves a waiting request.
    @Test("handle_request retries EINTR in poll", .timeLimit(.minutes(1)))
    func handleRequest() throws {
        let server = try recordingServer()
        defer { try? server.serverClose() }
        server.timeout = 0.3
        let elapsed = try secondsTaken {
            try SyscallFaults.injecting(.init(.poll, errno: EINTR, count: 2)) { try server.handleRequest() }
        }
        #expect(elapsed >= 0.3)
        #expect(server.timeouts.value == 1)

        let client = try connectedClient(server.serverAddress)
        defer { try? client.close() }
        try client.sendall(TEST_STR)
        try SyscallFaults.injecting(.init(.poll, errno: EINTR, count: 2)) { try server.handleRequest() }
        #expect(try receiveLine(client) == TEST_STR)
        #expect(server.timeouts.value == 1)
    }
}
