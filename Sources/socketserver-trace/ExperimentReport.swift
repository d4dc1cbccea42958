// What an experiment prints: what it does (fixed text), what it observed (measured as it ran)
// and what follows (each verdict computed from what was observed), in that order, written as
// the experiment goes so that a slow one shows its progress. The shared pieces of the
// experiments live here too: a traced run, bounded waits, a client.
import Glibc
import Processes
import SocketServer
import Sockets
import Tracing

/// One of the notes' questions, run.
struct Experiment: Sendable {
    /// The word that names it (`shutdown-vs-close`).
    let name: String
    /// Its line in `experiment --list`.
    let summary: String
    /// What it does, as printed under "What it does": lines of at most 94 columns, as prose
    /// reads best in the source, a block of text.
    let does: String
    /// Runs it: observes, then concludes.
    let body: @Sendable (ExperimentReport) throws -> Void

    /// Prints the heading and what it does, then runs it.
    func run() throws {
        let report = ExperimentReport()
        report.write("\(name): \(summary)")
        report.section("What it does")
        for line in does.split(separator: "\n") { report.line(String(line)) }
        try body(report)
    }
}

/// The printer of one experiment's report.
final class ExperimentReport {
    private var current: String?

    /// Writes one line of program output as it is.
    func write(_ text: String) { say(text) }

    /// Starts a section (`What it does`, `Observed`, `Conclusion`) unless it is the current one.
    func section(_ title: String) {
        guard current != title else { return }
        current = title
        write("")
        write(title + ":")
    }

    /// A line of the current section, indented.
    func line(_ text: String) { write(text.isEmpty ? "" : "  " + text) }

    /// A line of what was observed.
    func observe(_ text: String) {
        section("Observed")
        line(text)
    }

    /// Lines of a table of what was observed, its columns aligned: a cell that starts with a
    /// digit to the right, as numbers are, any other to the left.
    func observe(table rows: [[String]]) {
        section("Observed")
        let widths = (0..<(rows.map(\.count).max() ?? 0)).map { column in
            rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0
        }
        for row in rows {
            let cells = row.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column > 0 && cell.first?.isNumber == true ? pad + cell : cell + pad
            }
            line(cells.joined(separator: "  ").trimmingTrailingSpaces())
        }
    }

    /// A trace, under a line that says what it is, unindented and uncut as `run --width 0`
    /// prints it.
    func observe(trace recording: Recording, _ title: String) {
        observe(title)
        let text = Tracing.render(recording, as: .tree, color: false, width: 0, filter: TraceFilter())
        for traceLine in text.split(separator: "\n", omittingEmptySubsequences: false) where !traceLine.isEmpty {
            write(String(traceLine))
        }
    }

    /// Lines of the conclusion (a line break in `text` starts another, its leading spaces
    /// dropped, so that the source can indent it).
    func conclude(_ text: String, continuedBy margin: String = "") {
        section("Conclusion")
        for (index, piece) in text.split(separator: "\n").enumerated() {
            line(index == 0 ? String(piece) : margin + piece.drop { $0 == " " })
        }
    }

    /// A claim and whether what was observed bears it out: `✓ claim` or `✗ claim`.
    func verdict(_ holds: Bool, _ claim: String) {
        conclude((holds ? "✓ " : "✗ ") + claim, continuedBy: "  ")
    }
}

extension String {
    /// The text without the spaces at its end.
    func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}

// MARK: - What the experiments share

/// Seconds as a person reads them: `0.31 s`, `42 ms`, `870 µs`, two significant digits.
func readableSeconds(_ seconds: Double) -> String {
    func twoDigits(_ value: Double) -> String {
        if value >= 10 { return String(Int(value.rounded())) }
        let tenths = (value * 10).rounded() / 10
        return tenths == tenths.rounded() ? String(Int(tenths)) : String(tenths)
    }
    if seconds >= 1 { return twoDigits(seconds) + " s" }
    if seconds >= 0.001 { return twoDigits(seconds * 1e3) + " ms" }
    return twoDigits(seconds * 1e6) + " µs"
}

/// `yes` or `no`.
func yesNo(_ value: Bool) -> String { value ? "yes" : "no" }

/// Runs `body` with a deterministic recorder attached; what it returned or threw, and the
/// recording.
func traced<R>(_ body: () throws -> R) -> (Result<R, any Error>, Recording) {
    let recorder = Recorder(deterministic: true)
    Trace.attach(recorder)
    let result = Result { try body() }
    Trace.attach(nil)
    return (result, recorder.recording())
}

