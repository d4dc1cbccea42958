// A command's arguments, declared once in a table that drives its parsing, its usage line and
// its help. Usage errors read as argparse's do (`argument --format: invalid choice: ...`),
// because our readers come from Python.
import Processes
import Sockets

/// What a table's action says about a value it refuses; the parser names the argument
/// (`argument --port: must be 0 to 65535`).
struct ArgumentError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// The widest line of a help page; a usage line is wrapped to it.
let helpWidth = 96

/// At most this many choices are spelled out in a usage line (`{tree,...}`); a longer list is
/// named by the metavar (`--server NAME`).
let usageChoiceLimit = 5

/// The words of the help option, which every command has.
let helpFlags = ["-h", "--help"]

/// One argument of a command: a flag, an option that takes a value, or a positional.
struct Argument<Settings> {
    enum Shape {
        /// `--reject`: takes no value.
        case flag
        /// `--server NAME`: takes one value, the next word or what follows `=`
        /// (`--server=NAME`).
        case option(metavar: String)
        /// `CLASS`: a word that is no option; `required` says when it must be given.
        case positional(required: (Settings) -> Bool)
        /// `-- PYTHON SCRIPT [ARGS ...]`: every word from the first that is no option, or from
        /// the word after `--`, on, as typed (argparse's REMAINDER); each is given to `apply`
        /// in order. `more` names the words after those the name lists (`ARGS`); the command's
        /// `problem` says how many it needs.
        case rest(more: String)
    }

    /// The option's flag (`--server`), or the positional's name (`KIND`).
    let name: String
    let shape: Shape
    /// The metavar of the help's row (`NAME`), nil for a flag or a positional.
    var metavar: String? {
        if case .option(let metavar) = shape { return metavar }
        return nil
    }
    /// The values it accepts, in order; nil for any value.
    let choices: [String]?
    /// The lines of its help, after the label (wrapped by hand).
    let help: [String]
    /// The choices are listed, wrapped, after the help (a list too long for the usage line).
    var listsChoices = false
    /// Records the value (a flag gets "").
    let apply: (inout Settings, String) throws(ArgumentError) -> Void

    var isPositional: Bool {
        switch shape {
        case .positional, .rest: return true
        case .flag, .option: return false
        }
    }

    var takesRest: Bool {
        if case .rest = shape { return true }
        return false
    }

    /// How the usage line shows it: `[--reject]`, `[--server NAME]`, `[--mode {a,b}]`, `CLASS`.
    var usage: String {
        var shown: String?
        if let choices, choices.count <= usageChoiceLimit { shown = "{\(choices.joined(separator: ","))}" }
        switch shape {
        case .flag: return "[\(name)]"
        case .option(let metavar): return "[\(name) \(shown ?? metavar)]"
        case .positional: return shown ?? name
        case .rest(let more): return "-- \(name) [\(more) ...]"
        }
    }

    /// Its row of the help: labelled `--reject`, `--server NAME` or `KIND`.
    var helpRow: HelpRow {
        HelpRow(label: metavar.map { "\(name) \($0)" } ?? name, help: help, list: listsChoices ? choices : nil)
    }

    /// A flag: `set` runs when it is given.
    static func flag(_ name: String, help: [String], _ set: @escaping (inout Settings) -> Void) -> Self {
        Self(name: name, shape: .flag, choices: nil, help: help) { settings, _ in set(&settings) }
    }

    /// An option taking any text.
    static func option(
        _ name: String, _ metavar: String, help: [String],
        _ set: @escaping (inout Settings, String) throws(ArgumentError) -> Void
    ) -> Self {
        Self(name: name, shape: .option(metavar: metavar), choices: nil, help: help, apply: set)
    }

    /// An option taking a number of type `T` (`int`, `float` as argparse names them).
    static func number<T: LosslessStringConvertible>(
        _ name: String, _ metavar: String, _ kind: String, help: [String],
        _ set: @escaping (inout Settings, T) throws(ArgumentError) -> Void
    ) -> Self {
        option(name, metavar, help: help) { (settings: inout Settings, text: String) throws(ArgumentError) in
            guard let number = T(text) else { throw ArgumentError("invalid \(kind) value: \(pyStrRepr(text))") }
            try set(&settings, number)
        }
    }

