// `socketserver-trace serve`: the notes' server, live. It serves until Ctrl-C and prints each
// request's part of the trace once the request is done, so a reader can connect with `nc`
// and watch. The recorder hands over each finished request and forgets it, so the server
// can run for as long as the reader likes without falling behind or growing.
import Glibc
import Processes
import SocketServer
import Sockets
import Tracing

struct LiveServer {
    let serverName: String
    let host: String
    let port: Int
    /// What of each request's trace to print, and how wide.
    let narrowing: CLI.Narrowing

    /// How long the main thread waits for Ctrl-C between two looks for finished requests.
    static let tickNanoseconds = 100_000_000
    /// The same, right after a look that found some.
    static let busyTickNanoseconds = 10_000_000
    /// How many finished requests may wait to be printed before the server waits for the
    /// printing (a few MB).
    static let maxUntaken = 256

    func run() throws {
        // Ctrl-C and SIGTERM are taken by the main thread with sigtimedwait: block them before
        // any thread starts, so that every thread inherits the mask.
        var signals = blockSignals([SIGINT, SIGTERM])

        let serverType = serverClasses.first { $0.name == serverName }!.type
        // The recorder hands each finished request over and forgets it, and counts the idle
        // turns of serve_forever instead of keeping them: what it holds is what still runs,
        // and at most a few hundred finished requests this thread has not printed yet (when
        // it falls behind, the serving thread waits for it).
        let recorder = Recorder(deterministic: false, foldRepeats: true, maxUntaken: Self.maxUntaken)
        Trace.attach(recorder)
        defer { Trace.attach(nil) }
        let address: SocketAddress =
            host.contains(":") ? .inet6(host: host, port: port) : .inet(host: host, port: port)
        let server = try serverType.init(address, MyTCPHandler.self)
        let color = CLI.useColor(1)
        printTree(recorder.takeRecording(), color: color)
        say("serving \(serverName) on \(server.serverAddress): try `nc \(clientHost(server.serverAddress)) \(server.serverAddress.port ?? port)`; Ctrl-C stops")

        let serving = PThread(targetName: "serve_forever") { try server.serveForever() }
        try serving.start()
        var printed = 0
        while true {
            // Look again soon while requests are coming, rarely when idle.
            var timeout = timespec(tv_sec: 0, tv_nsec: printed > 0 ? Self.busyTickNanoseconds : Self.tickNanoseconds)
            let signal = ForkGate.outside { sigtimedwait(&signals, nil, &timeout) }
            if signal == SIGINT || signal == SIGTERM { break }
            printed = printFinished(recorder, color: color)
        }
        say("\nshutting down")
        server.shutdown()
        try serving.join()
        try server.serverClose()
        printFinished(recorder, color: color)
        printTree(recorder.takeRecording(), color: color)
    }

    /// Print every request that has finished, a few at a time (when nothing has finished, this
    /// is a lock and a look at the children's spool: nothing is rescanned).
    /// - Returns: how many were printed.
    @discardableResult
    func printFinished(_ recorder: Recorder, color: Bool) -> Int {
        let batch = 16
        var printed = 0
        while true {
            let requests = recorder.takeCompletedRequests(limit: batch)
            for request in requests { printTree(request, color: color) }
            printed += requests.count
            if requests.count < batch { return printed }
        }
    }

    /// Print `recording` as one tree, narrowed, unless that leaves nothing.
    func printTree(_ recording: Recording, color: Bool) {
        guard !recording.events.isEmpty, !narrowing.leavesNothing(recording),
            let text = try? narrowing.render(recording, as: .tree, color: color)
        else { return }
        print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
        fflush(nil)
    }
}
