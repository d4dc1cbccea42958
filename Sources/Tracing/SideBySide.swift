// Swift-only: two call lists side by side, what they share aligned, what differs marked. The
// `compare` view (CPython against the port, lane by lane) and the `diff` view (one scenario on
// two server classes) both align their rows here.

/// Which rows of two lists go side by side: a pair of indices, or an index of one list with
/// nothing beside it, in the order of both lists.
typealias AlignedPair = (left: Int?, right: Int?)

/// Aligns `left` and `right`: the rows `equal` says are the same are kept together by a
/// shortest edit script (Myers' algorithm, which costs little when the lists mostly agree);
/// between two such rows, a left-only and a right-only row that `pairable` accepts go side by
/// side too (the same call, changed), the others alone.
func alignRows<Row>(
    _ left: [Row], _ right: [Row], equal: (Row, Row) -> Bool, pairable: (Row, Row) -> Bool
) -> [AlignedPair] {
    var result: [AlignedPair] = []
    var leftOnly: [Int] = []
    var rightOnly: [Int] = []
    func flushChanges() {
        result += pairChanges(leftOnly, rightOnly) { pairable(left[$0], right[$1]) }
        leftOnly = []
        rightOnly = []
    }
    for step in editScript(left, right, equal: equal) {
        switch step {
        case (let l?, let r?):
            flushChanges()
            result.append((l, r))
        case (let l?, nil): leftOnly.append(l)
        case (nil, let r?): rightOnly.append(r)
        default: break
        }
    }
    flushChanges()
    return result
}

/// A run of left-only and right-only rows: pairs, in order, the rows `pairable` accepts
/// (each right row at most once, never out of order), the others alone, each list's order kept.
private func pairChanges(_ left: [Int], _ right: [Int], pairable: (Int, Int) -> Bool) -> [AlignedPair] {
    var result: [AlignedPair] = []
    var nextRight = 0
    for l in left {
        if let found = right[nextRight...].firstIndex(where: { pairable(l, $0) }) {
            for r in right[nextRight..<found] { result.append((nil, r)) }
            result.append((l, right[found]))
            nextRight = found + 1
        } else {
            result.append((l, nil))
        }
    }
    for r in right[nextRight...] { result.append((nil, r)) }
    return result
}

/// At most this many differences are searched for; past it, the rest of both lists is one run
/// of changes (the search's memory grows with the square of the differences).
private let editScriptLimit = 3000

/// A shortest edit script from `a` to `b`: kept rows as pairs, deleted and inserted rows alone.
func editScript<Row>(_ a: [Row], _ b: [Row], equal: (Row, Row) -> Bool) -> [AlignedPair] {
    var prefix = 0
    while prefix < a.count, prefix < b.count, equal(a[prefix], b[prefix]) { prefix += 1 }
    var suffix = 0
    while suffix < a.count - prefix, suffix < b.count - prefix, equal(a[a.count - 1 - suffix], b[b.count - 1 - suffix]) {
        suffix += 1
    }
    let n = a.count - prefix - suffix
    let m = b.count - prefix - suffix
    var script: [AlignedPair] = (0..<prefix).map { ($0, $0) }
    let middle = myers(n, m, limit: editScriptLimit) { equal(a[prefix + $0], b[prefix + $1]) }
    script += middle.map { ($0.left.map { prefix + $0 }, $0.right.map { prefix + $0 }) }
    script += (0..<suffix).map { (a.count - suffix + $0, b.count - suffix + $0) }
    return script
}

