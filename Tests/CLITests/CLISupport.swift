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

