// Narrowing a trace from the command line: `--request`, `--process`, `--thread`, `--depth`,
// `--only`, `--fold-idle` and `--width` on `run` and `serve`: golden files for a few
// combinations, the names of what is kept unchanged, every view, a filter that matches
// nothing. (The usage errors of bad values are in CLITests' table of usage errors.)
import Foundation
import TestSupport
import Testing

/// Narrowed runs with golden files: file → `run` arguments.
let narrowedGoldens: [(name: String, arguments: [String])] = [
    ("narrow-request.txt", ["run", "--server", "ThreadingTCPServer", "--requests", "2", "--request", "2"]),
    ("narrow-process.mmd", ["run", "--server", "ForkingTCPServer", "--requests", "2", "--process", "P2", "--format", "mermaid"]),
    ("narrow-only.seq.txt", ["run", "--server", "ThreadingTCPServer", "--requests", "2", "--only", "process_request,MyTCPHandler.handle", "--format", "sequence"]),
    ("narrow-depth.txt", ["run", "--server", "UDPServer", "--handler", "datagram", "--depth", "3", "--width", "0"]),
    ("narrow-thread.jsonl", ["run", "--server", "ThreadingTCPServer", "--requests", "2", "--thread", "T3", "--format", "jsonl"]),
]

@Suite("Narrowing", .serialized)
struct NarrowingTests {
    @Test("narrowed runs match their golden files", .timeLimit(.minutes(2)), arguments: narrowedGoldens.map(\.name))
    func golden(_ name: String) throws {
        let arguments = narrowedGoldens.first { $0.name == name }!.arguments
        let result = try runTool(arguments)
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        try checkGolden(name, result.stdout)
    }

    @Test("what a filter keeps is named as in the whole trace", .timeLimit(.minutes(1)))
    func namesKept() throws {
        let whole = try runTool(["run", "--server", "ThreadingTCPServer", "--requests", "2"]).stdout
        let narrowed = try runTool(["run", "--server", "ThreadingTCPServer", "--requests", "2", "--request", "2"]).stdout
        let lines = Set(whole.split(separator: "\n"))
        for line in narrowed.split(separator: "\n") {
            #expect(lines.contains(line), "not in the whole trace: \(line)")
        }
        #expect(narrowed.contains("('127.0.0.1', PORT2)") && !narrowed.contains("PORT1"))
        #expect(narrowed.contains("⇢ T3 Thread-3 (process_request_thread)") && !narrowed.contains("P0 T2"))
        #expect(!narrowed.contains("server_close"))
    }

    @Test("each filter applies to every view", .timeLimit(.minutes(2)))
    func everyView() throws {
        for format in ["tree", "sequence", "jsonl", "chrome", "mermaid"] {
            let result = try runTool(["run", "--server", "ForkingTCPServer", "--requests", "2", "--process", "P1", "--format", format])
            #expect(result.status == 0, "\(format): \(result.stderr)")
            #expect(result.stdout.contains("finish_request"), "\(format)")
            #expect(!result.stdout.contains("server_activate"), "\(format) kept a call of P0")
        }
        let depth = try runTool(["run", "--depth", "1", "--format", "jsonl"]).stdout
        #expect(depth.split(separator: "\n").allSatisfy { $0.contains("\"depth\":0") })
        let only = try runTool(["run", "--only", "BaseServer.verify_request", "--format", "jsonl"]).stdout
        #expect(only.split(separator: "\n").count == 2, "\(only)")
    }

    @Test("--width cuts tree and sequence lines, 0 not at all", .timeLimit(.minutes(1)))
    func width() throws {
        // Names are never cut: a tree line holds at least its lane, method, class and line.
        for (format, width) in [("tree", 80), ("sequence", 60)] {
            let narrow = try runTool(["run", "--format", format, "--width", "\(width)"]).stdout
            #expect(narrow.split(separator: "\n").allSatisfy { $0.count <= width }, "\(format)")
            let whole = try runTool(["run", "--server", "UDPServer", "--handler", "datagram", "--format", format, "--width", "0"]).stdout
            #expect(whole.split(separator: "\n").contains { $0.count > 120 }, "\(format)")
        }
        let tree = try runTool(["run", "--server", "UDPServer", "--handler", "datagram", "--width", "0"]).stdout
        #expect(!tree.contains("…"))
    }

    @Test("a filter that matches nothing says so: exit 1", .timeLimit(.minutes(1)))
    func nothingMatches() throws {
        for (arguments, named) in [(["--thread", "T9"], "--thread T9"), (["--only", "no_such_method"], "--only no_such_method"),
                                   (["--process", "P1"], "--process P1")] {
            let result = try runTool(["run"] + arguments)
            #expect(result.status == 1, "\(arguments)")
            #expect(result.stderr.contains("socketserver-trace: error: no call of the trace matches \(named)"), "\(result.stderr)")
        }
    }

    @Test("serve narrows each request's trace, and --width 0 shows the client's port whole", .timeLimit(.minutes(1)))
    func serve() throws {
        let port = try freePort()
        let process = try ChildProcess([
            toolPath, "serve", "--port", "\(port)", "--request", "2", "--only", "verify_request,shutdown_request",
            "--width", "0",
        ])
        defer { stop(process) }
        #expect(try sendLine(port, "one\n") == Array("ONE".utf8))
        #expect(try sendLine(port, "two\n") == Array("TWO".utf8))
        let output = try finish(process)
        #expect(output.status == 0, "\(output.stderr)")
        let lines = output.stdout.split(separator: "\n").filter { $0.contains("verify_request") }
        #expect(lines.count == 1, "\(output.stdout)")
        #expect(lines.first?.contains("client_address=('127.0.0.1', ") == true && lines.first?.contains("…") == false,
                "\(output.stdout)")
        #expect(!output.stdout.contains("get_request") && !output.stdout.contains("server_close"))
    }
}
