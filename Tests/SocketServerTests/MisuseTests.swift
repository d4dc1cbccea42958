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
            print("MisuseTests: CPython comparison of \(test) skipped: `PYENV_VERSION=3.13.0 python3` is not 3.13")
            return nil
        }
        return try spawn(script, timeout: timeout)
    }

    /// Start `env PYENV_VERSION=3.13.0 python3 -c script` with posix_spawn, standard input from
    /// /dev/null and its output in files; wait for our pid at most `timeout` seconds, then kill
    /// that pid. (posix_spawn and waitpid on our own pid, as CLISupport.swift does: Swift
    /// Testing's exit-test monitor may reap children itself, so ECHILD ends the wait too.)
    static func spawn(_ script: String, timeout: Double) throws -> CPythonRun {
        let dir = try TempDir()
        defer { dir.remove() }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, dir.file("stdout"), O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, dir.file("stderr"), O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let command = ["/usr/bin/env", "PYENV_VERSION=3.13.0", "python3", "-c", script]
        let argv = command.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let code = posix_spawn(&pid, command[0], &actions, &attributes, argv, environ)
        guard code == 0 else { throw OSError(errno: code) }

        var status: CInt? = nil
        let deadline = now() + timeout
        while true {
            var raw: CInt = 0
            let done = waitpid(pid, &raw, WNOHANG)
            if done == pid {
                status = exitCode(raw)
                break
            }
            if done < 0 && errno != EINTR { break }  // reaped by someone else: it has ended
            if now() > deadline {
                kill(pid, SIGKILL)
                while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
                Issue.record("CPython ran over \(timeout) s and was killed:\n\(script)")
                break
            }
            usleep(2000)
        }
        return CPythonRun(status: status, stdout: readFile(dir.file("stdout")), stderr: readFile(dir.file("stderr")))
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

/// The text before the object's address in a repr: "ValueError: Invalid file object: <".
func beforeRepr(_ line: String?) -> String? {
    guard let line, let start = line.firstIndex(of: "<") else { return line }
    return String(line[...start])
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
    static let socketLine = "AttributeError: 'BaseServer' object has no attribute 'socket'"
    static let bareSocketLine = "AttributeError: 'BareServer' object has no attribute 'socket'"
    static let fileObjectLine = "ValueError: Invalid file object: <"
    static let getRequestLine = "AttributeError: 'NoGetRequestServer' object has no attribute 'get_request'"

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
            #expect(python.lines == [Self.socketLine, Self.bareSocketLine], "\(python.stderr)")
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
        let (a, b) = try Socket.socketpair()
        defer {
            try? a.close()
            try? b.close()
        }
        try b.sendall(bytes("x"))
        let server = NoGetRequestServer(.unnamed, BaseRequestHandler.self)
        server.socket = a
        #expect(raisedLine { try server.handleRequest() } == Self.getRequestLine)
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
            #expect(python.lines == [Self.getRequestLine], "\(python.stderr)")
        }
    }
}

func plainHandleRequestBody() throws {
    let server = BaseServer(.inet(host: HOST, port: 0), BaseRequestHandler.self)
    #expect(raisedLine { try server.handleRequest() } == PlainBaseServerTests.socketLine)
    let bare = BareServer(.inet(host: HOST, port: 0), BaseRequestHandler.self)
    #expect(raisedLine { try bare.handleRequest() } == PlainBaseServerTests.bareSocketLine)
}
