// `socketserver-trace html`: the reading view, a static site in a folder: the stepper over one
// run (a scenario run now with `run`'s options, or a JSON Lines file), and the Python beside
// the Swift. The site is made by ReadingView from text; this command gathers the text: the
// run's JSON Lines, the port's Swift sources, CPython's Lib/socketserver.py, and which
// functions run in each built-in scenario (each run here, traced).
import Glibc
import Processes
import ReadingView
import SocketServer
import Sockets
import Tracing

extension CLI {
    /// What `html` parses into.
    struct HTMLSettings {
        var run = RunSettings()
        /// The `run` options given, in order, as words (for the page's title).
        var runWords: [String] = []
        var input: String? = nil
        var output: String? = nil
    }

    /// The options of `run` that `html` takes too: those that choose the scenario.
    static let htmlRunOptions = ["--server", "--handler", "--requests", "--reject", "--mode", "--timeout", "--real-clock"]

    static var htmlCommand: Command<HTMLSettings> {
        let runOptions = runCommand.arguments.filter { htmlRunOptions.contains($0.name) }.map { argument in
            Argument<HTMLSettings>(
                name: argument.name, shape: argument.metavar.map { .option(metavar: $0) } ?? .flag,
                choices: argument.choices, help: argument.help, listsChoices: argument.listsChoices
            ) { (settings: inout HTMLSettings, value: String) throws(ArgumentError) in
                try argument.apply(&settings.run, value)
                settings.runWords += argument.metavar == nil ? [argument.name] : [argument.name, value]
            }
        }
        return Command(
            name: "html",
            summary: ["the reading view: a stepper and the source, as a web page"],
            description: [
                "Write the reading view into DIR: index.html steps through one run (a scenario run now,",
                "or the JSON Lines of --input), source.html shows Lib/socketserver.py beside the Swift",
                "port. Open DIR/index.html in any browser; it loads nothing from elsewhere.",
            ],
            arguments: runOptions + [
                .option(
                    "--input", "TRACE.jsonl",
                    help: ["Step through this recording (run --format jsonl, or CPython's) instead of", "running a scenario."]
                ) { $0.input = $1 },
                .option("--output", "DIR", help: ["The folder to write index.html and source.html into (made if missing)."]) {
                    $0.output = $1
                },
            ],
            epilog: [
                "",
                "index.html#step=N opens the event whose JSON Lines seq is N. The Python file is read",
                "from CPython 3.13 (SOCKETSERVER_PY, PYENV_VERSION=3.13.0 python3, or a system 3.13);",
                "without it the Swift column is shown alone.",
            ],
            defaults: HTMLSettings(),
            problem: { settings in
                if settings.output == nil { return "the following arguments are required: --output" }
                if settings.input != nil, let first = settings.runWords.first {
                    return "argument --input: not allowed with argument \(first)"
                }
                return settings.run.scenario.problem
            },
            body: writeReadingView)
    }

    /// Gathers the inputs of the reading view and writes its files.
    static func writeReadingView(_ settings: HTMLSettings) throws {
        let folder = settings.output!
        if access(folder, F_OK) != 0 { _ = mkdir(folder, 0o777) }
        try checkWritableFolder(folder, argument: "--output")
        let jsonl: String
        let title: String
        if let input = settings.input {
            guard let text = readSmallFile(input) else {
                throw ToolError("argument --input: can't open \(pyStrRepr(input)): \(OSError(errno: errno, filename: input))")
            }
            jsonl = text
            title = "the recording " + String(input.split(separator: "/").last ?? Substring(input))
        } else {
            let (recording, _) = try quietly {
                try recordScenario(settings.run.scenario, deterministic: !settings.run.options.realClock)
            }
            jsonl = renderJSONL(recording)
            title = (["socketserver-trace", "run"] + settings.runWords).joined(separator: " ")
        }
        let run: SteppedRun
        do {
            run = try SteppedRun(jsonl: jsonl)
        } catch {
            throw ToolError("argument --input: \(pyStrRepr(settings.input ?? "-")), \(error)")
        }
        let python = findSocketserverSource()
        let site = ReadingSite(
            run: run, title: title, swift: SwiftSources(try portSources()), python: python, scenarios: try builtinScenarios())
        for file in site.files {
            let output = try Output(folder + "/" + file.name, argument: "--output")
            try output.write(file.contents)
            try output.close()
        }
        if python.lines.isEmpty {
            sys.writeStderr("\(program): note: \(python.origin): source.html shows the Swift column alone\n")
        }
        try write("wrote \(folder)/index.html (\(run.events.count) events, \(run.lanes.count) lanes) and \(folder)/source.html\n")
    }

