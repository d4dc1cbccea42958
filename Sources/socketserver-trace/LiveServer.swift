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
        let recorder = Recorder(deterministic: false)
        Trace.attach(recorder)
        defer { Trace.attach(nil) }
        let address: SocketAddress =
            host.contains(":") ? .inet6(host: host, port: port) : .inet(host: host, port: port)
        let server = try serverType.init(address, MyTCPHandler.self)
        let color = CLI.useColor(1)
        var printed = Set<Int>()
        printPart(recorder.recording(), nil, &printed, color: color)
        say("serving \(serverName) on \(server.serverAddress): try `nc \(clientHost(server.serverAddress)) \(server.serverAddress.port ?? port)`; Ctrl-C stops")

        let serving = PThread(targetName: "serve_forever") { try server.serveForever() }
        try serving.start()
        var timeout = timespec(tv_sec: 0, tv_nsec: 200_000_000)
        while true {
            let signal = ForkGate.outside { sigtimedwait(&signals, nil, &timeout) }
            if signal == SIGINT || signal == SIGTERM { break }
            let recording = recorder.recording()
            for part in readyParts(recording, printed: printed) {
                printPart(recording, part, &printed, color: color)
            }
        }
        say("\nshutting down")
        server.shutdown()
        try serving.join()
        try server.serverClose()
        printPart(recorder.recording(), nil, &printed, color: color)
    }

    /// The parts of the recording that are ready to print, as lists of event seqs: for each
    /// request, the serving thread's `_handle_request_noblock` frame that accepted it plus
    /// every event of that request elsewhere (a worker thread, a forked child), once all its
    /// frames have ended and it has been quiet for ``quietNanoseconds``.
    func readyParts(_ recording: Recording, printed: Set<Int>) -> [[Int]] {
        struct Part {
            var seqs: [Int] = []
            var open = 0
            var noblockDone = false
            var last: UInt64 = 0
        }
        var parts: [Int: Part] = [:]  // by request, or by -seq for a request that failed early
        var noblock: [String: (frame: TraceFrameID, key: Int?, seqs: [Int])] = [:]  // by lane
        for event in recording.events where !printed.contains(event.seq) {
            let lane = event.process + "/" + event.thread
            if var frame = noblock[lane] {
                frame.seqs.append(event.seq)
                frame.key = frame.key ?? event.request
                if event.frame == frame.frame && event.kind != .call {
                    let key = frame.key ?? -event.seq
                    parts[key, default: Part()].seqs += frame.seqs
                    parts[key]!.noblockDone = true
                    parts[key]!.last = max(parts[key]!.last, event.time)
                    noblock[lane] = nil
                } else {
                    noblock[lane] = frame
                }
            } else if event.method == "_handle_request_noblock" && event.kind == .call {
                noblock[lane] = (event.frame, nil, [event.seq])
            } else if let request = event.request {
                parts[request, default: Part()].seqs.append(event.seq)
                parts[request]!.open += event.kind == .call ? 1 : -1
                parts[request]!.last = max(parts[request]!.last, event.time)
            }
        }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let nanoseconds = UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
        return parts.values
            .filter { $0.noblockDone && $0.open <= 0 && nanoseconds - $0.last > Self.quietNanoseconds }
            .map { $0.seqs.sorted() }
            .sorted { $0[0] < $1[0] }
    }

    /// Print the not yet printed events among `seqs` (all of them when nil) as one tree.
    func printPart(_ recording: Recording, _ seqs: [Int]?, _ printed: inout Set<Int>, color: Bool) {
        let chosen = seqs.map(Set.init)
        let events = recording.events.filter {
            !printed.contains($0.seq) && (chosen?.contains($0.seq) ?? true)
        }
        guard !events.isEmpty else { return }
        printed.formUnion(events.map(\.seq))
        let requests = Set(events.compactMap(\.request))
        var part = recording
        part.events = events
        part.spawns = recording.spawns.filter { spawn in spawn.request.map(requests.contains) ?? false }
        let text = render(part, as: .tree, color: color)
        print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
        fflush(nil)
    }
}
