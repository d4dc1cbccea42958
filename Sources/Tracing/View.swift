// Swift-only: the views of a recording, by name.
//
// Every view reads the same recording; the CLI picks one with `--format` and decides about
// colour (a terminal, and no NO_COLOR).

/// A way to show a recording.
public enum TraceFormat: String, Sendable, CaseIterable {
    /// An indented call tree with a process/thread column (the default).
    case tree
    /// An ASCII sequence diagram: objects talking to objects, a lane header per thread and
    /// per process.
    case sequence
    /// One JSON object per event (JSON Lines).
    case jsonl
    /// Chrome Trace Event JSON, which Perfetto and `chrome://tracing` open.
    case chrome
    /// The same sequence diagram in Mermaid, which GitHub renders.
    case mermaid
}

/// `recording` shown as `format`.
///
/// - Parameters:
///   - color: ANSI colour (only the tree uses it); the caller decides, from whether the output
///     is a terminal and NO_COLOR.
///   - width: the column tree and sequence lines are cut to; 0 for no cut.
///   - filter: what to show of the recording (every view narrows the same way).
public func render(
    _ recording: Recording, as format: TraceFormat, color: Bool = false, width: Int = 120,
    filter: TraceFilter = TraceFilter()
) -> String {
    switch format {
    case .tree: return renderTree(recording, color: color, width: width, filter: filter)
    case .sequence: return renderSequence(recording, width: width, filter: filter)
    case .jsonl: return renderJSONL(recording, filter: filter)
    case .chrome: return renderChrome(recording, filter: filter)
    case .mermaid: return renderMermaid(recording, filter: filter)
    }
}

/// The result of a return detail (`"-> True"` → `"True"`).
func resultText(_ detail: String) -> String {
    detail.hasPrefix("-> ") ? String(detail.dropFirst(3)) : detail
}

/// Microseconds since `origin`.
func microseconds(_ time: UInt64, since origin: UInt64) -> UInt64 {
    time >= origin ? (time - origin) / 1000 : 0
}

/// `value` with three decimals, from thousandths (`12345` → `"12.345"`).
func thousandths(_ value: UInt64) -> String {
    let fraction = String(value % 1000)
    return "\(value / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
}

/// `text` padded on the left to `width` characters.
func padLeft(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}

/// `text` padded on the right to `width` characters.
func padRight(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

/// Minimal JSON writing: strings escaped as RFC 8259 asks, control and terminal-changing
/// characters as `\u00XX` / `\uXXXX`. Public for the reading view, which writes its page data
/// with it.
public enum TraceJSON {
    /// A JSON string literal.
    public static func string(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if isUnsafeScalar(scalar) {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// A JSON number or `null`.
    public static func number(_ value: Int?) -> String { value.map { String($0) } ?? "null" }

    /// A JSON object from already encoded values, keys in the given order.
    public static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { string($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
    }
}
