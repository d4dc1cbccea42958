// `socketserver-trace diff`: one scenario on two server classes, the two call trees aligned
// and what differs said (Tracing's ViewDiff.swift).
import SocketServer
import Tracing

extension CLI {
    /// What `diff` parses into.
    struct DiffSettings {
        var servers: [String] = []
        var scenario = Scenario()
    }

    static var diffCommand: Command<DiffSettings> {
        let names = serverClasses.map(\.name)
        return Command(
            name: "diff",
            summary: ["one scenario on two server classes, aligned"],
            description: [
                "Run one scenario on two server classes and print the two call trees side by side, the",
                "same calls aligned, and what differs marked and then said: which methods another class",
                "provides, what runs on another thread or in another process, what only one side calls.",
            ],
            arguments: [
                .positional("SERVER_A", choices: names, help: ["The first server class, by Python name."]) {
                    $0.servers.append($1)
                },
                .positional("SERVER_B", choices: names, help: ["The second one (the classes are those of run --server)."]) {
                    $0.servers.append($1)
                },
            ] + scenarioArguments(\.scenario, server: false),
            epilog: ["", "Try: \(program) diff TCPServer ThreadingTCPServer"],
            defaults: DiffSettings(),
            problem: { settings in
                settings.servers.lazy.compactMap { name -> String? in
                    var scenario = settings.scenario
                    scenario.serverName = name
                    return scenario.problem
                }.first
            },
            body: { try diff($0) })
    }

    static func diff(_ settings: DiffSettings) throws {
        var recordings: [Recording] = []
        for name in settings.servers {
            var scenario = settings.scenario
            scenario.serverName = name
            recordings.append(try recordScenario(scenario, deterministic: true, quiet: true).0)
        }
        // Part 4 of issue 10 (narrowing options) would filter both recordings here.
        try write(renderServerDiff(recordings[0], recordings[1], names: (settings.servers[0], settings.servers[1])))
    }
}
