// Swift-only: text made fit to print, for every view: characters a terminal would act on
// escaped as Python escapes them, and long text cut to a budget.

/// `text` with control characters, C1 controls, and characters that change the direction or
/// layout of a terminal line escaped as Python would (`\x1b`, `\u202e`). Public for the reading
/// view, which escapes what a JSON Lines file says in the same way.
public func escapeUnsafeCharacters(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: isUnsafeScalar) else { return text }
    var out = ""
    out.reserveCapacity(text.utf8.count + 8)
    for scalar in text.unicodeScalars {
        guard isUnsafeScalar(scalar) else {
            out.unicodeScalars.append(scalar)
            continue
        }
        switch scalar {
        case "\t": out += "\\t"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        default:
            let hex = String(scalar.value, radix: 16)
            out += scalar.value <= 0xff
                ? "\\x" + String(repeating: "0", count: 2 - hex.count) + hex
                : "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        }
    }
    return out
}

/// Whether a terminal would act on the character rather than show it.
func isUnsafeScalar(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0..<0x20, 0x7f...0x9f: return true
    case 0x061c, 0x200e, 0x200f, 0x2028, 0x2029, 0x202a...0x202e, 0x2066...0x2069: return true
    default: return false
    }
}

/// `text` cut to `limit` characters, ending with `…` when cut.
func cutText(_ text: String, to limit: Int) -> String {
    guard limit > 0 else { return "" }
    guard text.count > limit else { return text }
    return String(text.prefix(limit - 1)) + "…"
}
