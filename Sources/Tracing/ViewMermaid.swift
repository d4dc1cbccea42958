// Swift-only: a Mermaid sequence diagram, which GitHub renders in Markdown.
//
// A participant per lane (`P0_T1` as `P0/T1 Thread-1 (serve_forever)`); each call is a message
// from its lane to itself, nesting shown by `· ` marks; a thread start or fork is a message to
// the new lane; a raise is a cross (`-x`). Texts go through the Diagrams module's
// `Mermaid.escape`, the one Mermaid escaper of the package: Mermaid reads `;` and `#` as syntax
// and renders `<...>` as HTML, and `%%` starts a comment anywhere: those and quotes become
// entity codes (`#59;`, `#35;`, `#lt;`, `#37;`, ...).
import Diagrams

/// `recording` as a Mermaid `sequenceDiagram`.
///
/// Every line is one of: `sequenceDiagram`; `    participant <id> as <text>`;
/// `    <id>->><id>: <text>`, `<id>-->><id>: <text>` or `<id>-x<id>: <text>`, where ids match
/// `[A-Za-z][A-Za-z0-9_]*` and texts hold no raw `;`, `#`, `%`, `<`, `>` or `"`.
public func renderMermaid(_ recording: Recording, detailLimit: Int = 60) -> String {
    let view = CausalView(recording, fold: true)
    let relative = laneRelativeIndents(view)
    var lines = ["sequenceDiagram"]
    for lane in view.lanes {
        let title = lane.name.isEmpty ? "\(lane.key)" : "\(lane.key) \(lane.name)"
        lines.append("    participant \(mermaidID(lane.key)) as \(Mermaid.escape(title))")
    }
    for (index, row) in view.rows.enumerated() {
        let me = mermaidID(row.laneKey)
        let marks = String(repeating: "· ", count: relative[index])
        switch row.kind {
        case .call:
            let event = row.event!
            var text = marks + event.method + " (" + event.definingClass
            if let line = event.pyLine { text += " :\(line)" }
            text += ")"
            if !row.detail.isEmpty { text += " " + cutText(row.detail, to: detailLimit) }
            if row.leaf, let partner = row.partner {
                let end = view.rows[partner]
                if end.kind == .raise {
                    text += " ✗ " + cutText(end.detail, to: detailLimit)
                } else if resultText(end.detail) != "None" {
                    text += " → " + cutText(resultText(end.detail), to: detailLimit)
                }
            }
            if !view.deterministic, row.folded > 1 { text += " ×\(row.folded)" }
            lines.append("    \(me)->>\(me): \(Mermaid.escape(text))")
        case .return:
            guard let partner = row.partner, !view.rows[partner].leaf else { continue }
            let result = resultText(row.detail)
            guard result != "None" else { continue }
            lines.append("    \(me)-->>\(me): \(Mermaid.escape(marks + "← " + cutText(result, to: detailLimit)))")
        case .raise:
            guard let partner = row.partner, !view.rows[partner].leaf else { continue }
            lines.append("    \(me)-x\(me): \(Mermaid.escape(marks + "✗ " + cutText(row.detail, to: detailLimit)))")
        case .orphan:
            let event = row.event!
            let text = marks + "← " + event.method + " " + cutText(resultText(row.detail), to: detailLimit)
            lines.append("    \(me)-->>\(me): \(Mermaid.escape(text))")
        case .spawn:
            let spawn = row.spawn!
            let target = mermaidID(spawn.lane)
            let text = spawn.kind == .fork ? "fork \(spawn.process)" : "start \(spawn.thread) \(row.detail)"
            lines.append("    \(me)->>\(target): \(Mermaid.escape(text))")
        }
    }
    return lines.map { $0 + "\n" }.joined()
}

/// A lane as a Mermaid identifier: `P0/T1` → `P0_T1`, `P1.2/T0` → `P1_2_T0`.
func mermaidID(_ key: LaneID) -> String {
    String(key.description.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
}
