// Swift-only: an ASCII sequence diagram, from the same model as the Mermaid view
// (SequenceModel.swift).
//
// A lane header per thread or process names its lifelines by column letter; then one row per
// statement, the lifelines on the left (`:` waiting, `|` inside a call that sends messages of
// its own) and the text on the right. A message is an arrow from the sender's column to the
// receiver's: `+--->` a call, `+~~~>` a message nobody waits for (a thread's first call, a
// fork, a client connecting), `<...+` a result, `x...+` an exception. `*` marks an object's own
// steps, `o` a thread start, a fork or an `os._exit`; `loop`, `par`, `and` and `end` rows frame
// the blocks, whose rows are indented. A column is reused once its lifeline has ended, by a
// lifeline of a lane started from the same lane (the next worker thread or child) or by the
// next client, so the diagram stays narrow however many requests a threading server served.

/// `recording` as an ASCII sequence diagram, lines cut to `width` columns (0: not cut).
///
/// - Parameter filter: what to show.
public func renderSequence(_ recording: Recording, width: Int = 120, filter: TraceFilter = TraceFilter()) -> String {
    let model = SequenceModel(recording, detailLimit: nil, filter: filter)
    let statements = model.statements
    let count = model.participants.count
    // Each lifeline's span of statements: a client's own, a thread's or process's for the
    // lifelines in it (so that a column changes hands only between lanes that ran one after
    // the other, or between clients).
    var first = [Int?](repeating: nil, count: count)
    var last = [Int](repeating: -1, count: count)
    for (index, statement) in statements.enumerated() {
        for who in SequenceModel.participants(of: statement) {
            if first[who] == nil { first[who] = index }
            last[who] = index
        }
    }
    for box in model.boxes {
        let drawn = box.members.filter { first[$0] != nil }
        guard let start = drawn.compactMap({ first[$0] }).min() else { continue }
        let end = drawn.map { last[$0] }.max()!
        for who in drawn {
            first[who] = start
            last[who] = end
        }
    }
    // What may take over a column: a client another client's, a lifeline of a started lane
    // one of a lane started from the same lane; a lane nobody started keeps its columns.
    var kind = [String](repeating: "", count: count)
    for (who, participant) in model.participants.enumerated() {
        guard let lane = participant.lane else {
            kind[who] = "clients"
            continue
        }
        let box = model.boxes.first { $0.lane == lane }
        kind[who] = box?.spawnedBy.map { "started from \($0)" } ?? "\(lane)"
    }
    // Columns in order of first appearance, the lowest free one of the same kind first.
    var column = [Int?](repeating: nil, count: count)
    var freeAfter: [(last: Int, kind: String)] = []
    for who in (0..<count).filter({ first[$0] != nil }).sorted(by: { (first[$0]!, $0) < (first[$1]!, $1) }) {
        if let free = freeAfter.firstIndex(where: { $0.last < first[who]! && $0.kind == kind[who] }) {
            column[who] = free
            freeAfter[free].last = last[who]
        } else {
            column[who] = freeAfter.count
            freeAfter.append((last[who], kind[who]))
        }
    }
    let cell = 3
    let gutterWidth = max(1, (freeAfter.count - 1) * cell + 1)
    let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    func letter(_ slot: Int) -> Character { slot < letters.count ? letters[slot] : "?" }
    func fit(_ line: String, room: Int) -> String {
        let cut = width == 0 ? line : cutText(line, to: max(12, room))
        var end = cut.endIndex
        while end > cut.startIndex, cut[cut.index(before: end)] == " " { end = cut.index(before: end) }
        return String(cut[..<end])
    }

    // The lane headers: each box's lifelines by letter, then the clients.
    func members(_ numbers: [Int]) -> String {
        numbers.compactMap { who in column[who].map { "\(letter($0)) \(escapeUnsafeCharacters(model.participants[who].label))" } }
            .joined(separator: ", ")
    }
    var header: [(String, String)] = []
    var clients: [Int] = []
    for item in model.layout {
        switch item {
        case .box(let number):
            let box = model.boxes[number]
            header.append((escapeUnsafeCharacters(box.title), members(box.members)))
        case .client(let number):
            clients.append(number)
        }
    }
    if !clients.isEmpty { header.append(("clients", members(clients))) }
    let titleWidth = min(44, header.map(\.0.count).max() ?? 0)
    var lines = header.map { fit(padRight($0.0, titleWidth) + "  " + $0.1, room: width) }
    lines.append(String((0..<freeAfter.count).map { letter($0) }.flatMap { [$0, " ", " "] }.dropLast(2)))

    var active = [Int](repeating: 0, count: count)
    var depth = 0
    func lifelines(_ index: Int) -> [Character] {
        var chars = [Character](repeating: " ", count: gutterWidth)
        for who in 0..<count {
            guard let slot = column[who], first[who]! <= index, index <= last[who] else { continue }
            chars[slot * cell] = active[who] > 0 ? "|" : ":"
        }
        return chars
    }
    func row(_ chars: [Character], _ text: String) {
        let indent = String(repeating: "  ", count: depth)
        lines.append(fit(String(chars) + " " + indent + text, room: width))
    }
    for (index, statement) in statements.enumerated() {
        var chars = lifelines(index)
        switch statement {
        case .message(let from, let to, let arrow, let text, let activate, let deactivate):
            if let source = column[from].map({ $0 * cell }), let target = column[to].map({ $0 * cell }), source != target {
                let fill: Character = arrow == .call ? "-" : arrow == .async ? "~" : "."
                for position in (min(source, target) + 1)..<max(source, target) { chars[position] = fill }
                chars[source] = "+"
                let head: Character = arrow == .raise ? "x" : target > source ? ">" : "<"
                chars[target > source ? target - 1 : target + 1] = head
            }
            row(chars, text)
            if activate { active[to] += 1 }
            if deactivate { active[from] = max(0, active[from] - 1) }
        case .steps(let who, let pieces):
            if let slot = column[who] { chars[slot * cell] = "*" }
            row(chars, pieces.joined())
        case .event(let who, let text):
            if let slot = column[who] { chars[slot * cell] = "o" }
            row(chars, text)
        case .deactivate(let who):
            active[who] = max(0, active[who] - 1)
        case .loop(let label):
            row(chars, "loop " + label)
            depth += 1
        case .par(let label):
            row(chars, "par " + label)
            depth += 1
        case .branch(let label):
            depth = max(0, depth - 1)
            row(chars, "and " + label)
            depth += 1
        case .end:
            depth = max(0, depth - 1)
            row(chars, "end")
        }
    }
    return lines.map { $0 + "\n" }.joined()
}
