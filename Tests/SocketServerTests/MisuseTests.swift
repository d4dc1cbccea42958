// Misuse of the framework (issue 7): a server or handler used where it does not fit must get
// the exception CPython 3.13 raises, with the same type and message, and never crash the
// process or read a datagram that belongs to another request.
//
// Each test checks the port first, then, where `PYENV_VERSION=3.13.0 python3` is CPython 3.13,
// runs the same scenario in CPython and checks that CPython prints the line the port is held
// to; without CPython 3.13 that half says so on standard output and checks nothing.
//
// The scenarios that write to standard error, or that crashed the process before the fix
// (handle_request on a plain BaseServer trapped on a nil `socket`), run in a fresh process
// (an exit test, as in BaseServerTests.swift).
import Glibc
import SocketServer
import Sockets
import TestSupport
import Testing

// MARK: - Running CPython

/// What a CPython snippet printed, and how it ended (nil when it was killed or reaped by
/// someone else).
struct CPythonRun {
    var status: CInt?
    var stdout: String
    var stderr: String

    /// The lines of standard output.
    var lines: [String] { stdout.split(separator: "\n").map(String.init) }
}

/// Finds CPython 3.13 and runs snippets in it.
enum CPython {
    /// Whether `PYENV_VERSION=3.13.0 python3` is CPython 3.13 (asked once).
    static let available: Bool = {
        let run = try? spawn("import sys; print('%d.%d' % sys.version_info[:2])", timeout: 30)
        return run?.stdout == "3.13\n"
    }()

    /// Run `script` in CPython 3.13 (`python3 -c script`) and return what it printed; nil, with
    /// a message on standard output, when CPython 3.13 is not installed.
    static func run(_ script: String, for test: String, timeout: Double = 30) throws -> CPythonRun? {
        guard available else {
            print("CPython comparison of \(test) skipped: `PYENV_VERSION=3.13.0 python3` is not 3.13")
            return nil
        }
        return try spawn(script, timeout: timeout)
    }

    /// Run `env PYENV_VERSION=3.13.0 python3 -c script` with the tests' command runner (its
    /// output in files, killed with what it started after `timeout` seconds).
    static func spawn(_ script: String, timeout: Double) throws -> CPythonRun {
        do {
            let result = try runCommand(["/usr/bin/env", "PYENV_VERSION=3.13.0", "python3", "-c", script], timeout: timeout)
            return CPythonRun(status: result.status, stdout: result.stdout, stderr: result.stderr)
        } catch let timedOut as CommandTimedOut {
            Issue.record("CPython ran over \(timeout) s and was killed:\n\(script)")
            return CPythonRun(status: nil, stdout: timedOut.result.stdout, stderr: timedOut.result.stderr)
        }
    }
}

// MARK: - Helpers

/// The Python exception line of what `body` throws ("AttributeError: ..."), nil if it returns.
func raisedLine(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch {
        return pythonExceptionLine(error)
    }
}

/// The exception line of reading `attribute` of a `type` object that has no such attribute.
func noAttributeLine(_ type: String, _ attribute: String) -> String {
    "AttributeError: '\(type)' object has no attribute '\(attribute)'"
}

/// The text before the object's address in a repr: "ValueError: Invalid file object: <".
func beforeRepr(_ line: String?) -> String? {
    guard let line, let start = line.firstIndex(of: "<") else { return line }
    return String(line[...start])
}

/// One call of handle_error: the datagram (nil for a stream request), the client's port and
/// the exception line of `sys.exception()`.
struct HandledError: Equatable, Sendable, CustomStringConvertible {
    var data: String?
    var port: Int?
    var exception: String

    var description: String { "\(data ?? "stream") from \(port ?? -1): \(exception)" }
}

/// What a server whose handle_error logs instead of printing saw: the handle_error calls, and
/// what its handlers did.
final class ServerLog: Sendable {
    let errors = Box<[HandledError]>([])
    let handlers = Box<[String]>([])

    /// Log the handle_error call for `request` from `clientAddress`.
    func handledError(_ request: Request, _ clientAddress: SocketAddress) {
        errors.update {
            $0.append(
                HandledError(
                    data: request.data.map(text), port: clientAddress.port,
                    exception: sys.exception().map(pythonExceptionLine) ?? "NoneType: None"))
        }
    }
}

/// A server whose handle_error logs into ``serverLog`` instead of printing.
protocol ErrorLoggingServer: TCPServer {
    var serverLog: ServerLog { get }
}

extension ErrorLoggingServer {
    /// The handle_error calls.
    var errors: Box<[HandledError]> { serverLog.errors }
    /// What the handlers did.
    var log: Box<[String]> { serverLog.handlers }
}

