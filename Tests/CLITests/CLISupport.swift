// Runs the built `socketserver-trace` binary, as a reader would, and captures what it prints.
import Foundation
import Testing

/// What one run of the binary printed, apart.
struct RunResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// The built binary, next to the test bundle (`.build/<config>/socketserver-trace`).
let toolPath: String = {
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    // The test runner may be inside the .xctest bundle: walk up until the binary is found.
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent("socketserver-trace").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        directory.deleteLastPathComponent()
    }
    return "socketserver-trace"
}()

/// The folder of this file's package (for golden files and diagrams/).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

/// Run the tool with `arguments`; kill it after `timeout` seconds.
func runTool(
    _ arguments: [String], environment: [String: String] = [:], timeout: Double = 60
) throws -> RunResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: toolPath)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["NO_COLOR"] = "1"
    for (key, value) in environment { env[key] = value }
    process.environment = env
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // Read both pipes while the tool runs, so that a full pipe never blocks it.
    let outData = LockedData()
    let errData = LockedData()
    let readers = [(out, outData), (err, errData)].map { pipe, sink in
        Thread { sink.set(pipe.fileHandleForReading.readDataToEndOfFile()) }
    }
    readers.forEach { $0.start() }
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(5000) }
    if process.isRunning {
        process.interrupt()
        usleep(200_000)
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        Issue.record("socketserver-trace \(arguments.joined(separator: " ")) ran over \(timeout) s")
    }
    process.waitUntilExit()
    while !(outData.done && errData.done) { usleep(1000) }
    return RunResult(
        status: process.terminationStatus, stdout: String(decoding: outData.data, as: UTF8.self),
        stderr: String(decoding: errData.data, as: UTF8.self))
}

/// Data filled by a reader thread.
final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = Data()
    private var finished = false
    func set(_ data: Data) { lock.withLock { stored = data; finished = true } }
    var data: Data { lock.withLock { stored } }
    var done: Bool { lock.withLock { finished } }
}
