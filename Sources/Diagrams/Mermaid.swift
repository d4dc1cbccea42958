// The text rules of Mermaid, for every Mermaid text the package writes: the class and
// lifecycle diagrams of this module, and the trace view of the Tracing module, which imports
// this one for them (this module imports nothing of ours, so both can reach it).

/// The text rules of the Mermaid grammars the package writes (`classDiagram`,
/// `sequenceDiagram`).
public enum Mermaid {
    /// `text` as Mermaid shows it, as it is, inside a class member, a participant's label, a
    /// note or a message.
    ///
    /// Mermaid reads `#` and `;` as syntax (either ends a sequence message), renders `<...>`
    /// as HTML and starts a comment at `%%` anywhere: `#`, `;`, `<`, `>`, `"` and `%` are
    /// written as entity codes (`#35;`, `#59;`, `#lt;`, `#gt;`, `#quot;`, `#37;`), which
    /// Mermaid decodes after parsing. Its sequence lexer may read the word `end` (in any case)
    /// as the keyword that closes a block, so the word's first letter is an entity code too
    /// (`#101;nd`). A line break becomes a space (each statement is one line), and trailing
    /// blanks are dropped (Mermaid drops them too).
    ///
    /// - Parameter dunders: when `text` holds `__`, also write every `_` as `#95;`. A class
    ///   diagram renders its members as Markdown, where `__init__` is a bold `init`; the
    ///   class and the lifecycle diagrams ask for it. The trace view does not: its messages
    ///   are whole call lines (`__init__ (TCPServer :450) server_address=...`), which it keeps
    ///   readable in the `.mmd` text.
    public static func escape(_ text: String, dunders: Bool = false) -> String {
        let underscores = dunders && text.contains("__")
        let characters = Array(text)
        func isWord(_ index: Int) -> Bool {
            characters.indices.contains(index)
                && (characters[index].isLetter || characters[index].isNumber || characters[index] == "_")
        }
        var result = ""
        for (index, character) in characters.enumerated() {
            // The first letter of a word `end`.
            if !isWord(index - 1), index + 3 <= characters.count,
                String(characters[index..<index + 3]).lowercased() == "end", !isWord(index + 3),
                let code = character.unicodeScalars.first?.value
            {
                result += "#\(code);"
                continue
            }
            switch character {
            case "_" where underscores: result += "#95;"
            case "#": result += "#35;"
            case ";": result += "#59;"
            case "<": result += "#lt;"
            case ">": result += "#gt;"
            case "\"": result += "#quot;"
            case "%": result += "#37;"
            case "\n", "\r": result += " "
            default: result.append(character)
            }
        }
        while result.last?.isWhitespace == true { result.removeLast() }
        return result
    }
}
