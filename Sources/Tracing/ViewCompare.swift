// Swift-only: two recordings of one scenario compared lane by lane (`socketserver-trace compare`:
// CPython under the shipped tracer on the left, the port on the right).
//
// Lanes are matched by label: processes in fork order, threads in start order, which both
// recorders give the same way. In each lane the calls are compared in order: the function
// (class and method), the nesting, how the call ended (returned, or raised which exception) and
// the line of its def. Arguments and results are not: ports, descriptors and addresses differ
// from run to run. Idle `serve_forever` turns are one row each run of them, and take no part
// in the verdict, since how many there are is a matter of the clock.

/// What the comparison found in one lane.
public struct LaneVerdict: Sendable, Equatable {
    /// `P0/T1`.
    public var lane: String
    /// Whether every call of the lane is the same on both sides.
    public var identical: Bool
}

/// `left` and `right` compared lane by lane: each lane's calls side by side under a verdict
/// line, then a summary line.
///
/// - Parameter names: what the two sides are called (`CPython 3.13.0`, `the port`).
/// - Returns: the text, and the verdict of each lane in order.
public func renderComparison(_ left: Recording, _ right: Recording, names: (String, String)) -> (
    text: String, lanes: [LaneVerdict]
) {
    let leftView = CausalView(left, fold: false)
    let rightView = CausalView(right, fold: false)
    let keys = Set(leftView.lanes.map(\.key) + rightView.lanes.map(\.key)).sorted()
    var lines: [String] = []
    var verdicts: [LaneVerdict] = []
    for key in keys {
        let a = callRows(leftView, lane: key)
        let b = callRows(rightView, lane: key)
        if a.isEmpty && b.isEmpty { continue }  // a thread that called nothing traced
        let pairs = alignRows(a, b, equal: sameCall, pairable: { x, y in
            !x.isIdle && !y.isIdle && x.depth == y.depth && (x.method == y.method || x.function == y.function)
        })
        var table: [SideBySideRow] = []
        var first: String? = nil
        var firstRow = 0
        for pair in pairs {
            let x = pair.left.map { a[$0] }, y = pair.right.map { b[$0] }
            var row = SideBySideRow(mark: " ", left: x?.cell ?? "", right: y?.cell ?? "")
            switch (x, y) {
            case (let x?, let y?):
                if !sameCall(x, y) { row.mark = "≠" }
            case (let x?, nil): row.mark = x.isIdle ? "·" : "-"
            case (nil, let y?): row.mark = y.isIdle ? "·" : "+"
            default: break
            }
            table.append(row)
            if first == nil, row.mark != " ", row.mark != "·" {
                first = firstDifference(x, y, names: names)
                firstRow = table.count
            }
        }
        let calls = a.filter { !$0.isIdle }.count
        let identical = first == nil
        verdicts.append(LaneVerdict(lane: key.description, identical: identical))
        if !lines.isEmpty { lines.append("") }
        lines.append(
            identical
                ? "\(key): identical (\(calls) call\(calls == 1 ? "" : "s"))"
                : "\(key): different: first at row \(firstRow), marked below")
        var rendered = renderSideBySide(table, titles: names)
        if let first {
            rendered.insert("   └ first difference: " + first, at: firstRow + 1)
        }
        lines += rendered
    }
    let different = verdicts.filter { !$0.identical }
    lines.append("")
    if verdicts.isEmpty {
        lines.append("identical: no calls on either side")
    } else if different.isEmpty {
        lines.append("identical: every lane (\(verdicts.count))")
    } else {
        lines.append(
            "different: \(different.count) of \(verdicts.count) lanes (\(different.map(\.lane).joined(separator: ", ")))")
    }
    return (lines.joined(separator: "\n") + "\n", verdicts)
}

/// Whether two rows are the same call: the same function at the same depth, ended the same
/// way, with its def on the same line (an idle run matches an idle run of the same function).
private func sameCall(_ x: CallRow, _ y: CallRow) -> Bool {
    guard x.isIdle == y.isIdle, x.depth == y.depth, x.kind == y.kind, x.function == y.function else { return false }
    return x.isIdle || (x.pyLine == y.pyLine && x.ending == y.ending)
}

/// What differs between the two sides of a row, in words.
private func firstDifference(_ x: CallRow?, _ y: CallRow?, names: (String, String)) -> String {
    guard let x, let y else {
        let (row, side) = x.map { ($0, names.0) } ?? (y!, names.1)
        return "only \(side) calls \(row.function) here"
    }
    var parts: [String] = []
    if x.function != y.function { parts.append("\(names.0) calls \(x.function), \(names.1) \(y.function)") }
    if x.depth != y.depth { parts.append("nested \(x.depth) deep in \(names.0), \(y.depth) in \(names.1)") }
    if x.pyLine != y.pyLine {
        func line(_ value: Int?) -> String { value.map { "line \($0)" } ?? "no line" }
        parts.append("the def is at \(line(x.pyLine)) in \(names.0), \(line(y.pyLine)) in \(names.1)")
    }
    if x.ending != y.ending {
        func ended(_ ending: CallRow.Ending) -> String {
            switch ending {
            case .returned: return "returned"
            case .raised(let type): return "raised \(type)"
            case .unfinished: return "never ended"
            }
        }
        parts.append("the call \(ended(x.ending)) in \(names.0), \(ended(y.ending)) in \(names.1)")
    }
    return parts.joined(separator: "; ")
}
