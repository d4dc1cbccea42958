// The command line as a reader meets it: help, usage errors, the machine formats' fields,
// output files, colour, the live `serve` command driven by a real client and stopped by SIGINT.
import Foundation
import TestSupport
import Testing

@Suite("CLITests")
struct CLITests {
    @Test("--help on every command prints help on stdout and exits 0", .timeLimit(.minutes(1)))
    func help() throws {
        for command in [[], ["run"], ["serve"], ["diagram"], ["mro"], ["compare"], ["diff"], ["python"], ["experiment"]] {
            let result = try runTool(command + ["--help"])
            #expect(result.status == 0)
            #expect(result.stdout.contains("usage: socketserver-trace") || result.stdout.contains("USAGE:"))
            #expect(result.stderr.isEmpty)
        }
    }

    @Test("a wrong flag or value prints the usage and one reason on stderr, exit 2", .timeLimit(.minutes(1)))
    func usageErrors() throws {
        let cases: [([String], String)] = [
            (["frobnicate"], "invalid choice: 'frobnicate'"),
            (["run", "--server", "NoSuchServer"], "argument --server: invalid choice: 'NoSuchServer'"),
            (["run", "--requests", "many"], "argument --requests: invalid int value: 'many'"),
            (["run", "--requests"], "argument --requests: expected one argument"),
            (["run", "--bogus"], "unrecognized arguments: --bogus"),
            (["run", "--server", "UDPServer", "--handler", "stream"], "the stream handler needs a stream server"),
            (["run", "--format", "xml"], "argument --format: invalid choice: 'xml'"),
            (["serve", "--port", "70000"], "argument --port: must be 0 to 65535"),
            (["diagram", "planets"], "argument KIND: invalid choice: 'planets'"),
            (["mro", "NoSuchClass"], "unknown class 'NoSuchClass'"),
            (["run", "--format=xml"], "argument --format: invalid choice: 'xml'"),
            (["run", "--requests=many"], "argument --requests: invalid int value: 'many'"),
            (["run", "--reject=yes"], "argument --reject: ignored explicit argument 'yes'"),
            (["run", "--bogus=1"], "unrecognized arguments: --bogus=1"),
            (["serve", "--port=70000"], "argument --port: must be 0 to 65535"),
            (["diagram", "--format=png", "servers"], "argument --format: invalid choice: 'png'"),
            // Narrowing a trace (NarrowingTests has the rest).
            (["run", "--request", "0"], "argument --request: must be 1 or more"),
            (["run", "--request", "two"], "argument --request: invalid int value: 'two'"),
            (["run", "--requests", "2", "--request", "3"], "argument --request: the run has 2 request(s)"),
            (["run", "--process", "1"], "argument --process: invalid process label: '1'"),
            (["run", "--process", "P1."], "argument --process: invalid process label: 'P1.'"),
            (["run", "--thread", "main"], "argument --thread: invalid thread label: 'main'"),
            (["run", "--depth", "0"], "argument --depth: must be 1 or more"),
            (["run", "--depth"], "argument --depth: expected one argument"),
            (["run", "--only", "process_request,"], "argument --only: invalid name: ''"),
            (["run", "--only", "a.b.c"], "argument --only: invalid name: 'a.b.c'"),
            (["run", "--fold-idle=yes"], "argument --fold-idle: ignored explicit argument 'yes'"),
            (["run", "--width", "10"], "argument --width: must be 0 (no cut) or at least 40"),
            (["run", "--width", "-1"], "argument --width: must be 0 (no cut) or at least 40"),
            (["serve", "--request", "0"], "argument --request: must be 1 or more"),
            (["serve", "--width", "wide"], "argument --width: invalid int value: 'wide'"),
            (["compare", "--server", "NoSuchServer"], "argument --server: invalid choice: 'NoSuchServer'"),
            (["compare", "--handler", "stream", "--server", "UDPServer"], "the stream handler needs a stream server"),
            (["compare", "--python"], "argument --python: expected one argument"),
            (["compare", "TCPServer"], "unrecognized arguments: TCPServer"),
            (["diff"], "the following arguments are required: SERVER_A"),
            (["diff", "TCPServer"], "the following arguments are required: SERVER_B"),
            (["diff", "TCPServer", "Nope"], "argument SERVER_B: invalid choice: 'Nope'"),
            (["diff", "TCPServer", "UDPServer", "UnixStreamServer"], "unrecognized arguments: UnixStreamServer"),
            (["diff", "TCPServer", "UDPServer", "--handler", "stream"], "the stream handler needs a stream server, and UDPServer"),
            (["diff", "TCPServer", "UDPServer", "--server", "TCPServer"], "unrecognized arguments: --server"),
            (["python"], "the following arguments are required: PYTHON SCRIPT"),
            (["python", "--"], "the following arguments are required: PYTHON SCRIPT"),
            (["python", "--", "python3"], "the following arguments are required: PYTHON SCRIPT"),
            (["python", "--timeout", "0", "--", "python3", "x.py"], "argument --timeout: must be more than 0"),
            (["python", "--format", "svg", "--", "python3", "x.py"], "argument --format: invalid choice: 'svg'"),
        ]
        try expectUsageErrors(cases)
    }

