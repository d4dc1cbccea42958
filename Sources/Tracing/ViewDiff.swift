// Swift-only: one scenario on two server classes, the two call trees aligned
// (`socketserver-trace diff`), and what differs said in words under them.
//
// Rows are matched by function (class and method), whatever lane they are on, so that a call
// that moved to a worker thread or a forked child still faces itself; between two matched
// rows, calls of the same method by another class face each other as one changed row.

/// `left` and `right` (the same scenario run on two server classes) side by side, each as the
/// tree shows it without details, then the differences in sentences.
///
/// - Parameter names: the two server classes (`TCPServer`, `ThreadingTCPServer`).
public func renderServerDiff(_ left: Recording, _ right: Recording, names: (String, String)) -> String {
    let a = callRows(CausalView(left, fold: false), lane: nil)
    let b = callRows(CausalView(right, fold: false), lane: nil)
    let pairs = alignRows(
        a, b,
        equal: { $0.isIdle == $1.isIdle && $0.kind == $1.kind && $0.function == $1.function },
        pairable: { x, y in
            switch (x.kind, y.kind) {
            case (.call, .call): return !x.isIdle && !y.isIdle && x.method == y.method
            case (.spawn(let p, _), .spawn(let q, _)): return p == q
            default: return false
            }
        })
    let laneWidth = (a + b).map { "\($0.lane.process) \($0.lane.thread)".count }.max() ?? 5
    func cell(_ row: CallRow?) -> String {
        guard let row else { return "" }
        return padRight("\(row.lane.process) \(row.lane.thread)", laneWidth) + "  " + row.cell
    }

    // The mark of each row of either side, for the sentences.
    var leftMarks = [Character](repeating: " ", count: a.count)
    var rightMarks = [Character](repeating: " ", count: b.count)
    var partnerOfRight = [Int?](repeating: nil, count: b.count)
    var table: [SideBySideRow] = []
    var lastMove: (LaneID, LaneID)? = nil
    for pair in pairs {
        let x = pair.left.map { a[$0] }, y = pair.right.map { b[$0] }
        var row = SideBySideRow(mark: " ", left: cell(x), right: cell(y))
        switch (x, y) {
        case (let x?, let y?):
            partnerOfRight[pair.right!] = pair.left
            if x.function != y.function {
                row.mark = "≠"
                if case .call = y.kind { row.note = "\(y.definingClass)'s (\(x.definingClass)'s in \(names.0))" }
            } else if x.lane != y.lane {
                row.mark = "~"
                if lastMove.map({ $0 != (x.lane, y.lane) }) ?? true {
                    row.note = "on \(y.lane) (\(x.lane) in \(names.0))"
                }
                lastMove = (x.lane, y.lane)
            } else if x.depth != y.depth, let parent = y.parent, b[parent].function != x.parent.map({ a[$0].function }) {
                row.mark = "~"
                row.note = "called from \(b[parent].function)"
            }
        case (let x?, nil): row.mark = x.isIdle ? "·" : "-"
        case (nil, let y?): row.mark = y.isIdle ? "·" : "+"
        default: break
        }
        if row.mark != "~" { lastMove = nil }
        if let l = pair.left { leftMarks[l] = row.mark }
        if let r = pair.right { rightMarks[r] = row.mark }
        table.append(row)
    }

    var lines = [
        "\(names.0) against \(names.1): the same scenario, the calls aligned",
        "(- only in \(names.0), + only in \(names.1), ≠ the same method of another class,",
        " ~ the same call elsewhere, · idle serve_forever turns, not compared)",
        "",
    ]
    lines += renderSideBySide(table, titles: names)
    let sentences = diffSentences(a, b, leftMarks, rightMarks, partnerOfRight, right, names: names)
    lines.append("")
    if sentences.isEmpty {
        lines.append("No difference: \(names.0) and \(names.1) make the same calls.")
    } else {
        lines.append("What differs:")
        lines += sentences.flatMap { wrapWords($0, width: 94).enumerated().map { ($0.offset == 0 ? "  " : "    ") + $0.element } }
    }
    return lines.joined(separator: "\n") + "\n"
}

