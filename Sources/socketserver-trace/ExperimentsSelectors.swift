// The experiments about how the server waits: the three selectors it could use, and what
// poll_interval costs.
import Glibc
import Processes
import SocketServer
import Sockets
import Synchronization

// MARK: - selectors

/// How many requests each selector serves with handle_request(), and then under one
/// serve_forever().
let selectorRequests = 20

/// The selectors compared, as `_ServerSelector` takes them.
var comparedSelectors: [(name: String, type: any BaseSelector.Type)] {
    [("PollSelector", PollSelector.self), ("SelectSelector", SelectSelector.self), ("EpollSelector", EpollSelector.self)]
}

/// Runs `body` with `socketserver._ServerSelector` set to `selector`, then puts PollSelector back.
func withServerSelector<R>(_ selector: any BaseSelector.Type, _ body: () throws -> R) rethrows -> R {
    _ServerSelector = selector
    defer { _ServerSelector = PollSelector.self }
    return try body()
}

/// The calls of every kind that all of `counts` made at least as often, each kind counted as
/// often as the one that made the fewest.
func commonCalls(_ counts: [SyscallCounts]) -> SyscallCounts {
    var common = SyscallCounts()
    for call in Syscall.allCases { common[call] = counts.map { $0[call] }.min() ?? 0 }
    return common
}

/// `counts` less `other`, kind by kind.
func callsBeyond(_ counts: SyscallCounts, _ other: SyscallCounts) -> SyscallCounts {
    var rest = counts
    for call in Syscall.allCases { rest[call] -= other[call] }
    return rest
}

/// The descriptors of this process whose /proc/self/fd link reads `anon_inode:[eventpoll]`.
func epollDescriptors() -> Int {
    guard let directory = opendir("/proc/self/fd") else { return 0 }
    defer { closedir(directory) }
    var count = 0
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        var target = [UInt8](repeating: 0, count: 256)
        let length = target.withUnsafeMutableBytes {
            readlink("/proc/self/fd/" + name, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count)
        }
        if length > 0 && String(decoding: target[..<length], as: UTF8.self) == "anon_inode:[eventpoll]" { count += 1 }
    }
    return count
}

/// Holds open descriptors (of /dev/null) until the lowest free one is `target`, raising the
/// soft limit on open files if it must; `release()` closes them and restores the limit.
struct DescriptorFiller {
    private var fillers: [CInt] = []
    private var saved = rlimit()
    /// Why the table could not be filled, if it could not.
    private(set) var failure: String?

    init(upTo target: CInt) {
        getrlimit(RLIMIT_NOFILE_VALUE, &saved)
        var raised = saved
        let needed = rlim_t(target) + 64
        if raised.rlim_cur < needed {
            raised.rlim_cur = min(needed, raised.rlim_max)
            setrlimit(RLIMIT_NOFILE_VALUE, &raised)
        }
        // At most `target` opens: each takes the lowest free number.
        for _ in 0..<Int(target) {
            let fd = open("/dev/null", O_RDONLY | O_CLOEXEC)
            if fd < 0 {
                failure = "could not open descriptor \(target - 1): \(OSError(errno: errno)) (limit \(raised.rlim_cur))"
                return
            }
            fillers.append(fd)
            if fd >= target - 1 { return }
        }
    }

    /// Closes the fillers and restores the limit.
    func release() {
        for fd in fillers { Glibc.close(fd) }
        var limit = saved
        setrlimit(RLIMIT_NOFILE_VALUE, &limit)
    }
}

/// `RLIMIT_NOFILE`, which Glibc imports as an enum case.
let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)

