// Swift-only: the reading view, a static site of two pages that opens from `file://` with
// nothing loaded from elsewhere.
//
// - index.html: the stepper over one recorded run: one event at a time, the Python line and
//   the Swift line that it is, the call stack, arguments and result, the MRO step that chose
//   the version that ran, and a lane for every thread and process.
// - source.html: Lib/socketserver.py beside the Swift port, declaration by declaration, with
//   who calls each function, the built-in scenarios it runs in, and the MRO tables.
//
// Everything a page needs is inside it (the style, the script, the run's data), and its
// Content-Security-Policy lets it load nothing else. The output is a function of its inputs
// only, so a deterministic recording makes byte-identical files every time.
import Diagrams

/// CPython's Lib/socketserver.py, as the reader's machine has it, or why it is missing.
public struct PythonSource: Sendable {
    /// Its lines; empty when it was not found.
    public let lines: [String]
    /// Where it came from (`"CPython 3.13.0"`), or why there is none.
    public let origin: String

    public init(text: String?, origin: String) {
        var lines = text.map { $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) } ?? []
        if lines.last == "" { lines.removeLast() }
        self.lines = lines
        self.origin = origin
    }

    var isPresent: Bool { !lines.isEmpty }

    /// The first and last line of the def that starts on `line`, for a class of
    /// socketserver.py (the class model knows every def's extent).
    static func range(of definingClass: String, def line: Int?) -> ClosedRange<Int>? {
        guard let line, let cls = ClassModel.pyClass(named: definingClass), cls.line != nil else { return nil }
        guard let method = cls.methods.first(where: { $0.line == line }) else { return line...line }
        return method.lines
    }
}

/// A built-in scenario of the tool and the functions that ran in it (from a real trace).
public struct ReadingScenario: Sendable {
    /// `"threading"`.
    public let name: String
    /// What it runs, in words.
    public let summary: String
    /// The `run` arguments that make it (`"--server ThreadingTCPServer --requests 2"`).
    public let arguments: String
    /// The qualified Python names of the functions that ran.
    public let functions: Set<String>

    public init(name: String, summary: String, arguments: String, functions: Set<String>) {
        self.name = name
        self.summary = summary
        self.arguments = arguments
        self.functions = functions
    }
}

/// The two pages of the reading view.
public struct ReadingSite {
    let run: SteppedRun
    let title: String
    let swift: SwiftSources
    let python: PythonSource
    let scenarios: [ReadingScenario]

    /// - Parameters:
    ///   - run: the recorded run the stepper walks.
    ///   - title: what the run is (`"socketserver-trace run --server ThreadingTCPServer"`).
    ///   - swift: the port's sources.
    ///   - python: CPython's Lib/socketserver.py, or its absence.
    ///   - scenarios: the built-in scenarios, for "runs in".
    public init(run: SteppedRun, title: String, swift: SwiftSources, python: PythonSource, scenarios: [ReadingScenario]) {
        self.run = run
        self.title = title
        self.swift = swift
        self.python = python
        self.scenarios = scenarios
    }

    /// The files, by name: `index.html`, `source.html`.
    public var files: [(name: String, contents: String)] {
        [("index.html", stepperPage()), ("source.html", sourcePage())]
    }

    /// The Swift location of each event: the declaration its probe is in.
    func swiftLocation(_ event: StepEvent) -> SwiftLocation? {
        guard let file = event.swiftFile, let line = event.swiftLine else { return nil }
        return swift.location(fileID: file, probe: line)
    }

    /// `FILE:LINE` of the Swift declaration of an event (what `data-swift-line` says), or "".
    func swiftLineText(_ event: StepEvent) -> String {
        if let location = swiftLocation(event) { return "\(location.fileID):\(location.line)" }
        guard let file = event.swiftFile, let line = event.swiftLine else { return "" }
        return "\(file):\(line)"
    }
}
