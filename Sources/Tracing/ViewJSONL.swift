// Swift-only: JSON Lines, one object per event, for tools.
//
// Deterministic mode lists the events in causal order, folded, with normalized details and the
// logical clock as `t`, so the file is byte-identical run after run. Real-clock mode lists every
// event as it happened (merged by time), with real microseconds, pids and tids.

/// `recording` as JSON Lines: one object per event with the fields `seq`, `event`
/// (`"call"`, `"return"`, `"raise"`), `function`, `self`, `swift`, `swift_file` and
/// `swift_line` (where the probe is in the Swift sources: `"SocketServer/SocketServer.swift"`,
/// or null), `py_line`, `process`, `thread`, `request`, `depth`, `t` (microseconds; logical in
/// deterministic mode) and `detail`, then `pid` and `tid` in real-clock mode, and `folded` on a
/// call that stands for several (a recorder's repeats, `--fold-idle`).
///
/// - Parameter filter: what to show.
public func renderJSONL(_ recording: Recording, filter: TraceFilter = TraceFilter()) -> String {
    var lines: [String] = []
    if recording.deterministic {
        let view = CausalView(recording, fold: true, filter: filter)
        var seq = 0
        for row in view.rows {
            guard let event = row.event else { continue }
            lines.append(jsonlLine(event, seq: seq, t: UInt64(row.clock), detail: row.detail, ids: false))
            seq += 1
        }
    } else {
        let narrowed = filter.apply(to: recording)
        for (seq, event) in narrowed.events.enumerated() {
            var line = jsonlLine(
                event, seq: seq, t: microseconds(event.time, since: narrowed.origin),
                detail: escapeUnsafeCharacters(event.detail), ids: true)
            if event.kind == .call, let count = narrowed.repeats[event.frame], count > 1 {
                line = String(line.dropLast()) + ",\"folded\":\(count)}"
            }
            lines.append(line)
        }
    }
    return lines.map { $0 + "\n" }.joined()
}

/// One JSON Lines object.
private func jsonlLine(_ event: TraceEvent, seq: Int, t: UInt64, detail: String, ids: Bool) -> String {
    var fields: [(String, String)] = [
        ("seq", String(seq)),
        ("event", TraceJSON.string(event.kind.rawValue)),
        ("function", TraceJSON.string(event.function)),
        ("self", TraceJSON.string(event.selfClass)),
        ("swift", TraceJSON.string(event.swift)),
        ("swift_file", event.swiftFile.map(TraceJSON.string) ?? "null"),
        ("swift_line", TraceJSON.number(event.swiftLine)),
        ("py_line", TraceJSON.number(event.pyLine)),
        ("process", TraceJSON.string(event.process)),
        ("thread", TraceJSON.string(event.thread)),
        ("request", TraceJSON.number(event.request)),
        ("depth", String(event.depth)),
        ("t", String(t)),
        ("detail", TraceJSON.string(detail)),
    ]
    if ids {
        fields.append(("pid", String(event.pid)))
        fields.append(("tid", String(event.tid)))
    }
    return TraceJSON.object(fields)
}
