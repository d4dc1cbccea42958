// The options that pick a scenario (`run`'s, which `compare` and `diff` take too), the
// options of a printed trace, declared once for every command that has them, and a scenario
// run with the recorder attached.
import Glibc
import SocketServer
import Tracing

extension CLI {
    /// The options that pick a scenario, for a command whose settings keep one at `path`;
    /// `server: false` leaves out `--server` (a command that names its classes otherwise).
    static func scenarioArguments<Settings>(_ path: WritableKeyPath<Settings, Scenario>, server: Bool = true) -> [Argument<Settings>] {
        let serverArgument: [Argument<Settings>] = [
            .choice(
                "--server", "NAME", serverClasses.map(\.name), listed: true,
                help: ["The server class, by Python name. Default: TCPServer. One of:"]
            ) { $0[keyPath: path].serverName = $1 }
        ]
        return (server ? serverArgument : []) + [
            .choice(
                "--handler", "KIND", Scenario.Handler.self,
                help: [
                    "uppercase: the notes' MyTCPHandler; stream: a StreamRequestHandler",
                    "echoing one line upper-cased; datagram: the same as a",
                    "DatagramRequestHandler; error: handle() raises ValueError. Default: uppercase.",
                ]
            ) { $0[keyPath: path].handler = $1 },
            .number(
                "--requests", "N", "int",
                help: [#"How many client requests (0 to 1000); request i sends "hello i". Default: 1."#]
            ) { (settings: inout Settings, requests: Int) in settings[keyPath: path].requests = requests },
            .flag("--reject", help: ["verify_request returns False."]) { $0[keyPath: path].reject = true },
            .choice(
                "--mode", "MODE", Scenario.Mode.self,
                help: [
                    "serve_forever: a second thread serves while the main thread sends and",
                    "then calls shutdown(); handle_request: the main thread calls",
                    "handle_request() once per request. Default: serve_forever.",
                ]
            ) { $0[keyPath: path].mode = $1 },
            .number(
                "--timeout", "S", "float",
                help: [
                    "Set the server's timeout (handle_request mode; with --requests 0 it",
                    "shows handle_timeout).",
                ]
            ) { (settings: inout Settings, timeout: Double) in settings[keyPath: path].timeout = timeout },
        ]
    }

    /// `--format`, `--output` and `--real-clock`, for a command whose settings keep its
    /// ``Options`` at `path`.
    static func traceArguments<Settings>(_ path: WritableKeyPath<Settings, Options>) -> [Argument<Settings>] {
        [
            .choice(
                "--format", "FORMAT", TraceFormat.self,
                help: ["tree, sequence, jsonl, chrome (Perfetto) or mermaid. Default: tree."]
            ) { $0[keyPath: path].format = $1 },
            .option("--output", "FILE", help: ["Write the trace to FILE instead of standard output."]) {
                $0[keyPath: path].output = $1
            },
            .flag(
                "--real-clock",
                help: ["Real times, pids, thread ids and ports instead of the deterministic view."]
            ) { $0[keyPath: path].realClock = true },
        ]
    }
}

extension CLI {
    /// Runs `scenario` with a recorder attached.
    ///
    /// - Parameter quiet: what the handlers print is dropped (the commands that show two
    ///   recordings side by side print neither side's).
    /// - Returns: the recording, and the replies the clients received.
    static func recordScenario(_ scenario: Scenario, deterministic: Bool, quiet: Bool = false) throws -> (Recording, [String]) {
        var discard: CInt = -1
        if quiet {
            discard = open("/dev/null", O_WRONLY | O_CLOEXEC)
            if discard >= 0 { setProgramOutput(discard) }
        }
        defer {
            if discard >= 0 {
                setProgramOutput(2)
                close(discard)
            }
        }
        let recorder = Recorder(deterministic: deterministic)
        Trace.attach(recorder)
        defer { Trace.attach(nil) }
        let replies = try scenario.run()
        return (recorder.recording(), replies)
    }
}
