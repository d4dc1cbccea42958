// The experiments about the sockets under socketserver: what the peer sees after
// shutdown(SHUT_WR) and after close(), AF_INET against AF_UNIX, and the listen backlog.
import Glibc
import Processes
import SocketServer
import Sockets

// MARK: - Pieces

/// A connected TCP pair on 127.0.0.1: the server's end (what `accept()` returned) and the
/// peer's (the client).
func loopbackPair() throws -> (server: Socket, peer: Socket) {
    let listener = try Socket(Sockets.AF_INET, Sockets.SOCK_STREAM)
    defer { try? listener.close() }
    try listener.bind(.inet(host: "127.0.0.1", port: 0))
    try listener.listen(1)
    let peer = try connectedClient(try listener.getsockname())
    let (server, _) = try listener.accept()
    return (server, peer)
}

/// A second socket object for the descriptor of `socket`, made with dup(2).
///
/// Python: socket.socket.dup (Lib/socket.py)
func duplicate(_ socket: Socket) throws -> Socket {
    let fd = Glibc.dup(socket.fileno())
    guard fd >= 0 else { throw OSError.lastError() }
    return Socket(family: Sockets.AF_INET, type: Sockets.SOCK_STREAM, fileno: fd)
}

/// A forked child that holds every descriptor its parent had, waits (at most five seconds)
/// until the parent releases it, then runs `action` and exits with the status it returns.
struct WaitingChild {
    let pid: Int32
    private let release: CInt

    init(then action: () -> Int32) throws {
        var ends: [CInt] = [-1, -1]
        guard pipe(&ends) == 0 else { throw OSError.lastError() }
        let pid = try os.fork()
        if pid == 0 {
            Glibc.close(ends[1])
            var ready = pollfd(fd: ends[0], events: Int16(POLLIN), revents: 0)
            _ = poll(&ready, 1, 5000)
            os._exit(action())
        }
        Glibc.close(ends[0])
        self.pid = pid
        release = ends[1]
    }

    /// Lets the child act, and waits for it.
    /// - Returns: its exit status.
    @discardableResult
    func finish() -> Int32 {
        Glibc.close(release)
        var status: CInt = 0
        _ = ForkGate.outside { waitpid(pid, &status, 0) }
        return (status >> 8) & 0xff
    }
}

/// Waits (at most a second) until `socket` reports a hang-up: the connection is gone in both
/// directions, as after a reset.
func waitForHangUp(_ socket: Socket) -> Bool {
    var pending = pollfd(fd: socket.fileno(), events: Int16(POLLIN), revents: 0)
    return waitUntil(1) { poll(&pending, 1, 0) >= 0 && pending.revents & Int16(POLLHUP) != 0 }
}

/// What a call raised, as Python shows it, or `returned` when it did not raise.
func outcome(_ body: () throws -> Void, returned: String = "no error") -> String {
    do {
        try body()
        return returned
    } catch {
        return pythonExceptionLine(error)
    }
}

// MARK: - shutdown-vs-close

