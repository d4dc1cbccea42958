// A checker of Mermaid sequence diagrams, for the subset of the grammar the package writes
// (the trace view and the lifecycle diagram), written from Mermaid's documentation of
// `sequenceDiagram` and its grammar (sequenceDiagram.jison):
//
// - Before parsing, Mermaid replaces entity codes (`#59;`, `#lt;`: `#`, a word, `;`) by
//   placeholders; after that, a message or note text runs to the end of the line and may not
//   hold `#` or `;` (`;` ends a statement, `#` starts a comment), and a block's or box's label
//   neither.
// - The lexer is case-insensitive and reads its keywords (`end`, `note`, `box`, ...) wherever a
//   name could start, so no participant may be named like one; the documentation warns that
//   the word `end` in a text may break a diagram, so this subset wants it escaped everywhere.
// - `box <title>` reads a first word of letters as a colour, and holds participant
//   declarations only; blocks (`loop`, `par`/`and`, `alt`/`else`, `opt`, `critical`/`option`,
//   `break`, `rect`) nest and close with `end`.
// - `+` after an arrow activates the receiver, `-` deactivates the sender; deactivating a
//   participant that is not active is an error of Mermaid's.
// The subset is stricter than Mermaid in three ways: every participant is declared (Mermaid
// would create it silently), `<` and `>` appear only as `<br>` (Mermaid would take the rest as
// HTML), and texts are never empty.

/// Checks Mermaid `sequenceDiagram` text.
public enum MermaidSequence {
    /// The lexer's keywords, which no participant id may be (case-insensitive).
    public static let keywords: Set<String> = [
        "box", "participant", "actor", "create", "destroy", "loop", "rect", "opt", "alt", "else",
        "par", "par_over", "and", "critical", "option", "break", "end", "links", "link", "properties",
        "details", "over", "note", "activate", "deactivate", "title", "sequencediagram", "autonumber",
        "off", "as",
    ]

    /// The arrows of the documentation's table, longest first (so that `-->>` is not read
    /// as `-->` and a `>`).
    public static let arrows = ["-->>", "->>", "-->", "--x", "--)", "->", "-x", "-)"]

    /// What is wrong with `text`, by line; empty when it is a diagram of the subset.
    public static func problems(_ text: String) -> [String] {
        var checker = Checker()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if !text.hasSuffix("\n") { checker.problems.append("the text does not end with a newline") }
        var started = false
        for (index, line) in lines.enumerated() where !(index == lines.count - 1 && line.isEmpty) {
            let number = index + 1
            let statement = line.trimmingLeadingSpaces()
            if statement.isEmpty || (statement.hasPrefix("%%") && !statement.hasPrefix("%%{")) { continue }
            if !started {
                if statement != "sequenceDiagram" { checker.fail(number, "the diagram does not start with sequenceDiagram") }
                started = true
                continue
            }
            checker.check(statement, line: number)
        }
        if !started { checker.problems.append("no sequenceDiagram") }
        for open in checker.blocks.reversed() { checker.problems.append("\(open.kind) opened on line \(open.line) is not closed") }
        return checker.problems
    }

    /// Whether `text` is a valid label text of the subset (see ``problems(_:)``).
    public static func textProblem(_ text: String, emptyAllowed: Bool = false) -> String? {
        var raw = ""
        var rest = Substring(text)
        // Entity codes first, as Mermaid encodes them before parsing.
        while let hash = rest.firstIndex(of: "#") {
            raw += rest[..<hash]
            let after = rest[rest.index(after: hash)...]
            let word = after.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            if !word.isEmpty, after.dropFirst(word.count).first == ";" {
                raw += "\u{FFFC}"
                rest = after.dropFirst(word.count + 1)
            } else {
                return "a raw # (Mermaid starts a comment there)"
            }
        }
        raw += rest
        if raw.contains(";") { return "a raw ; (it ends the statement)" }
        if raw.contains("%%") { return "%% (a comment)" }
        let withoutBreaks = raw.replacingAll("<br>", with: " ")
        if withoutBreaks.contains("<") || withoutBreaks.contains(">") { return "< or > outside <br> (read as HTML)" }
        if !emptyAllowed && raw.trimmingLeadingSpaces().isEmpty { return "an empty text" }
        if words(of: raw).contains(where: { $0.lowercased() == "end" }) { return "the word end unescaped" }
        return nil
    }

    /// The runs of letters, digits and `_` of a text.
    static func words(of text: String) -> [Substring] {
        text.split { !($0.isLetter || $0.isNumber || $0 == "_") }
    }

    /// Whether `id` may name a participant.
    public static func isValidID(_ id: Substring) -> Bool {
        guard let first = id.first, first.isASCII, first.isLetter || first == "_" else { return false }
        return id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
            && !keywords.contains(id.lowercased())
    }

    private struct Checker {
        struct Block {
            let kind: String
            let line: Int
        }
        var problems: [String] = []
        var declared: Set<String> = []
        var active: [String: Int] = [:]
        var blocks: [Block] = []
        var inBox: Bool { blocks.last?.kind == "box" }

        mutating func fail(_ line: Int, _ message: String) { problems.append("line \(line): \(message)") }

        mutating func text(_ text: Substring, _ line: Int, what: String, emptyAllowed: Bool = false) {
            if let problem = MermaidSequence.textProblem(String(text), emptyAllowed: emptyAllowed) {
                fail(line, "\(what): \(problem)")
            }
        }

        mutating func use(_ id: Substring, _ line: Int) {
            if !declared.contains(String(id)) { fail(line, "\(id) is not declared") }
        }

