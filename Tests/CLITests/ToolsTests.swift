// The reader's own code, traced: `python` runs a reader-style CPython program under the shipped
// tracer and prints it in every view (threads, forked children, the reader's classes with their
// names and lines, Ctrl-C passed on), and the playground target builds and prints its trace.
import Foundation
import Glibc
import TestSupport
import Testing

/// Walkthrough/examples/, in the package.
let examplesDirectory = packageRoot.appendingPathComponent("Walkthrough/examples").path

/// `python` on one of Walkthrough/examples/ with CPython 3.13.
func tracePython(_ script: String, _ options: [String] = [], timeout: Double = 60) throws -> RunResult {
    try runTool(
        ["python"] + options + ["--", "python3", examplesDirectory + "/" + script],
        environment: ["PYENV_VERSION": "3.13.0"], timeout: timeout)
}

/// The line (1-based) of `def NAME` in Walkthrough/examples/`script`.
func defLine(_ script: String, _ name: String) throws -> Int {
    let source = try String(contentsOfFile: examplesDirectory + "/" + script, encoding: .utf8)
    let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
    return try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces).hasPrefix("def \(name)(") }) + 1
}

/// A program that calls `handle_request` with no timeout, with no client, under `loop` (a
/// `for` or `while` line), after printing "looping"; its path.
func handleRequestLoop(in folder: TempDir, _ loop: String) throws -> String {
    let path = folder.file("loop.py")
    try """
        import socketserver
        class Handler(socketserver.BaseRequestHandler):
            pass
        with socketserver.TCPServer(("127.0.0.1", 0), Handler) as server:
            server.timeout = 0
            print("looping", flush=True)
            \(loop)
                server.handle_request()
        """.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

@Suite(
    "PythonCommand", .serialized,
    .enabled(if: ComparisonTools.ready, "needs CPython 3.13 as `PYENV_VERSION=3.13.0 python3`"))
struct PythonCommandTests {
    @Test("a ThreadingTCPServer subclass with its own verify_request, in all five views", .timeLimit(.minutes(3)))
    func threading() throws {
        let script = "threading_server.py"
        let tree = try tracePython(script)
        #expect(tree.status == 0, "\(tree.stderr)")
        // The program's own output comes first, as it ran.
        #expect(tree.stdout.hasPrefix("b'HELLO\\n'\nb'WORLD\\n'\nP0 T0  __init__  TCPServer  :450"), "\(tree.stdout)")
        let verify = try defLine(script, "verify_request"), handle = try defLine(script, "handle")
        for expected in [
            "P0 T0  __enter__  BaseServer  :385", "P0 T0  ⇢ T1 Thread-1 (serve_forever)",
            "P0 T1        verify_request  LoopbackOnlyServer  :\(verify)  request=<socket fd=FD2>",
            "P0 T1        process_request  ThreadingMixIn  :698", "P0 T1          ⇢ T2 Thread-2 (process_request_thread)",
            "P0 T2                  setup  StreamRequestHandler  :804", "P0 T2                  handle  UpperHandler  :\(handle)\n",
            "P0 T3                  handle  UpperHandler  :\(handle)\n", "P0 T0  __exit__  BaseServer  :388",
            "P0 T0    server_close  ThreadingMixIn  :708", "P0 T0      join  _Threads  :654",
        ] {
            #expect(tree.stdout.contains(expected), "no \(expected) in\n\(tree.stdout)")
        }
        // Each lane's calls nest properly: indentation grows by one level at most.
        var previous: [String: Int] = [:]
        for line in tree.stdout.split(separator: "\n") where line.hasPrefix("P") {
            let lane = String(line.prefix(5))
            let indent = (line.dropFirst(7).prefix { $0 == " " }.count) / 2
            if let last = previous[lane] { #expect(indent <= last + 2, "\(line)") }
            previous[lane] = indent
        }

        let jsonl = try tracePython(script, ["--format", "jsonl"])
        #expect(jsonl.status == 0, "\(jsonl.stderr)")
        #expect(jsonl.stderr.contains("b'HELLO\\n'"), "the program's output goes to stderr beside a machine format")
        var calls = 0, ends = 0
        for line in jsonl.stdout.split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
            for field in ["seq", "event", "function", "self", "py_line", "process", "thread", "request", "depth", "t", "detail"] {
                #expect(object[field] != nil, "no \(field) in \(line)")
            }
            if object["event"] as? String == "call" { calls += 1 } else { ends += 1 }
        }
        #expect(calls > 30 && calls == ends, "\(calls) calls, \(ends) ends")
        #expect(jsonl.stdout.contains(#""function":"LoopbackOnlyServer.verify_request","self":"LoopbackOnlyServer""#))
        #expect(jsonl.stdout.contains(#""request":2"#))

        let chrome = try tracePython(script, ["--format", "chrome"])
        #expect(chrome.status == 0, "\(chrome.stderr)")
        let trace = try #require(try JSONSerialization.jsonObject(with: Data(chrome.stdout.utf8)) as? [String: Any])
        let events = try #require(trace["traceEvents"] as? [[String: Any]])
        #expect(events.contains { $0["ph"] as? String == "X" && $0["name"] as? String == "UpperHandler.handle" })
        #expect(events.contains { $0["ph"] as? String == "s" }, "a flow arrow from process_request to the worker")

        let sequence = try tracePython(script, ["--format", "sequence", "--width", "0"])
        #expect(sequence.status == 0, "\(sequence.stderr)")
        for lane in ["P0 T0", "P0 T1", "P0 T2", "P0 T3"] { #expect(sequence.stdout.contains("\n\(lane) "), "\(lane)") }
        #expect(sequence.stdout.contains("verify_request"))

        let mermaid = try tracePython(script, ["--format", "mermaid"])
        #expect(mermaid.status == 0, "\(mermaid.stderr)")
        #expect(mermaid.stdout.hasPrefix("sequenceDiagram\n"), "\(mermaid.stdout.prefix(200))")
        #expect(mermaid.stdout.contains("verify_request"))
    }

    @Test("the forked variant: each request in a child (P1, P2) that ends with os._exit", .timeLimit(.minutes(2)))
    func forking() throws {
        let script = "forking_server.py"
        let tree = try tracePython(script)
        #expect(tree.status == 0, "\(tree.stderr)")
        // The handler and the clients are threading_server.py's, imported.
        let handle = try defLine("threading_server.py", "handle"), verify = try defLine(script, "verify_request")
        for expected in [
            "P0 T1        verify_request  LoopbackOnlyServer  :\(verify)  request=<socket fd=FD2>",
            "P0 T1        process_request  ForkingMixIn  :610", "P0 T1          ⇢ P1 fork, os._exit(0)",
            "P1 T1            finish_request  BaseServer  :360", "P1 T1                handle  UpperHandler  :\(handle)\n",
            "P1 T1            shutdown_request  TCPServer  :508", "P0 T1          ⇢ P2 fork, os._exit(0)",
            "P2 T1                handle  UpperHandler  :\(handle)\n", "P0 T1      service_actions  ForkingMixIn  :603",
            "P0 T0    server_close  ForkingMixIn  :635",
        ] {
            #expect(tree.stdout.contains(expected), "no \(expected) in\n\(tree.stdout)")
        }
        // Every view has the children's lanes.
        let sequence = try tracePython(script, ["--format", "sequence"])
        #expect(sequence.stdout.contains("\nP1 T1 ") && sequence.stdout.contains("\nP2 T1 "), "\(sequence.stdout)")
        let jsonl = try tracePython(script, ["--format", "jsonl", "--real-clock"])
        #expect(jsonl.stdout.contains(#""process":"P2""#))
    }

    @Test("Ctrl-C is passed on: the program's KeyboardInterrupt path is traced, then printed", .timeLimit(.minutes(2)))
    func ctrlC() throws {
        let child = try ChildProcess(
            [toolPath, "python", "--", "python3", examplesDirectory + "/serve_until_ctrl_c.py"],
            environment: ["PYENV_VERSION": "3.13.0"])
        defer { _ = child.stop() }
        // The program says its port; a request answered proves serve_forever is running when
        // Ctrl-C comes (before it, the KeyboardInterrupt would come from the script's own lines).
        let deadline = Date().addingTimeInterval(30)
        var port: Int? = nil
        while port == nil && Date() < deadline {
            if let line = child.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().first(where: { $0.hasPrefix("serving on port ") }) {
                port = Int(line.dropFirst("serving on port ".count))
            } else {
                usleep(10_000)
            }
        }
        let served = try #require(port, "the program did not start: \(child.stderr)")
        #expect(try sendLine(served, "hello ctrl-c\n") == Array("HELLO CTRL-C".utf8))
        child.signal(SIGINT)
        let status = child.wait(timeout: 20)
        #expect(status == 130, "the program ends as Python ends on Ctrl-C (128 + SIGINT): \(child.stderr)")
        let out = child.stdout
        for expected in [
            "P0 T0  serve_forever  BaseServer  :218", "P0 T0            handle  MyTCPHandler  :11\n", "P0 T0  ✗ KeyboardInterrupt",
            "P0 T0  __exit__  BaseServer  :388  args=(<class 'KeyboardInterrupt'>", "P0 T0    server_close  TCPServer  :484",
        ] {
            #expect(out.contains(expected), "no \(expected) in\n\(out)")
        }
        // The traceback is the program's, without the tracer's frames.
        #expect(child.stderr.contains("KeyboardInterrupt") && !child.stderr.contains("socketserver_tracer.py"), "\(child.stderr)")
    }

    @Test("Ctrl-C in a busy program lands in the program, never in the tracer", .timeLimit(.minutes(2)), arguments: 0..<5)
    func ctrlCWhileBusy(_ attempt: Int) throws {
        // The program runs traced calls without pause, so that the signal usually comes while
        // the tracer's own code runs: it must still leave the program as a KeyboardInterrupt
        // raised once, in the program's code, with the rest of the run recorded.
        let folder = try TempDir()
        defer { folder.remove() }
        let script = try handleRequestLoop(in: folder, "while True:")
        let child = try ChildProcess(
            [toolPath, "python", "--format", "jsonl", "--real-clock", "--", "python3", script],
            environment: ["PYENV_VERSION": "3.13.0", "SOCKETSERVER_TRACE_MAX_EVENTS": "10000000"])
        defer { _ = child.stop() }
        let deadline = Date().addingTimeInterval(30)
        while !child.stdout.contains("looping") && !child.stderr.contains("looping") && Date() < deadline { usleep(1000) }
        usleep(useconds_t(attempt * 20_000))
        child.signal(SIGINT)
        let status = child.wait(timeout: 30)
        #expect(status == 130, "\(child.stderr.suffix(2000))")
        let lines = child.stdout.split(separator: "\n")
        #expect(lines.last?.contains(#""event":"return","function":"BaseServer.__exit__""#) == true, "\(lines.suffix(3))")
        // Raised in a traced call or between two (then __exit__ is the first to see it).
        #expect(lines.contains { $0.contains("KeyboardInterrupt") })
        #expect(!child.stderr.contains("During handling") && !child.stderr.contains("socketserver_tracer"), "\(child.stderr.suffix(2000))")
    }

    @Test("--timeout stops a program that would serve forever, as Ctrl-C does", .timeLimit(.minutes(2)))
    func timeout() throws {
        // Three seconds: time enough for the interpreter to start and reach serve_forever, even
        // with the whole suite running beside it.
        let result = try tracePython("serve_until_ctrl_c.py", ["--timeout", "3"], timeout: 30)
        #expect(result.status == 130, "\(result.stderr)")
        #expect(result.stderr.contains("socketserver-trace: stopped the program after 3.0 s (--timeout)"), "\(result.stderr)")
        #expect(result.stdout.contains("P0 T0    server_close  TCPServer  :484"), "\(result.stdout)")
    }

    @Test("a long run is cut at the events limit, and says so", .timeLimit(.minutes(1)))
    func eventsLimit() throws {
        let folder = try TempDir()
        defer { folder.remove() }
        // 300 handle_request turns, some ten events each.
        let script = try handleRequestLoop(in: folder, "for _ in range(300):")
        let result = try runTool(
            ["python", "--format", "jsonl", "--real-clock", "--", "python3", script],
            environment: ["PYENV_VERSION": "3.13.0", "SOCKETSERVER_TRACE_MAX_EVENTS": "500"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("the trace stops after 500 events; the rest of the run is not in it"), "\(result.stderr)")
        let events = result.stdout.split(separator: "\n").count
        #expect(events > 400 && events < 500, "\(events) events")
    }

    @Test("a script that is not there, or an interpreter that is not, is a clear error", .timeLimit(.minutes(1)))
    func errors() throws {
        let missing = try runTool(["python", "--", "python3", "/nonexistent/x.py"])
        #expect(missing.status == 1)
        #expect(
            missing.stderr == "socketserver-trace: error: can't open file '/nonexistent/x.py': [Errno 2] No such file or directory: '/nonexistent/x.py'\n",
            "\(missing.stderr)")
        let noPython = try runTool(["python", "--", "/nonexistent/python3", examplesDirectory + "/threading_server.py"])
        #expect(noPython.status == 1)
        #expect(noPython.stderr.contains("argument PYTHON: can't run '/nonexistent/python3'"), "\(noPython.stderr)")
        // A program without socketserver: its output, no trace, its status.
        let folder = try TempDir()
        defer { folder.remove() }
        try "print('plain')\nraise SystemExit(3)\n".write(toFile: folder.file("plain.py"), atomically: true, encoding: .utf8)
        let plain = try runTool(["python", "--", "python3", folder.file("plain.py")], environment: ["PYENV_VERSION": "3.13.0"])
        #expect(plain.status == 3)
        #expect(plain.stdout == "plain\n")
        #expect(plain.stderr.contains("the program made no call of socketserver"), "\(plain.stderr)")
    }
}

@Suite("Playground")
struct PlaygroundTests {
    @Test("swift run playground: its own server and handler, traced, ending by itself", .timeLimit(.minutes(1)))
    func playground() throws {
        let result = try runCommand([builtTool("playground")], timeout: 30)
        #expect(result.status == 0, "\(result.stderr)")
        for expected in [
            "client received: b'HELLO WORLD'", "client received: b''",
            "P0 T1        verify_request  LimitedServer  request=<socket fd=FD2>", "  → True",
            "P0 T1        verify_request  LimitedServer  request=<socket fd=FD4>, client_address=('127.0.0.1', PORT3)  → False",
            "P0 T1              handle  MyTCPHandler\n", "P0 T0  server_close  TCPServer  :484\n",
        ] {
            #expect(result.stdout.contains(expected), "no \(expected) in\n\(result.stdout)")
        }
        #expect(result.stdout.components(separatedBy: "handle  MyTCPHandler").count == 3, "two requests handled")
    }
}