    @Test("--opt=value reads as --opt value, as argparse takes it", .timeLimit(.minutes(1)))
    func attachedValues() throws {
        // The golden files hold what the spaced forms print.
        let cases: [(golden: String, arguments: [String])] = [
            ("sync.jsonl", ["run", "--format=jsonl"]),
            ("threading.seq.txt", ["run", "--server=ThreadingTCPServer", "--requests=2", "--format=sequence"]),
            ("udp.mmd", ["run", "--server=UDPServer", "--handler=datagram", "--requests", "2", "--format=mermaid"]),
            ("timeout.txt", ["run", "--requests=0", "--mode=handle_request", "--timeout=0.2"]),
        ]
        for (golden, arguments) in cases {
            let result = try runTool(arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            let expected = try String(contentsOf: goldenDirectory.appendingPathComponent(golden), encoding: .utf8)
            #expect(result.stdout == expected, "\(arguments) differs from \(golden)")
        }
        let diagram = try runTool(["diagram", "--format=mermaid", "servers"])
        let committed = try String(contentsOf: packageRoot.appendingPathComponent("diagrams/servers.mmd"), encoding: .utf8)
        #expect(diagram.stdout == committed)
    }

    @Test("an address in use is a clear error, not a crash", .timeLimit(.minutes(1)))
    func addressInUse() throws {
        let busy = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(busy) }
        let port = bindLoopback(busy)
        listen(busy, 1)
        let result = try runTool(["serve", "--port", "\(port)"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("[Errno 98] Address already in use"), "\(result.stderr)")
    }

    @Test("jsonl: every line is a JSON object with the documented fields", .timeLimit(.minutes(1)))
    func jsonl() throws {
        for realClock in [false, true] {
            let result = try runTool(["run", "--server", "ThreadingTCPServer", "--format", "jsonl"] + (realClock ? ["--real-clock"] : []))
            #expect(result.status == 0)
            let lines = result.stdout.split(separator: "\n")
            #expect(lines.count > 20)
            var functions = Set<String>()
            var probed = 0
            for line in lines {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                for field in ["seq", "event", "function", "self", "swift", "swift_file", "swift_line", "py_line", "process",
                              "thread", "request", "depth", "t", "detail"] {
                    #expect(object.keys.contains(field), "missing \(field) in \(line)")
                }
                // The Swift location is the probe of the port that announced the call.
                if let file = object["swift_file"] as? String, file.hasPrefix("SocketServer/") {
                    let number = try #require(object["swift_line"] as? Int)
                    let source = try sourceLines(file)
                    let function = object["function"] as? String ?? ""
                    let method = String(function.split(separator: ".").last ?? "")
                    let text = number >= 1 && number <= source.count ? source[number - 1] : ""
                    #expect(
                        text.contains("traced(\"\(function)\"") || text.contains("dispatched(\"\(method)\"")
                            || text.contains("InitializerFrame("),
                        "\(file):\(number) is not the probe of \(function): \(text)")
                    probed += 1
                }
                #expect(object.keys.contains("pid") == realClock)
                #expect(object.keys.contains("tid") == realClock)
                #expect(["call", "return", "raise"].contains(object["event"] as? String))
                functions.insert(object["function"] as? String ?? "")
            }
            for expected in ["TCPServer.get_request", "ThreadingMixIn.process_request", "ThreadingMixIn.process_request_thread",
                             "BaseRequestHandler.__init__", "MyTCPHandler.handle", "_Threads.append", "ThreadingMixIn.server_close"] {
                #expect(functions.contains(expected), "no \(expected)")
            }
            #expect(probed > 20)
        }
    }

