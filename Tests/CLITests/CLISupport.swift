// Runs the built `socketserver-trace` binary, as a reader would, and captures what it prints.
import Foundation
import TestSupport
import Testing

/// The built binary, next to the test bundle (`.build/<config>/socketserver-trace`).
let toolPath = builtTool("socketserver-trace")

/// The built executable `name` of this package, next to the test bundle
/// (`.build/<config>/<name>`), or `name` alone when it is not found there.
func builtTool(_ name: String) -> String {
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    // The test runner may be inside the .xctest bundle: walk up until the binary is found.
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        directory.deleteLastPathComponent()
    }
    return name
}

/// The folder of this file's package (for golden files and diagrams/).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

/// Run the tool with `arguments`; kill it after `timeout` seconds (recorded as an issue).
func runTool(
    _ arguments: [String], environment: [String: String] = [:], timeout: Double = 60
) throws -> RunResult {
    do {
        return try runCommand([toolPath] + arguments, environment: environment, timeout: timeout)
    } catch let timedOut as CommandTimedOut {
        Issue.record("\(timedOut)")
        return timedOut.result
    }
}


/// Runs the tool with each case's arguments and checks that each is a usage error: exit 2,
/// nothing on stdout, standard error starting with `usage` and ending with the error line that
/// gives the case's reason.
func expectUsageErrors(
    _ cases: [([String], String)], usage: String = "usage: socketserver-trace",
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    for (arguments, reason) in cases {
        let result = try runTool(arguments)
        #expect(result.status == 2, "\(arguments)", sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, "\(arguments)", sourceLocation: sourceLocation)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.first?.hasPrefix(usage) == true, "\(arguments): \(result.stderr)", sourceLocation: sourceLocation)
        #expect(
            lines.last.map { $0.hasPrefix("socketserver-trace: error: ") && $0.contains(reason) } == true,
            "\(arguments): \(result.stderr)", sourceLocation: sourceLocation)
    }
}

/// Runs the tool with `arguments` and checks that it fails with `status` and that standard
/// error says each of `messages`; returns the run for any further check.
@discardableResult
func expectFailure(
    _ arguments: [String], environment: [String: String] = [:], status: Int32, saying messages: String...,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> RunResult {
    let result = try runTool(arguments, environment: environment)
    #expect(result.status == status, "\(arguments): \(result.stderr)", sourceLocation: sourceLocation)
    for message in messages {
        #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)", sourceLocation: sourceLocation)
    }
    return result
}
