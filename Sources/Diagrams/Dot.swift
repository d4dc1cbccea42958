// The text rules of Graphviz DOT that the class and lifecycle diagrams need.

/// Text rules of the DOT language.
enum Dot {
    /// Text safe inside a record label field: `{ } | < >` are record syntax and `"` ends
    /// the string, so each is escaped with a backslash.
    static func recordEscape(_ text: String) -> String {
        var result = ""
        for character in text {
            if "{}|<>\"\\".contains(character) { result.append("\\") }
            result.append(character)
        }
        return result
    }

    /// Text safe inside a quoted DOT string.
    static func quote(_ text: String) -> String {
        var result = "\""
        for character in text {
            switch character {
            case "\"", "\\": result += "\\" + String(character)
            case "\n": result += "\\n"  // DOT's centred line break
            default: result.append(character)
            }
        }
        return result + "\""
    }
}
