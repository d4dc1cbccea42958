// `socketserver-trace diagram`: the notes' class diagrams from the port's real types, and the
// lifecycle from a traced run of the notes' example.
import Diagrams
import SocketServer
import Tracing

extension CLI {
    /// What `diagram` parses into.
    struct DiagramSettings {
        var kind: String? = nil
        var format = DiagramFormat.ascii
        var writeDirectory: String? = nil
    }

    /// The word for every diagram at once.
    static let allDiagrams = "all"

    static var diagramCommand: Command<DiagramSettings> {
        Command(
            name: "diagram",
            summary: ["the notes' class diagrams and the lifecycle"],
            description: [
                "Draw the notes' diagrams from the port's real types (and the lifecycle from a traced run)."
            ],
            arguments: [
                .positional(
                    "KIND", choices: DiagramKind.allCases.map(\.rawValue) + [allDiagrams],
                    required: { $0.writeDirectory == nil },
                    help: ["servers, handlers, mixins, lifecycle, or all."]
                ) { $0.kind = $1 },
                .choice(
                    "--format", "FORMAT", DiagramFormat.self,
                    help: ["ascii (the notes' box style), mermaid or dot. Default: ascii."]
                ) { $0.format = $1 },
                .option(
                    "--write", "DIR",
                    help: ["Write every diagram in every format into DIR (regenerates diagrams/)."]
                ) { $0.writeDirectory = $1 },
            ],
            defaults: DiagramSettings(),
            body: diagram)
    }

    static func diagram(_ settings: DiagramSettings) throws {
        if let directory = settings.writeDirectory {
            try checkWritableFolder(directory, argument: "--write")
            for file in DiagramFiles.all(lifecycle: try lifecyclePhases()) {
                let output = try Output(directory + "/" + file.name, argument: "--write")
                try emit(file.contents, to: output)
                try output.close()
            }
            return
        }
        let kinds = settings.kind == allDiagrams ? DiagramKind.allCases : [DiagramKind(rawValue: settings.kind!)!]
        let texts = try kinds.map { kind in
            renderDiagram(kind, format: settings.format, lifecycle: kind == .lifecycle ? try lifecyclePhases() : [])
        }
        try write(texts.joined(separator: "\n"))
    }

    /// The lifecycle phases of a deterministic traced run of the notes' example: the CLI runs
    /// it and hands Diagrams plain calls, so that Diagrams needs no recording.
    static func lifecyclePhases() throws -> [LifecyclePhase] {
        setProgramOutput(2)
        defer { setProgramOutput(1) }
        let (recording, _) = try recordScenario(defaultScenario, deterministic: true)
        let calls = recording.events.filter { $0.kind == .call }.map {
            LifecycleCall(function: $0.function, definingClass: $0.definingClass, depth: $0.depth, thread: $0.thread)
        }
        return LifecyclePhase.phases(from: calls)
    }
}