/// Myers' O((n+m)·D) search over two lists of `n` and `m` rows; `limit` differences at most.
private func myers(_ n: Int, _ m: Int, limit: Int, equal: (Int, Int) -> Bool) -> [AlignedPair] {
    guard n > 0 || m > 0 else { return [] }
    let most = min(n + m, limit)
    let offset = most + 1
    var furthest = [Int](repeating: 0, count: 2 * most + 3)
    // For each number of differences d, the furthest x reached on each diagonal -d...d.
    var history: [[Int]] = []
    var reached: Int? = nil
    search: for d in 0...most {
        history.append(Array(furthest[(offset - d)...(offset + d)]))
        for k in stride(from: -d, through: d, by: 2) {
            var x =
                k == -d || (k != d && furthest[offset + k - 1] < furthest[offset + k + 1])
                ? furthest[offset + k + 1] : furthest[offset + k - 1] + 1
            var y = x - k
            while x < n, y < m, equal(x, y) {
                x += 1
                y += 1
            }
            furthest[offset + k] = x
            if x >= n, y >= m {
                reached = d
                break search
            }
        }
    }
    guard let differences = reached else {
        // Too different to search: all of one, then all of the other.
        return (0..<n).map { ($0, nil) } + (0..<m).map { (nil, $0) }
    }
    // Walk back from the end, one difference at a time.
    var steps: [AlignedPair] = []
    var x = n
    var y = m
    for d in stride(from: differences, through: 1, by: -1) {
        // The furthest points before step d, diagonal k at index k + d.
        let before = history[d]
        func at(_ k: Int) -> Int { before[k + d] }
        let k = x - y
        let down = k == -d || (k != d && at(k - 1) < at(k + 1))
        let previousK = down ? k + 1 : k - 1
        let previousX = at(previousK)
        let previousY = previousX - previousK
        let startX = down ? previousX : previousX + 1
        while x > startX, y > startX - k {
            x -= 1
            y -= 1
            steps.append((x, y))
        }
        if down { steps.append((nil, previousY)) } else { steps.append((previousX, nil)) }
        x = previousX
        y = previousY
    }
    while x > 0, y > 0 {
        x -= 1
        y -= 1
        steps.append((x, y))
    }
    return steps.reversed()
}

/// One row of a side-by-side table.
struct SideBySideRow {
    /// What the row says: `" "` the same, `"≠"` changed, `"-"` left only, `"+"` right only,
    /// `"~"` the same call elsewhere, `"·"` not compared.
    var mark: Character
    var left: String
    var right: String
    /// Text after the right column.
    var note: String? = nil
}

/// `rows` under a head of `titles`, the left column as wide as its widest cell (at most
/// `maxLeft` columns, longer cells cut), each line prefixed by its mark.
func renderSideBySide(_ rows: [SideBySideRow], titles: (String, String), maxLeft: Int = 72) -> [String] {
    let width = min(maxLeft, max(titles.0.count, rows.map(\.left.count).max() ?? 0))
    func line(_ mark: Character, _ left: String, _ right: String, _ note: String?) -> String {
        var text = "\(mark)  " + padRight(cutText(left, to: width), width) + " │ " + right
        if let note { text += "   ← " + note }
        while text.hasSuffix(" ") { text.removeLast() }
        return text
    }
    return [line(" ", titles.0, titles.1, nil)] + rows.map { line($0.mark, $0.left, $0.right, $0.note) }
}

/// A row of a causal view as the side-by-side views compare it: a call (or the end of an
/// inherited frame), or a thread start or fork; a run of idle `serve_forever` turns is one row.
struct CallRow {
    /// How a call ended.
    enum Ending: Equatable {
        case returned
        /// It raised an exception of this class.
        case raised(String)
        /// No end was recorded (the process ended inside it).
        case unfinished
    }

    enum Kind: Equatable {
        case call
        /// The end of a frame the lane did not open.
        case orphan
        /// A thread start or fork, with the new lane's label (`T2`, `P1`).
        case spawn(TraceSpawn.Kind, String)
    }

    var kind: Kind
    /// The lane the row is on.
    var lane: LaneID
    /// Its nesting: within its lane, or in the whole view (see ``callRows(_:lane:)``).
    var depth: Int
    /// `ThreadingMixIn.process_request`; for a spawn, the new lane's label.
    var function: String
    /// The method, the class defining it, and its line in Lib/socketserver.py.
    var method, definingClass: String, pyLine: Int?
    /// How the call ended, and the request it ran for.
    var ending: Ending, request: Int?
    /// For a run of idle turns, how many it stands for; 0 for every other row.
    var idleTurns = 0
    /// The spawn's text (`⇢ T2 Thread-2 (process_request_thread)`), for a spawn.
    var spawnText = ""
    /// The index of the row it is nested in, if any.
    var parent: Int? = nil

