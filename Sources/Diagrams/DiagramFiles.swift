// The files of `diagrams/`: every diagram in every format, plus a README that shows the
// Mermaid ones on GitHub. A test regenerates them in memory and fails on any difference from
// the committed files, so the folder cannot drift from the code.

/// The contents of `diagrams/`, generated.
public enum DiagramFiles {
    /// The command that rewrites `diagrams/` from the code (documented in its README).
    public static let regenerateCommand =
        "swift run socketserver-trace diagram all --write diagrams"

    /// Every file of `diagrams/`, by name: `servers.txt`, `servers.mmd`, `servers.dot`, and
    /// the same for handlers and mixins; then the lifecycle's three files when `lifecycle` is
    /// given (the phases of a traced run of the notes' example); then `README.md`.
    public static func all(lifecycle: [LifecyclePhase]? = nil) -> [(name: String, contents: String)]
    {
        var kinds = DiagramKind.classKinds
        if lifecycle != nil { kinds.append(.lifecycle) }
        var files: [(name: String, contents: String)] = []
        for kind in kinds {
            for format in DiagramFormat.allCases {
                files.append(
                    (
                        "\(kind.rawValue).\(format.fileExtension)",
                        renderDiagram(kind, format: format, lifecycle: lifecycle ?? [])
                    ))
            }
        }
        files.append(("README.md", readme(kinds: kinds, lifecycle: lifecycle ?? [])))
        return files
    }

    private static let descriptions: [DiagramKind: String] = [
        .servers: "The server classes, as the notes draw them: BaseServer → TCPServer →"
            + " UDPServer, with UnixStreamServer beside TCPServer and UnixDatagramServer beside"
            + " UDPServer.",
        .handlers: "The request handler classes: BaseRequestHandler → StreamRequestHandler,"
            + " BaseRequestHandler → DatagramRequestHandler.",
        .mixins: "The eight mixed servers: mixin + server (ThreadingTCPServer = ThreadingMixIn +"
            + " TCPServer) and the methods each mixin takes over. In Swift a mixin is a protocol"
            + " (dashed arrow).",
        .lifecycle: "The three phases of the notes' example (construction, serving, shutdown),"
            + " drawn from a traced run of the Swift port.",
    ]

    /// The README of `diagrams/`: what each file is, how to regenerate them, and each Mermaid
    /// diagram in a fenced block so that GitHub renders it.
    static func readme(kinds: [DiagramKind], lifecycle: [LifecyclePhase]) -> String {
        var lines = [
            "# Diagrams",
            "",
            "Generated from the code by the Diagrams module (`Sources/Diagrams/`): do not edit.",
            "The class diagrams come from `ClassModel`, which the tests check against the real Swift",
            "types and against CPython 3.13's MRO. Regenerate every file with:",
            "",
            "```sh",
            regenerateCommand,
            "```",
            "",
            "Tests regenerate them and fail if a committed file differs: `DiagramTests` the class",
            "diagrams in memory, `CLITests` every file through the CLI (the lifecycle comes from a",
            "deterministic traced run of the notes' example).",
            "",
            "| diagram | ASCII (the notes' style) | Mermaid | Graphviz DOT |",
            "|---|---|---|---|",
        ]
        for kind in kinds {
            let name = kind.rawValue
            lines.append(
                "| \(name) | [\(name).txt](\(name).txt) | [\(name).mmd](\(name).mmd) | [\(name).dot](\(name).dot) |"
            )
        }
        for kind in kinds {
            lines += ["", "## \(kind.rawValue)", "", descriptions[kind] ?? "", "", "```mermaid"]
            var mermaid = renderDiagram(kind, format: .mermaid, lifecycle: lifecycle)
            if mermaid.hasSuffix("\n") { mermaid.removeLast() }
            lines.append(mermaid)
            lines.append("```")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