/// Polls `condition` every millisecond until it holds or `seconds` pass.
/// - Returns: whether it held.
@discardableResult
func waitUntil(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = monotonicSeconds() + seconds
    while !condition() {
        if monotonicSeconds() > deadline { return false }
        ForkGate.outside { _ = usleep(1000) }
    }
    return true
}

/// Sleeps `seconds`, outside the fork gate.
func pause(_ seconds: Double) {
    var asked = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
    var left = timespec()
    ForkGate.outside {
        while nanosleep(&asked, &left) != 0 && errno == EINTR { asked = left }
    }
}

/// What a stream client's `recv` returned: bytes, the end of the stream, nothing before its
/// timeout, or an error.
enum Received: Equatable, CustomStringConvertible {
    case bytes([UInt8])
    case endOfStream
    case nothing(seconds: Double)
    case error(String)

    /// The next `recv(1024)` of `socket`, waiting at most `seconds`.
    init(_ socket: Socket, within seconds: Double) {
        do {
            try socket.settimeout(seconds)
            let bytes = try socket.recv(1024)
            self = bytes.isEmpty ? .endOfStream : .bytes(bytes)
        } catch let error as OSError where error.kind == .timeout {
            self = .nothing(seconds: seconds)
        } catch {
            self = .error(pythonExceptionLine(error))
        }
    }

    /// As Python would show the outcome: `b''`, `b'HELLO'`, `TimeoutError: timed out`.
    var description: String {
        switch self {
        case .bytes(let bytes): return pyBytesRepr(bytes)
        case .endOfStream: return "b'' (the end of the stream)"
        case .nothing(let seconds): return "nothing in \(readableSeconds(seconds)) (TimeoutError)"
        case .error(let line): return line
        }
    }
}

/// A connected client of `address`, its timeout set so that no read waits long.
func connectedClient(_ address: SocketAddress) throws -> Socket {
    let family: CInt = if case .unix = address { Sockets.AF_UNIX } else { Sockets.AF_INET }
    let client = try Socket(family, Sockets.SOCK_STREAM)
    try client.connectOrClose(address, timeout: 5)
    return client
}

/// Connect to `address`, send `payload` and read the reply up to the end of the stream.
func request(_ address: SocketAddress, _ payload: [UInt8]) throws -> [UInt8] {
    let client = try connectedClient(address)
    defer { try? client.close() }
    try client.sendall(payload)
    var reply: [UInt8] = []
    while true {
        let chunk = try client.recv(8192)
        if chunk.isEmpty { return reply }
        reply += chunk
    }
}

/// `serve_forever` on a thread of its own, which counts its system calls; stopped and joined
/// by `stop()`.
final class ServingThread: Sendable {
    let server: TCPServer
    private let thread: PThread
    private let counted = Lock(SyscallCounts())

    /// Starts `server.serve_forever(poll_interval)`.
    init(_ server: TCPServer, pollInterval: Double = 0.5) throws {
        self.server = server
        let counted = counted
        thread = PThread(targetName: "serve_forever") {
            let (_, calls) = try SyscallFaults.counting { try server.serveForever(pollInterval: pollInterval) }
            counted.withLock { $0 = calls }
        }
        try thread.start()
    }

    /// `shutdown()`, then waits for the thread.
    /// - Returns: the system calls the loop made.
    /// - Throws: what `serve_forever` raised.
    @discardableResult
    func stop() throws -> SyscallCounts {
        server.shutdown()
        try thread.join()
        return counted.withLock { $0 }
    }
}

/// The order system calls are listed in: as a request meets them.
let callOrder: [Syscall] = [
    .socket, .setsockopt, .bind, .listen, .getsockname, .epollCreate, .epollCtl, .poll, .select, .epollWait,
    .accept, .connect, .getpeername, .fcntl, .getsockopt, .recv, .recvfrom, .send, .sendto, .write, .shutdown,
    .close, .waitpid,
]

/// The kinds `counts` has, in ``callOrder``.
func listed(_ counts: SyscallCounts) -> [(call: Syscall, count: Int)] {
    callOrder.compactMap { counts[$0] != 0 ? ($0, counts[$0]) : nil }
}

/// `counts` as `poll 21, accept 20, ...`.
func callList(_ counts: SyscallCounts) -> String {
    listed(counts).map { "\($0.call.cName) \($0.count)" }.joined(separator: ", ")
}

/// `counts` divided by `requests`, as `poll 1, accept 1, ...`, with a decimal where one is
/// needed.
func perRequest(_ counts: SyscallCounts, _ requests: Int) -> String {
    listed(counts).map { call, count in
        let each = Double(count) / Double(requests)
        let shown = each == each.rounded() ? String(Int(each)) : String((each * 10).rounded() / 10)
        return "\(call.cName) \(shown)"
    }.joined(separator: ", ")
}