        mutating func check(_ statement: String, line: Int) {
            let words = statement.split(separator: " ", maxSplits: 1).map(String.init)
            let keyword = words[0].lowercased()
            let rest = words.count > 1 ? Substring(words[1]) : ""
            if inBox && !["participant", "actor", "end"].contains(keyword) {
                return fail(line, "a box holds participant declarations only")
            }
            switch keyword {
            case "participant", "actor":
                declare(rest, line)
            case "box":
                if inBox { return fail(line, "a box inside a box") }
                if !blocks.isEmpty { return fail(line, "a box inside a block") }
                boxTitle(rest, line)
                blocks.append(Block(kind: "box", line: line))
            case "end":
                if !rest.isEmpty { return fail(line, "text after end") }
                if blocks.popLast() == nil { fail(line, "end without a block") }
            case "loop", "opt", "break", "critical", "alt", "par":
                text(rest, line, what: "\(keyword) label", emptyAllowed: true)
                blocks.append(Block(kind: keyword, line: line))
            case "and", "else", "option":
                let owner = ["and": "par", "else": "alt", "option": "critical"][keyword]!
                if blocks.last?.kind != owner { fail(line, "\(keyword) outside \(owner)") }
                text(rest, line, what: "\(keyword) label", emptyAllowed: true)
            case "rect":
                if rest.wholeMatch(of: #/rgba?\(\s*\d{1,3}\s*,\s*\d{1,3}\s*,\s*\d{1,3}\s*(,\s*[0-9.]+\s*)?\)/#) == nil {
                    fail(line, "rect needs an rgb() or rgba() colour")
                }
                blocks.append(Block(kind: "rect", line: line))
            case "note":
                note(rest, line)
            case "activate", "deactivate":
                guard MermaidSequence.isValidID(rest) else { return fail(line, "bad participant id \(rest)") }
                use(rest, line)
                let id = String(rest)
                if keyword == "activate" {
                    active[id, default: 0] += 1
                } else if active[id, default: 0] == 0 {
                    fail(line, "deactivates \(id), which is not active")
                } else {
                    active[id]! -= 1
                }
            default:
                message(statement, line)
            }
        }

        mutating func declare(_ rest: Substring, _ line: Int) {
            let parts = rest.split(separator: " ", maxSplits: 2)
            guard let id = parts.first, MermaidSequence.isValidID(id) else {
                return fail(line, "bad participant id \(parts.first ?? "")")
            }
            if parts.count > 1 {
                guard parts[1] == "as", parts.count == 3 else { return fail(line, "expected `as <label>` after the id") }
                text(parts[2], line, what: "label")
            }
            if !declared.insert(String(id)).inserted { fail(line, "\(id) is declared twice") }
        }

        mutating func boxTitle(_ title: Substring, _ line: Int) {
            text(title, line, what: "box title", emptyAllowed: true)
            guard let first = title.split(separator: " ").first else { return }
            let colour = first == "transparent" || first.hasPrefix("rgb(") || first.hasPrefix("rgba(")
            if !colour && first.allSatisfy(\.isLetter) {
                fail(line, "box title starts with \(first), which Mermaid may read as a colour")
            }
        }

        mutating func note(_ rest: Substring, _ line: Int) {
            guard let colon = rest.firstIndex(of: ":") else { return fail(line, "a note without text") }
            let head = rest[..<colon]
            let body = rest[rest.index(after: colon)...]
            var ids: Substring
            if head.hasPrefix("right of ") {
                ids = head.dropFirst("right of ".count)
            } else if head.hasPrefix("left of ") {
                ids = head.dropFirst("left of ".count)
            } else if head.hasPrefix("over ") {
                ids = head.dropFirst("over ".count)
            } else {
                return fail(line, "a note is right of, left of or over a participant")
            }
            while ids.last == " " { ids = ids.dropLast() }
            let names = ids.split(separator: ",", omittingEmptySubsequences: false)
            if names.count > 2 || (names.count == 2 && !head.hasPrefix("over ")) {
                return fail(line, "a note spans two participants at most, and only over them")
            }
            for name in names {
                guard MermaidSequence.isValidID(name) else { return fail(line, "bad participant id \(name)") }
                use(name, line)
            }
            text(body, line, what: "note")
        }

        mutating func message(_ statement: String, _ line: Int) {
            guard let colon = statement.firstIndex(of: ":") else { return fail(line, "not a statement of the subset: \(statement)") }
            let head = statement[..<colon]
            let body = statement[statement.index(after: colon)...]
            guard let idEnd = head.firstIndex(where: { !($0.isLetter || $0.isNumber || $0 == "_") }) else {
                return fail(line, "not a message: \(statement)")
            }
            let from = head[..<idEnd]
            var after = head[idEnd...]
            guard let arrow = MermaidSequence.arrows.first(where: { after.hasPrefix($0) }) else {
                return fail(line, "unknown arrow in \(head)")
            }
            after = after.dropFirst(arrow.count)
            var activation: Character?
            if let sign = after.first, sign == "+" || sign == "-" {
                activation = sign
                after = after.dropFirst()
            }
            let to = after
            for id in [from, to] {
                guard MermaidSequence.isValidID(id) else { return fail(line, "bad participant id \(id)") }
                use(id, line)
            }
            if activation == "+" {
                active[String(to), default: 0] += 1
            } else if activation == "-" {
                if active[String(from), default: 0] == 0 {
                    fail(line, "deactivates \(from), which is not active")
                } else {
                    active[String(from)]! -= 1
                }
            }
            text(body, line, what: "message")
        }
    }
}

extension String {
    fileprivate func trimmingLeadingSpaces() -> String { String(drop { $0 == " " }) }

    fileprivate func replacingAll(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