extension BaseRequestHandler {
    /// Log, in the server's log if it keeps one, that `hook` ran.
    func logHook(_ hook: String) { (server as? any ErrorLoggingServer)?.log.append(hook) }
}

// One class per server class: only a subclass can override handle_error.
final class ErrorLoggingUDPServer: UDPServer, ErrorLoggingServer, @unchecked Sendable {
    let serverLog = ServerLog()
    override func handleError(_ request: Request, _ clientAddress: SocketAddress) throws { serverLog.handledError(request, clientAddress) }
}
final class ErrorLoggingTCPServer: TCPServer, ErrorLoggingServer, @unchecked Sendable {
    let serverLog = ServerLog()
    override func handleError(_ request: Request, _ clientAddress: SocketAddress) throws { serverLog.handledError(request, clientAddress) }
}

// MARK: - 1. A plain BaseServer

/// A BaseServer subclass that sets neither `socket` nor `fileno`, as a user's may.
final class BareServer: BaseServer, @unchecked Sendable {}

/// A BaseServer subclass with a socket and `fileno`, but no `get_request`.
final class NoGetRequestServer: BaseServer, @unchecked Sendable {
    override func fileno() throws -> CInt { socket.fileno() }
}

@Suite("A plain BaseServer", .serialized)
struct PlainBaseServerTests {
    static let fileObjectLine = "ValueError: Invalid file object: <"

    /// CPython: `timeout = self.socket.gettimeout()` raises AttributeError; the port trapped
    /// on its nil `socket` (so the port half runs in a fresh process).
    @Test("handle_request raises AttributeError for self.socket", .timeLimit(.minutes(1)))
    func handleRequest() async throws {
        await #expect(processExitsWith: .success) {
            isolated { try plainHandleRequestBody() }
        }
        let python = try CPython.run(
            """
            import socketserver, traceback
            class BareServer(socketserver.BaseServer): pass
            for cls in (socketserver.BaseServer, BareServer):
                try:
                    cls(('127.0.0.1', 0), socketserver.BaseRequestHandler).handle_request()
                except Exception as e:
                    print(traceback.format_exception_only(e)[-1], end='')
            """, for: "handle_request")
        if let python {
            #expect(
                python.lines == [noAttributeLine("BaseServer", "socket"), noAttributeLine("BareServer", "socket")],
                "\(python.stderr)")
        }
    }

    /// CPython: selectors finds no `fileno` (AttributeError) and raises ValueError("Invalid file
    /// object: <repr>"); the port raised `UnsupportedOperation: fileno`. serve_forever still
    /// marks itself shut down, so a later shutdown() returns.
    @Test("serve_forever raises ValueError: Invalid file object", .timeLimit(.minutes(1)))
    func serveForever() throws {
        let servers = [
            BaseServer(.inet(host: HOST, port: 0), BaseRequestHandler.self),
            BareServer(.inet(host: HOST, port: 0), BaseRequestHandler.self),
        ]
        for server in servers {
            let line = raisedLine { try server.serveForever(pollInterval: 0.01) }
            #expect(beforeRepr(line) == Self.fileObjectLine, "\(line ?? "no error")")
            #expect(line?.contains("\(type(of: server)) object at 0x") == true, "\(line ?? "no error")")
            #expect(line?.hasSuffix(">") == true, "\(line ?? "no error")")
            #expect(try finishes(within: 2) { server.shutdown() }, "serve_forever set is_shut_down")
        }
        let python = try CPython.run(
            """
            import socketserver, traceback
            class BareServer(socketserver.BaseServer): pass
            for cls in (socketserver.BaseServer, BareServer):
                try:
                    cls(('127.0.0.1', 0), socketserver.BaseRequestHandler).serve_forever(0.01)
                except Exception as e:
                    print(traceback.format_exception_only(e)[-1], end='')
            """, for: "serve_forever")
        if let python {
            #expect(python.lines.count == 2, "\(python.stdout)\(python.stderr)")
            #expect(python.lines.map(beforeRepr) == [Self.fileObjectLine, Self.fileObjectLine])
            #expect(python.lines.first?.contains("socketserver.BaseServer object at 0x") == true)
            #expect(python.lines.last?.contains("BareServer object at 0x") == true)
        }
    }

    /// CPython: a BaseServer subclass with a socket and fileno, but no get_request, raises
    /// AttributeError for get_request once a request is ready.
    @Test("a server without get_request raises AttributeError for it", .timeLimit(.minutes(1)))
    func getRequest() throws {
        try withSocketPair { a, b throws in
            try b.sendall(bytes("x"))
            let server = NoGetRequestServer(.unnamed, BaseRequestHandler.self)
            server.socket = a
            #expect(raisedLine { try server.handleRequest() } == noAttributeLine("NoGetRequestServer", "get_request"))
            let python = try CPython.run(
                """
                import socketserver, socket, traceback
                a, b = socket.socketpair()
                b.sendall(b'x')
                class NoGetRequestServer(socketserver.BaseServer):
                    def fileno(self): return self.socket.fileno()
                server = NoGetRequestServer(None, socketserver.BaseRequestHandler)
                server.socket = a
                try:
                    server.handle_request()
                except Exception as e:
                    print(traceback.format_exception_only(e)[-1], end='')
                """, for: "get_request")
            if let python {
                #expect(python.lines == [noAttributeLine("NoGetRequestServer", "get_request")], "\(python.stderr)")
            }
        }
    }
}

