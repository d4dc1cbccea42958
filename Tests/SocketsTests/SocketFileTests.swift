// Tests of makefile(): BufferedReader read-ahead, raw SocketIO, BufferedWriter, io refs.
import Glibc
import Sockets
import TestSupport
import Testing

@Suite("SocketFile", .timeLimit(.minutes(1)))
struct SocketFileTests {
    @Test("makefile rb readline keeps read-ahead in the buffer")
    func readAhead() throws {
        try withTCPPair { c, s throws in
            try c.sendall(b("line1\nline2\n"))
            sleep(seconds: 0.05)
            let rfile = try s.makefile("rb")
            defer { try? rfile.close() }
            #expect(rfile is BufferedReader)
            #expect(try rfile.readline() == b("line1\n"))
            // The second line is in rfile's buffer: the socket itself has nothing left.
            s.setblocking(false)
            #expect(osError { _ = try s.recv(100) }?.kind == .blockingIO)
            s.setblocking(true)
            let (line, calls) = try SyscallFaults.counting { try rfile.readline() }
            #expect(line == b("line2\n"))
            #expect(calls[.recv] == 0)
            try c.sendall(b("tail"))
            try c.shutdown(SHUT_WR)
            #expect(try rfile.readline() == b("tail"))
            #expect(try rfile.readline() == [])
        }
    }

    @Test("readline refills with one raw read of up to the buffer size per step")
    func readlineRefill() throws {
        try withTCPPair { c, s throws in
            let rfile = try s.makefile("rb", buffering: 4)
            defer { try? rfile.close() }
            try c.sendall(b("abcdefghij\nrest"))
            sleep(seconds: 0.05)
            let (line, calls) = try SyscallFaults.counting { try rfile.readline() }
            #expect(line == b("abcdefghij\n"))
            #expect(calls[.recv] == 3)  // 4 + 4 + 4 bytes
            #expect(try rfile.read(1) == b("r"))
            #expect(try rfile.readline(2) == b("es"))
        }
    }

    @Test("buffering 0 gives the raw SocketIO: readline is 1-byte recvs")
    func rawReadline() throws {
        try withTCPPair { c, s throws in
            let raw = try s.makefile("rb", buffering: 0)
            defer { try? raw.close() }
            #expect(raw is SocketIO)
            try c.sendall(b("ab\ncd"))
            sleep(seconds: 0.05)
            let (line, calls) = try SyscallFaults.counting { try raw.readline() }
            #expect(line == b("ab\n"))
            #expect(calls[.recv] == 3)
            #expect(try s.recv(10) == b("cd"))  // nothing was read ahead
            #expect(throws: ValueError("unbuffered streams must be binary")) { _ = try s.makefile("r", buffering: 0) }
            #expect(throws: ValueError("invalid mode 'rx' (only r, w, b allowed)")) { _ = try s.makefile("rx") }
        }
    }

    @Test("read(n) loops until n bytes or EOF; read() until EOF")
    func readLoops() throws {
        try withTCPPair { c, s throws in
            let rfile = try s.makefile("rb")
            defer { try? rfile.close() }
            let writer = TestThread {
                try? c.sendall(b("abc"))
                sleep(seconds: 0.1)
                try? c.sendall(b("def"))
                sleep(seconds: 0.1)
                try? c.sendall(b("ghi"))
                try? c.shutdown(SHUT_WR)
            }
            defer { writer.join() }
            #expect(try rfile.read(5) == b("abcde"))
            #expect(try rfile.read() == b("fghi"))
            #expect(try rfile.read(3) == [])
        }
    }

    @Test("BufferedWriter buffers until flush")
    func writerBuffers() throws {
        try withTCPPair { c, s throws in
            let wfile = try s.makefile("wb")
            #expect(wfile is BufferedWriter)
            let (written, buffered) = try SyscallFaults.counting {
                [try wfile.write(b("hello ")), try wfile.write(b("world"))]
            }
            #expect(written == [6, 5])
            #expect(buffered[.send] == 0)
            try c.settimeout(0.1)
            #expect(osError { _ = try c.recv(100) } == OSError.timedOut)
            let (_, flushed) = try SyscallFaults.counting { try wfile.flush() }
            #expect(flushed[.send] == 1)
            try c.settimeout(2)
            #expect(try c.recv(100) == b("hello world"))
            // Data bigger than the buffer is written through.
            let big = try s.makefile("wb", buffering: 4)
            #expect(try big.write(b("0123456789")) == 10)
            #expect(try c.recv(100) == b("0123456789"))
            try big.close()
            try wfile.close()
            #expect(throws: ValueError("write to closed file")) { _ = try wfile.write(b("x")) }
            #expect(throws: ValueError("flush of closed file")) { try wfile.flush() }
        }
    }

