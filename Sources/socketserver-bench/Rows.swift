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
let allRows: [Row] = [
    Row(
        name: "floor", transport: .tcp, implementation: .tcpFloor(threaded: false),
        about: "poll, accept, recv(1024), send, shutdown(SHUT_WR), close: no framework"),
    Row(
        name: "TCPServer", transport: .tcp, implementation: .port(className: "TCPServer", traced: false),
        about: "the port's TCPServer"),
    Row(
        name: "TCPServer+recorder", transport: .tcp,
        implementation: .port(className: "TCPServer", traced: true),
        about: "the same with Trace.attach(Recorder(deterministic: false))"),
    Row(
        name: "cpython:TCPServer", transport: .tcp, implementation: .cpython(className: "TCPServer"),
        about: "CPython's TCPServer"),
    Row(
        name: "floor-threads", transport: .tcp, implementation: .tcpFloor(threaded: true),
        about: "the floor with a new thread per request after accept"),
    Row(
        name: "ThreadingTCPServer", transport: .tcp,
        implementation: .port(className: "ThreadingTCPServer", traced: false),
        about: "the port's ThreadingTCPServer"),
    Row(
        name: "cpython:ThreadingTCPServer", transport: .tcp,
        implementation: .cpython(className: "ThreadingTCPServer"), about: "CPython's ThreadingTCPServer"),
    Row(
        name: "ForkingTCPServer", transport: .tcp,
        implementation: .port(className: "ForkingTCPServer", traced: false),
        about: "the port's ForkingTCPServer"),
    Row(
        name: "cpython:ForkingTCPServer", transport: .tcp,
        implementation: .cpython(className: "ForkingTCPServer"), about: "CPython's ForkingTCPServer"),
    Row(
        name: "UnixStreamServer", transport: .unix,
        implementation: .port(className: "UnixStreamServer", traced: false),
        about: "the port's UnixStreamServer"),
    Row(
        name: "cpython:UnixStreamServer", transport: .unix,
        implementation: .cpython(className: "UnixStreamServer"), about: "CPython's UnixStreamServer"),
    Row(
        name: "floor-udp", transport: .udp, implementation: .udpFloor,
        about: "poll, recvfrom(8192), sendto: no framework"),
    Row(
        name: "UDPServer", transport: .udp, implementation: .port(className: "UDPServer", traced: false),
        about: "the port's UDPServer"),
    Row(
        name: "UDPServer+recorder", transport: .udp,
        implementation: .port(className: "UDPServer", traced: true),
        about: "the same with Trace.attach(Recorder(deterministic: false))"),
    Row(
        name: "cpython:UDPServer", transport: .udp, implementation: .cpython(className: "UDPServer"),
        about: "CPython's UDPServer"),
    Row(
        name: "ThreadingUDPServer", transport: .udp,
        implementation: .port(className: "ThreadingUDPServer", traced: false),
        about: "the port's ThreadingUDPServer"),
    Row(
        name: "cpython:ThreadingUDPServer", transport: .udp,
        implementation: .cpython(className: "ThreadingUDPServer"), about: "CPython's ThreadingUDPServer"),
]

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