func plainHandleRequestBody() throws {
    let server = BaseServer(.inet(host: HOST, port: 0), BaseRequestHandler.self)
    #expect(raisedLine { try server.handleRequest() } == noAttributeLine("BaseServer", "socket"))
    let bare = BareServer(.inet(host: HOST, port: 0), BaseRequestHandler.self)
    #expect(raisedLine { try bare.handleRequest() } == noAttributeLine("BareServer", "socket"))
}

// MARK: - 2. Socket methods on a datagram request

/// A datagram client bound to 127.0.0.1, with a 5 s timeout.
func datagramClient() throws -> Socket {
    let client = try Socket(Sockets.AF_INET, SOCK_DGRAM)
    try client.settimeout(5)
    try client.bind(.inet(host: HOST, port: 0))
    return client
}

/// The notes' handler, written for a stream server: `self.request.recv(1024)`, then
/// `self.request.sendall(...)`.
final class NotesStreamHandler: BaseRequestHandler {
    override func handle() throws {
        let data = try request.recv(1024)
        try request.sendall(data)
    }
}

/// A StreamRequestHandler that echoes one line, and logs that handle ran.
final class LoggingStreamHandler: StreamRequestHandler {
    override func handle() throws {
        logHook("handle")
        _ = try wfile.write(try rfile.readline())
    }
}

/// The same with a connection timeout, which makes settimeout the first socket method.
final class TimedLoggingStreamHandler: StreamRequestHandler {
    override class var timeout: Double? { 5 }

    override func handle() throws {
        logHook("handle")
        _ = try wfile.write(try rfile.readline())
    }
}

/// The same without Nagle's algorithm, which makes setsockopt the first socket method.
final class NoDelayLoggingStreamHandler: StreamRequestHandler {
    override class var disableNagleAlgorithm: Bool { true }

    override func handle() throws {
        logHook("handle")
        _ = try wfile.write(try rfile.readline())
    }
}

@Suite("A stream handler on a datagram server", .serialized)
struct StreamHandlerOnDatagramServerTests {
    /// A datagram request is a (bytes, socket) tuple: it has none of a socket's methods.
    static let recvLine = noAttributeLine("tuple", "recv")

    /// Two clients send a datagram each; handle_request twice. Each datagram reaches
    /// handle_error with its own client's address and CPython's AttributeError: no handler reads
    /// the other client's datagram from the server's socket.
    func serveTwoClients(_ handler: BaseRequestHandler.Type) throws -> ErrorLoggingUDPServer {
        let server = try ErrorLoggingUDPServer(.inet(host: HOST, port: 0), handler)
        defer { try? server.serverClose() }
        server.timeout = 2  // the old port consumed the second datagram: the second turn timed out
        let clients = try [datagramClient(), datagramClient()]
        defer { for client in clients { try? client.close() } }
        for (index, client) in clients.enumerated() {
            _ = try client.sendto(bytes("from \(index)\n"), server.serverAddress)
        }
        try server.handleRequest()
        try server.handleRequest()
        return server
    }

    /// The ports of two fresh clients are not known in advance: the errors, with the ports
    /// checked against the datagrams' senders by `expectTwoClients`.
    func expectTwoClients(_ server: ErrorLoggingUDPServer, _ line: String) {
        let errors = server.errors.value
        #expect(errors.map(\.data) == ["from 0\n", "from 1\n"], "\(errors)")
        #expect(errors.map(\.exception) == [line, line], "\(errors)")
        #expect(Set(errors.compactMap(\.port)).count == 2, "each from its own client: \(errors)")
    }

