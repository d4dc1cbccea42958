// The rows of the benchmark: every server it can start, by the name the table and `--servers`
// use, and what each one is.

/// How a client reaches a server.
enum Transport: String, Sendable {
    /// TCP on 127.0.0.1.
    case tcp
    /// UDP on 127.0.0.1.
    case udp
    /// A Unix stream socket in a temporary folder.
    case unix
}

/// What runs behind a row.
enum Implementation: Sendable, Equatable {
    /// A server class of the port, by Python name, with or without a recorder attached.
    case port(className: String, traced: Bool)
    /// The TCP floor: the same system calls as TCPServer with no framework; `threaded` starts
    /// a thread per request after `accept`, as ThreadingTCPServer does.
    case tcpFloor(threaded: Bool)
    /// The UDP floor: `poll`, `recvfrom`, `sendto`.
    case udpFloor
    /// CPython's class of the same name, run by the shipped script.
    case cpython(className: String)
}

/// One server the benchmark measures.
struct Row: Sendable {
    /// The name in the table, in the JSON and in `--servers`.
    let name: String
    let transport: Transport
    let implementation: Implementation
    /// A short description for `--help` and the chapter.
    let about: String

    /// Whether requests are served by forked children (whose CPU time the server collects
    /// only when it reaps them).
    var forks: Bool { name.contains("Forking") }

    var isCPython: Bool {
        if case .cpython = implementation { return true }
        return false
    }
}

/// Every row, in table order: each framework row after the floor it is compared with, each
/// CPython row right after the port's row of the same class.
let allRows: [Row] =
    [
        Row(
            name: "floor", transport: .tcp, implementation: .tcpFloor(threaded: false),
            about: "poll, accept, recv(1024), send, shutdown(SHUT_WR), close: no framework")
    ]
    + classRows("TCPServer", .tcp, traced: true)
    + [
        Row(
            name: "floor-threads", transport: .tcp, implementation: .tcpFloor(threaded: true),
            about: "the floor with a new thread per request after accept")
    ]
    + classRows("ThreadingTCPServer", .tcp) + classRows("ForkingTCPServer", .tcp)
    + classRows("UnixStreamServer", .unix)
    + [
        Row(
            name: "floor-udp", transport: .udp, implementation: .udpFloor,
            about: "poll, recvfrom(8192), sendto: no framework")
    ]
    + classRows("UDPServer", .udp, traced: true) + classRows("ThreadingUDPServer", .udp)

/// The rows of one server class: the port's, with `traced` the port's with a recorder
/// attached, then CPython's.
func classRows(_ className: String, _ transport: Transport, traced: Bool = false) -> [Row] {
    let port = Row(
        name: className, transport: transport, implementation: .port(className: className, traced: false),
        about: "the port's \(className)")
    let recorded = Row(
        name: className + "+recorder", transport: transport, implementation: .port(className: className, traced: true),
        about: "the same with Trace.attach(Recorder(deterministic: false))")
    let cpython = Row(
        name: "cpython:" + className, transport: transport, implementation: .cpython(className: className),
        about: "CPython's \(className)")
    return traced ? [port, recorded, cpython] : [port, cpython]
}

/// A comparison printed on a line of its own: `numerator` against `denominator`, at the
/// concurrencies listed (all measured ones when nil).
struct Comparison: Sendable {
    let title: String
    let numerator: String
    let denominator: String
    let concurrencies: [Int]?
}

/// The ratios the chapter discusses.
let comparisons: [Comparison] = [
    Comparison(title: "TCPServer vs floor", numerator: "TCPServer", denominator: "floor", concurrencies: nil),
    Comparison(
        title: "ThreadingTCPServer vs thread-per-request floor", numerator: "ThreadingTCPServer",
        denominator: "floor-threads", concurrencies: nil),
    Comparison(title: "UDPServer vs UDP floor", numerator: "UDPServer", denominator: "floor-udp", concurrencies: nil),
    Comparison(
        title: "UDPServer vs CPython's", numerator: "UDPServer", denominator: "cpython:UDPServer", concurrencies: nil),
    Comparison(
        title: "traced vs untraced TCPServer", numerator: "TCPServer+recorder", denominator: "TCPServer",
        concurrencies: [1, 8]),
    Comparison(
        title: "ForkingTCPServer vs CPython's", numerator: "ForkingTCPServer",
        denominator: "cpython:ForkingTCPServer", concurrencies: nil),
    Comparison(
        title: "TCPServer vs CPython's", numerator: "TCPServer", denominator: "cpython:TCPServer", concurrencies: nil),
]