/// The differences in words: each changed method and what its new version does besides, the
/// calls that moved to another lane, and the calls only one side makes.
private func diffSentences(
    _ a: [CallRow], _ b: [CallRow], _ leftMarks: [Character], _ rightMarks: [Character],
    _ partnerOfRight: [Int?], _ right: Recording, names: (String, String)
) -> [String] {
    func line(_ row: CallRow) -> String { row.pyLine.map { " (:\($0))" } ?? "" }
    /// `calls X`, `starts thread T2`, `forks child P1`, with `no longer` before for `gone`.
    func action(_ row: CallRow, gone: Bool = false) -> String {
        let verb: String
        switch row.kind {
        case .spawn(.fork, let label): verb = "forks child \(label)"
        case .spawn(.thread, let label): verb = "starts thread \(label)"
        default: verb = "calls \(row.function)" + (glosses[row.function].map { " (\($0))" } ?? "")
        }
        return gone ? "no longer " + verb : verb
    }
    /// What the row at `index` of `rows` does directly, of the rows marked `mark` (any if nil).
    func actions(_ rows: [CallRow], _ marks: [Character], _ index: Int, _ mark: Character?, gone: Bool = false) -> [String] {
        rows.indices.filter { rows[$0].parent == index && (mark == nil || marks[$0] == mark) }.map {
            action(rows[$0], gone: gone)
        }
    }
    /// `calls A, calls B and starts thread T2` as `calls A and B and starts thread T2`.
    func list(_ items: [String]) -> String {
        var groups: [(verb: String, objects: [String])] = []
        for item in items {
            let verb = ["no longer calls ", "calls "].first { item.hasPrefix($0) } ?? ""
            let object = String(item.dropFirst(verb.count))
            if !verb.isEmpty, groups.last?.verb == verb {
                groups[groups.count - 1].objects.append(object)
            } else {
                groups.append((verb, [object]))
            }
        }
        func join(_ words: [String], _ last: String) -> String {
            words.count <= 1 ? words.joined() : words.dropLast().joined(separator: ", ") + last + words.last!
        }
        return join(groups.map { $0.verb + join($0.objects, " and ") }, groups.count > 2 ? ", and " : " and ")
    }
    /// A call only one side makes, unless it is inside another such call (or a changed one).
    func onlyHere(_ rows: [CallRow], _ marks: [Character], _ index: Int, _ mark: Character, _ side: String) -> String? {
        guard rows[index].parent.map({ marks[$0] != mark && marks[$0] != "≠" }) ?? true else { return nil }
        let row = rows[index]
        if case .spawn = row.kind {
            return "\(row.parent.map { rows[$0].function } ?? "the scenario") \(action(row)) only in \(side)."
        }
        let does = actions(rows, marks, index, nil)
        return "\(row.function)\(line(row)) is called only in \(side)" + (does.isEmpty ? "." : ": it " + list(does) + ".")
    }

    var sentences: [String] = []
    var changed: Set<String> = []
    // Calls that moved, by run: where, which request, how many, and the sentence they get
    // (written once the run is counted).
    var moves: [(from: LaneID, to: LaneID, request: Int?, calls: Int, sentence: Int)] = []
    for (index, row) in b.enumerated() {
        switch rightMarks[index] {
        case "≠":
            guard case .call = row.kind, let partner = partnerOfRight[index] else { continue }
            let old = a[partner]
            // Said once: the next requests change the same way.
            guard changed.insert("\(old.function) \(row.function)").inserted else { continue }
            let does = actions(b, rightMarks, index, "+") + actions(a, leftMarks, partner, "-", gone: true)
            sentences.append(
                "\(row.method) is \(row.definingClass)'s\(line(row)) in \(names.1), \(old.definingClass)'s\(line(old)) in \(names.0)"
                    + (does.isEmpty ? "." : "; it " + list(does) + "."))
        case "+":
            if let sentence = onlyHere(b, rightMarks, index, "+", names.1) { sentences.append(sentence) }
        case "~":
            guard let partner = partnerOfRight[index], a[partner].lane != row.lane else { continue }
            if let last = moves.last, last.from == a[partner].lane, last.to == row.lane, last.request == row.request {
                moves[moves.count - 1].calls += 1
            } else {
                moves.append((a[partner].lane, row.lane, row.request, 1, sentences.count))
                sentences.append("")
            }
        default:
            continue
        }
    }
    for index in a.indices where leftMarks[index] == "-" {
        if let sentence = onlyHere(a, leftMarks, index, "-", names.0) { sentences.append(sentence) }
    }
    for move in moves {
        // The lane is new when it was started for this very request.
        let spawn = right.spawns.first { $0.lane == move.to && $0.started && $0.request != nil && $0.request == move.request }
        let what = spawn.map { $0.kind == .fork ? ", a forked child," : ", a new thread," } ?? ""
        let calls = "\(move.calls) call\(move.calls == 1 ? "" : "s")"
        sentences[move.sentence] =
            (move.request.map { "request \($0) (\(calls))" } ?? calls)
            + " runs on \(move.to)\(what) in \(names.1), on \(move.from) in \(names.0)."
    }
    return sentences
}

/// What a few functions do, said where the diff names them.
private let glosses = [
    "_Threads.join": "which waits for the request threads",
    "ForkingMixIn.collect_children": "which waits for the children",
]

/// `text` in lines of at most `width` columns, broken at spaces.
func wrapWords(_ text: String, width: Int) -> [String] {
    var lines: [String] = []
    var line = ""
    for word in text.split(separator: " ") {
        if !line.isEmpty && line.count + 1 + word.count > width {
            lines.append(line)
            line = ""
        }
        line += (line.isEmpty ? "" : " ") + word
    }
    return lines + [line]
}
