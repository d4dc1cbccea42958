// The command line: parse by hand (no packages), run a scenario with a recorder attached,
// hand the recording to a view. Usage errors are argparse-style (exit 2): our readers come
// from Python.
import Diagrams
import Glibc
import SocketServer
import Sockets
import Tracing

/// A usage error: printed with the usage, exit status 2.
struct UsageError: Error {
    let message: String
    let usage: String
}

/// The tool's entry point, called by main.swift.
enum CLI {
    static let version = "socketserver-trace 0.4.0 (a reading companion for CPython 3.13 Lib/socketserver.py 0.4)"

    static let mainUsage = "usage: socketserver-trace [-h] [--version] {run,serve,diagram,mro} ..."

    static let mainHelp = """
        Watch CPython's socketserver (0.4, ported to Swift) work, call by call.

        USAGE:
          socketserver-trace                      the notes' example, traced: a TCPServer with
                                                  MyTCPHandler serving one "hello world" request
          socketserver-trace run [OPTIONS]        any server class, handler and mode, traced
          socketserver-trace serve [OPTIONS]      the notes' server, live, until Ctrl-C
          socketserver-trace diagram KIND         the notes' class diagrams and the lifecycle
          socketserver-trace mro CLASS            Python's MRO and which method version runs

        OPTIONS:
          -h, --help     Show this help (also after each command).
          --version      Show the version.

        Try: socketserver-trace run --server ThreadingTCPServer --requests 2 --format sequence
        """

    static let runUsage = """
        usage: socketserver-trace run [-h] [--server NAME] [--handler {uppercase,stream,datagram,error}]
                                      [--requests N] [--reject] [--mode {serve_forever,handle_request}]
                                      [--timeout S] [--format {tree,sequence,jsonl,chrome,mermaid}]
                                      [--output FILE] [--real-clock]
        """

    static let runHelp = """
        Run one scenario with the tracer attached and print the recording.

        \(runUsage)

        OPTIONS:
          --server NAME      The server class, by Python name. Default: TCPServer. One of:
        \(wrapped(serverClasses.map(\.name), indent: 21, width: 96))
          --handler KIND     uppercase: the notes' MyTCPHandler; stream: a StreamRequestHandler
                             echoing one line upper-cased; datagram: the same as a
                             DatagramRequestHandler; error: handle() raises ValueError. Default: uppercase.
          --requests N       How many client requests (0 to 1000); request i sends "hello i". Default: 1.
          --reject           verify_request returns False.
          --mode MODE        serve_forever: a second thread serves while the main thread sends and
                             then calls shutdown(); handle_request: the main thread calls
                             handle_request() once per request. Default: serve_forever.
          --timeout S        Set the server's timeout (handle_request mode; with --requests 0 it
                             shows handle_timeout).
          --format FORMAT    tree, sequence, jsonl, chrome (Perfetto) or mermaid. Default: tree.
          --output FILE      Write the trace to FILE instead of standard output.
          --real-clock       Real times, pids, thread ids and ports instead of the deterministic view.
          -h, --help         Show this help.
        """

    static let serveUsage = "usage: socketserver-trace serve [-h] [--server NAME] [--host HOST] [--port PORT]"

    static let serveHelp = """
        Serve the notes' MyTCPHandler live and print each request's trace as it completes.
        Try `nc 127.0.0.1 9999` in another terminal. Ctrl-C shuts the server down cleanly.

        \(serveUsage)

        OPTIONS:
          --server NAME    A TCP or UDP server class (not Unix). Default: TCPServer.
          --host HOST      The address to bind. Default: 127.0.0.1 (loopback only).
          --port PORT      The port to bind (0 picks a free one). Default: 9999.
          -h, --help       Show this help.
        A live trace shows real times, ports, pids and thread names, to match with your client.
        """

    static let diagramUsage = "usage: socketserver-trace diagram [-h] {servers,handlers,mixins,lifecycle,all} [--format {ascii,mermaid,dot}] [--write DIR]"

    static let diagramHelp = """
        Draw the notes' diagrams from the port's real types (and the lifecycle from a traced run).

        \(diagramUsage)

        ARGUMENTS:
          KIND             servers, handlers, mixins, lifecycle, or all.
        OPTIONS:
          --format FORMAT  ascii (the notes' box style), mermaid or dot. Default: ascii.
          --write DIR      Write every diagram in every format into DIR (regenerates diagrams/).
          -h, --help       Show this help.
        """

    static let mroUsage = "usage: socketserver-trace mro [-h] CLASS"

    static let mroHelp = """
        Show CPython's MRO for CLASS, the Swift chain, and which class's version of each
        overridable method runs.

        \(mroUsage)

        ARGUMENTS:
          CLASS            A class of socketserver.py, e.g. ThreadingTCPServer.
        OPTIONS:
          -h, --help       Show this help.
        """

