// `socketserver-trace experiment NAME`: the notes' questions, and the surprises the port's
// tests pin down, run on loopback and temporary Unix sockets. Each experiment lives in one of
// the Experiments*.swift files; this one lists them and parses the command.
import Sockets

extension CLI {
    /// Every experiment, in the order of `experiment --list`.
    static let experiments: [Experiment] = [
        shutdownVersusClose, selectorsExperiment, inetVersusUnix, ctrlC, backlogExperiment,
        pollIntervalExperiment, staleShutdown, closedSocketSpin, verifyRaises, maxChildren,
        forkInheritsClient,
    ]

    /// What `experiment` parses into.
    struct ExperimentSettings {
        var name: String?
        var list = false
    }

    static var experimentCommand: Command<ExperimentSettings> {
        Command(
            name: "experiment",
            summary: ["the notes' questions, run (--list names them)"],
            description: [
                "Run one experiment: it prints what it does, what it observed (measured now) and what",
                "follows. Every experiment uses loopback or temporary Unix sockets only, is bounded in",
                "time, and cleans up its processes, threads and files.",
            ],
            arguments: [
                .flag("--list", help: ["Name every experiment, one line each."]) { $0.list = true },
                .positional(
                    "NAME", choices: experiments.map(\.name), required: { !$0.list },
                    help: ["The experiment (see --list)."]
                ) { (settings: inout ExperimentSettings, name: String) throws(ArgumentError) in
                    settings.name = name
                },
            ],
            epilog: ["", "Walkthrough/07-experiments.md says what to notice in each."],
            defaults: ExperimentSettings(),
            problem: { settings in
                settings.list && settings.name != nil ? "argument --list: not allowed with argument NAME" : nil
            },
            body: { settings in
                if let name = settings.name {
                    return try experiments.first { $0.name == name }!.run()
                }
                let width = experiments.map(\.name.count).max()!
                for experiment in experiments {
                    let pad = String(repeating: " ", count: width - experiment.name.count)
                    try write("\(experiment.name)\(pad)  \(experiment.summary)\n")
                }
            })
    }
}
