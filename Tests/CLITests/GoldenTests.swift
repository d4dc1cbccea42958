// Golden files: every view of a handful of scenarios, in deterministic mode, byte for byte.
// A change to the port, the recorder or a view that changes what a reader sees fails here;
// when the change is intended, regenerate with
//   UPDATE_GOLDEN=1 swift test --filter GoldenTests
// and read the diff before committing it.
import Foundation
import TestSupport
import Testing

/// The scenarios with golden files: name → `run` arguments.
let goldenScenarios: [(name: String, arguments: [String])] = [
    ("sync", ["run"]),
    ("threading", ["run", "--server", "ThreadingTCPServer", "--requests", "2"]),
    ("forking", ["run", "--server", "ForkingTCPServer", "--requests", "2"]),
    ("udp", ["run", "--server", "UDPServer", "--handler", "datagram", "--requests", "2"]),
    ("unix", ["run", "--server", "UnixStreamServer", "--handler", "stream"]),
    ("reject", ["run", "--reject"]),
    ("error", ["run", "--handler", "error"]),
    ("timeout", ["run", "--requests", "0", "--mode", "handle_request", "--timeout", "0.2"]),
]

let goldenFormats: [(format: String, ext: String)] = [
    ("tree", "txt"), ("sequence", "seq.txt"), ("jsonl", "jsonl"), ("chrome", "json"), ("mermaid", "mmd"),
]

/// Every help page, compared whole: golden file → the command before `--help` (or `-h`).
let goldenHelpPages: [(name: String, command: [String])] = [
    ("help.txt", []), ("help-run.txt", ["run"]), ("help-serve.txt", ["serve"]),
    ("help-diagram.txt", ["diagram"]), ("help-mro.txt", ["mro"]), ("help-compare.txt", ["compare"]), ("help-html.txt", ["html"]),
    ("help-diff.txt", ["diff"]), ("help-python.txt", ["python"]), ("help-experiment.txt", ["experiment"]),
]

/// `diff` of two server classes: golden file → the classes and options.
let goldenDiffs: [(name: String, arguments: [String])] = [
    ("diff-threading.txt", ["TCPServer", "ThreadingTCPServer"]),
    ("diff-forking.txt", ["TCPServer", "ForkingTCPServer", "--requests", "2"]),
    ("diff-udp.txt", ["UDPServer", "ThreadingUDPServer", "--handler", "datagram", "--mode", "handle_request"]),
]

let goldenDirectory = packageRoot.appendingPathComponent("Tests/CLITests/Golden")

/// Compare `actual` with the golden file `name`, or write it when UPDATE_GOLDEN is set.
func checkGolden(_ name: String, _ actual: String) throws {
    let url = goldenDirectory.appendingPathComponent(name)
    if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] != nil {
        try FileManager.default.createDirectory(at: goldenDirectory, withIntermediateDirectories: true)
        try actual.write(to: url, atomically: true, encoding: .utf8)
        return
    }
    let expected = try String(contentsOf: url, encoding: .utf8)
    if expected != actual {
        let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let first = zip(expectedLines, actualLines).enumerated().first { $0.element.0 != $0.element.1 }
        let where_ = first.map { "line \($0.offset + 1):\n  golden: \($0.element.0)\n  now:    \($0.element.1)" }
            ?? "lengths differ (\(expectedLines.count) vs \(actualLines.count) lines)"
        Issue.record("\(name) differs from its golden file at \(where_)")
    }
}

@Suite("GoldenTests", .serialized)
struct GoldenTests {
    @Test("the default run (the notes' example)", .timeLimit(.minutes(1)))
    func defaultRun() throws {
        let result = try runTool([])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        try checkGolden("default.txt", result.stdout)
    }

    @Test("every help page, whole, for --help and -h", .timeLimit(.minutes(1)), arguments: goldenHelpPages.map(\.name))
    func helpPage(_ name: String) throws {
        let command = goldenHelpPages.first { $0.name == name }!.command
        for flag in ["--help", "-h"] {
            let result = try runTool(command + [flag])
            #expect(result.status == 0, "\(command) \(flag): \(result.stderr)")
            #expect(result.stderr.isEmpty, "\(command) \(flag): \(result.stderr)")
            try checkGolden(name, result.stdout)
        }
    }

    @Test("every view of every golden scenario", .timeLimit(.minutes(5)), arguments: goldenScenarios.map(\.name))
    func views(_ name: String) throws {
        let arguments = goldenScenarios.first { $0.name == name }!.arguments
        for (format, ext) in goldenFormats {
            let result = try runTool(arguments + ["--format", format])
            #expect(result.status == 0, "\(name) \(format): \(result.stderr)")
            try checkGolden("\(name).\(ext)", result.stdout)
        }
    }

    @Test("diff of two server classes", .timeLimit(.minutes(2)), arguments: goldenDiffs.map(\.name))
    func diff(_ name: String) throws {
        let arguments = goldenDiffs.first { $0.name == name }!.arguments
        let result = try runTool(["diff"] + arguments)
        #expect(result.status == 0, "\(result.stderr)")
        try checkGolden(name, result.stdout)
    }

    @Test("the same scenario prints byte-identical output run after run", .timeLimit(.minutes(2)))
    func repeatable() throws {
        for arguments in [["run", "--server", "ThreadingTCPServer", "--requests", "3"],
                          ["run", "--server", "ForkingUnixStreamServer", "--handler", "stream", "--requests", "3"]] {
            let first = try runTool(arguments)
            for _ in 0..<3 {
                #expect(try runTool(arguments).stdout == first.stdout)
            }
        }
    }
}
