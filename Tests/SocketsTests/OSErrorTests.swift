// Tests of OSError, the Python builtin errors and the repr helpers.
import Glibc
import Sockets
import TestSupport
import Testing

@Suite("OSError")
struct OSErrorTests {
    @Test("str() of errno errors, as CPython")
    func strTexts() {
        #expect(OSError(errno: EADDRINUSE).description == "[Errno 98] Address already in use")
        #expect(OSError(errno: ENOENT, filename: "/x").description == "[Errno 2] No such file or directory: '/x'")
        #expect(OSError("AF_UNIX path too long").description == "AF_UNIX path too long")
        #expect(OSError("AF_UNIX path too long").errno == nil)
        #expect(OSError.timedOut.description == "timed out")
        #expect(OSError.timedOut.errno == nil)
        #expect(OSError.timedOut.kind == .timeout)
        #expect(OSError.timedOut.pythonClassName == "TimeoutError")
    }

    @Test("kinds and Python class names (PEP 3151)")
    func kinds() {
        let table: [(CInt, OSError.Kind, String)] = [
            (EAGAIN, .blockingIO, "BlockingIOError"), (EINPROGRESS, .blockingIO, "BlockingIOError"),
            (ECHILD, .childProcess, "ChildProcessError"), (EPIPE, .brokenPipe, "BrokenPipeError"),
            (ESHUTDOWN, .brokenPipe, "BrokenPipeError"),
            (ECONNABORTED, .connectionAborted, "ConnectionAbortedError"),
            (ECONNREFUSED, .connectionRefused, "ConnectionRefusedError"),
            (ECONNRESET, .connectionReset, "ConnectionResetError"), (EEXIST, .fileExists, "FileExistsError"),
            (ENOENT, .fileNotFound, "FileNotFoundError"), (EINTR, .interrupted, "InterruptedError"),
            (EISDIR, .isADirectory, "IsADirectoryError"), (ENOTDIR, .notADirectory, "NotADirectoryError"),
            (EACCES, .permission, "PermissionError"), (EPERM, .permission, "PermissionError"),
            (ESRCH, .processLookup, "ProcessLookupError"), (ETIMEDOUT, .timeout, "TimeoutError"),
            (EBADF, .other, "OSError"), (EADDRINUSE, .other, "OSError"),
        ]
        for (e, kind, name) in table {
            #expect(OSError(errno: e).kind == kind)
            #expect(OSError(errno: e).pythonClassName == name)
        }
        #expect(OSError(errno: ECONNRESET).isConnectionError)
        #expect(OSError(errno: EPIPE).isConnectionError)
        #expect(OSError(errno: ECONNREFUSED).isConnectionError)
        #expect(!OSError(errno: EBADF).isConnectionError)
        #expect(!OSError.timedOut.isConnectionError)
    }

    @Test("bind to a used port: [Errno 98] Address already in use")
    func addressInUse() throws {
        let (l, port) = try tcpListener()
        defer { try? l.close() }
        let s = try Socket(AF_INET, SOCK_STREAM)
        defer { try? s.close() }
        let e = osError { try s.bind(.inet(host: "127.0.0.1", port: port)) }
        #expect(e?.description == "[Errno 98] Address already in use")
        #expect(e?.errno == EADDRINUSE)
        #expect(e?.kind == .other)
        #expect(e.map(pythonExceptionLine) == "OSError: [Errno 98] Address already in use")
    }

    @Test("lastError reads errno")
    func lastError() {
        errno = ENOENT
        #expect(OSError.lastError() == OSError(errno: ENOENT))
    }

    @Test("pythonExceptionLine for builtins")
    func exceptionLines() {
        #expect(pythonExceptionLine(ValueError("boom")) == "ValueError: boom")
        #expect(pythonExceptionLine(TypeError("bad")) == "TypeError: bad")
        #expect(pythonExceptionLine(RuntimeError("x")) == "RuntimeError: x")
        #expect(pythonExceptionLine(UnsupportedOperation("read")) == "io.UnsupportedOperation: read")
        #expect(pythonExceptionLine(KeyError("k")) == "KeyError: 'k'")
        #expect(pythonExceptionLine(KeyboardInterrupt()) == "KeyboardInterrupt")
        #expect(pythonExceptionLine(SystemExit(3)) == "SystemExit: 3")
        #expect(pythonExceptionLine(OSError.timedOut) == "TimeoutError: timed out")
        #expect(pythonExceptionLine(OSError(errno: ECONNRESET)) == "ConnectionResetError: [Errno 104] Connection reset by peer")
        let exit: any Error = SystemExit()
        #expect(exit is any BaseException)
        let value: any Error = ValueError("x")
        #expect(!(value is any BaseException))
    }

    @Test("os_waitpid: ECHILD is ChildProcessError; a spawned child is reaped")
    func waitpid() throws {
        let e = osError { _ = try os_waitpid(1, WNOHANG) }
        #expect(e?.errno == ECHILD)
        #expect(e?.kind == .childProcess)
        #expect(e?.pythonClassName == "ChildProcessError")

        var pid = pid_t()
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup("exit 3"), nil]
        defer { for a in argv { free(a) } }
        let rc = posix_spawn(&pid, "/bin/sh", nil, nil, argv, nil)
        #expect(rc == 0)
        let (reaped, status) = try os_waitpid(pid, 0)
        #expect(reaped == pid)
        #expect((status >> 8) & 0xFF == 3)
        #expect(osError { _ = try os_waitpid(pid, WNOHANG) }?.kind == .childProcess)
    }
}

@Suite("BytesRepr")
struct BytesReprTests {
    @Test("pyBytesRepr matches CPython's repr(bytes)")
    func bytesRepr() {
        #expect(pyBytesRepr(b("hello")) == "b'hello'")
        #expect(pyBytesRepr(b("hello\n")) == "b'hello\\n'")
        #expect(pyBytesRepr([0x1B] + b("[31m")) == "b'\\x1b[31m'")
        #expect(pyBytesRepr(b("it's")) == "b\"it's\"")
        #expect(pyBytesRepr(b("a'\"b")) == "b'a\\'\"b'")
        #expect(pyBytesRepr([0x7F, 0x80, 0x5C]) == "b'\\x7f\\x80\\\\'")
        #expect(pyBytesRepr([0x09, 0x0D, 0x00, 0xFF]) == "b'\\t\\r\\x00\\xff'")
        #expect(pyBytesRepr([]) == "b''")
        #expect(pyBytesRepr(b("aaaaaaaa"), limit: 4) == "b'aaaa'...")
        #expect(pyBytesRepr(b("aaaa"), limit: 4) == "b'aaaa'")
        let all = pyBytesRepr((0...255).map { UInt8($0) })
        #expect(all.utf8.allSatisfy { (0x20...0x7E).contains($0) })
    }

    @Test("pyStrRepr matches CPython's ascii(str)")
    func strRepr() {
        #expect(pyStrRepr("abc") == "'abc'")
        #expect(pyStrRepr("it's") == "\"it's\"")
        #expect(pyStrRepr("a'\"") == "'a\\'\"'")
        #expect(pyStrRepr("é\u{20AC}\u{1F600}") == "'\\xe9\\u20ac\\U0001f600'")
        #expect(pyStrRepr("\u{1B}[0m\n") == "'\\x1b[0m\\n'")
        #expect(pyStrRepr("") == "''")
    }
}