    /// An option taking one of `choices`.
    static func choice(
        _ name: String, _ metavar: String, _ choices: [String], listed: Bool = false, help: [String],
        _ set: @escaping (inout Settings, String) -> Void
    ) -> Self {
        Self(
            name: name, shape: .option(metavar: metavar), choices: choices, help: help,
            listsChoices: listed
        ) { settings, text in set(&settings, text) }
    }

    /// An option taking a case of `E`, by its raw value: the choices are the enum's cases.
    static func choice<E: CaseIterable & RawRepresentable<String>>(
        _ name: String, _ metavar: String, _ cases: E.Type, help: [String],
        _ set: @escaping (inout Settings, E) -> Void
    ) -> Self {
        choice(name, metavar, E.allCases.map(\.rawValue), help: help) { settings, text in
            set(&settings, E(rawValue: text)!)
        }
    }

    /// The words after the options (see ``Shape/rest``).
    static func rest(
        _ name: String, more: String, help: [String], _ add: @escaping (inout Settings, String) -> Void
    ) -> Self {
        Self(name: name, shape: .rest(more: more), choices: nil, help: help) { settings, word in add(&settings, word) }
    }

    /// A positional, with its choices if it has any.
    static func positional(
        _ name: String, choices: [String]? = nil, required: @escaping (Settings) -> Bool = { _ in true },
        help: [String], _ set: @escaping (inout Settings, String) throws(ArgumentError) -> Void
    ) -> Self {
        Self(name: name, shape: .positional(required: required), choices: choices, help: help, apply: set)
    }
}

/// A command: what it does, its arguments, and what it runs with them.
struct Command<Settings> {
    /// The word that names it (`run`).
    let name: String
    /// Its line(s) in the top-level help.
    let summary: [String]
    /// The first lines of its own help.
    let description: [String]
    /// Its arguments, in the order of the usage line; `-h, --help` is added to every command.
    let arguments: [Argument<Settings>]
    /// Lines after the options in its help.
    var epilog: [String] = []
    /// The settings before any argument.
    let defaults: Settings
    /// Why parsed settings cannot run, if they cannot (a usage error).
    var problem: (Settings) -> String? = { _ in nil }
    /// Runs the command.
    let body: (Settings) throws -> Void

    /// How the top-level help shows it: the positionals, or `[OPTIONS]` when it has none.
    var synopsis: String {
        let positionals = arguments.filter(\.isPositional).map { $0.takesRest ? "-- " + $0.name : $0.name }
        return ([name] + (positionals.isEmpty ? ["[OPTIONS]"] : positionals)).joined(separator: " ")
    }

    /// `usage: socketserver-trace run [-h] [--server NAME] ...`, wrapped to the page.
    var usage: String {
        usageLine("usage: \(CLI.program) \(name)", ["[-h]"] + arguments.map(\.usage))
    }

    /// Its help page.
    var help: String {
        var lines = description + ["", usage, ""]
        let positionals = arguments.filter(\.isPositional).map(\.helpRow)
        let options =
            arguments.filter { !$0.isPositional }.map(\.helpRow)
            + [HelpRow(label: helpFlags.joined(separator: ", "), help: ["Show this help."])]
        // One table: the arguments and the options share a column.
        let column = HelpRow.column(positionals + options)
        if !positionals.isEmpty { lines += ["ARGUMENTS:"] + positionals.flatMap { $0.lines(column: column) } }
        lines += ["OPTIONS:"] + options.flatMap { $0.lines(column: column) }
        return (lines + epilog).joined(separator: "\n") + "\n"
    }

