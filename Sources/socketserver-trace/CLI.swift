// The command line: parse by hand (no packages), run a scenario with a recorder attached,
// hand the recording to a view. Each command declares its arguments once, in a table
// (Command.swift) that drives its parsing, its usage line and its help; this file holds the
// top level: the list of commands, the tool's own options, and what every command shares.
import Glibc
import Processes
import SocketServer
import Sockets
import Tracing

/// The tool's entry point, called by main.swift.
enum CLI {
    static let program = "socketserver-trace"

    static let version = "socketserver-trace 0.4.0 (a reading companion for CPython 3.13 Lib/socketserver.py 0.4)"

    /// The commands, in the order of the top-level help.
    static var commands: [AnyCommand] {
        [
            AnyCommand(runCommand), AnyCommand(serveCommand), AnyCommand(diagramCommand), AnyCommand(mroCommand),
            AnyCommand(compareCommand), AnyCommand(diffCommand), AnyCommand(pythonCommand),
            AnyCommand(htmlCommand),
            AnyCommand(experimentCommand),
        ]
    }

    /// The tool's own options (before any command): flags, help, what each does.
    static let mainOptions: [(flags: [String], help: String, action: Action)] = [
        (helpFlags, "Show this help (also after each command).", .help),
        (["--version"], "Show the version.", .version),
    ]

    /// What an option of the tool does.
    enum Action { case help, version }

    static var mainUsage: String {
        let flags = mainOptions.map { "[\($0.flags[0])]" }
        let names = commands.map(\.name).joined(separator: ",")
        return usageLine("usage: \(program)", flags + ["{\(names)}", "..."])
    }

    static var mainHelp: String {
        let runs =
            [HelpRow(label: program, help: defaultSummary)]
            + commands.map { HelpRow(label: "\(program) \($0.synopsis)", help: $0.summary) }
        let options = mainOptions.map { HelpRow(label: $0.flags.joined(separator: ", "), help: [$0.help]) }
        let lines =
            ["Watch CPython's socketserver (0.4, ported to Swift) work, call by call.", "", "USAGE:"]
            + runs.flatMap { $0.lines(column: HelpRow.column(runs)) }
            + ["", "OPTIONS:"] + options.flatMap { $0.lines(column: HelpRow.column(options)) }
            + ["", "Try: \(program) run --server ThreadingTCPServer --requests 2 --format sequence"]
        return lines.joined(separator: "\n") + "\n"
    }

    /// Runs the tool and exits.
    static func main() -> Never {
        // The main thread runs clients and prints traces beside forking servers: it takes part
        // in the fork gate, so that no child finds a runtime lock it held.
        ForkGate.enroll()
        // A ToolError says it all; any other error is shown as Python shows an exception.
        runTool(program, describe: { ($0 as? ToolError)?.message ?? pythonExceptionLine($0) }) {
            try dispatch(Array(CommandLine.arguments.dropFirst()))
            return 0
        }
    }

    static func dispatch(_ arguments: [String]) throws {
        guard let word = arguments.first else {
            return try runScenario(defaultScenario, Options())
        }
        let (flag, attached) = splitAttachedValue(word)
        if let option = mainOptions.first(where: { $0.flags.contains(flag) }) {
            if let attached {
                throw UsageError(
                    message: "argument \(option.flags.joined(separator: "/")): ignored explicit argument \(pyStrRepr(attached))",
                    usage: mainUsage)
            }
            switch option.action {
            case .help: return try write(mainHelp)
            case .version: return try write(version + "\n")
            }
        }
        guard let command = commands.first(where: { $0.name == word }) else {
            let names = commands.map { pyStrRepr($0.name) }.joined(separator: ", ")
            throw UsageError(
                message: "argument command: invalid choice: \(pyStrRepr(word)) (choose from \(names))",
                usage: mainUsage)
        }
        try command.main(Array(arguments.dropFirst()))
    }

    /// What the default run does, as the top-level help says it.
    static let defaultSummary = [
        "the notes' example, traced: a TCPServer with", "MyTCPHandler serving one \"hello world\" request",
    ]

    /// The notes' example: TCPServer + MyTCPHandler, one "hello world".
    static var defaultScenario: Scenario {
        var scenario = Scenario()
        scenario.payload = { _ in Array("hello world".utf8) }
        return scenario
    }

    /// Options shared by the commands that print a trace.
    struct Options {
        var format = TraceFormat.tree
        var output: String? = nil
        var realClock = false
        var narrowing = Narrowing()
    }

    /// Whether colour may be used on `fd`: a terminal, and NO_COLOR unset.
    static func useColor(_ fd: CInt) -> Bool {
        isatty(fd) == 1 && getenv("NO_COLOR") == nil
    }

    /// Run `scenario` traced and print the recording, then the clients' replies.
    static func runScenario(_ scenario: Scenario, _ options: Options) throws {
        let output = try Output(options.output, argument: "--output")
        let machine = options.output == nil && [.jsonl, .chrome, .mermaid].contains(options.format)
        setProgramOutput(machine ? 2 : 1)
        let (recording, replies) = try recordScenario(scenario, deterministic: !options.realClock)
        let text = try options.narrowing.render(
            recording, as: options.format, color: options.output == nil && useColor(1))
        try emit(text, to: output)
        try output.close()
        for (i, reply) in replies.enumerated() {
            try Output.program.write("client \(i + 1) received: \(reply)\n")
        }
    }

    /// Write `text` to standard output.
    static func write(_ text: String) throws {
        try Output.standard.write(text)
    }

    /// Write `text` to `output`, ending it with a newline.
    static func emit(_ text: String, to output: Output) throws {
        try output.write(text.hasSuffix("\n") ? text : text + "\n")
    }
}
