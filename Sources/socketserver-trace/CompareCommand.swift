// `socketserver-trace compare`: one scenario of `run` in CPython (under the tracer the tool
// ships, with the scenario's CPython side, CPythonScenario.swift) and in the port, the two call
// trees side by side, lane by lane, with a verdict for each (Tracing's ViewCompare.swift).
import Glibc
import Processes
import SocketServer
import Sockets
import Tracing

extension CLI {
    /// What `compare` parses into.
    struct CompareSettings {
        var scenario = Scenario()
        /// What of the two trees to compare (`--request`, `--thread`, ...).
        var narrowing = Narrowing()
        /// The interpreter named by --python.
        var python: String? = nil
        /// A recorded trace of the port to use instead of running it.
        var portTrace: String? = nil
    }

    /// How long CPython's side of a scenario may take.
    static let cpythonDeadline = 60.0

    static var compareCommand: Command<CompareSettings> {
        Command(
            name: "compare",
            summary: ["one scenario in CPython and in the port"],
            description: [
                "Run one scenario of `run` in CPython 3.13 (traced with sys.setprofile) and in the port, and",
                "print the two call trees side by side, lane by lane (threads and forked children matched",
                "by label), with a verdict for each lane: identical, or where the first difference is.",
                "Compared: each call's class and method, its nesting, how it ended (returned, or raised",
                "which exception) and the line of its def. Idle serve_forever turns are folded into one",
                "row and not compared (how many there are is a matter of the clock).",
            ],
            arguments: scenarioArguments(\.scenario) + narrowingArguments(\.narrowing) + [
                .option(
                    "--python", "PATH",
                    help: ["The CPython to compare with. Default: `PYENV_VERSION=3.13.0 python3`."]
                ) { $0.python = $1 },
                .option(
                    "--port-trace", "FILE",
                    help: [
                        "The port's side from FILE, as `run --format jsonl` wrote it with the",
                        "same options, instead of running the port (to see a difference).",
                    ]
                ) { $0.portTrace = $1 },
            ],
            epilog: ["", "Exit status: 0 when every lane is identical, 1 otherwise."],
            defaults: CompareSettings(),
            problem: { $0.scenario.problem },
            body: { try compare($0) })
    }

    /// `run`'s options for `scenario`, as the CPython scenario script takes them.
    static func scenarioWords(_ scenario: Scenario) -> [String] {
        var words = [
            "--server", scenario.serverName, "--handler", scenario.handler.rawValue, "--requests",
            String(scenario.requests), "--mode", scenario.mode.rawValue,
        ]
        if scenario.reject { words.append("--reject") }
        if let timeout = scenario.timeout { words += ["--timeout", String(timeout)] }
        return words
    }

    /// The interpreter `compare` runs: the one --python names, else pyenv's 3.13.0, as the tests
    /// find it.
    static func cpythonToCompare(_ explicit: String?) throws -> CPython {
        if let explicit {
            guard let found = probeCPython(explicit) else {
                throw ToolError("argument --python: \(pyStrRepr(explicit)) does not run as Python")
            }
            if !found.isPortedVersion {
                sys.writeStderr(
                    "\(program): warning: CPython \(found.version) is not 3.13, the version the port follows: lines and calls may differ\n")
            }
            return found
        }
        let (command, environment) = cpythonCandidates[0]
        let found = probeCPython(command, environment: environment)
        guard let found, found.isPortedVersion else {
            throw ToolError(
                "no CPython 3.13 to compare with: `PYENV_VERSION=3.13.0 \(command)` "
                    + (found.map { "is CPython \($0.version)" } ?? "does not run")
                    + "; name one with --python PATH")
        }
        return found
    }

    static func compare(_ settings: CompareSettings) throws {
        let scenario = settings.scenario
        // The recorded trace first: a file that cannot be read fails before anything runs.
        var recordedPort: Recording? = nil
        if let path = settings.portTrace {
            guard let text = readSmallFile(path) else {
                throw ToolError("argument --port-trace: can't open \(pyStrRepr(path)): \(OSError(errno: errno, filename: path))")
            }
            do {
                recordedPort = try readTraceFile(text, deterministic: true)
            } catch {
                throw ToolError("argument --port-trace: \(pyStrRepr(path)): \(error)")
            }
        }
        let cpython = try cpythonToCompare(settings.python)
        let words = scenarioWords(scenario)
        let cpythonRun = try TracedPython(
            python: cpython.executable, script: .shipped(name: "socketserver_scenario.py", text: cpythonScenarioSource),
            arguments: words, ownLines: false, deadline: cpythonDeadline, argument: "--python"
        ).run()
        guard !cpythonRun.timedOut, cpythonRun.termination == .exited(0) else {
            let how = cpythonRun.timedOut ? "did not end within \(Int(cpythonDeadline)) s" : "ended with \(cpythonRun.termination.map(\.description) ?? "no status")"
            throw ToolError("CPython's side of the scenario \(how):\n\(cpythonRun.errors)")
        }
        let port = try recordedPort ?? recordScenario(scenario, deterministic: true, quiet: true).0
        let filter = settings.narrowing.filter
        let (text, lanes) = renderComparison(
            filter.apply(to: cpythonRun.recording), filter.apply(to: port),
            names: ("CPython \(cpython.version)", "the port"))
        try write(
            "compare: run \(words.joined(separator: " "))\n"
                + "CPython \(cpython.version) on the left, the port\(settings.portTrace == nil ? "" : " (from --port-trace)") on the right\n\n"
                + text)
        if lanes.contains(where: { !$0.identical }) { exit(1) }
    }
}
