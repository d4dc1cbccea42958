// The options that narrow a trace, declared once for every command that prints one: a command
// adds `narrowingArguments(\.narrowing)` to its table and hands `narrowing` to `narrow`.
// The filter itself is the Tracing module's `TraceFilter`, a transform of a recording.
import Sockets
import Tracing

extension CLI {
    /// What the narrowing options parse into.
    struct Narrowing {
        /// What to keep of the recording.
        var filter = TraceFilter()
        /// The column tree and sequence lines are cut to; 0 for no cut.
        var width = 120

        /// The options given, as typed (for the message when nothing matches).
        var given: [String] {
            var words: [String] = []
            if let request = filter.request { words.append("--request \(request)") }
            if let process = filter.process { words.append("--process \(process)") }
            if let thread = filter.thread { words.append("--thread \(thread)") }
            if let depth = filter.depth { words.append("--depth \(depth)") }
            if !filter.only.isEmpty { words.append("--only \(filter.only.joined(separator: ","))") }
            return words
        }

        /// Whether the filters leave nothing of a recording that has calls.
        func leavesNothing(_ recording: Recording) -> Bool {
            !filter.keepsEverything && !recording.events.isEmpty && filter.apply(to: recording).events.isEmpty
        }

        /// `recording` in `format`, narrowed.
        ///
        /// - Throws: ``ToolError`` when the filters leave nothing of a recording that has
        ///   calls (a label or a name that does not occur in it).
        func render(_ recording: Recording, as format: TraceFormat, color: Bool) throws -> String {
            if leavesNothing(recording) {
                throw ToolError("no call of the trace matches \(given.joined(separator: " "))")
            }
            return Tracing.render(recording, as: format, color: color, width: width, filter: filter)
        }
    }

    /// An option taking a number N, 1 or more.
    private static func counting<Settings>(
        _ name: String, help: String, _ set: @escaping (inout Settings, Int) -> Void
    ) -> Argument<Settings> {
        .number(name, "N", "int", help: [help]) { (settings: inout Settings, number: Int) throws(ArgumentError) in
            guard number >= 1 else { throw ArgumentError("must be 1 or more") }
            set(&settings, number)
        }
    }

    /// An option taking the label of a process or a thread, refused unless `valid`.
    private static func label<Settings>(
        _ name: String, _ metavar: String, help: String, kind: String, expected: String,
        valid: @escaping (String) -> Bool, _ set: @escaping (inout Settings, String) -> Void
    ) -> Argument<Settings> {
        .option(name, metavar, help: [help]) { (settings: inout Settings, label: String) throws(ArgumentError) in
            guard valid(label) else {
                throw ArgumentError("invalid \(kind) label: \(pyStrRepr(label)) (expected \(expected))")
            }
            set(&settings, label)
        }
    }

    /// The narrowing options, for a command whose settings keep a ``Narrowing`` at `path`.
    static func narrowingArguments<Settings>(_ path: WritableKeyPath<Settings, Narrowing>) -> [Argument<Settings>] {
        [
            counting("--request", help: "Only request N (1, 2, ... in the order accepted) and the calls around it.") {
                $0[keyPath: path].filter.request = $1
            },
            label(
                "--process", "P", help: "Only process P: P0 the server's, P1, P2, ... its forked children.",
                kind: "process", expected: "P0, P1, ... or P1.1", valid: TraceFilter.isProcessLabel
            ) { $0[keyPath: path].filter.process = $1 },
            label(
                "--thread", "T", help: "Only the threads labelled T (T0 main, T1, ...), in every process.",
                kind: "thread", expected: "T0, T1, ...", valid: TraceFilter.isThreadLabel
            ) { $0[keyPath: path].filter.thread = $1 },
            counting("--depth", help: "Only calls fewer than N frames deep in their thread (1: the outermost ones).") {
                $0[keyPath: path].filter.depth = $1
            },
            .option(
                "--only", "NAMES",
                help: [
                    "Only the calls named, comma-separated: a method (process_request) or a class",
                    "and a method (ThreadingMixIn.process_request, MyTCPHandler.handle).",
                ]
            ) { (settings: inout Settings, text: String) throws(ArgumentError) in
                let names = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                if let bad = names.first(where: { !TraceFilter.isCallName($0) }) {
                    throw ArgumentError("invalid name: \(pyStrRepr(bad)) (expected NAME or Class.NAME)")
                }
                settings[keyPath: path].filter.only = names
            },
            .flag(
                "--fold-idle",
                help: [
                    "One call for each run of idle service_actions turns, with its count",
                    "(jsonl and chrome list every call with --real-clock; the other views",
                    "always fold them).",
                ]
            ) { $0[keyPath: path].filter.foldIdle = true },
            .number(
                "--width", "N", "int",
                help: ["Cut tree and sequence lines to N columns, details first; 0: no cut. Default: 120."]
            ) { (settings: inout Settings, width: Int) throws(ArgumentError) in
                guard width == 0 || width >= 40 else { throw ArgumentError("must be 0 (no cut) or at least 40") }
                settings[keyPath: path].width = width
            },
        ]
    }
}