    @Test(
        "request.recv on a datagram request raises AttributeError, for both clients", .timeLimit(.minutes(1)))
    func notesHandler() throws {
        let server = try serveTwoClients(NotesStreamHandler.self)
        expectTwoClients(server, Self.recvLine)
        let python = try CPython.run(
            """
            import socketserver, socket, sys, traceback
            class NotesStreamHandler(socketserver.BaseRequestHandler):
                def handle(self):
                    data = self.request.recv(1024)
                    self.request.sendall(data)
            class Server(socketserver.UDPServer):
                def handle_error(self, request, client_address):
                    print(request[0], client_address == senders[request[0]], traceback.format_exception_only(sys.exception())[-1], end='')
            server = Server(('127.0.0.1', 0), NotesStreamHandler)
            server.timeout = 2
            senders = {}
            clients = []
            for i in range(2):
                c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                c.bind(('127.0.0.1', 0))
                senders[b'from %d\\n' % i] = c.getsockname()
                c.sendto(b'from %d\\n' % i, server.server_address)
                clients.append(c)
            server.handle_request()
            server.handle_request()
            server.server_close()
            """, for: "request.recv on a datagram request")
        if let python {
            #expect(
                python.lines == ["b'from 0\\n' True \(Self.recvLine)", "b'from 1\\n' True \(Self.recvLine)"],
                "\(python.stderr)")
        }
    }

    /// Each method of Request that only a socket has raises for a datagram request, and leaves
    /// the server's socket alone (the waiting datagram is still there).
    @Test("recv and sendall of a datagram request raise and touch no socket", .timeLimit(.minutes(1)))
    func requestMethods() throws {
        let (a, b) = try Socket.socketpair(Sockets.AF_UNIX, SOCK_DGRAM)
        defer {
            try? a.close()
            try? b.close()
        }
        try b.sendall(bytes("someone else's"))
        let request = Request.datagram(bytes("mine"), a)
        #expect(raisedLine { _ = try request.recv(1024) } == Self.recvLine)
        #expect(raisedLine { try request.sendall(bytes("reply")) } == noAttributeLine("tuple", "sendall"))
        #expect(text(try a.recv(100, CInt(MSG_DONTWAIT))) == "someone else's", "the datagram is still queued")
        let python = try CPython.run(
            """
            import socket, traceback
            a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
            request = (b'mine', a)
            for call in (lambda: request.recv(1024), lambda: request.sendall(b'reply')):
                try:
                    call()
                except Exception as e:
                    print(traceback.format_exception_only(e)[-1], end='')
            """, for: "Request methods")
        if let python {
            #expect(python.lines == [Self.recvLine, noAttributeLine("tuple", "sendall")], "\(python.stderr)")
        }
    }

    /// StreamRequestHandler.setup: `self.connection = self.request` is the tuple, and the first
    /// socket method raises AttributeError: makefile, or settimeout when the handler has a
    /// timeout, or setsockopt when it disables Nagle's algorithm. handle never runs, and the
    /// second client's datagram is not read by the first request (the old port made rfile over
    /// the server's socket).
    @Test(
        "StreamRequestHandler on a datagram server raises AttributeError in setup",
        .timeLimit(.minutes(1)),
        arguments: ["makefile", "settimeout", "setsockopt"])
    func streamRequestHandler(firstMethod: String) throws {
        let handlers: [String: BaseRequestHandler.Type] = [
            "makefile": LoggingStreamHandler.self, "settimeout": TimedLoggingStreamHandler.self,
            "setsockopt": NoDelayLoggingStreamHandler.self,
        ]
        let server = try serveTwoClients(try #require(handlers[firstMethod]))
        expectTwoClients(server, noAttributeLine("tuple", firstMethod))
        #expect(server.log.value.isEmpty, "handle never ran")
        let python = try CPython.run(
            """
            import socketserver, socket, sys, traceback
            class Handler(socketserver.StreamRequestHandler):
                def handle(self): print('handle ran')
            class TimedHandler(Handler):
                timeout = 5
            class NoDelayHandler(Handler):
                disable_nagle_algorithm = True
            class Server(socketserver.UDPServer):
                def handle_error(self, request, client_address):
                    print(request[0], traceback.format_exception_only(sys.exception())[-1], end='')
            for handler in (Handler, TimedHandler, NoDelayHandler):
                server = Server(('127.0.0.1', 0), handler)
                server.timeout = 2
                c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                c.sendto(b'from 0\\n', server.server_address)
                server.handle_request()
                server.server_close()
                c.close()
            """, for: "StreamRequestHandler on a datagram server")
        if let python {
            #expect(
                python.lines
                    == ["makefile", "settimeout", "setsockopt"].map { "b'from 0\\n' \(noAttributeLine("tuple", $0))" },
                "\(python.stderr)")
        }
    }
}