extension CLI {
    static let shutdownVersusClose = Experiment(
        name: "shutdown-vs-close",
        summary: "what the peer sees after shutdown(SHUT_WR) and after close()",
        does: """
            Connects a client (the peer) to a server socket on 127.0.0.1 and has the server's end
            shut down or closed while a second descriptor for the same socket is open (dup(2) in
            this process, or a fork(2)ed child), then reads on the peer with a 0.2 s timeout. Then
            closes with unread data, and uses the descriptor after shutdown and after close.
            """,
        body: { report in
            // shutdown(SHUT_WR) and close() with a dup open.
            let (server1, peer1) = try loopbackPair()
            let dup1 = try duplicate(server1)
            try server1.shutdown(SHUT_WR)
            let afterShutdownDup = Received(peer1, within: 0.2)
            report.observe("shutdown(SHUT_WR), a dup still open:  peer's recv: \(afterShutdownDup)")
            try? server1.close()
            try? dup1.close()
            try? peer1.close()

            let (server2, peer2) = try loopbackPair()
            let dup2 = try duplicate(server2)
            try server2.close()
            let afterCloseDup = Received(peer2, within: 0.2)
            try dup2.close()
            let afterLastClose = Received(peer2, within: 0.2)
            report.observe("close(), a dup still open:            peer's recv: \(afterCloseDup)")
            report.observe("  ... and after the dup's close():    peer's recv: \(afterLastClose)")
            try? peer2.close()

            // The same with the second descriptor in a forked child: close, then shutdown.
            let (server3, peer3) = try loopbackPair()
            let holder = try WaitingChild { 0 }
            try server3.close()
            let afterCloseFork = Received(peer3, within: 0.2)
            holder.finish()
            let afterChildExit = Received(peer3, within: 0.2)
            report.observe("close(), a forked child holds it:     peer's recv: \(afterCloseFork)")
            report.observe("  ... and after the child exits:      peer's recv: \(afterChildExit)")
            try? peer3.close()

            let (server4, peer4) = try loopbackPair()
            let fd4 = server4.fileno()
            let writer = try WaitingChild {
                Int32(Glibc.send(fd4, "late", 4, Int32(MSG_NOSIGNAL)) < 0 ? Glibc.errno : 0)
            }
            try server4.shutdown(SHUT_WR)
            let afterShutdownFork = Received(peer4, within: 0.2)
            let childErrno = writer.finish()
            let childSend = childErrno == 0 ? "sent" : pythonExceptionLine(OSError(errno: childErrno))
            report.observe("shutdown(SHUT_WR), a child holds it:  peer's recv: \(afterShutdownFork)")
            report.observe("  ... the child's send afterwards:    \(childSend)")
            try? server4.close()
            try? peer4.close()

            // Closing with unread data.
            let (server5, peer5) = try loopbackPair()
            try peer5.sendall(Array("unread".utf8))
            var readable = pollfd(fd: server5.fileno(), events: Int16(POLLIN), revents: 0)
            _ = ForkGate.outside { poll(&readable, 1, 1000) }
            try server5.close()
            let afterUnread = Received(peer5, within: 0.2)
            report.observe("close() with 6 bytes unread:          peer's recv: \(afterUnread)")
            try? peer5.close()

            // Using the descriptor after shutdown(SHUT_WR), and after close().
            let (server6, peer6) = try loopbackPair()
            try server6.shutdown(SHUT_WR)
            try peer6.sendall(Array("more".utf8))
            let readAfterShutdown = Received(server6, within: 0.2)
            let peerName = outcome({ _ = try server6.getpeername() }, returned: "works")
            let sendAfterShutdown = outcome({ _ = try server6.send(Array("x".utf8)) }, returned: "sent")
            report.observe("after shutdown(SHUT_WR): recv \(readAfterShutdown), getpeername() \(peerName),")
            report.observe("  send \(sendAfterShutdown)")
            try server6.close()
            let readAfterClose = outcome({ _ = try server6.recv(1) })
            report.observe("after close(): fileno() \(server6.fileno()), recv \(readAfterClose)")
            // The peer's half: the server's end is gone in both directions.
            _ = Received(peer6, within: 0.2)
            let firstSend = outcome({ _ = try peer6.send(Array("x".utf8)) }, returned: "accepted")
            let hungUp = waitForHangUp(peer6)
            let secondSend = outcome({ _ = try peer6.send(Array("y".utf8)) }, returned: "accepted")
            report.observe("the peer's sends after that close(): \(firstSend), then (reset: \(yesNo(hungUp))) \(secondSend)")
            try? peer6.close()

            let endOfStream = Received.endOfStream
            let notYet = Received.nothing(seconds: 0.2)
            report.conclude("The notes' three claims:")
            report.verdict(
                afterShutdownDup == endOfStream && afterShutdownFork == endOfStream && afterCloseDup == notYet
                    && afterCloseFork == notYet && afterLastClose == endOfStream && afterChildExit == endOfStream,
                "1. shutdown() ends the connection at once, for every descriptor and process that shares it;"
                    + "\n     close() only gives up one descriptor, and the last close() ends it.")
            report.verdict(
                readAfterShutdown == .bytes(Array("more".utf8)) && sendAfterShutdown.hasPrefix("BrokenPipeError")
                    && secondSend.hasPrefix("BrokenPipeError"),
                "2. shutdown(SHUT_WR) closes one direction (the server still reads); the last close()"
                    + "\n     closes both (the peer's data is answered with a reset).")
            report.verdict(
                peerName == "works" && server6.fileno() == -1 && readAfterClose.contains("Errno 9"),
                "3. after shutdown() the descriptor still works; after close() it is gone (fileno() -1,"
                    + "\n     EBADF).")
            report.verdict(
                childSend.hasPrefix("BrokenPipeError"),
                "A forking parent must not shut a request down: its child could not send the reply.")
            report.verdict(
                afterUnread == .error("ConnectionResetError: [Errno 104] Connection reset by peer"),
                "Closing with unread data sends a reset instead of the end of the stream.")
        })
}

// MARK: - inet-vs-unix

/// How many requests each family serves.
let roundTripRequests = 200

/// A server whose `handle_error` is silent: a client an experiment drops on purpose is no
/// error worth a traceback.
final class QuietTCPServer: TCPServer, @unchecked Sendable {
    override func handleError(_ request: Request, _ clientAddress: SocketAddress) throws {}
}

