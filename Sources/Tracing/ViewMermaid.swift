// Swift-only: a Mermaid sequence diagram, which GitHub renders in Markdown.
//
// The sequence model (SequenceModel.swift) in Mermaid's own terms: a `box` per thread or
// process holding its lifelines, an `actor` per client; `->>` a call, `-)` a message nobody
// waits for (a thread's first call, a fork, a client connecting), `-->>` a result, `--x` an
// exception; `+`, `-` and `deactivate` for the bars; `Note right of` for an object's own
// steps, `Note over` for a thread start, a fork or an `os._exit`; `loop`, and `par` ... `and`.
// Texts go through the Diagrams module's `Mermaid.escape`, the one Mermaid escaper of the
// package: Mermaid reads `;` and `#` as syntax, renders `<...>` as HTML, starts a comment at
// `%%` and may read the word `end` as a keyword: those become entity codes (`#59;`, `#35;`,
// `#lt;`, `#37;`, `#101;nd`, ...).
import Diagrams

/// `recording` as a Mermaid `sequenceDiagram`.
///
/// Every line is one of: `sequenceDiagram`; `box <title>` and `end` around the
/// `participant <id> as <text>` lines of one thread or process; `actor <id> as <text>`;
/// `<id><arrow>[+|-]<id>: <text>` with the arrow `->>`, `-)`, `-->>` or `--x`;
/// `Note right of <id>: <text>` (its steps a line each, joined by `<br>`),
/// `Note over <id>: <text>`; `deactivate <id>`; `loop <text>`, `par <text>`, `and <text>`,
/// `end`. Ids match `[A-Za-z][A-Za-z0-9_]*`; texts hold no raw `;`, `#`, `%`, `<`, `>` or `"`
/// (but the `<br>` between steps), and no word `end`.
///
/// - Parameters:
///   - detailLimit: the longest arguments or result a label shows.
///   - filter: what to show.
public func renderMermaid(_ recording: Recording, detailLimit: Int = 60, filter: TraceFilter = TraceFilter()) -> String {
    let model = SequenceModel(recording, detailLimit: detailLimit, filter: filter)
    var lines = ["sequenceDiagram"]
    func text(_ raw: String) -> String {
        let escaped = Mermaid.escape(raw)
        return escaped.isEmpty ? "…" : escaped
    }
    func declare(_ number: Int, indent: String) {
        let participant = model.participants[number]
        let keyword = participant.shape == .actor ? "actor" : "participant"
        lines.append("\(indent)\(keyword) \(participant.id) as \(text(participant.label))")
    }
    for item in model.layout {
        switch item {
        case .box(let number):
            let box = model.boxes[number]
            lines.append("    box \(text(box.title))")
            for member in box.members { declare(member, indent: "        ") }
            lines.append("    end")
        case .client(let number):
            declare(number, indent: "    ")
        }
    }
    var depth = 1
    func add(_ line: String) { lines.append(String(repeating: "    ", count: depth) + line) }
    func id(_ number: Int) -> String { model.participants[number].id }
    for statement in model.statements {
        switch statement {
        case .message(let from, let to, let arrow, let label, let activate, let deactivate):
            let symbol: String
            switch arrow {
            case .call: symbol = "->>"
            case .async: symbol = "-)"
            case .reply: symbol = "-->>"
            case .raise: symbol = "--x"
            }
            let bar = activate ? "+" : deactivate ? "-" : ""
            add("\(id(from))\(symbol)\(bar)\(id(to)): \(text(label))")
        case .steps(let who, let pieces):
            // A line per step: each line ends with how the next one follows (`,` or `›`).
            var steps: [String] = []
            for (index, piece) in pieces.enumerated() {
                let next = index + 1 < pieces.count ? pieces[index + 1] : ""
                let joint = next.hasPrefix(" › ") ? " ›" : next.hasPrefix(", ") ? "," : ""
                let own = piece.hasPrefix(" › ") ? piece.dropFirst(3) : piece.hasPrefix(", ") ? piece.dropFirst(2) : piece[...]
                steps.append(text(String(own) + joint))
            }
            add("Note right of \(id(who)): \(steps.joined(separator: "<br>"))")
        case .event(let who, let label):
            add("Note over \(id(who)): \(text(label))")
        case .deactivate(let who):
            add("deactivate \(id(who))")
        case .loop(let label):
            add("loop \(text(label))")
            depth += 1
        case .par(let label):
            add("par \(text(label))")
            depth += 1
        case .branch(let label):
            depth -= 1
            add("and \(text(label))")
            depth += 1
        case .end:
            depth -= 1
            add("end")
        }
    }
    return lines.map { $0 + "\n" }.joined()
}
