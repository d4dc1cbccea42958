// `socketserver-trace python`: the reader's own socketserver program, run in CPython under the
// tracer the tool ships (PythonTracer.swift), and its trace printed, in any view, once it ends.
import Glibc
import Processes
import SocketServer
import Sockets
import Tracing

extension CLI {
    /// What `python` parses into.
    struct PythonSettings {
        /// PYTHON SCRIPT [ARGS...].
        var command: [String] = []
        var options = Options()
        var timeout: Double? = nil
    }

    static var pythonCommand: Command<PythonSettings> {
        Command(
            name: "python",
            summary: ["your own program, run in CPython, traced"],
            description: [
                "Run your own socketserver program in CPython under the tool's sys.setprofile tracer and",
                "print its trace when it ends. Threads and forked children are followed; your subclasses",
                "and handlers appear with their own names and the lines of your script. Ctrl-C is passed",
                "on to the program, which ends as it would without the tracer; the trace is printed then.",
            ],
            arguments: traceArguments(\.options) + narrowingArguments(\.options.narrowing) + [
                .number(
                    "--timeout", "S", "float",
                    help: ["Stop the program after S seconds, as Ctrl-C does. Default: wait for it."]
                ) { (settings: inout PythonSettings, timeout: Double) throws(ArgumentError) in
                    guard timeout > 0 && timeout <= 86400 else { throw ArgumentError("must be more than 0 and at most 86400") }
                    settings.timeout = timeout
                },
                .rest(
                    "PYTHON SCRIPT", more: "ARGS",
                    help: ["The interpreter (python3, or a path), your script, then its ARGS."]
                ) { $0.command.append($1) },
            ],
            epilog: [
                "",
                "The exit status is the program's. At most 100000 events are kept (a program that loops",
                "would fill the disk; SOCKETSERVER_TRACE_MAX_EVENTS changes it): a longer run is cut there,",
                "and says so. Try:",
                "  \(program) python -- python3 my_server.py",
                "  \(program) python --format sequence --timeout 10 -- python3 my_server.py --port 9999",
            ],
            defaults: PythonSettings(),
            problem: { $0.command.count < 2 ? "the following arguments are required: PYTHON SCRIPT" : nil },
            body: { try tracePython($0) })
    }

    /// Runs the reader's program traced, prints the trace and exits as the program did.
    static func tracePython(_ settings: PythonSettings) throws -> Never {
        let options = settings.options
        let output = try Output(options.output, argument: "--output")
        let script = settings.command[1]
        if access(script, R_OK) != 0 {
            throw ToolError("can't open file \(pyStrRepr(script)): \(OSError(errno: errno, filename: script))")
        }
        let machine = options.output == nil && [.jsonl, .chrome, .mermaid].contains(options.format)
        let run = try TracedPython(
            python: settings.command[0], script: .path(script), arguments: Array(settings.command.dropFirst(2)),
            forwardOutput: machine ? 2 : 1, deadline: settings.timeout, deterministic: !options.realClock
        ).run()
        if run.timedOut, let timeout = settings.timeout {
            sys.writeStderr("\(program): stopped the program after \(timeout) s (--timeout)\n")
        }
        if run.truncated {
            sys.writeStderr("\(program): the trace stops after \(TracedPython.maxEvents) events; the rest of the run is not in it\n")
        }
        if run.recording.events.isEmpty {
            sys.writeStderr("\(program): the program made no call of socketserver: no trace\n")
        } else {
            let text = try options.narrowing.render(
                run.recording, as: options.format, color: options.output == nil && useColor(1))
            try emit(text, to: output)
        }
        try output.close()
        // The program's status, as a shell gives it (128 + the signal that ended it).
        exit(run.termination?.code ?? 1)
    }
}