extension CLI {
    static let selectorsExperiment = Experiment(
        name: "selectors",
        summary: "poll, select and epoll selectors: system calls, and descriptor 1024",
        does: """
            Sets socketserver._ServerSelector to PollSelector, SelectSelector and EpollSelector in
            turn and serves \(selectorRequests) requests (a StreamRequestHandler) with handle_request(), then \(selectorRequests)
            more under one serve_forever(); the serving thread counts its system calls (the port's
            syscall layer counts every call). Then fills the descriptor table so that the server's
            socket is descriptor 1024 and tries one handle_request() with each selector.
            """,
        body: { report in
            // System calls per handle_request(), and for one serve_forever().
            var perCall: [SyscallCounts] = []
            var perLoop: [SyscallCounts] = []
            var epollDuringLoop: [Int] = []
            for (_, selector) in comparedSelectors {
                try withServerSelector(selector) {
                    let server = try QuietTCPServer(.inet(host: "127.0.0.1", port: 0), MyStreamHandler.self)
                    defer { try? server.serverClose() }
                    perCall.append(try RoundTrips(server, requests: selectorRequests).serverCalls)
                    let serving = try ServingThread(server)
                    var seen = 0
                    for i in 0..<selectorRequests {
                        _ = try request(server.serverAddress, Array("hello \(i)\n".utf8))
                        if i == 0 { seen = epollDescriptors() }
                    }
                    epollDuringLoop.append(seen)
                    perLoop.append(try serving.stop())
                }
            }
            let common = commonCalls(perCall)
            report.observe("the selector's system calls per handle_request() (a new selector each call):")
            var rows: [[String]] = []
            for (index, (name, _)) in comparedSelectors.enumerated() {
                rows.append(["  " + name, perRequest(callsBeyond(perCall[index], common), selectorRequests)])
            }
            report.observe(table: rows)
            report.observe("  and the request's own, the same with each: \(perRequest(common, selectorRequests))")
            report.observe("one serve_forever() for \(selectorRequests) requests (one selector for the whole loop):")
            let loopCommon = commonCalls(perLoop)
            rows = []
            for (index, (name, _)) in comparedSelectors.enumerated() {
                rows.append(["  " + name, callList(callsBeyond(perLoop[index], loopCommon))])
            }
            report.observe(table: rows)
            report.observe("epoll descriptors open while serve_forever() runs:")
            report.observe(table: comparedSelectors.enumerated().map { ["  " + $0.element.name, String(epollDuringLoop[$0.offset])] })

            // Descriptor 1024.
            let filler = DescriptorFiller(upTo: 1024)
            defer { filler.release() }
            var wall: [(name: String, outcome: String)] = []
            var serverFD: CInt = -1
            if let failure = filler.failure {
                report.observe("descriptor 1024: not reached, \(failure)")
            } else {
                let server = try QuietTCPServer(.inet(host: "127.0.0.1", port: 0), MyStreamHandler.self)
                defer { try? server.serverClose() }
                server.timeout = 2
                serverFD = try server.fileno()
                let selectors = comparedSelectors
                for (name, selector) in [selectors[1], selectors[0], selectors[2]] {
                    let reply = Lock<String>("(no reply)")
                    // SelectSelector raises before it waits: no client for it.
                    let client = PThread(name: "client") {
                        let bytes = try request(server.serverAddress, Array("hello\n".utf8))
                        reply.withLock { $0 = pyBytesRepr(bytes) }
                    }
                    if name != "SelectSelector" { try client.start() }
                    let served = outcome({ try withServerSelector(selector) { try server.handleRequest() } }, returned: "served")
                    if name != "SelectSelector" { try? client.join() }
                    wall.append((name, served == "served" ? "served, the client read \(reply.withLock { $0 })" : served))
                }
                report.observe("the server's socket at descriptor \(serverFD), one handle_request() with each:")
                report.observe(table: wall.map { ["  " + $0.name, $0.outcome] })
            }
            let defaultName = _typeName(DefaultSelector.self, qualified: false)
            report.observe("selectors.DefaultSelector here: \(defaultName) (socketserver._ServerSelector: \(_typeName(_ServerSelector, qualified: false)))")

            let epollExtra = callsBeyond(perCall[2], common)
            report.verdict(
                callsBeyond(perCall[0], common).total == selectorRequests
                    && callsBeyond(perCall[1], common).total == selectorRequests
                    && epollExtra[.epollCreate] == selectorRequests && epollExtra[.epollCtl] == selectorRequests,
                "poll and select wait with one system call; an epoll selector needs three more, to make,"
                    + "\n     fill and close its kernel object, once per handle_request() and once per"
                    + "\n     serve_forever() (the comment above _ServerSelector: \"they require a single syscall\").")
            report.verdict(
                epollDuringLoop == [0, 0, 1],
                "epoll costs a descriptor for as long as the selector lives (\"not requiring any extra"
                    + "\n     file descriptor\"): the whole serve_forever() loop.")
            if !wall.isEmpty {
                report.verdict(
                    serverFD >= 1024 && wall[0].outcome == "ValueError: filedescriptor out of range in select()"
                        && wall[1].outcome.hasPrefix("served") && wall[2].outcome.hasPrefix("served"),
                    "select() cannot watch descriptor 1024 or above (FD_SETSIZE); poll and epoll can,"
                        + "\n     which is why select is only the fallback.")
            }
            report.conclude(
                "DefaultSelector (\(defaultName) on Linux) pays off for many descriptors; a server waits on"
                    + "\n  one, so socketserver takes poll: no descriptor, one call per wait, no 1024 wall.")
        })
}