    /// `words` joined by ", " into lines of at most `width` columns, each indented.
    static func wrapped(_ words: [String], indent: Int, width: Int) -> String {
        var lines: [String] = []
        var line = ""
        for word in words {
            let piece = word + (word == words.last ? "." : ",")
            if !line.isEmpty && indent + line.count + 1 + piece.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + piece
        }
        lines.append(line)
        let margin = String(repeating: " ", count: indent)
        return lines.map { margin + $0 }.joined(separator: "\n")
    }

    /// Runs the tool and exits.
    static func main() -> Never {
        // The main thread runs clients and prints traces beside forking servers: it takes part
        // in the fork gate, so that no child finds a runtime lock it held.
        ForkGate.enroll()
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            try dispatch(arguments)
            exit(0)
        } catch let error as UsageError {
            sys.writeStderr("\(error.usage)\nsocketserver-trace: error: \(error.message)\n")
            exit(2)
        } catch {
            sys.writeStderr("socketserver-trace: error: \(pythonExceptionLine(error))\n")
            exit(1)
        }
    }

    static func dispatch(_ arguments: [String]) throws {
        guard let command = arguments.first else {
            return try runScenario(defaultScenario, Options())
        }
        let rest = Array(arguments.dropFirst())
        switch command {
        case "-h", "--help": print(mainHelp)
        case "--version": print(version)
        case "run": try run(rest)
        case "serve": try serve(rest)
        case "diagram": try diagram(rest)
        case "mro": try mro(rest)
        default:
            throw UsageError(
                message: "argument command: invalid choice: \(pyStrRepr(command)) (choose from 'run', 'serve', 'diagram', 'mro')",
                usage: mainUsage)
        }
    }

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
    }

    /// Reads flags one by one; each flag's value must follow it.
    struct Flags {
        var items: [String]
        let usage: String

        mutating func next() -> String? {
            items.isEmpty ? nil : items.removeFirst()
        }

        mutating func value(for flag: String) throws -> String {
            guard let value = next(), !value.hasPrefix("--") || value == "-" else {
                throw UsageError(message: "argument \(flag): expected one argument", usage: usage)
            }
            return value
        }

        func fail(_ message: String) -> UsageError { UsageError(message: message, usage: usage) }

        mutating func choice<T>(for flag: String, _ choices: [(String, T)]) throws -> T {
            let text = try value(for: flag)
            guard let found = choices.first(where: { $0.0 == text }) else {
                let names = choices.map { pyStrRepr($0.0) }.joined(separator: ", ")
                throw fail("argument \(flag): invalid choice: \(pyStrRepr(text)) (choose from \(names))")
            }
            return found.1
        }

        mutating func number<T: LosslessStringConvertible>(for flag: String, _ kind: String) throws -> T {
            let text = try value(for: flag)
            guard let number = T(text) else {
                throw fail("argument \(flag): invalid \(kind) value: \(pyStrRepr(text))")
            }
            return number
        }
    }

    static let formats: [(String, TraceFormat)] = [
        ("tree", .tree), ("sequence", .sequence), ("jsonl", .jsonl), ("chrome", .chrome), ("mermaid", .mermaid),
    ]

    static func run(_ arguments: [String]) throws {
        var flags = Flags(items: arguments, usage: runUsage)
        var scenario = Scenario()
        var options = Options()
        while let flag = flags.next() {
            switch flag {
            case "-h", "--help":
                print(runHelp)
                return
            case "--server":
                scenario.serverName = try flags.choice(for: flag, serverClasses.map { ($0.name, $0.name) })
            case "--handler":
                scenario.handler = try flags.choice(for: flag, Scenario.Handler.allCases.map { ($0.rawValue, $0) })
            case "--requests": scenario.requests = try flags.number(for: flag, "int")
            case "--reject": scenario.reject = true
            case "--mode":
                scenario.mode = try flags.choice(for: flag, Scenario.Mode.allCases.map { ($0.rawValue, $0) })
            case "--timeout": scenario.timeout = try flags.number(for: flag, "float") as Double
            case "--format": options.format = try flags.choice(for: flag, formats)
            case "--output": options.output = try flags.value(for: flag)
            case "--real-clock": options.realClock = true
            default: throw flags.fail("unrecognized arguments: \(flag)")
            }
        }
        if let problem = scenario.problem { throw flags.fail(problem) }
        try runScenario(scenario, options)
    }

    /// Whether colour may be used on `fd`: a terminal, and NO_COLOR unset.
    static func useColor(_ fd: CInt) -> Bool {
        isatty(fd) == 1 && getenv("NO_COLOR") == nil
    }

    /// Run `scenario` traced and print the recording, then the clients' replies.
    static func runScenario(_ scenario: Scenario, _ options: Options) throws {
        let machine = options.output == nil && [.jsonl, .chrome, .mermaid].contains(options.format)
        setProgramOutput(machine ? 2 : 1)
        let recorder = Recorder(deterministic: !options.realClock)
        Trace.attach(recorder)
        let replies: [String]
        do {
            replies = try scenario.run()
        } catch {
            Trace.attach(nil)
            throw error
        }
        Trace.attach(nil)
        let text = render(
            recorder.recording(), as: options.format,
            color: options.output == nil && useColor(1))
        try emit(text, to: options.output)
        for (i, reply) in replies.enumerated() {
            say("client \(i + 1) received: \(reply)")
        }
    }

    /// Write `text` to FILE or standard output.
    static func emit(_ text: String, to path: String?) throws {
        let body = text.hasSuffix("\n") ? text : text + "\n"
        guard let path else {
            print(body, terminator: "")
            fflush(nil)
            return
        }
        guard let file = fopen(path, "w") else {
            throw OSError(errno: errno, filename: path)
        }
        fputs(body, file)
        fclose(file)
    }

    static func serve(_ arguments: [String]) throws {
        var flags = Flags(items: arguments, usage: serveUsage)
        var serverName = "TCPServer"
        var host = "127.0.0.1"
        var port = 9999
        while let flag = flags.next() {
            switch flag {
            case "-h", "--help":
                print(serveHelp)
                return
            case "--server":
                serverName = try flags.choice(
                    for: flag, serverClasses.filter { $0.type.addressFamily != Sockets.AF_UNIX }.map { ($0.name, $0.name) })
            case "--host": host = try flags.value(for: flag)
            case "--port":
                port = try flags.number(for: flag, "int")
                if !(0...65535).contains(port) { throw flags.fail("argument --port: must be 0 to 65535") }
            default: throw flags.fail("unrecognized arguments: \(flag)")
            }
        }
        try LiveServer(serverName: serverName, host: host, port: port).run()
    }

    static func diagram(_ arguments: [String]) throws {
        var flags = Flags(items: arguments, usage: diagramUsage)
        var kind: String? = nil
        var format = DiagramFormat.ascii
        var writeDirectory: String? = nil
        while let flag = flags.next() {
            switch flag {
            case "-h", "--help":
                print(diagramHelp)
                return
            case "--format":
                format = try flags.choice(for: flag, [("ascii", .ascii), ("mermaid", .mermaid), ("dot", .dot)])
            case "--write": writeDirectory = try flags.value(for: flag)
            default:
                guard kind == nil, !flag.hasPrefix("-") else { throw flags.fail("unrecognized arguments: \(flag)") }
                kind = flag
            }
        }
        if let writeDirectory {
            for file in DiagramFiles.all(lifecycle: try lifecyclePhases()) {
                try emit(file.contents, to: writeDirectory + "/" + file.name)
            }
            return
        }
        let kinds = ["servers", "handlers", "mixins", "lifecycle"]
        guard let kind else { throw flags.fail("the following arguments are required: KIND") }
        guard kind == "all" || kinds.contains(kind) else {
            throw flags.fail(
                "argument KIND: invalid choice: \(pyStrRepr(kind)) (choose from 'servers', 'handlers', 'mixins', 'lifecycle', 'all')")
        }
        let chosen = kind == "all" ? kinds : [kind]
        let texts = try chosen.map { try diagramText($0, format) }
        print(texts.joined(separator: "\n"), terminator: "")
    }

    static func mro(_ arguments: [String]) throws {
        var flags = Flags(items: arguments, usage: mroUsage)
        var name: String? = nil
        while let flag = flags.next() {
            switch flag {
            case "-h", "--help":
                print(mroHelp)
                return
            default:
                guard name == nil, !flag.hasPrefix("-") else { throw flags.fail("unrecognized arguments: \(flag)") }
                name = flag
            }
        }
        guard let name else { throw flags.fail("the following arguments are required: CLASS") }
        guard let report = mroReport(name) else {
            throw flags.fail("argument CLASS: unknown class \(pyStrRepr(name)) (choose from \(ClassModel.classNames.joined(separator: ", ")))")
        }
        print(report, terminator: report.hasSuffix("\n") ? "" : "\n")
    }
}

extension CLI {
    /// The lifecycle phases of a deterministic traced run of the notes' example.
    static func lifecyclePhases() throws -> [LifecyclePhase] {
        let recorder = Recorder(deterministic: true)
        setProgramOutput(2)
        defer { setProgramOutput(1) }
        Trace.attach(recorder)
        defer { Trace.attach(nil) }
        _ = try defaultScenario.run()
        let calls = recorder.recording().events.filter { $0.kind == .call }.map {
            LifecycleCall(function: $0.function, definingClass: $0.definingClass, depth: $0.depth, thread: $0.thread)
        }
        return LifecyclePhase.phases(from: calls)
    }

    /// One diagram's text.
    static func diagramText(_ kind: String, _ format: DiagramFormat) throws -> String {
        let chosen = DiagramKind(rawValue: kind)!
        return renderDiagram(chosen, format: format, lifecycle: chosen == .lifecycle ? try lifecyclePhases() : [])
    }
}
