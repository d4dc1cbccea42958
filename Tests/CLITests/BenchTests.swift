// The benchmark, as a smoke test: `socketserver-bench --quick` with ten requests per run
// starts every row's server, gets every reply right and stops every server. Nothing here is
// timed: the machine is shared, and speed is the chapter's business, not a test's.
import Foundation
import TestSupport
import Testing

/// The built benchmark, next to the test bundle.
let benchPath = builtTool("socketserver-bench")

/// The rows that need no CPython, as the table names them.
let benchSwiftRows = [
    "floor", "TCPServer", "TCPServer+recorder", "floor-threads", "ThreadingTCPServer", "ForkingTCPServer",
    "UnixStreamServer", "floor-udp", "UDPServer", "UDPServer+recorder", "ThreadingUDPServer",
]

/// The CPython rows.
let benchCPythonRows = [
    "cpython:TCPServer", "cpython:ThreadingTCPServer", "cpython:ForkingTCPServer", "cpython:UnixStreamServer",
    "cpython:UDPServer", "cpython:ThreadingUDPServer",
]

@Suite("Bench", .serialized)
struct BenchTests {
    @Test("--quick --requests 10: every row served, every reply right", .timeLimit(.minutes(5)))
    func quickRun() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ssbench-test-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let json = folder.appendingPathComponent("bench.json").path
        let result = try runCommand(
            [benchPath, "--quick", "--requests", "10", "--max-seconds", "200", "--json", json], timeout: 240)
        #expect(result.status == 0, "stderr: \(result.stderr.suffix(2000))")

        let withPython = result.stdout.contains("- CPython: ")
        if !withPython {
            #expect(result.stdout.contains("no CPython"), "neither CPython rows nor a note saying why not")
        }
        let rows = benchSwiftRows + (withPython ? benchCPythonRows : [])
        for row in rows {
            #expect(result.stdout.components(separatedBy: "| \(row) |").count == 3, "\(row): not in both tables")
        }

        let data = try #require(FileManager.default.contents(atPath: json))
        let report = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cells = try #require(report["cells"] as? [[String: Any]])
        for row in rows {
            for concurrency in [1, 8] {
                let cell = cells.first { $0["server"] as? String == row && $0["concurrency"] as? Int == concurrency }
                let found = try #require(cell, "\(row), c=\(concurrency): no cell")
                #expect(found["requests"] as? Int == 10, "\(row), c=\(concurrency): \(found["requests"] ?? "nil") requests")
                let errors = found["errors"] as? [String: Any]
                #expect(errors?["total"] as? Int == 0, "\(row), c=\(concurrency): errors \(errors ?? [:])")
            }
        }
        // The only notes allowed are about which CPython ran (or that none did).
        let notes = (report["notes"] as? [String] ?? []).filter { !$0.hasPrefix("CPython ") && !$0.hasPrefix("no CPython") }
        #expect(notes.isEmpty, "\(notes)")
    }

    @Test("usage errors: argparse style, exit status 2")
    func usageErrors() throws {
        for arguments in [["--bogus"], ["--servers", "nope"], ["--duration", "1", "--requests", "2"], ["--rounds", "0"]] {
            let result = try runCommand([benchPath] + arguments, timeout: 30)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr.hasPrefix("usage: socketserver-bench"), "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("socketserver-bench: error: "), "\(arguments): \(result.stderr)")
            #expect(result.stdout.isEmpty)
        }
    }

    @Test("--help lists every row")
    func help() throws {
        let result = try runCommand([benchPath, "--help"], timeout: 30)
        #expect(result.status == 0)
        for row in benchSwiftRows + benchCPythonRows {
            #expect(result.stdout.contains(row), "\(row) missing from --help")
        }
    }
}
