// Swift-only: an ASCII sequence diagram.
//
// One column per lane (a thread of a process); a column is reused once its lane has ended, so
// the diagram stays narrow however many requests a threading server served. Each call is a row
// with `*` in its lane's column and the call written on the right, indented by its nesting in
// the lane; `!` marks a raise, `<` a result worth showing, and a thread start or fork is an arrow
// from the spawning lane to the new one (`+---->o`). A lane starts with its name.

/// `recording` as an ASCII sequence diagram, lines cut to `width` columns.
public func renderSequence(_ recording: Recording, width: Int = 120) -> String {
    let view = CausalView(recording, fold: true)
    let relative = laneRelativeIndents(view)
    // Each lane's span of rows: from its spawn row (or first row) to its last row.
    var first: [LaneID: Int] = [:]
    var last: [LaneID: Int] = [:]
    for (index, row) in view.rows.enumerated() {
        if first[row.laneKey] == nil { first[row.laneKey] = index }
        last[row.laneKey] = index
        if let spawn = row.spawn {
            let target = spawn.lane
            if first[target] == nil { first[target] = index }
            last[target] = max(last[target] ?? index, index)
        }
    }
    // Columns, lowest free first, in order of start.
    var column: [LaneID: Int] = [:]
    var columnFreeAfter: [Int] = []
    for key in first.keys.sorted(by: { first[$0]! < first[$1]! }) {
        let start = first[key]!
        if let free = columnFreeAfter.firstIndex(where: { $0 < start }) {
            column[key] = free
            columnFreeAfter[free] = last[key]!
        } else {
            column[key] = columnFreeAfter.count
            columnFreeAfter.append(last[key]!)
        }
    }
    let columns = max(1, columnFreeAfter.count)
    let cell = 3

    func active(_ index: Int) -> [Bool] {
        var lanes = [Bool](repeating: false, count: columns)
        for (key, slot) in column where first[key]! <= index && index <= last[key]! { lanes[slot] = true }
        return lanes
    }
    func gutter(_ index: Int, marks: [Int: Character]) -> [Character] {
        let lanes = active(index)
        var chars = [Character](repeating: " ", count: columns * cell)
        for slot in 0..<columns where lanes[slot] { chars[slot * cell] = "|" }
        for (slot, mark) in marks { chars[slot * cell] = mark }
        return chars
    }
    func line(_ chars: [Character], _ text: String) -> String {
        let head = String(chars)
        let room = max(12, width - head.count - 1)
        let body = cutText(text, to: room)
        return (head + " " + body).replacingTrailingSpaces()
    }
    func laneTitle(_ key: LaneID) -> String {
        let name = view.lane(key)?.name ?? ""
        return name.isEmpty ? "\(key)" : "\(key) \(name)"
    }

    var lines: [String] = []
    var titled: Set<LaneID> = []
    for (index, row) in view.rows.enumerated() {
        let slot = column[row.laneKey] ?? 0
        if titled.insert(row.laneKey).inserted {
            // A lane nobody spawned through the seam: name it where it starts.
            lines.append(line(gutter(index, marks: [slot: "o"]), laneTitle(row.laneKey)))
        }
        let pad = String(repeating: "  ", count: relative[index])
        switch row.kind {
        case .call:
            let event = row.event!
            var text = pad + event.method + "  " + event.definingClass
            if let pyLine = event.pyLine { text += " :\(pyLine)" }
            if !row.detail.isEmpty { text += "  " + row.detail }
            if row.leaf, let partner = row.partner {
                let end = view.rows[partner]
                if end.kind == .raise {
                    text += "  raise " + end.detail
                } else if resultText(end.detail) != "None" {
                    text += "  -> " + resultText(end.detail)
                }
            }
            if !view.deterministic, row.folded > 1 { text += "  x\(row.folded)" }
            lines.append(line(gutter(index, marks: [slot: "*"]), text))
        case .return:
            guard let partner = row.partner, !view.rows[partner].leaf else { continue }
            let result = resultText(row.detail)
            guard result != "None" else { continue }
            lines.append(line(gutter(index, marks: [slot: "<"]), pad + "<- " + result))
        case .raise:
            guard let partner = row.partner, !view.rows[partner].leaf else { continue }
            lines.append(line(gutter(index, marks: [slot: "!"]), pad + "raise " + row.detail))
        case .orphan:
            let event = row.event!
            lines.append(
                line(gutter(index, marks: [slot: "<"]), pad + "<- " + event.method + "  " + resultText(row.detail)))
        case .spawn:
            let spawn = row.spawn!
            let target = spawn.lane
            titled.insert(target)
            let to = column[target] ?? slot
            var chars = gutter(index, marks: [slot: "+", to: "o"])
            if to != slot {
                let (low, high) = (min(slot, to) * cell, max(slot, to) * cell)
                for position in (low + 1)..<high { chars[position] = "-" }
                if to > slot { chars[high - 1] = ">" } else { chars[low + 1] = "<" }
            }
            let what = spawn.kind == .fork ? "fork" : "start"
            lines.append(line(chars, pad + "\(what) \(laneTitle(target))"))
        }
    }
    return lines.map { $0 + "\n" }.joined()
}

extension String {
    /// The string without trailing spaces.
    fileprivate func replacingTrailingSpaces() -> String {
        var end = endIndex
        while end > startIndex, self[index(before: end)] == " " { end = index(before: end) }
        return String(self[..<end])
    }
}
