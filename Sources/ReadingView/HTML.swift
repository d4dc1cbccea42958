// Swift-only: writing HTML safely. Every text that reaches a page goes through `html(_:)` (in
// markup) or `scriptJSON(_:)` (in the page's data), so that nothing a client sent, and nothing
// a JSON Lines file says, can become markup or script. Client bytes were already escaped as
// every view escapes them (`\x1b`), by the recorder or by `SteppedRun`.
import Tracing

/// `text` with `&`, `<`, `>`, `"` and `'` as character references.
func html(_ text: String) -> String {
    replacing(text, ["&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"])
}

/// A JSON string literal that may sit inside a `<script>` element: `<`, `>` and `&` are
/// written as `\u003c`, `\u003e`, `\u0026`, so no `</script>` or `<!--` can appear.
func scriptJSON(_ text: String) -> String {
    replacing(TraceJSON.string(text), ["<": "\\u003c", ">": "\\u003e", "&": "\\u0026"])
}

/// `text` with each character that `replacements` names replaced (a copy is made only when
/// there is one to replace).
private func replacing(_ text: String, _ replacements: [Character: String]) -> String {
    guard text.contains(where: { replacements[$0] != nil }) else { return text }
    var out = ""
    out.reserveCapacity(text.utf8.count + 16)
    for character in text {
        if let replacement = replacements[character] { out += replacement } else { out.append(character) }
    }
    return out
}

/// A JSON array of numbers.
func jsonNumbers(_ values: [Int]) -> String {
    "[" + values.map(String.init).joined(separator: ",") + "]"
}

/// A JSON array of strings, safe inside `<script>`.
func jsonStrings(_ values: [String]) -> String {
    "[" + values.map(scriptJSON).joined(separator: ",") + "]"
}

/// An `id` made of a name: letters, digits, `_`, `-` and `.` kept, anything else as `-`.
func anchor(_ prefix: String, _ name: String) -> String {
    prefix + "-" + String(name.map { $0.isLetter || $0.isNumber || "_-.".contains($0) ? $0 : "-" })
}

/// The start of a page: no request may leave it (the policy allows only what is inline), it
/// fits any width, and it names itself.
func pageHead(title: String, style: String) -> String {
    """
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="referrer" content="no-referrer">
    <title>\(html(title))</title>
    <style>
    \(style)
    \(hangingIndentStyle)
    </style>
    </head>

    """
}

/// The deepest indentation a wrapped line hangs from (deeper lines hang from this column).
let maximumHangingIndent = 40

/// The style that makes a wrapped line of code go on under its own first character: class
/// `iN` marks a line indented N spaces. A narrower window hangs deep lines from a shallower
/// column (at most 20 columns under 1100 px, 10 under 760 px), so that they keep room to wrap.
let hangingIndentStyle: String = {
    func rules(_ indents: ClosedRange<Int>, cap: Int) -> String {
        indents.map { ".i\($0) code { padding-left: \(min($0 + 2, cap))ch; text-indent: -\(min($0 + 2, cap))ch; }" }
            .joined(separator: "\n")
    }
    return rules(0...maximumHangingIndent, cap: maximumHangingIndent + 2)
        + "\n@media (max-width: 1100px) {\n" + rules(19...maximumHangingIndent, cap: 20) + "\n}"
        + "\n@media (max-width: 760px) {\n" + rules(9...maximumHangingIndent, cap: 10) + "\n}"
}()

/// The lines of a source file as rows with their numbers: `<div class="ln iN" id="PREFIX-L7">`.
/// Lines outside `shown` are left out (nil: every line).
func sourceLines(_ lines: [String], prefix: String, shown: ClosedRange<Int>? = nil) -> String {
    var out = ""
    let range = shown ?? 1...max(1, lines.count)
    for number in range where number >= 1 && number <= lines.count {
        let line = lines[number - 1]
        let indent = min(maximumHangingIndent, line.prefix { $0 == " " }.count)
        out += "<div class=\"ln i\(indent)\" id=\"\(prefix)-L\(number)\"><span class=\"no\">\(number)</span>"
        // The indentation does not break (a wrapped line would otherwise start with it alone).
        let lead = String(repeating: "\u{A0}", count: line.prefix { $0 == " " }.count)
        out += "<code>\(lead)\(html(String(line.drop { $0 == " " })))</code></div>\n"
    }
    return out
}
