// ASCII drawing in the notes' style: `+----+` boxes, `|` sides, `------->` and `|`/`v` arrows.
//
// Layout is computed from names (box width = name + 4), never pasted, so that a renamed or
// added class moves the drawing with it; DiagramTests checks the geometry.

/// Helpers that draw boxes, tables and the notes' inheritance layout as lines of text.
enum AsciiDrawing {
    /// The widest line any ascii output may have (the limit).
    static let maxWidth = 100

    /// A row of the notes' layout: a class on the vertical spine, and at most one subclass
    /// drawn to its right (`| TCPServer |------->| UnixStreamServer |`).
    struct SpineRow: Equatable {
        /// The class on the spine.
        var spine: String
        /// The subclass drawn to the right of it, joined by a horizontal arrow.
        var right: String?
    }

    /// Lays a small inheritance tree out as the notes do.
    ///
    /// The notes draw one chain downward (BaseServer, TCPServer, UDPServer) and put each
    /// leaf subclass to the right of its base (UnixStreamServer beside TCPServer). Rules that
    /// reproduce both of the notes' drawings: the child that has children of its own
    /// continues the spine and a leaf goes to the right; when every child is a leaf, the
    /// first (in file order) goes to the right and the second continues the spine
    /// (StreamRequestHandler right, DatagramRequestHandler below).
    ///
    /// - Returns: the rows, or nil when the tree does not fit the layout (a class with two
    ///   subclasses that have subclasses, or with two leaves beside the spine).
    ///   socketserver's two trees fit; a test checks it.
    static func spineRows(root: String, children: (String) -> [String]) -> [SpineRow]? {
        var rows: [SpineRow] = []
        var current = root
        while true {
            let kids = children(current)
            let inner = kids.filter { !children($0).isEmpty }
            let leaves = kids.filter { children($0).isEmpty }
            if let next = inner.first {
                guard inner.count == 1, leaves.count <= 1 else { return nil }
                rows.append(SpineRow(spine: current, right: leaves.first))
                current = next
            } else {
                guard leaves.count <= 2 else { return nil }
                rows.append(SpineRow(spine: current, right: leaves.first))
                if leaves.count == 2 { rows.append(SpineRow(spine: leaves[1], right: nil)) }
                return rows
            }
        }
    }

    /// Draws spine rows: boxes centred on one vertical line that starts `indent` columns in
    /// (the notes use 8), joined by `|`/`v`; right boxes start in one column, reached by
    /// arrows at least `arrowLength` long (the notes' `------->` is 8).
    static func drawSpine(_ rows: [SpineRow], indent: Int = 8, arrowLength: Int = 8) -> [String] {
        let widths = rows.map { $0.spine.count + 4 }
        // A box of width w centred on column c starts at c - (w - 1) / 2: this reproduces
        // both drawings of the notes to the column (BaseServer at 8, BaseRequestHandler at 10).
        let halves = widths.map { ($0 - 1) / 2 }
        let center = indent + (halves.max() ?? 0)
        let starts = halves.map { center - $0 }
        let rightColumn =
            rows.indices.filter { rows[$0].right != nil }
            .map { starts[$0] + widths[$0] + arrowLength }.max() ?? 0
        var lines: [String] = []
        for (index, row) in rows.enumerated() {
            if index > 0 {
                lines.append(spaces(center) + "|")
                lines.append(spaces(center) + "v")
            }
            let border = spaces(starts[index]) + self.border(widths[index])
            var top = border
            var middle = spaces(starts[index]) + "| \(row.spine) |"
            if let right = row.right {
                let gap = rightColumn - (starts[index] + widths[index])
                top += spaces(gap) + self.border(right.count + 4)
                middle += String(repeating: "-", count: gap - 1) + ">" + "| \(right) |"
            }
            lines += [top, middle, top]
        }
        return lines
    }

    /// `+-----+` of total width `width`.
    static func border(_ width: Int) -> String {
        "+" + String(repeating: "-", count: max(0, width - 2)) + "+"
    }

    /// `count` spaces.
    static func spaces(_ count: Int) -> String { String(repeating: " ", count: max(0, count)) }

    /// `text` padded with spaces to `width` characters.
    static func pad(_ text: String, _ width: Int) -> String {
        text + spaces(width - text.count)
    }

    /// A table: a border, the header, a border, the rows, a border. Each section is a box
    /// whose `|` fall under the border's `+`.
    static func table(header: [String]?, rows: [[String]]) -> [String] {
        let columns = max(header?.count ?? 0, rows.map(\.count).max() ?? 0)
        var widths = Array(repeating: 0, count: columns)
        for row in (header.map { [$0] } ?? []) + rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        let rule = "+" + widths.map { String(repeating: "-", count: $0 + 2) + "+" }.joined()
        func line(_ cells: [String]) -> String {
            "|" + widths.indices.map { " " + pad(index($0, in: cells), widths[$0]) + " |" }.joined()
        }
        var lines = [rule]
        if let header { lines += [line(header), rule] }
        lines += rows.map(line)
        lines.append(rule)
        return lines
    }

    private static func index(_ position: Int, in cells: [String]) -> String {
        position < cells.count ? cells[position] : ""
    }

    /// A box around lines of text, `width` wide (at least as wide as the text needs), with
    /// an optional title section above a rule.
    static func box(title: String?, body: [String], width: Int? = nil) -> [String] {
        let inner = max(width.map { $0 - 4 } ?? 0, (body + [title ?? ""]).map(\.count).max() ?? 0)
        let rule = border(inner + 4)
        var lines = [rule]
        if let title {
            lines += ["| " + pad(title, inner) + " |", rule]
        }
        lines += body.map { "| " + pad($0, inner) + " |" }
        lines.append(rule)
        return lines
    }

    /// Words of `text` wrapped into lines of at most `width` characters, each prefixed by
    /// `indent` (a word longer than a line stays whole).
    static func wrap(_ text: String, width: Int, indent: String = "") -> [String] {
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ") {
            if !current.isEmpty, indent.count + current.count + 1 + word.count > width {
                lines.append(indent + current)
                current = ""
            }
            current += (current.isEmpty ? "" : " ") + word
        }
        if !current.isEmpty { lines.append(indent + current) }
        return lines
    }

    /// Lines joined with newlines, trailing spaces removed, ending in one newline: every
    /// ascii output has this exact form, so that the committed files compare byte for byte.
    static func text(_ lines: [String]) -> String {
        lines.map { line in
            var line = line
            while line.last == " " { line.removeLast() }
            return line
        }.joined(separator: "\n") + "\n"
    }
}
