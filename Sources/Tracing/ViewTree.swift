// Swift-only: the call tree, the default view.
//
// One line per call: the lane (`P0 T1`), indentation by nesting, the method, the class whose
// version ran, the line in Lib/socketserver.py, then the arguments. A call with nothing inside
// shows its result on the same line (`→ True`); a longer call ends with a `← result` line when
// its result is not None. Raises are marked `✗`. Thread starts (`⇢ T2 Thread-1 (...)`) and forks
// (`⇢ P1 fork, os._exit(0)`) appear where they happened, with the new lane's calls indented under them.

/// `recording` as an indented call tree.
///
/// - Parameters:
///   - color: ANSI colour.
///   - width: the column lines are cut to (details give way first, ending with `…`); 0 for
///     no cut.
///   - filter: what to show.
public func renderTree(
    _ recording: Recording, color: Bool = false, width: Int = 120, filter: TraceFilter = TraceFilter()
) -> String {
    let width = width == 0 ? Int.max / 4 : width
    let view = CausalView(recording, fold: true, filter: filter)
    let paint = TreePaint(enabled: color)
    let laneWidth = view.rows.map { "\($0.process) \($0.thread)".count }.max() ?? 5
    var lines: [String] = []
    for row in view.rows {
        var prefix = padRight("\(row.process) \(row.thread)", laneWidth) + "  "
        if !view.deterministic {
            let time = row.event?.time ?? row.spawn?.time ?? view.origin
            prefix = padLeft(thousandths(microseconds(time, since: view.origin)), 10) + "ms  " + prefix
        }
        let indent = String(repeating: "  ", count: row.indent)
        let fixed = prefix.count + indent.count
        var parts: [(text: String, style: TreePaint.Style)] = []
        var detail = ""
        var tail: [(text: String, style: TreePaint.Style)] = []
        switch row.kind {
        case .call:
            let event = row.event!
            parts.append((event.method, .method))
            parts.append(("  " + event.definingClass, .type))
            if let line = event.pyLine { parts.append(("  :\(line)", .dim)) }
            detail = row.detail
            if row.leaf, let partner = row.partner {
                let end = view.rows[partner]
                if end.kind == .raise {
                    tail.append(("  ✗ " + end.detail, .raise))
                } else if resultText(end.detail) != "None" {
                    tail.append(("  → " + resultText(end.detail), .result))
                }
            }
            if !view.deterministic, row.folded > 1 { tail.append(("  ×\(row.folded)", .fold)) }
        case .return:
            guard let partner = row.partner, !view.rows[partner].leaf else { continue }
            let result = resultText(row.detail)
            guard result != "None" else { continue }
            parts.append(("← ", .result))
            detail = result
        case .raise:
            guard let partner = row.partner, !view.rows[partner].leaf else { continue }
            parts.append(("✗ ", .raise))
            detail = row.detail
        case .orphan:
            let event = row.event!
            parts.append(("← " + event.method, .method))
            parts.append(("  " + event.definingClass, .type))
            detail = event.kind == .raise ? "✗ " + row.detail : resultText(row.detail)
        case .spawn:
            let spawn = row.spawn!
            switch spawn.kind {
            case .thread:
                parts.append(("⇢ \(spawn.thread) \(row.detail)", .spawn))
            case .fork:
                var text = "⇢ \(spawn.process) fork"
                let child = view.processes.first { $0.label == spawn.process }
                if !view.deterministic, let pid = child?.pid {
                    text += " pid \(pid)"
                }
                // How the child ended: os._exit(0) after a finished request, 1 after any error.
                if let status = child?.exitStatus {
                    text += ", os._exit(\(status))"
                }
                parts.append((text, .spawn))
            }
        }
        // Room left after the names: the detail and a result share it, the result taking at
        // most a third when both are long.
        let room = width - fixed - parts.reduce(0) { $0 + $1.text.count }
        let separator = detail.isEmpty || parts.last?.text.hasSuffix(" ") == true ? "" : "  "
        let tailWidth = tail.reduce(0) { $0 + $1.text.count }
        if detail.count + separator.count + tailWidth > room, let result = tail.first,
            result.style == .result || result.style == .raise
        {
            let budget = detail.isEmpty ? room : max(16, room / 3)
            let cut = cutText(result.text, to: max(4, min(result.text.count, budget)))
            tail[0] = (cut, result.style)
        }
        if !detail.isEmpty {
            let left = room - separator.count - tail.reduce(0) { $0 + $1.text.count }
            detail = separator + cutText(detail, to: max(12, left))
        }
        var line = paint.apply(prefix, .lane) + indent
        for part in parts { line += paint.apply(part.text, part.style) }
        line += detail
        for part in tail { line += paint.apply(part.text, part.style) }
        lines.append(line)
    }
    return lines.map { $0 + "\n" }.joined()
}

/// ANSI colours of the tree.
private struct TreePaint {
    enum Style {
        case lane, method, type, dim, result, raise, spawn, fold
    }

    let enabled: Bool

    func apply(_ text: String, _ style: Style) -> String {
        guard enabled, !text.isEmpty else { return text }
        let code: String
        switch style {
        case .lane, .dim: code = "2"
        case .method: code = "1"
        case .type: code = "36"
        case .result: code = "32"
        case .raise: code = "31"
        case .spawn: code = "35"
        case .fold: code = "33"
        }
        return "\u{1B}[\(code)m" + text + "\u{1B}[0m"
    }
}