/// The same, over a Unix socket.
final class QuietUnixStreamServer: UnixStreamServer, @unchecked Sendable {
    override func handleError(_ request: Request, _ clientAddress: SocketAddress) throws {}
}

/// What `requests` requests to a server cost: each round trip, and the serving thread's system
/// calls.
struct RoundTrips {
    var seconds: [Double]
    var serverCalls: SyscallCounts

    /// Serves `requests` requests with `handle_request()` on a thread of its own, the system
    /// calls it makes counted, while this thread sends them one after another, each on a new
    /// connection, timing each from `connect()` to the end of the reply.
    init(_ server: TCPServer, requests: Int) throws {
        server.timeout = 5  // a lost client ends a handle_request() in 5 s
        let calls = Lock(SyscallCounts())
        let serving = PThread(name: "server") {
            let (_, counted) = try SyscallFaults.counting {
                for _ in 0..<requests { try server.handleRequest() }
            }
            calls.withLock { $0 = counted }
        }
        try serving.start()
        var seconds: [Double] = []
        var failure: (any Error)?
        for i in 0..<requests {
            let start = monotonicSeconds()
            do {
                _ = try request(server.serverAddress, Array("hello \(i)\n".utf8))
            } catch {
                failure = error
                break
            }
            seconds.append(monotonicSeconds() - start)
        }
        try serving.join()
        if let failure { throw failure }
        self.seconds = seconds.sorted()
        serverCalls = calls.withLock { $0 }
    }

    /// The round trip that `fraction` of them took at most (0.5: the median).
    func percentile(_ fraction: Double) -> Double {
        seconds[min(seconds.count - 1, Int(Double(seconds.count) * fraction))]
    }
}

extension CLI {
    static let inetVersusUnix = Experiment(
        name: "inet-vs-unix",
        summary: "the same handler over AF_INET and AF_UNIX: round trip and system calls",
        does: """
            Serves the same StreamRequestHandler (one line in, the line upper-cased out) with a
            TCPServer on 127.0.0.1 and with a UnixStreamServer in a temporary folder: \(roundTripRequests) requests
            each, one after another, each on a new connection, served by handle_request() on a thread
            that counts its system calls; each request is timed from connect() to the reply's end.
            """,
        body: { report in
            let inetServer = try QuietTCPServer(.inet(host: "127.0.0.1", port: 0), MyStreamHandler.self)
            defer { try? inetServer.serverClose() }
            let inet = try RoundTrips(inetServer, requests: roundTripRequests)
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let unixServer = try QuietUnixStreamServer(.unix(directory.path + "/server.sock"), MyStreamHandler.self)
            defer { try? unixServer.serverClose() }
            let unix = try RoundTrips(unixServer, requests: roundTripRequests)

            report.observe(table: [
                ["", "AF_INET (127.0.0.1)", "AF_UNIX"],
                ["median round trip", readableSeconds(inet.percentile(0.5)), readableSeconds(unix.percentile(0.5))],
                ["90th percentile", readableSeconds(inet.percentile(0.9)), readableSeconds(unix.percentile(0.9))],
            ])
            report.observe("the serving thread's system calls per request:")
            report.observe("  AF_INET: \(perRequest(inet.serverCalls, roundTripRequests))")
            report.observe("  AF_UNIX: \(perRequest(unix.serverCalls, roundTripRequests))")

            let ratio = unix.percentile(0.5) / inet.percentile(0.5)
            report.verdict(
                inet.serverCalls == unix.serverCalls,
                "socketserver makes the same system calls for both families, one for one: the classes"
                    + "\n   differ only in address_family.")
            report.conclude(
                "The median AF_UNIX round trip took \(Int((ratio * 100).rounded()))% of the AF_INET one here: a Unix socket"
                    + "\n  skips TCP (no handshake, no segments, no loopback device), so what differs is the kernel's"
                    + "\n  work inside those calls, not their number.")
        })
}

// MARK: - backlog

/// How many clients connect at once.
let backlogClients = 64

/// TCP_INFO's `tcpi_total_retrans`: how many segments the connection sent again, the SYN of a
/// connect included (`struct tcp_info` in linux/tcp.h; its offset is fixed by the kernel ABI).
func retransmissions(_ socket: Socket) -> Int {
    let tcpInfo: CInt = 11  // TCP_INFO
    let totalRetransOffset = 100
    var info = [UInt8](repeating: 0, count: 104)
    var length = socklen_t(info.count)
    guard getsockopt(socket.fileno(), Sockets.IPPROTO_TCP, tcpInfo, &info, &length) == 0, length >= 104 else {
        return 0
    }
    return info.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: totalRetransOffset, as: UInt32.self)) }
}

/// What a burst of clients saw: how long each connect took and how many SYNs it retransmitted.
struct Burst {
    var connectSeconds: [Double] = []
    var retried = 0
    var unconnected = 0