    @Test("BufferedWriter.close flushes, closes the raw file anyway, rethrows the flush error")
    func writerCloseError() throws {
        try withTCPPair { c, s throws in
            let wfile = try s.makefile("wb")
            _ = try wfile.write(b("x"))
            try s.shutdown(SHUT_WR)
            let e1 = osError { try wfile.flush() }
            #expect(e1?.errno == EPIPE)
            let e2 = osError { try wfile.close() }
            #expect(e2?.errno == EPIPE)
            #expect(wfile.closed)
            try wfile.close()  // idempotent
        }
    }

    @Test("close ordering with io refs: the fd closes when the last file closes")
    func ioRefs() throws {
        try withTCPPair { c, s throws in
            let rfile = try s.makefile("rb")
            let wfile = try s.makefile("wb", buffering: 0)
            try s.close()
            #expect(s.closed)
            #expect(s.fileno() >= 0)  // still open: two io refs
            try rfile.close()
            #expect(s.fileno() >= 0)
            try c.settimeout(0.1)
            #expect(osError { _ = try c.recv(10) } == OSError.timedOut)  // no EOF yet
            #expect(try wfile.write(b("ok")) == 2)
            try wfile.close()
            #expect(s.fileno() == -1)
            try c.settimeout(2)
            #expect(try c.recv(10) == b("ok"))
            #expect(try c.recv(10) == [])  // EOF now
            #expect(throws: ValueError("read of closed file")) { _ = try rfile.read(1) }
            #expect(throws: ValueError("readline of closed file")) { _ = try rfile.readline() }
        }
    }

    @Test("SocketIO after a timeout: cannot read from timed out object")
    func timedOutObject() throws {
        try withTCPPair { c, s throws in
            try s.settimeout(0.1)
            let raw = try s.makefile("rb", buffering: 0)
            defer { try? raw.close() }
            #expect(osError { _ = try raw.read(10) } == OSError.timedOut)
            try c.sendall(b("late"))
            let e = osError { _ = try raw.read(10) }
            #expect(e?.description == "cannot read from timed out object")
            #expect(e?.errno == nil)
        }
    }

    @Test("rwb gives a BufferedRWPair")
    func rwPair() throws {
        try withTCPPair { c, s throws in
            let f = try s.makefile("rwb")
            #expect(f is BufferedRWPair)
            _ = try f.write(b("ping\n"))
            try f.flush()
            #expect(try c.recv(10) == b("ping\n"))
            try c.sendall(b("pong\n"))
            #expect(try f.readline() == b("pong\n"))
            try f.close()
            #expect(f.closed)
            try s.close()
            #expect(s.fileno() == -1)
        }
    }

    /// A `_SocketWriter`-like subclass: base IOBase behaviour.
    final class Writer: BufferedIOBase, @unchecked Sendable {
        let sock: Socket
        init(_ sock: Socket) { self.sock = sock }
        override func writable() -> Bool { true }
        override func write(_ b: [UInt8]) throws -> Int {
            try sock.sendall(b)
            return b.count
        }
        override func fileno() throws -> CInt { sock.fileno() }
    }

    @Test("IOBase base behaviour as seen by a _SocketWriter subclass")
    func ioBase() throws {
        try withSocketPair { a, bSock throws in
            let w = Writer(a)
            #expect(try w.write(b("x")) == 1)
            try w.writelines([b("a"), b("b")])
            #expect(try bSock.recv(10) == b("xab"))
            #expect(!w.readable())
            #expect(throws: UnsupportedOperation("read")) { _ = try w.read() }
            try w.flush()
            try w.close()
            #expect(w.closed)
            #expect(a.fileno() >= 0)  // closing the writer never closes the socket
            #expect(throws: ValueError("I/O operation on closed file.")) { try w.flush() }
            #expect(try w.write(b("y")) == 1)  // no closed check in write
            #expect(throws: UnsupportedOperation("fileno")) { _ = try IOBase().fileno() }
            #expect(throws: UnsupportedOperation("write")) { _ = try IOBase().write([]) }
        }
    }

    @Test("BytesIO")
    func bytesIO() throws {
        let r = BytesIO(b("one\ntwo\nthree"))
        #expect(try r.readline() == b("one\n"))
        #expect(try r.read(3) == b("two"))
        #expect(try r.readline() == b("\n"))
        #expect(try r.read() == b("three"))
        #expect(try r.read() == [])
        let w = BytesIO()
        #expect(try w.getvalue() == [])
        _ = try w.write(b("ab"))
        try w.writelines([b("c"), b("d")])
        #expect(try w.getvalue() == b("abcd"))
        try w.close()
        #expect(throws: ValueError("I/O operation on closed file.")) { _ = try w.getvalue() }
        #expect(throws: UnsupportedOperation("fileno")) { _ = try w.fileno() }
    }
}