    /// The lines of a Swift source file of the package, by its `#fileID` (`"SocketServer/X.swift"`).
    private func sourceLines(_ fileID: String) throws -> [Substring] {
        let path = packageRoot.appendingPathComponent("Sources").appendingPathComponent(fileID)
        return try String(contentsOf: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
    }

    @Test("chrome: Perfetto's JSON with complete events, names and flow arrows", .timeLimit(.minutes(1)))
    func chrome() throws {
        for server in ["ThreadingTCPServer", "ForkingTCPServer"] {
            let result = try runTool(["run", "--server", server, "--format", "chrome"])
            #expect(result.status == 0)
            let root = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            let events = try #require(root["traceEvents"] as? [[String: Any]])
            let phases = Set(events.compactMap { $0["ph"] as? String })
            #expect(phases.isSuperset(of: ["X", "M", "s", "f"]), "\(server): \(phases)")
            let names = Set(events.filter { $0["ph"] as? String == "M" }.compactMap { $0["name"] as? String })
            #expect(names.isSuperset(of: ["process_name", "thread_name"]))
            for event in events where event["ph"] as? String == "X" {
                #expect(event["ts"] is NSNumber && event["dur"] is NSNumber && event["pid"] is NSNumber && event["tid"] is NSNumber)
            }
        }
    }

    @Test("--output writes the trace to a file; program output stays on the terminal", .timeLimit(.minutes(1)))
    func outputFile() throws {
        let path = NSTemporaryDirectory() + "ssw-trace-\(getpid()).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        for spelling in [["--output", path], ["--output=\(path)"]] {
            try? FileManager.default.removeItem(atPath: path)
            let result = try runTool(["run", "--format", "chrome"] + spelling)
            #expect(result.status == 0)
            #expect(result.stdout.contains("client 1 received: b'HELLO 1'"))
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["traceEvents"] != nil)
        }
    }

    @Test("a path that cannot be written is an error before the run: exit 1, one line on stderr", .timeLimit(.minutes(1)))
    func badOutputPath() throws {
        let missing = "/nonexistent-ssw-\(getpid())/trace.json"
        let result = try runTool(["run", "--output", missing])
        #expect(result.status == 1)
        // The scenario did not run: its handler would have printed "127.0.0.1 wrote:".
        #expect(result.stdout.isEmpty, "\(result.stdout)")
        #expect(
            result.stderr == "socketserver-trace: error: argument --output: can't open '\(missing)': "
                + "[Errno 2] No such file or directory: '\(missing)'\n")
        let folder = try runTool(["run", "--format=jsonl", "--output=/"])
        #expect(folder.status == 1)
        #expect(folder.stdout.isEmpty && !folder.stderr.contains("wrote:"), "\(folder.stdout)\(folder.stderr)")
        #expect(folder.stderr == "socketserver-trace: error: argument --output: can't open '/': [Errno 21] Is a directory: '/'\n")
        // diagram --write: the folder is checked before the lifecycle's traced run (whose
        // handler prints on stderr).
        let write = try runTool(["diagram", "--write", "/nonexistent-ssw-\(getpid())"])
        #expect(write.status == 1)
        #expect(
            write.stderr == "socketserver-trace: error: argument --write: can't write into '/nonexistent-ssw-\(getpid())': "
                + "[Errno 2] No such file or directory: '/nonexistent-ssw-\(getpid())'\n")
    }

    @Test("a write that fails is an error: exit 1 and the reason on stderr", .timeLimit(.minutes(2)))
    func writeErrors() throws {
        let full = try runTool(["run", "--output", "/dev/full"])
        #expect(full.status == 1)
        #expect(full.stderr.hasSuffix("socketserver-trace: error: can't write '/dev/full': [Errno 28] No space left on device\n"), "\(full.stderr)")
        // Standard output on a full device, for everything the tool prints there.
        let commands = [
            [], ["run"], ["run", "--output", "/dev/null"], ["--help"], ["--version"], ["run", "--help"],
            ["diagram", "servers"], ["mro", "TCPServer"],
        ]
        for arguments in commands {
            let result = try runCommand(["/bin/sh", "-c", "exec \"$0\" \"$@\" >/dev/full", toolPath] + arguments, timeout: 60)
            #expect(result.status == 1, "\(arguments): \(result.stderr)")
            #expect(
                result.stderr.hasSuffix("socketserver-trace: error: can't write to standard output: [Errno 28] No space left on device\n"),
                "\(arguments): \(result.stderr)")
        }
    }

    @Test("diagram all --write writes what diagrams/ holds, byte for byte", .timeLimit(.minutes(1)))
    func writeDiagrams() throws {
        let folder = NSTemporaryDirectory() + "ssw-diagrams-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try runTool(["diagram", "all", "--write", folder])
        #expect(result.status == 0, "\(result.stderr)")
        let committed = packageRoot.appendingPathComponent("diagrams").path
        let names = try FileManager.default.contentsOfDirectory(atPath: committed).filter { !$0.hasPrefix(".") }
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: folder)) == Set(names))
        for name in names {
            #expect(
                FileManager.default.contents(atPath: folder + "/" + name) == FileManager.default.contents(atPath: committed + "/" + name),
                "diagrams/\(name) differs from what the CLI writes")
        }
    }

    @Test("a usage error shows the usage line of the command's help", .timeLimit(.minutes(1)))
    func usageMatchesHelp() throws {
        for command in ["run", "serve", "diagram", "mro", "compare", "diff", "python"] {
            let help = try runTool([command, "--help"]).stdout
            let error = try runTool([command, "--bogus"]).stderr
            let usage = error.split(separator: "\n").dropLast().joined(separator: "\n")
            #expect(usage.hasPrefix("usage: socketserver-trace \(command) [-h]"), "\(error)")
            #expect(help.contains("\n\n\(usage)\n\n"), "\(command): \(usage)")
        }
    }

    @Test("no colour when NO_COLOR is set or the output is not a terminal", .timeLimit(.minutes(1)))
    func noColour() throws {
        let result = try runTool([])
        #expect(!result.stdout.contains("\u{1B}["))
    }

    @Test("client bytes never reach the terminal unescaped", .timeLimit(.minutes(1)))
    func escaping() throws {
        // The live server echoes what a client sends: send terminal escapes and check the output.
        let (reply, output) = try serveOneLine("\u{1B}[31mred\u{07}\n")
        #expect(reply == Array("\u{1B}[31MRED\u{07}".utf8))
        #expect(output.stdout.contains("b'\\x1b[31mred\\x07'"), "\(output.stdout)")
        #expect(!output.stdout.contains("\u{1B}"))
    }

    @Test("serve: a real client's request is traced live; SIGINT shuts down cleanly with exit 0", .timeLimit(.minutes(1)))
    func serve() throws {
        let (reply, output) = try serveOneLine("hello live\n")
        #expect(reply == Array("HELLO LIVE".utf8))
        #expect(output.status == 0, "\(output.stderr)")
        for expected in ["get_request", "verify_request", "process_request", "finish_request", "shutdown_request", "handle  MyTCPHandler", "server_close  TCPServer"] {
            #expect(output.stdout.contains(expected), "no \(expected) in\n\(output.stdout)")
        }
    }
}