    /// `clients` non-blocking connects to `server`, all issued before any is served; each
    /// sends its line once connected and reads its reply; at most `seconds` in all.
    init(_ server: TCPServer, clients: Int, seconds: Double) throws {
        let selector = PollSelector()
        var started: [CInt: (socket: Socket, time: Double)] = [:]
        defer { for (socket, _) in started.values { try? socket.close() } }
        for _ in 0..<clients {
            let socket = try Socket(Sockets.AF_INET, Sockets.SOCK_STREAM)
            socket.setblocking(false)
            // EINPROGRESS (BlockingIOError): the handshake goes on without us.
            let refused = Result { () throws(OSError) in try socket.connect(server.serverAddress) }
            if case .failure(let error) = refused, error.kind != .blockingIO { throw error }
            started[socket.fileno()] = (socket, monotonicSeconds())
            _ = try selector.register(socket, EVENT_WRITE)
        }
        let deadline = monotonicSeconds() + seconds
        var connecting = clients
        while connecting > 0 && monotonicSeconds() < deadline {
            for (key, events) in try selector.select(0.1) {
                guard let (socket, time) = started[key.fd] else { continue }
                _ = try selector.unregister(socket)
                guard events & EVENT_WRITE != 0 else {
                    _ = try? socket.recv(1024)  // the reply, or the end of the stream
                    continue
                }
                connectSeconds.append(monotonicSeconds() - time)
                if retransmissions(socket) > 0 { retried += 1 }
                connecting -= 1
                _ = try? socket.send(Array("hello\n".utf8))
                _ = try selector.register(socket, EVENT_READ)
            }
        }
        unconnected = connecting
    }
}

extension CLI {
    static let backlogExperiment = Experiment(
        name: "backlog",
        summary: "a burst of 64 clients against request_queue_size 5 and 128",
        does: """
            Starts a TCPServer (serve_forever, one request at a time, a StreamRequestHandler) with
            request_queue_size 5, then 128 (set before server_activate(), which passes it to listen()),
            and opens \(backlogClients) non-blocking connections at once; each client sends its line once
            connected. Records how long each connect() took, and whether its SYN was sent again
            (TCP_INFO's tcpi_total_retrans on the client's socket). At most 8 s per size.
            """,
        body: { report in
            var results: [(size: Int, burst: Burst)] = []
            for size in [5, 128] {
                let server = try QuietTCPServer(.inet(host: "127.0.0.1", port: 0), MyStreamHandler.self, bindAndActivate: false)
                defer { try? server.serverClose() }
                server.requestQueueSize = size
                try server.serverBind()
                try server.serverActivate()
                let serving = try ServingThread(server, pollInterval: 0.05)
                let burst = Result { try Burst(server, clients: backlogClients, seconds: 8) }
                try serving.stop()
                results.append((size, try burst.get()))
            }
            let limit = readSmallFile("/proc/sys/net/core/somaxconn").map { $0.filter(\.isNumber) } ?? "?"
            for (size, burst) in results {
                report.observe("request_queue_size \(size): listen(\(size)), \(backlogClients) clients at once")
                let buckets: [(String, ClosedRange<Double>)] = [
                    ("under 0.5 s", 0...0.5), ("0.5 s to 2 s", 0.5...2), ("2 s to 5 s", 2...5), ("5 s or more", 5...1e9),
                ]
                var rows: [[String]] = [["  connect() took", "clients", ""]]
                for (label, range) in buckets {
                    let count = burst.connectSeconds.filter { range.contains($0) && $0 != range.upperBound }.count
                    rows.append(["  " + label, String(count), String(repeating: "█", count: count)])
                }
                if burst.unconnected > 0 { rows.append(["  not connected in 8 s", String(burst.unconnected), ""]) }
                report.observe(table: rows)
                report.observe("  connects whose SYN was sent again: \(burst.retried) of \(backlogClients)")
            }
            report.observe("the kernel's cap on any backlog (net.core.somaxconn): \(limit)")

            let small = results[0].burst
            let large = results[1].burst
            report.verdict(
                small.retried >= backlogClients - 5 - 2 && large.retried == 0,
                "A full accept queue drops new SYNs: with request_queue_size 5 only the first few"
                    + "\n connections got in at once (the backlog, one more, and the one being served); the"
                    + "\n rest waited for a SYN retry, the first of which comes 1 s later. With 128 none waited.")
            report.verdict(
                small.unconnected == 0 && large.unconnected == 0,
                "Every client got in, late: request_queue_size bounds the connections waiting for"
                    + "\n accept(), not the clients.")
            report.conclude("A server with bursts of clients raises it; the kernel caps it at net.core.somaxconn.")
        })
}