// MARK: - 3. A datagram handler on a stream server

/// A DatagramRequestHandler that replies, and logs handle and finish.
final class LoggingDatagramHandler: DatagramRequestHandler {
    override func handle() throws {
        logHook("handle")
        _ = try wfile.write(bytes("reply"))
    }

    override func finish() throws {
        logHook("finish")
        try super.finish()
    }
}

@Suite("A datagram handler on a stream server", .serialized)
struct DatagramHandlerOnStreamServerTests {
    static let unpackLine = "TypeError: cannot unpack non-iterable socket object"

    /// CPython: `self.packet, self.socket = self.request` raises TypeError in setup: neither
    /// handle nor finish runs, handle_error reports it, and the client reads b''.
    @Test("DatagramRequestHandler.setup raises TypeError; the client reads b''", .timeLimit(.minutes(1)))
    func datagramHandler() throws {
        try withServerAndClient(ErrorLoggingTCPServer.self, LoggingDatagramHandler.self) { server, client throws in
            try client.sendall(bytes("hello\n"))
            try server.handleRequest()
            let port = try client.getsockname().port
            #expect(server.errors.value == [HandledError(data: nil, port: port, exception: Self.unpackLine)])
            #expect(server.log.value.isEmpty, "neither handle nor finish ran")
            #expect(try client.recv(100) == [], "the client reads b''")
            let python = try CPython.run(
                """
                import socketserver, socket, sys, traceback
                class Handler(socketserver.DatagramRequestHandler):
                    def handle(self):
                        print('handle ran')
                        self.wfile.write(b'reply')
                    def finish(self):
                        print('finish ran')
                        super().finish()
                class Server(socketserver.TCPServer):
                    def handle_error(self, request, client_address):
                        print(traceback.format_exception_only(sys.exception())[-1], end='')
                server = Server(('127.0.0.1', 0), Handler)
                client = socket.create_connection(server.server_address)
                client.settimeout(5)
                client.sendall(b'hello\\n')
                server.handle_request()
                print(client.recv(100))
                client.close()
                server.server_close()
                """, for: "DatagramRequestHandler on a stream server")
            if let python {
                #expect(python.lines == [Self.unpackLine, "b''"], "\(python.stderr)")
            }
        }
    }
}

// MARK: - 4. A worker thread's uncaught exception

@Suite("A worker thread's uncaught exception", .serialized)
struct WorkerExcepthookTests {
    /// CPython's threading.excepthook prints the thread line, the traceback block, and the
    /// exception line. The port prints the same header and, for the frames, the line
    /// handle_error prints: both come from one helper.
    @Test("the default excepthook prints the Traceback block", .timeLimit(.minutes(1)))
    func excepthook() async throws {
        await #expect(processExitsWith: .success) {
            isolated { try excepthookBody() }
        }
        let python = try CPython.run(
            """
            import socketserver, socket
            class FailingHandler(socketserver.BaseRequestHandler):
                def handle(self): raise ValueError("boom")
            class Server(socketserver.ThreadingTCPServer):
                def handle_error(self, request, client_address): raise
            server = Server(('127.0.0.1', 0), FailingHandler)
            client = socket.create_connection(server.server_address)
            server.handle_request()
            server.server_close()
            client.close()
            """, for: "threading.excepthook")
        if let python {
            let lines = python.stderr.split(separator: "\n").map(String.init)
            #expect(lines.first?.hasPrefix("Exception in thread Thread-") == true, "\(python.stderr)")
            #expect(lines.first?.hasSuffix(" (process_request_thread):") == true, "\(python.stderr)")
            #expect(lines.count > 1 && lines[1] == "Traceback (most recent call last):", "\(python.stderr)")
            #expect(lines.last == "ValueError: boom", "\(python.stderr)")
        }
    }
}

func excepthookBody() throws {
    let (output, lines) = try workerExceptionReport()
    #expect(lines.count > 1 && lines[1] == "Traceback (most recent call last):", "\(output)")

    // The block after the header is handle_error's, line for line (a plain TCPServer's:
    // MyThreadingTCPServer's handle_error re-raises).
    let report = try handleErrorReport(from: .inet(host: HOST, port: 1), handling: ValueError("boom"))
    let reportLines = report.split(separator: "\n").map(String.init)
    #expect(Array(reportLines.dropFirst(2).dropLast()) == Array(lines.dropFirst()), "\(report)\n\(output)")
}