    var isIdle: Bool { idleTurns > 0 }

    /// The row as a tree line without details: `process_request  ThreadingMixIn  :698  ✗ ValueError`.
    var cell: String {
        let indent = String(repeating: "  ", count: depth)
        if case .spawn = kind { return indent + spawnText }
        var text = indent + (kind == .orphan ? "← " : "") + method + "  " + definingClass
        if let pyLine { text += "  :\(pyLine)" }
        switch ending {
        case .returned: break
        case .raised(let type): text += "  ✗ " + type
        case .unfinished: text += "  (never ended)"
        }
        if isIdle { text += "  (idle turns)" }
        return text
    }
}

/// The rows of `view`: of one lane, nested within it (for `compare`), or of every lane, nested
/// as the tree nests them (for `diff`, spawns included). The `service_actions` calls that
/// `serve_forever` makes after a turn without a request are idle turns, which depend on the
/// clock: a run of them, with what they call, is one row.
func callRows(_ view: CausalView, lane: LaneID?) -> [CallRow] {
    let indents = lane == nil ? view.rows.map(\.indent) : laneRelativeIndents(view)
    var rows: [CallRow] = []
    // The innermost open row at each depth, and the last row at each depth since its parent began.
    var open: [Int] = []
    var previousSibling: [Int: String] = [:]
    var idleDepth: Int? = nil
    for (index, row) in view.rows.enumerated() {
        if let lane, row.laneKey != lane { continue }
        let depth = indents[index]
        if let idle = idleDepth, depth > idle { continue }  // inside a folded idle turn
        idleDepth = nil
        while open.count > depth { open.removeLast() }
        for key in previousSibling.keys where key > depth { previousSibling[key] = nil }
        let parent = open.last
        var made: CallRow
        switch row.kind {
        case .call, .orphan:
            guard let event = row.event else { continue }
            var ending = CallRow.Ending.unfinished
            if row.kind == .orphan {
                ending = event.kind == .raise ? .raised(exceptionClass(event.detail)) : .returned
            } else if let partner = row.partner, let end = view.rows[partner].event {
                ending = end.kind == .raise ? .raised(exceptionClass(end.detail)) : .returned
            }
            made = CallRow(
                kind: row.kind == .call ? .call : .orphan, lane: row.laneKey, depth: depth,
                function: event.function, method: event.method, definingClass: event.definingClass,
                pyLine: event.pyLine, ending: ending, request: event.request, parent: parent)
        case .spawn:
            guard lane == nil, let spawn = row.spawn else { continue }
            let label = spawn.kind == .fork ? spawn.process : spawn.thread
            made = CallRow(
                kind: .spawn(spawn.kind, label), lane: row.laneKey, depth: depth, function: label,
                method: "", definingClass: "", pyLine: nil, ending: .returned, request: spawn.request,
                spawnText: "⇢ \(label) " + (spawn.kind == .fork ? "fork" : row.detail), parent: parent)
        case .return, .raise:
            continue
        }
        let idle =
            made.kind == .call && made.method == "service_actions"
            && parent.map { rows[$0].method == "serve_forever" } == true
            && previousSibling[depth] != "_handle_request_noblock"
        previousSibling[depth] = made.method
        if idle {
            idleDepth = depth
            if let last = rows.last, last.isIdle, last.depth == depth, last.function == made.function {
                rows[rows.count - 1].idleTurns += 1
                continue
            }
            made.idleTurns = 1
        }
        rows.append(made)
        open.append(rows.count - 1)
    }
    return rows
}

/// `ValueError` of `ValueError: boom`.
func exceptionClass(_ detail: String) -> String {
    String(detail.prefix { $0 != ":" })
}

/// How deep each row is within its own lane (a spawned lane's first calls are at 0).
private func laneRelativeIndents(_ view: CausalView) -> [Int] {
    var base: [LaneID: Int] = [:]
    return view.rows.map { row in
        let key = row.laneKey
        if base[key] == nil { base[key] = row.indent }
        return max(0, row.indent - base[key]!)
    }
}