// MARK: - Driving `serve`

/// A free TCP port on 127.0.0.1 (bound, read, released).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    return bindLoopback(fd)
}

/// 127.0.0.1:`port` (0: a port the system picks).
func loopback(_ port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return address
}

/// Bind `fd` to 127.0.0.1 on a port the system picks, and return that port.
func bindLoopback(_ fd: Int32) -> Int {
    var address = loopback(0)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A TCP socket connected to 127.0.0.1:`port`, with 5 s timeouts for connect, send and
/// receive, so that no client can hang; nil when the connection failed.
func connectLoopback(_ port: Int) -> Int32? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))  // connect too
    var address = loopback(port)
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        close(fd)
        return nil
    }
    return fd
}

/// Send `line` on the connected `fd`, read the reply until the end of the stream, close `fd`.
/// - Returns: the reply, or nil when sending failed or receiving failed or timed out.
func converse(_ fd: Int32, _ line: String) -> [UInt8]? {
    defer { close(fd) }
    let bytes = Array(line.utf8)
    guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == bytes.count else { return nil }
    var reply: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 { return nil }
        if n == 0 { return reply }
        reply += buffer[0..<n]
    }
}

/// Start `serve` on a free port, send it `line` as a client, and stop it (see ``finish(_:)``).
/// - Returns: the reply, and what `serve` printed.
func serveOneLine(_ line: String) throws -> (reply: [UInt8], output: RunResult) {
    let port = try freePort()
    let process = try startServe(port)
    defer { stop(process) }
    let reply = try sendLine(port, line)
    return (reply, try finish(process))
}

/// Start `serve` on `port`.
func startServe(_ port: Int) throws -> ChildProcess {
    try ChildProcess([toolPath, "serve", "--port", "\(port)"])
}

/// Connect (retrying while the server starts, at most 10 s), send `line`, read the reply
/// until EOF.
func sendLine(_ port: Int, _ line: String) throws -> [UInt8] {
    let deadline = Date().addingTimeInterval(10)
    while Date() < deadline {
        guard let fd = connectLoopback(port) else {
            usleep(50_000)
            continue
        }
        return try #require(converse(fd, line), "no reply to \(line.debugDescription) on port \(port)")
    }
    throw CocoaError(.fileReadUnknown)
}

/// Wait until the live trace has printed the request (its `shutdown_request` line, at most
/// 10 s), send SIGINT, collect the output (bounded).
func finish(_ serve: ChildProcess) throws -> RunResult {
    let deadline = Date().addingTimeInterval(10)
    while !serve.stdout.contains("shutdown_request") && Date() < deadline { usleep(10_000) }
    #expect(serve.stdout.contains("shutdown_request"), "serve printed no request trace live:\n\(serve.stdout)")
    serve.signal(SIGINT)
    let status = serve.wait(timeout: 10)
    #expect(status != nil, "serve did not stop on SIGINT within 10 s")
    return serve.result(status)
}

/// Make sure the server is gone, whatever happened (a child still running is killed).
func stop(_ serve: ChildProcess) {
    _ = serve.wait(timeout: 0)
}
