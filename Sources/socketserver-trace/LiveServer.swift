// `socketserver-trace serve`: the notes' server, live. It serves until Ctrl-C and prints each
// request's part of the trace once the request is done, so a reader can connect with `nc`
// and watch.
import Glibc
import SocketServer
import Sockets
import Tracing

struct LiveServer {
    let serverName: String
    let host: String
    let port: Int
    let realClock: Bool

    /// How long a request's events must stay unchanged before its trace is printed: a worker
    /// thread or a forked child may still be reporting after the serving thread is done.
    static let quietNanoseconds: UInt64 = 300_000_000

    func run() throws {
        // Ctrl-C and SIGTERM are taken by the main thread with sigtimedwait: block them before
        // any thread starts, so that every thread inherits the mask.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &signals, nil)

        let serverType = serverClasses.first { $0.name == serverName }!.type
        let recorder = Recorder(deterministic: !realClock)
        Trace.attach(recorder)
        defer { Trace.attach(nil) }
        let address: SocketAddress =
            host.contains(":") ? .inet6(host: host, port: port) : .inet(host: host, port: port)
        let server = try serverType.init(address, MyTCPHandler.self)
        let color = CLI.useColor(1)
        var printed = Set<Int>()
        printNew(recorder.recording(), &printed, color: color) { _ in true }
        say("serving \(serverName) on \(server.serverAddress): try `nc \(clientHost(server.serverAddress)) \(server.serverAddress.port ?? port)`; Ctrl-C stops")

        let serving = PThread(targetName: "serve_forever") { try server.serveForever() }
        try serving.start()
        var timeout = timespec(tv_sec: 0, tv_nsec: 200_000_000)
        while true {
            let signal = sigtimedwait(&signals, nil, &timeout)
            if signal == SIGINT || signal == SIGTERM { break }
            let recording = recorder.recording()
            let done = finishedRequests(recording, printed: printed)
            if !done.isEmpty {
                printNew(recording, &printed, color: color) { event in event.request.map(done.contains) ?? false }
            }
        }
        say("\nshutting down")
        server.shutdown()
        try serving.join()
        try server.serverClose()
        printNew(recorder.recording(), &printed, color: color) { _ in true }
    }

    /// The requests whose frames have all ended and whose events have been quiet a while.
    func finishedRequests(_ recording: Recording, printed: Set<Int>) -> Set<Int> {
        var open: [Int: Int] = [:]
        var last: [Int: UInt64] = [:]
        for event in recording.events where !printed.contains(event.seq) {
            guard let request = event.request else { continue }
            open[request, default: 0] += event.kind == .call ? 1 : -1
            last[request] = max(last[request] ?? 0, event.time)
        }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let nanoseconds = UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
        return Set(open.filter { $0.value <= 0 && nanoseconds - last[$0.key]! > Self.quietNanoseconds }.keys)
    }

    /// Print the not yet printed events that `include` picks, as one tree.
    func printNew(
        _ recording: Recording, _ printed: inout Set<Int>, color: Bool, _ include: (TraceEvent) -> Bool
    ) {
        let events = recording.events.filter { !printed.contains($0.seq) && include($0) }
        guard !events.isEmpty else { return }
        printed.formUnion(events.map(\.seq))
        let requests = Set(events.compactMap(\.request))
        var part = recording
        part.events = events
        part.spawns = recording.spawns.filter { spawn in spawn.request.map(requests.contains) ?? false }
        print(render(part, as: .tree, color: color), terminator: "")
        fflush(nil)
    }
}
