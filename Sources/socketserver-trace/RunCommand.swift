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
            arguments: scenarioArguments(\.scenario) + traceArguments(\.options) + narrowingArguments(\.options.narrowing),
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