// MARK: - poll-interval

/// The poll_interval values compared, and how long each idle loop is watched.
let pollIntervals = [0.5, 0.05, 0.005]
let idleSeconds = 1.2

/// A server that counts its loop's turns.
class TurnCountingServer: TCPServer, @unchecked Sendable {
    let turns = Atomic<Int>(0)

    override func serviceActions() throws {
        turns.add(1, ordering: .relaxed)
        try super.serviceActions()
    }
}

/// The CPU seconds a thread has used, by its clock.
func cpuSeconds(_ clock: clockid_t) -> Double {
    var time = timespec()
    clock_gettime(clock, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

extension CLI {
    static let pollIntervalExperiment = Experiment(
        name: "poll-interval",
        summary: "shutdown() time and idle CPU for poll_interval 0.5, 0.05 and 0.005",
        does: """
            For each poll_interval, starts serve_forever(poll_interval) on an idle TCPServer, watches it
            for \(readableSeconds(idleSeconds)): the loop's turns (service_actions() calls) and the serving thread's CPU time
            (its CLOCK_THREAD_CPUTIME_ID clock), then calls shutdown() from this thread and times it.
            """,
        body: { report in
            var rows: [[String]] = [["poll_interval", "turns", "CPU", "CPU per turn", "shutdown() took"]]
            var shutdownWithinInterval = true
            var turnsWithinBound = true
            for interval in pollIntervals {
                let server = try TurnCountingServer(.inet(host: "127.0.0.1", port: 0), MyStreamHandler.self)
                defer { try? server.serverClose() }
                let clock = Atomic<Int32>(-1)
                let serving = PThread(targetName: "serve_forever") {
                    var own = clockid_t()
                    pthread_getcpuclockid(pthread_self(), &own)
                    clock.store(own, ordering: .releasing)
                    try server.serveForever(pollInterval: interval)
                }
                try serving.start()
                waitUntil(1) { clock.load(ordering: .acquiring) != -1 }
                let threadClock = clock.load(ordering: .acquiring)
                let (turns0, cpu0) = (server.turns.load(ordering: .relaxed), cpuSeconds(threadClock))
                pause(idleSeconds)
                let (turns1, cpu1) = (server.turns.load(ordering: .relaxed), cpuSeconds(threadClock))
                let start = monotonicSeconds()
                server.shutdown()
                let took = monotonicSeconds() - start
                try serving.join()
                let turns = turns1 - turns0
                let cpu = cpu1 - cpu0
                rows.append([
                    "\(interval) s", String(turns), readableSeconds(cpu),
                    turns > 0 ? readableSeconds(cpu / Double(turns)) : "-", readableSeconds(took),
                ])
                shutdownWithinInterval = shutdownWithinInterval && took <= interval + 0.05
                turnsWithinBound = turnsWithinBound && Double(turns) <= idleSeconds / interval + 1
            }
            report.observe("each loop idle for \(readableSeconds(idleSeconds)):")
            report.observe(table: rows)
            report.verdict(
                shutdownWithinInterval,
                "shutdown() waits for the loop's next wake-up, at most one poll_interval: the loop sees"
                    + "\n     the flag only when select() returns.")
            report.verdict(
                turnsWithinBound,
                "An idle loop wakes at most 1/poll_interval times a second, each turn costing CPU: a"
                    + "\n     shorter interval buys a quicker shutdown() with wake-ups (the XXX comment in"
                    + "\n     serve_forever: \"wastes cpu at all other times\").")
        })
}
