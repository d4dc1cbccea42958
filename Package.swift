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
        .library(name: "Diagrams", targets: ["Diagrams"]),
        .library(name: "ReadingView", targets: ["ReadingView"]),
        .executable(name: "socketserver-trace", targets: ["socketserver-trace"]),
        .executable(name: "socketserver-bench", targets: ["socketserver-bench"]),
        .executable(name: "playground", targets: ["playground"]),
    ],
    targets: [
        // What Python gives socketserver: socket, selectors, OSError, buffered socket files.
        .target(name: "Sockets"),
        // The port of Lib/socketserver.py, the `threading` subset and the trace seam.
        .target(name: "SocketServer", dependencies: ["Sockets"]),
        // The class model of socketserver.py and what is drawn from it (class diagrams, the
        // lifecycle, the MRO report), and the Mermaid and DOT text rules. Imports nothing of ours.
        .target(name: "Diagrams"),
        // Running another program without hanging on it: posix_spawn into a process group of
        // its own, its output captured, a deadline, everything it started killed by pid; and
        // what /proc says about processes. Imports nothing of ours.
        .target(name: "Processes"),
        // The recorder behind the seam and every view of a recording (the Mermaid view takes
        // its text rules from Diagrams).
        .target(name: "Tracing", dependencies: ["Diagrams", "SocketServer", "Sockets"]),
        // The reading view: a static site (the Python and the Swift side by side, and a stepper
        // through one recorded run) made from a run's JSON Lines and the source files' text.
        .target(name: "ReadingView", dependencies: ["Tracing", "Diagrams"]),
        .executableTarget(
            name: "socketserver-trace",
            dependencies: ["Tracing", "Diagrams", "SocketServer", "Sockets", "ReadingView", "Processes"]),
        // The benchmark: a load generator, a driver that runs each server as a process of its
        // own, the design floor (the same system calls with no framework) and CPython's rows.
        .executableTarget(
            name: "socketserver-bench", dependencies: ["Tracing", "SocketServer", "Sockets", "Processes"]),
        // A place to try a handler and a server subclass of your own, traced: `swift run playground`.
        .executableTarget(name: "playground", dependencies: ["SocketServer", "Sockets", "Tracing"]),
        // What the test targets share: time, /proc, deadlines that kill what got stuck, and the
        // reading of the golden files that TracingTests and DiagramsTests keep in Golden/.
        .target(name: "TestSupport", dependencies: ["SocketServer", "Sockets", "Processes"], path: "Tests/TestSupport"),
        .testTarget(name: "ProcessesTests", dependencies: ["Processes", "TestSupport"]),
        .testTarget(name: "SocketsTests", dependencies: ["Sockets", "Processes", "TestSupport"]),
        .testTarget(
            name: "SocketServerTests", dependencies: ["SocketServer", "Sockets", "Tracing", "Processes", "TestSupport"]),
        .testTarget(
            name: "TracingTests", dependencies: ["Tracing", "SocketServer", "Sockets", "TestSupport"], exclude: ["Golden"]),
        // The class model checked against the real Swift types of SocketServer.
        .testTarget(name: "ReadingViewTests", dependencies: ["ReadingView", "Tracing", "TestSupport"]),
        .testTarget(
            name: "DiagramsTests", dependencies: ["Diagrams", "SocketServer", "Sockets", "TestSupport"], exclude: ["Golden"]),
        // Runs the built socketserver-trace, socketserver-bench and playground binaries; the
        // golden files are data. The browser tests speak WebDriver over Sockets; the Walkthrough
        // test cuts its Swift excerpts by ReadingView's rule.
        .testTarget(
            name: "CLITests",
            dependencies: [
                "socketserver-trace", "socketserver-bench", "playground", "Tracing", "Diagrams", "ReadingView",
                "TestSupport", "Sockets", "Processes",
            ],
            exclude: ["Golden"]),
    ],
    swiftLanguageModes: [.v6]
)
