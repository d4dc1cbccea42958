// StreamRequestHandler and _SocketWriter behaviour that CPython's test_socketserver.py does not
// check (inventory 4.3, items 28-33): the connection timeout, Sockets.TCP_NODELAY, rbufsize/wbufsize,
// rfile's read-ahead, finish's flush errors, and _SocketWriter after close.
import Glibc
import SocketServer
import Sockets
import TestSupport
import Testing

/// A TCP server that keeps what its handler observed.
final class ProbeServer: TCPServer, @unchecked Sendable {
    let results = Box<[String]>([])
    let rfile = Box<IOBase?>(nil)
    let wfile = Box<IOBase?>(nil)
    let handled = Box<[any Error]>([])
    let written = ThreadEvent()
    let proceed = ThreadEvent()

    override func handleError(_ request: Request, _ clientAddress: SocketAddress) throws {
        handled.append(sys.exception() ?? RuntimeError("no exception"))
    }
}

extension StreamRequestHandler {
    var probe: ProbeServer { server as! ProbeServer }

    /// Keep rfile and wfile in the server for inspection after the request.
    func keepFiles() {
        probe.rfile.set(rfile)
        probe.wfile.set(wfile)
    }
}

/// timeout = 0.1: the connection gets settimeout; a read that times out raises TimeoutError,
/// and every later read "cannot read from timed out object".
final class TimeoutHandler: StreamRequestHandler {
    override class var timeout: Double? { 0.1 }

    override func handle() throws {
        probe.results.append("timeout \(connection.gettimeout().map { "\($0)" } ?? "None")")
        for _ in 0..<2 {
            do {
                _ = try rfile.readline()
                probe.results.append("read")
            } catch let error as OSError {
                probe.results.append(
                    "\(error.pythonClassName): \(error) (errno \(error.errno.map { "\($0)" } ?? "None"))")
            }
        }
    }
}

/// disable_nagle_algorithm = True: Sockets.TCP_NODELAY on the connection.
final class NagleHandler: StreamRequestHandler {
    override class var disableNagleAlgorithm: Bool { true }

    override func handle() throws {
        probe.results.append("nodelay \(try connection.getsockopt(IPPROTO_TCP, Sockets.TCP_NODELAY) != 0)")
    }
}

/// The default: no Sockets.TCP_NODELAY.
final class DefaultNagleHandler: StreamRequestHandler {
    override func handle() throws {
        probe.results.append("nodelay \(try connection.getsockopt(IPPROTO_TCP, Sockets.TCP_NODELAY) != 0)")
    }
}

/// rbufsize = 0: rfile is the raw SocketIO, readline reads one byte per recv, and nothing is
/// read ahead of the line.
final class UnbufferedReadHandler: StreamRequestHandler {
    override class var rbufsize: Int { 0 }

    override func handle() throws {
        probe.results.append("raw \(rfile is SocketIO)")
        let (line, calls) = try SyscallFaults.counting { try rfile.readline() }
        let recvs = calls[.recv]
        probe.results.append("line \(text(line).debugDescription) in \(recvs) recvs")
        probe.results.append("recv \(text(try request.recv(100)).debugDescription)")
    }
}

/// The default rbufsize: rfile reads ahead, so the bytes after the line are in its buffer and
/// not in the socket.
final class ReadAheadHandler: StreamRequestHandler {
    override func handle() throws {
        probe.results.append("buffered \(rfile is BufferedReader)")
        probe.results.append("line \(text(try rfile.readline()).debugDescription)")
        do {
            let data = try connection.recv(100, CInt(MSG_DONTWAIT))
            probe.results.append("recv \(text(data).debugDescription)")
        } catch {
            probe.results.append("recv \(error.kind == .blockingIO ? "would block" : "\(error)")")
        }
        probe.results.append("rfile \(text(try rfile.read(5)).debugDescription)")
    }
}

/// wbufsize = -1: wfile is a BufferedWriter; nothing is sent before finish flushes.
final class BufferedWriteHandler: StreamRequestHandler {
    override class var wbufsize: Int { -1 }

    override func handle() throws {
        probe.results.append("buffered \(wfile is BufferedWriter)")
        probe.results.append("wrote \(try wfile.write(bytes("buffered\n")))")
        probe.written.set()
        _ = probe.proceed.wait(5)
    }
}

/// wbufsize = -1 and the connection's sending side shut down under pending data: finish
/// swallows flush's error, but wfile.close() raises it again, and rfile.close() is skipped.
final class FlushErrorHandler: StreamRequestHandler {
    override class var wbufsize: Int { -1 }

    override func handle() throws {
        keepFiles()
        _ = try wfile.write(bytes("data\n"))
        try connection.shutdown(SHUT_WR)
    }
}

/// Keeps its files for inspection and echoes a line.
final class KeepFilesHandler: StreamRequestHandler {
    override func handle() throws {
        keepFiles()
        _ = try wfile.write(try rfile.readline())
    }
}

