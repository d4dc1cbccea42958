// Reading source text in tests: which characters stand inside a double-quoted string literal,
// for the checkers that must not take a quoted `//` or `{` for code.

/// Follows a text character by character through double-quoted string literals, in which a
/// backslash escapes the next character (Swift's and DOT's rule).
public struct QuoteTracker {
    /// Whether the characters taken so far leave a string literal open.
    public private(set) var inString = false
    private var escaped = false

    public init() {}

    /// Takes the next character: whether it is quoted, that is inside a string literal (its
    /// closing quote included, its opening quote not).
    public mutating func take(_ character: Character) -> Bool {
        guard inString else {
            inString = character == "\""
            return false
        }
        if escaped {
            escaped = false
        } else if character == "\\" {
            escaped = true
        } else if character == "\"" {
            inString = false
        }
        return true
    }
}
