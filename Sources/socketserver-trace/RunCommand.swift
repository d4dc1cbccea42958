// `socketserver-trace run`: one scenario, traced, in the format asked for.
import SocketServer
import Tracing

extension CLI {
    /// What `run` parses into.
    struct RunSettings {
        var scenario = Scenario()
        var options = Options()
    }

    static var runCommand: Command<RunSettings> {
        Command(
            name: "run",
            summary: ["any server class, handler and mode, traced"],
            description: ["Run one scenario with the tracer attached and print the recording."],
            arguments: [
                .choice(
                    "--server", "NAME", serverClasses.map(\.name), listed: true,
                    help: ["The server class, by Python name. Default: TCPServer. One of:"]
                ) { $0.scenario.serverName = $1 },
                .choice(
                    "--handler", "KIND", Scenario.Handler.self,
                    help: [
                        "uppercase: the notes' MyTCPHandler; stream: a StreamRequestHandler",
                        "echoing one line upper-cased; datagram: the same as a",
                        "DatagramRequestHandler; error: handle() raises ValueError. Default: uppercase.",
                    ]
                ) { $0.scenario.handler = $1 },
                .number(
                    "--requests", "N", "int",
                    help: [#"How many client requests (0 to 1000); request i sends "hello i". Default: 1."#]
                ) { (settings: inout RunSettings, requests: Int) in settings.scenario.requests = requests },
                .flag("--reject", help: ["verify_request returns False."]) { $0.scenario.reject = true },
                .choice(
                    "--mode", "MODE", Scenario.Mode.self,
                    help: [
                        "serve_forever: a second thread serves while the main thread sends and",
                        "then calls shutdown(); handle_request: the main thread calls",
                        "handle_request() once per request. Default: serve_forever.",
                    ]
                ) { $0.scenario.mode = $1 },
                .number(
                    "--timeout", "S", "float",
                    help: [
                        "Set the server's timeout (handle_request mode; with --requests 0 it",
                        "shows handle_timeout).",
                    ]
                ) { (settings: inout RunSettings, timeout: Double) in settings.scenario.timeout = timeout },
                .choice(
                    "--format", "FORMAT", TraceFormat.self,
                    help: ["tree, sequence, jsonl, chrome (Perfetto) or mermaid. Default: tree."]
                ) { $0.options.format = $1 },
                .option("--output", "FILE", help: ["Write the trace to FILE instead of standard output."]) {
                    $0.options.output = $1
                },
                .flag(
                    "--real-clock",
                    help: ["Real times, pids, thread ids and ports instead of the deterministic view."]
                ) { $0.options.realClock = true },
            ] + narrowingArguments(\.options.narrowing),
            defaults: RunSettings(),
            problem: { settings in
                if let request = settings.options.narrowing.filter.request, request > settings.scenario.requests {
                    return "argument --request: the run has \(settings.scenario.requests) request(s) (--requests)"
                }
                return settings.scenario.problem
            },
            body: { try runScenario($0.scenario, $0.options) })
    }
}