@Suite("StreamRequestHandler", .serialized)
struct StreamRequestHandlerTests {
    /// Connect a client that sends `data`, handle one request, then `body`; closes both after.
    func served(
        _ handler: BaseRequestHandler.Type, sending data: [UInt8] = TEST_STR, _ body: (ProbeServer, Socket) throws -> Void
    ) throws {
        let server = try ProbeServer(.inet(host: HOST, port: 0), handler)
        defer { try? server.serverClose() }
        let client = try connectedClient(server.serverAddress)
        defer { try? client.close() }
        if !data.isEmpty { try client.sendall(data) }
        try server.handleRequest()
        try body(server, client)
    }

    @Test("timeout: TimeoutError, then 'cannot read from timed out object'", .timeLimit(.minutes(1)))
    func timeout() throws {
        try served(TimeoutHandler.self, sending: []) { server, _ in
            #expect(
                server.results.value == [
                    "timeout 0.1",
                    "TimeoutError: timed out (errno None)",
                    "OSError: cannot read from timed out object (errno None)",
                ])
            #expect(server.handled.value.isEmpty)
        }
    }

    @Test("disable_nagle_algorithm sets Sockets.TCP_NODELAY", .timeLimit(.minutes(1)))
    func nagle() throws {
        try served(NagleHandler.self) { server, _ in #expect(server.results.value == ["nodelay true"]) }
        try served(DefaultNagleHandler.self) { plain, _ in #expect(plain.results.value == ["nodelay false"]) }
    }

    /// A handler that reads a line of "hello world\nextra", and what it reports.
    struct LineReading: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let handler: BaseRequestHandler.Type
        let results: [String]
    }

    @Test(
        "rfile reads ahead of a line only when buffered", .timeLimit(.minutes(1)),
        arguments: [
            LineReading(
                testDescription: "rbufsize 0 reads one byte per recv and reads nothing ahead",
                handler: UnbufferedReadHandler.self,
                results: ["raw true", "line \"hello world\\n\" in 12 recvs", "recv \"extra\""]),
            LineReading(
                testDescription: "the buffered rfile reads ahead of the line", handler: ReadAheadHandler.self,
                results: ["buffered true", "line \"hello world\\n\"", "recv would block", "rfile \"extra\""]),
        ])
    func lineReading(_ reading: LineReading) throws {
        try served(reading.handler, sending: bytes("hello world\nextra")) { server, _ in
            #expect(server.results.value == reading.results)
        }
    }

    @Test("wbufsize -1 buffers until finish flushes", .timeLimit(.minutes(1)))
    func bufferedWrite() throws {
        try withServerAndClient(ProbeServer.self, BufferedWriteHandler.self) { server, client throws in
            let serving = PThread(name: "handle_request") { try server.handleRequest() }
            try serving.start()
            #expect(server.written.wait(5))
            try client.settimeout(0.2)
            let early = #expect(throws: OSError.self) { _ = try client.recv(100) }
            #expect(early?.kind == .timeout, "nothing was sent before finish")
            server.proceed.set()
            try client.settimeout(5)
            #expect(try receiveLine(client) == bytes("buffered\n"))
            try serving.join()
            #expect(server.results.value == ["buffered true", "wrote 9"])
        }
    }

    @Test("finish swallows flush's error but wfile.close raises it", .timeLimit(.minutes(1)))
    func flushError() throws {
        try served(FlushErrorHandler.self) { server, _ in
            #expect(server.handled.value.count == 1)
            let error = try #require(server.handled.value.first as? OSError)
            #expect(error.errno == EPIPE)
            #expect(error.kind == .brokenPipe)
            #expect(error.description == "[Errno 32] Broken pipe")
            let rfile = try #require(server.rfile.value)
            let wfile = try #require(server.wfile.value)
            #expect(wfile.closed, "the raw writer was closed despite the error")
            #expect(!rfile.closed, "rfile.close() was skipped")
            try rfile.close()
        }
    }

    @Test("finish closes wfile and rfile", .timeLimit(.minutes(1)))
    func finishCloses() throws {
        try served(KeepFilesHandler.self) { server, client throws in
            #expect(try receiveLine(client) == TEST_STR)
            #expect(try client.recv(100).isEmpty)
            #expect(server.rfile.value?.closed == true)
            #expect(server.wfile.value?.closed == true)
            #expect(server.wfile.value is _SocketWriter)
            #expect(server.rfile.value is BufferedReader)
        }
    }
}

@Suite("_SocketWriter")
struct SocketWriterBehaviourTests {
    /// write returns the length without flush, fileno is the socket's, readable() is False;
    /// after close, write still sends (no closed check) and flush raises ValueError.
    @Test("write after close still sends; flush after close raises", .timeLimit(.minutes(1)))
    func afterClose() throws {
        try withSocketPair { a, b throws in
            try b.settimeout(5)
            let writer = _SocketWriter(a)
            #expect(writer.writable())
            #expect(!writer.readable())
            #expect(try writer.fileno() == a.fileno())
            #expect(try writer.write(bytes("abc")) == 3)
            #expect(try b.recv(100) == bytes("abc"), "sent at once, without flush")
            try writer.flush()
            try writer.close()
            #expect(writer.closed)
            #expect(try writer.write(bytes("def")) == 3)
            #expect(try b.recv(100) == bytes("def"))
            #expect(throws: ValueError("I/O operation on closed file.")) { try writer.flush() }
            #expect(a.fileno() >= 0, "closing the writer does not close the socket")
        }
    }
}
