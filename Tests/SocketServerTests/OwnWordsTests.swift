// The port's comments are its own words. A reader has CPython's socketserver.py open beside
// the Swift file, so a comment that repeats a docstring or a `#` comment of the original tells
// them nothing new. CPython itself lists what it says: a small script takes every docstring
// (`ast`) and every comment (`tokenize`) of its socketserver.py and cuts them into sentences;
// no sentence of six words or more may appear, case and spacing aside, in a comment of
// Sources/SocketServer/*.swift. The `Python:` lines are left out: the tag that ends a doc
// comment names the original, and `// Python: <code>` quotes a line of it on purpose. Without
// CPython 3.13 the test says so and checks nothing.
import SocketServer
import TestSupport
import Testing

/// Prints, one a line, each sentence of six words or more in socketserver.py's docstrings and
/// comments, lowercased with its spacing collapsed and its closing punctuation dropped. A
/// docstring or a run of comment lines on consecutive lines is one text; a text is cut into
/// paragraphs at blank lines and list items (`- ...`, the dash dropped), and paragraphs into sentences after
/// `.`, `!` or `?` followed by a space.
private let sentencesScript = #"""
    import ast, io, re, socketserver, tokenize
    source = open(socketserver.__file__).read()
    texts = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node)
            if doc:
                texts.append(doc)
    block, last = [], None
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.COMMENT:
            continue
        line = token.start[0]
        if block and line != last + 1:
            texts.append("\n".join(block))
            block = []
        block.append(token.string.lstrip("#"))
        last = line
    if block:
        texts.append("\n".join(block))
    seen = set()
    for text in texts:
        paragraphs, current = [], []
        for line in text.split("\n"):
            stripped = line.strip()
            if not stripped or stripped.startswith("- "):
                paragraphs.append(" ".join(current))
                current = []
            if stripped:
                current.append(stripped.removeprefix("- "))
        paragraphs.append(" ".join(current))
        for paragraph in paragraphs:
            for sentence in re.split(r"(?<=[.!?])\s+", paragraph):
                sentence = " ".join(sentence.split()).lower().rstrip(".!?:;,")
                if len(sentence.split()) >= 6 and sentence not in seen:
                    seen.add(sentence)
                    print(sentence)
    """#

/// One comment block of the port: consecutive comment lines, joined.
struct CommentBlock {
    /// `File.swift:LINE` of its first line.
    let place: String
    /// The comment text, lowercased, spacing collapsed, backticks removed.
    let text: String
}

/// The comment of one line of Swift: the text after the first `//` outside a string literal,
/// its slashes and leading spaces removed; `hasCode` when code comes before it.
func swiftComment(_ line: Substring) -> (text: Substring, hasCode: Bool)? {
    var quotes = QuoteTracker()
    var index = line.startIndex
    while index < line.endIndex {
        let character = line[index]
        let next = line.index(after: index)
        if !quotes.take(character) && character == "/" && next < line.endIndex && line[next] == "/" {
            let hasCode = !line[..<index].allSatisfy(\.isWhitespace)
            let text = line[index...].drop { $0 == "/" }.drop { $0 == " " }
            return (text, hasCode)
        }
        index = next
    }
    return nil
}

/// Lowercased, backticks removed, every run of spaces one space.
func normalised(_ text: String) -> String {
    text.lowercased().filter { $0 != "`" }.split(whereSeparator: \.isWhitespace).joined(separator: " ")
}

/// The comment blocks of the Swift files of `folder`. A run of whole-line comments is one
/// block; a comment after code is a block of its own. A comment line starting `Python:` (the
/// tag, or a quotation of Python code) belongs to no block and ends the one before it.
func commentBlocks(in folder: String) -> [CommentBlock] {
    var blocks: [CommentBlock] = []
    for (file, lines) in swiftSources(in: folder) {
        var current: [Substring] = []
        var start = 0
        func flush() {
            if !current.isEmpty {
                blocks.append(CommentBlock(place: "\(file):\(start + 1)", text: normalised(current.joined(separator: " "))))
            }
            current = []
        }
        for (index, line) in lines.enumerated() {
            guard let (text, hasCode) = swiftComment(line), !text.hasPrefix("Python:") else {
                flush()
                continue
            }
            if hasCode { flush() }
            if current.isEmpty { start = index }
            current.append(text)
            if hasCode { flush() }
        }
        flush()
    }
    return blocks
}

extension PortAgainstCPythonTests {
    @Test("no sentence of socketserver.py's docstrings or comments is copied into a comment", .timeLimit(.minutes(1)))
    func ownWords() throws {
        guard let (blocks, python) = try portAgainstCPython(commentBlocks, moreThan: 150, script: sentencesScript, for: "the port's own words")
        else { return }
        let sentences = python.stdout.split(separator: "\n").map(String.init)
        #expect(sentences.count > 100, "CPython's sentences: \(python.stderr)")
        var copied: [String] = []
        for sentence in sentences {
            if let block = blocks.first(where: { $0.text.contains(sentence) }) {
                copied.append("\(block.place): \"\(sentence)\"")
            }
        }
        print("the port's own words: \(copied.count) of CPython's \(sentences.count) sentences appear in the port's \(blocks.count) comment blocks")
        #expect(copied.isEmpty, "sentences of socketserver.py copied into comments:\n\(copied.joined(separator: "\n"))")
    }
}
