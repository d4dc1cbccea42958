// swift-tools-version:6.0
// A line-for-line Swift port of CPython's Lib/socketserver.py (0.4), a tracer that
// records every framework call, and a CLI that prints the traces and class diagrams.
// No package dependencies: only the Swift toolchain.
import PackageDescription

let package = Package(
    name: "socketserver-swift",
    products: [
        .library(name: "Sockets", targets: ["Sockets"]),
        .library(name: "SocketServer", targets: ["SocketServer"]),
        .library(name: "Tracing", targets: ["Tracing"]),
        .executable(name: "socketserver-trace", targets: ["socketserver-trace"]),
        .executable(name: "socketserver-bench", targets: ["socketserver-bench"]),
    ],
    targets: [
        // What Python gives socketserver: socket, selectors, OSError, buffered socket files.
        .target(name: "Sockets"),
        // The port of Lib/socketserver.py, the `threading` subset and the trace seam.
        .target(name: "SocketServer", dependencies: ["Sockets"]),
        // The recorder behind the seam and every view of a recording.
        .target(name: "Tracing", dependencies: ["SocketServer", "Sockets"]),
        .executableTarget(
            name: "socketserver-trace", dependencies: ["Tracing", "SocketServer", "Sockets"]),
        // The benchmark: a load generator, a driver that runs each server as a process of its
        // own, the design floor (the same system calls with no framework) and CPython's rows.
        .executableTarget(
            name: "socketserver-bench", dependencies: ["Tracing", "SocketServer", "Sockets"]),
        // What the test targets share: time, /proc, deadlines that kill what got stuck.
        .target(name: "TestSupport", dependencies: ["SocketServer", "Sockets"], path: "Tests/TestSupport"),
        .testTarget(name: "SocketsTests", dependencies: ["Sockets"]),
        .testTarget(
            name: "SocketServerTests", dependencies: ["SocketServer", "Sockets", "Tracing", "TestSupport"]),
        .testTarget(name: "TracingTests", dependencies: ["Tracing", "SocketServer", "Sockets", "TestSupport"]),
        // Runs the built socketserver-trace and socketserver-bench binaries; golden files and
        // the CPython script are data.
        .testTarget(
            name: "CLITests", dependencies: ["socketserver-trace", "socketserver-bench", "Tracing"],
            exclude: ["Golden", "cpython_trace.py"]),
    ],
    swiftLanguageModes: [.v6]
)