    /// Parses `words` and runs the command, or prints its help.
    func main(_ words: [String]) throws {
        var settings = defaults
        var items = words[...]
        var positionals = arguments.filter(\.isPositional)[...]
        func fail(_ message: String) -> UsageError { UsageError(message: message, usage: usage) }
        func accept(_ argument: Argument<Settings>, _ value: String) throws {
            if let choices = argument.choices, !choices.contains(value) {
                let names = choices.map(pyStrRepr).joined(separator: ", ")
                throw fail("argument \(argument.name): invalid choice: \(pyStrRepr(value)) (choose from \(names))")
            }
            do {
                try argument.apply(&settings, value)
            } catch {
                throw fail("argument \(argument.name): \(error.message)")
            }
        }
        while let word = items.popFirst() {
            if word == "--", let rest = positionals.first(where: \.takesRest) {
                // As argparse: `--` ends the options; what follows is given as typed.
                for value in items { try accept(rest, value) }
                positionals = []
                break
            }
            if helpFlags.contains(word) {
                return try CLI.write(help)
            }
            guard word.hasPrefix("-") else {
                guard let positional = positionals.popFirst() else { throw fail("unrecognized arguments: \(word)") }
                try accept(positional, word)
                if positional.takesRest {
                    for value in items { try accept(positional, value) }
                    break
                }
                continue
            }
            // `--format=jsonl`, as argparse takes it: the value is what follows the first `=`.
            let (flag, attached) = splitAttachedValue(word)
            if helpFlags.contains(flag), let attached {
                throw fail("argument \(helpFlags.joined(separator: "/")): ignored explicit argument \(pyStrRepr(attached))")
            }
            guard let option = arguments.first(where: { !$0.isPositional && $0.name == flag }) else {
                throw fail("unrecognized arguments: \(word)")
            }
            if option.metavar == nil {
                if let attached {
                    throw fail("argument \(option.name): ignored explicit argument \(pyStrRepr(attached))")
                }
                try accept(option, "")
            } else if let attached {
                try accept(option, attached)
            } else {
                guard let value = items.popFirst(), !value.hasPrefix("--") else {
                    throw fail("argument \(option.name): expected one argument")
                }
                try accept(option, value)
            }
        }
        for positional in positionals {
            if case .positional(let required) = positional.shape, required(settings) {
                throw fail("the following arguments are required: \(positional.name)")
            }
        }
        if let problem = problem(settings) { throw fail(problem) }
        try body(settings)
    }
}

/// `--name=value` as the flag and the value; any other word as itself and nil.
func splitAttachedValue(_ word: String) -> (flag: String, value: String?) {
    guard word.hasPrefix("--"), let equals = word.firstIndex(of: "=") else { return (word, nil) }
    return (String(word[..<equals]), String(word[word.index(after: equals)...]))
}

/// A row of a help table: a label, its help, and a list wrapped under the help.
struct HelpRow {
    var label: String
    var help: [String]
    var list: [String]? = nil

    /// The column where the help of these rows starts: four past the longest label, and no
    /// sooner than column 19, so that short tables line up from page to page.
    static func column(_ rows: [HelpRow]) -> Int {
        max(19, 2 + (rows.map(\.label.count).max() ?? 0) + 4)
    }

    /// The label indented two, the help from `column` on (its later lines under the first),
    /// then the list, wrapped to the page.
    func lines(column: Int) -> [String] {
        let margin = String(repeating: " ", count: column)
        let first = "  " + label + String(repeating: " ", count: max(1, column - 2 - label.count))
        var lines = help.enumerated().map { ($0.offset == 0 ? first : margin) + $0.element }
        if let list { lines += wrappedList(list, width: helpWidth - column).map { margin + $0 } }
        return lines
    }
}

/// `words` joined by ", " and ended by ".", in lines of at most `width` columns.
func wrappedList(_ words: [String], width: Int) -> [String] {
    var lines: [String] = []
    var line = ""
    for (index, word) in words.enumerated() {
        let piece = word + (index == words.count - 1 ? "." : ",")
        if !line.isEmpty && line.count + 1 + piece.count > width {
            lines.append(line)
            line = ""
        }
        line += (line.isEmpty ? "" : " ") + piece
    }
    return lines + [line]
}

/// A usage line: `head` and the items, wrapped to the page; continuation lines start under
/// the first item.
func usageLine(_ head: String, _ items: [String]) -> String {
    let margin = String(repeating: " ", count: head.count + 1)
    var lines: [String] = []
    var line = head
    for (index, item) in items.enumerated() {
        if index > 0 && line.count + 1 + item.count > helpWidth {
            lines.append(line)
            line = margin + item
        } else {
            line += " " + item
        }
    }
    return (lines + [line]).joined(separator: "\n")
}

/// A command of the tool, whatever its settings: what the top level lists and dispatches to.
struct AnyCommand {
    let name: String
    let synopsis: String
    let summary: [String]
    let main: ([String]) throws -> Void

    init<Settings>(_ command: Command<Settings>) {
        name = command.name
        synopsis = command.synopsis
        summary = command.summary
        main = command.main
    }
}