    /// `body` with what the scenario prints (the handlers' `print`, handle_error's report on
    /// standard error) sent nowhere: the page shows the run, the terminal only what was written.
    static func quietly<T>(_ body: () throws -> T) throws -> T {
        let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
        guard null >= 0 else { return try body() }
        let standardError = dup(2)
        setProgramOutput(null)
        dup2(null, 2)
        defer {
            setProgramOutput(1)
            if standardError >= 0 {
                dup2(standardError, 2)
                close(standardError)
            }
            close(null)
        }
        return try body()
    }

    /// The built-in scenarios the source view says each function runs in: the golden files'
    /// scenarios, each parsed by `run`'s own table and run traced here.
    static let builtinScenarioList: [(name: String, summary: String, arguments: [String])] = [
        ("default", "the notes' example: a TCPServer with MyTCPHandler, one request", []),
        ("threading", "a ThreadingTCPServer, two requests", ["--server", "ThreadingTCPServer", "--requests", "2"]),
        ("forking", "a ForkingTCPServer, two requests", ["--server", "ForkingTCPServer", "--requests", "2"]),
        ("udp", "a UDPServer with a DatagramRequestHandler, two datagrams", ["--server", "UDPServer", "--handler", "datagram", "--requests", "2"]),
        ("unix", "a UnixStreamServer with a StreamRequestHandler", ["--server", "UnixStreamServer", "--handler", "stream"]),
        ("reject", "verify_request returns False", ["--reject"]),
        ("error", "handle() raises, so handle_error reports it", ["--handler", "error"]),
        ("timeout", "handle_request with no client: handle_timeout", ["--requests", "0", "--mode", "handle_request", "--timeout", "0.2"]),
    ]

    static func builtinScenarios() throws -> [ReadingScenario] {
        var parsed: RunSettings? = nil
        let parser = Command<RunSettings>(
            name: runCommand.name, summary: [], description: [], arguments: runCommand.arguments,
            defaults: RunSettings(), problem: runCommand.problem, body: { parsed = $0 })
        return try builtinScenarioList.map { entry in
            try parser.main(entry.arguments)
            var scenario = parsed!.scenario
            if entry.name == "default" { scenario = defaultScenario }
            let (recording, _) = try quietly { try recordScenario(scenario, deterministic: true) }
            let functions = Set(recording.events.filter { $0.kind == .call }.map(\.function))
            return ReadingScenario(
                name: entry.name, summary: entry.summary, arguments: entry.arguments.joined(separator: " "),
                functions: functions)
        }
    }

    /// The port's Swift sources: Sources/SocketServer of the package this tool was built from,
    /// else of the current folder.
    static func portSources() throws -> [SwiftSourceFile] {
        let built = String(#filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast(3).joined(separator: "/"))
        for root in [built, "."] {
            let folder = root + "/Sources/SocketServer"
            guard let directory = opendir(folder) else { continue }
            var names: [String] = []
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name.hasSuffix(".swift") { names.append(name) }
            }
            closedir(directory)
            // The port itself first: the stepper's Swift pane opens on it.
            names.sort { ($0 == "SocketServer.swift" ? 0 : 1, $0) < ($1 == "SocketServer.swift" ? 0 : 1, $1) }
            let files = names.compactMap { name in
                readSmallFile(folder + "/" + name).map { SwiftSourceFile(fileID: "SocketServer/" + name, text: $0) }
            }
            if !files.isEmpty { return files }
        }
        throw ToolError("can't find the port's Swift sources (Sources/SocketServer): run \(program) html in the package's folder")
    }

    /// CPython 3.13's Lib/socketserver.py, found as the tests find it: the file SOCKETSERVER_PY
    /// names, `PYENV_VERSION=3.13.0 python3`'s, or a system Python 3.13's.
    static func findSocketserverSource() -> PythonSource {
        func usable(_ path: String) -> String? {
            guard let text = readSmallFile(path), text.contains("__version__ = \"0.4\""),
                text.contains("class ForkingUnixStreamServer")
            else { return nil }
            return text
        }
        if let path = getenv("SOCKETSERVER_PY").map({ String(cString: $0) }), let text = usable(path) {
            return PythonSource(text: text, origin: "the file SOCKETSERVER_PY names")
        }
        let (found, _) = findCPython(nil)
        if let found, found.version.hasPrefix("3.13."), let text = usable(found.socketserverFile) {
            return PythonSource(text: text, origin: "CPython \(found.version)")
        }
        for path in ["/usr/lib/python3.13/socketserver.py", "/usr/local/lib/python3.13/socketserver.py"] {
            if let text = usable(path) { return PythonSource(text: text, origin: "the system's Python 3.13") }
        }
        return PythonSource(text: nil, origin: "no CPython 3.13 was found on this machine")
    }
}
