// The Walkthrough cannot drift from the code it shows. Every Swift excerpt, Python excerpt and
// trace in Walkthrough/*.md sits under a marker comment naming where it comes from, and this
// suite regenerates each block from that source and compares it line by line:
//
//   <!-- swift: Sources/SocketServer/SocketServer.swift BaseServer._handle_request_noblock -->
//       the declaration whose doc comment ends with `Python: BaseServer._handle_request_noblock (`,
//       from the doc comment's first line through the declaration's closing brace, dedented.
//       When several declarations carry that `Python:` line, add `in <Type>` (the enclosing
//       class, protocol or extension): `... ForkingMixIn.process_request in ForkingMixIn`.
//       A last word `seam-folded` leaves the trace seam out (``foldSeam(_:)``): the excerpt
//       says so in a comment where the seam was, and the calls it wrapped stay.
//   <!-- python: BaseServer._handle_request_noblock -->   (or `ThreadingTCPServer`, or `L147-152`)
//       the def (or class, or lines) from CPython 3.13's Lib/socketserver.py, dedented; skipped
//       when that file is not on the machine.
//   <!-- run: socketserver-trace run --server ThreadingTCPServer -->
//       the command's standard output with NO_COLOR=1 (deterministic mode is the default);
//       `| grep TEXT` (or `| grep -e A -e B`) keeps the lines containing TEXT, as grep would.
//       With `--format mermaid` the block is fenced ```mermaid, so that GitHub draws it.
//   <!-- run-shape: socketserver-trace experiment backlog -->
//       the same, for output that holds measurements (times, counts that vary run to run): only
//       its shape is compared, every number and unit of time as one token (``shape(_:)``).
//
// The block is the fenced block on the line right after the marker. A failure names the file,
// the marker and the first line that differs. To refresh every block after an intended change:
//   UPDATE_WALKTHROUGH=1 swift test --filter WalkthroughTests
// (a marker with no block under it gets one), then read the diff and the prose around it.
import Foundation
import ReadingView
import TestSupport
import Testing

/// One marker and the fenced block under it.
struct WalkthroughBlock: CustomStringConvertible {
    enum Kind: String, CaseIterable { case swift, python, run, runShape = "run-shape" }

    var file: URL
    var kind: Kind
    var argument: String
    /// Index (0-based) of the marker line in the file.
    var markerLine: Int
    /// Indices of the fence lines, nil when no block follows the marker.
    var fence: (open: Int, close: Int)?
    /// The block's current text (lines between the fences).
    var content: [String]

    var marker: String { "<!-- \(kind.rawValue): \(argument) -->" }
    var description: String { "Walkthrough/\(file.lastPathComponent):\(markerLine + 1) \(marker)" }
}

/// What went wrong while regenerating one block.
struct WalkthroughError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A block that cannot be regenerated on this machine (it runs CPython 3.13, which is not
/// here): left as it is, as the Python excerpts are.
struct WalkthroughSkipped: Error {}

enum Walkthrough {
    static let directory = packageRoot.appendingPathComponent("Walkthrough")
    static var updating: Bool { ProcessInfo.processInfo.environment["UPDATE_WALKTHROUGH"] != nil }

    /// Every chapter, sorted by name.
    static func files() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "md" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    static func lines(of url: URL) throws -> [String] {
        let text = try String(contentsOf: url, encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    /// `<!-- kind: argument -->` on a line of its own, or nil.
    static func parseMarker(_ line: String) -> (WalkthroughBlock.Kind, String)? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("<!--"), trimmed.hasSuffix("-->") else { return nil }
        let inner = trimmed.dropFirst(4).dropLast(3).trimmingCharacters(in: .whitespaces)
        guard let colon = inner.firstIndex(of: ":"),
            let kind = WalkthroughBlock.Kind(rawValue: String(inner[..<colon]))
        else { return nil }
        return (kind, inner[inner.index(after: colon)...].trimmingCharacters(in: .whitespaces))
    }

    /// The fence that opens a block (three or more backticks and an optional language).
    static func fenceOpening(_ line: String) -> (fence: String, language: String)? {
        guard line.hasPrefix("```") else { return nil }
        let fence = String(line.prefix { $0 == "`" })
        return (fence, String(line.dropFirst(fence.count)).trimmingCharacters(in: .whitespaces))
    }

    /// The marked blocks of one file.
    static func blocks(in url: URL) throws -> [WalkthroughBlock] {
        let lines = try lines(of: url)
        var result: [WalkthroughBlock] = []
        for (index, line) in lines.enumerated() {
            guard let (kind, argument) = parseMarker(line) else { continue }
            var block = WalkthroughBlock(
                file: url, kind: kind, argument: argument, markerLine: index, fence: nil, content: [])
            if index + 1 < lines.count, let (fence, _) = fenceOpening(lines[index + 1]),
                let close = lines[(index + 2)...].firstIndex(where: { $0 == fence })
            {
                block.fence = (index + 1, close)
                block.content = Array(lines[(index + 2)..<close])
            }
            result.append(block)
        }
        return result
    }

    /// The fenced blocks of one file that need a marker but have none: every `swift`, `text`
    /// or untagged block (traces are untagged). A `python` block without a marker is a user's
    /// code (the notes' example), not socketserver.py. Returns their line numbers.
    static func unmarkedBlocks(in url: URL) throws -> [(line: Int, language: String)] {
        let lines = try lines(of: url)
        var result: [(Int, String)] = []
        var index = 0
        while index < lines.count {
            guard let (fence, language) = fenceOpening(lines[index]) else {
                index += 1
                continue
            }
            let close = lines[(index + 1)...].firstIndex(where: { $0 == fence }) ?? lines.count
            let marked = index > 0 && parseMarker(lines[index - 1]) != nil
            if !marked && ["", "swift", "text"].contains(language) {
                result.append((index + 1, language))
            }
            index = close + 1
        }
        return result
    }

    /// The language a block is fenced with: its kind's, and `mermaid` for a command that
    /// prints a Mermaid diagram (which GitHub then draws).
    static func language(_ block: WalkthroughBlock) -> String {
        switch block.kind {
        case .swift: return "swift"
        case .python: return "python"
        case .run: return block.argument.contains("--format mermaid") ? "mermaid" : ""
        case .runShape: return ""
        }
    }

    /// Compare every block of `kind` with what `generate` makes of its argument, both seen
    /// through `compared`; in update mode, rewrite the blocks that differ (or add missing ones)
    /// instead.
    static func check(
        _ kind: WalkthroughBlock.Kind, _ generate: (String) throws -> [String],
        comparing compared: ([String]) -> [String] = { $0 }
    ) throws {
        var seen = 0
        for file in try files() {
            let blocks = try blocks(in: file).filter { $0.kind == kind }
            var replacements: [(block: WalkthroughBlock, lines: [String])] = []
            for block in blocks {
                seen += 1
                let expected: [String]
                do {
                    expected = try generate(block.argument)
                } catch is WalkthroughSkipped {
                    continue
                } catch {
                    Issue.record("\(block): \(error)")
                    continue
                }
                if updating {
                    if block.fence == nil || compared(block.content) != compared(expected) {
                        replacements.append((block, expected))
                    }
                    continue
                }
                guard block.fence != nil else {
                    Issue.record("\(block): no fenced block right after the marker")
                    continue
                }
                if let difference = firstDifference(compared(block.content), compared(expected)) {
                    Issue.record("\(block): the block differs from its source at \(difference)")
                }
            }
            if updating && !replacements.isEmpty {
                var lines = try lines(of: file)
                // From the bottom up, so that earlier line numbers stay valid.
                for (block, fresh) in replacements.sorted(by: { $0.block.markerLine > $1.block.markerLine }) {
                    let fence = String(repeating: "`", count: max(3, longestBacktickRun(fresh) + 1))
                    if let (open, close) = block.fence {
                        let opening = fenceOpening(lines[open])!.fence
                        let keepFence = opening.count > longestBacktickRun(fresh)
                        let useFence = keepFence ? opening : fence
                        lines.replaceSubrange(open...close,
                            with: [lines[open].replacingOccurrences(of: opening, with: useFence)] + fresh + [useFence])
                    } else {
                        lines.insert(contentsOf: [fence + language(block)] + fresh + [fence], at: block.markerLine + 1)
                    }
                }
                try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
            }
        }
        if kind != .python {
            #expect(seen > 0, "no \(kind.rawValue) marker in Walkthrough/*.md")
        }
    }

    static func longestBacktickRun(_ lines: [String]) -> Int {
        var longest = 0
        for line in lines {
            var run = 0
            for character in line {
                run = character == "`" ? run + 1 : 0
                longest = max(longest, run)
            }
        }
        return longest
    }

    /// Where two texts first differ, in words, or nil when they are equal.
    static func firstDifference(_ current: [String], _ expected: [String]) -> String? {
        for index in 0..<max(current.count, expected.count) {
            let now = index < current.count ? current[index] : nil
            let want = index < expected.count ? expected[index] : nil
            if now != want {
                return "line \(index + 1) of the block:\n  in the file: \(now ?? "(nothing: the block ends)")\n  regenerated: \(want ?? "(nothing: the block should end)")"
            }
        }
        return nil
    }

    /// The shape of measured output: each time (a number and `s`, `ms` or `µs`) as `T`, every
    /// other number as `N`, the bars of a histogram dropped, and runs of spaces as one, so
    /// that two runs compare equal when only their measurements differ.
    static func shape(_ lines: [String]) -> [String] {
        lines.map { line in
            var words: [String] = []
            for word in line.replacingOccurrences(of: "█", with: "").split(separator: " ") {
                let isNumber = word.first?.isNumber == true && word.allSatisfy { $0.isNumber || ".,%".contains($0) }
                if ["s", "ms", "µs"].contains(word), words.last == "N" {
                    words[words.count - 1] = "T"
                } else {
                    words.append(isNumber ? "N" : String(word))
                }
            }
            return words.joined(separator: " ")
        }
    }

    /// Remove `count` leading spaces from each line that has them (blank lines stay blank).
    static func dedent(_ lines: [String], by count: Int) -> [String] {
        lines.map { line in
            let spaces = line.prefix { $0 == " " }.count
            return String(line.dropFirst(min(spaces, count)))
        }
    }

    static func indentation(_ line: String) -> Int { line.prefix { $0 == " " }.count }
}

// MARK: - Swift excerpts

extension Walkthrough {
    /// `PATH NAME [in TYPE]`: the declaration of PATH whose doc comment ends with
    /// `Python: NAME (`, dedented.
    static func swiftExcerpt(_ argument: String) throws -> [String] {
        var words = argument.split(separator: " ").map(String.init)
        if words.last == seamFoldedWord {
            words.removeLast()
            return try foldSeam(swiftExcerpt(words.joined(separator: " ")))
        }
        guard words.count == 2 || (words.count == 4 && words[2] == "in") else {
            throw WalkthroughError("expected `PATH NAME`, `PATH NAME in TYPE`, either followed by `\(seamFoldedWord)`")
        }
        let path = words[0]
        let name = words[1]
        let within = words.count == 4 ? words[3] : nil
        let url = packageRoot.appendingPathComponent(path)
        guard FileManager.default.fileExists(atPath: url.path) else { throw WalkthroughError("no file \(path)") }
        let lines = try lines(of: url)

        var candidates: [(docStart: Int, declaration: Int, type: String?)] = []
        for (index, line) in lines.enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("/// Python: \(name) ("),
                index + 1 < lines.count,
                !lines[index + 1].trimmingCharacters(in: .whitespaces).hasPrefix("///")
            else { continue }
            var docStart = index
            while docStart > 0 && lines[docStart - 1].trimmingCharacters(in: .whitespaces).hasPrefix("///") {
                docStart -= 1
            }
            candidates.append((docStart, index + 1, enclosingType(lines, before: docStart, indentation: indentation(line))))
        }
        if let within { candidates = candidates.filter { $0.type == within } }
        guard let found = candidates.first else {
            throw WalkthroughError("no declaration in \(path) whose doc comment ends with `Python: \(name) (`"
                + (within.map { " inside \($0)" } ?? ""))
        }
        guard candidates.count == 1 else {
            let types = candidates.map { $0.type ?? "(file scope)" }.joined(separator: ", ")
            throw WalkthroughError("\(candidates.count) declarations end their doc comment with `Python: \(name) (` (in \(types)): add `in TYPE` to the marker")
        }
        let end = try declarationEnd(lines, from: found.declaration)
        return dedent(Array(lines[found.docStart...end]), by: indentation(lines[found.declaration]))
    }

    /// The last word of a marker whose excerpt leaves the trace seam out.
    static let seamFoldedWord = "seam-folded"

    /// The comment an excerpt has where its trace seam was folded out, naming what was.
    static func seamFoldedNote(_ parts: [String]) -> String {
        "// (trace seam folded out: \(parts.joined(separator: ", ")))"
    }

    /// `excerpt` without the trace seam, for a reader comparing it with the Python:
    /// - the `traced(...) {` line that wraps a body, and the body's closing brace (the body is
    ///   dedented); a `traced(...) { VALUE }` on one line becomes `VALUE`, an empty one goes;
    /// - `let frame = InitializerFrame(...)`, the `do { ... } catch { frame.end(raising:) ... }`
    ///   around the initializer's body and its `frame.end()`;
    /// - `dispatched("name", self...) { CALL }` (on one line, or with CALL on the next) becomes
    ///   CALL.
    /// A comment (``seamFoldedNote(_:)``) takes the place of the first line left out.
    /// - Throws: when the seam has a shape this does not know, rather than fold it wrongly.
    static func foldSeam(_ excerpt: [String]) throws -> [String] {
        var lines = excerpt
        var note: (index: Int, indentation: Int)?
        var folded: [String] = []
        func noteAt(_ index: Int, _ indentation: Int, _ part: String) {
            if note == nil { note = (index, indentation) }
            if !folded.contains(part) { folded.append(part) }
        }
        func closingBrace(after start: Int) throws -> Int {
            let own = indentation(lines[start])
            guard let close = lines[(start + 1)...].firstIndex(where: {
                indentation($0) == own && $0.trimmingCharacters(in: .whitespaces).hasPrefix("}")
            }) else { throw WalkthroughError("no closing brace for line \(start + 1) of the excerpt") }
            return close
        }
        // The initializer's frame.
        if let start = lines.firstIndex(where: { $0.contains("= InitializerFrame(") }) {
            let end = try declarationEnd(lines, from: start)
            let own = indentation(lines[start])
            let blank = String(repeating: " ", count: own)
            guard end + 1 < lines.count, lines[end + 1] == blank + "do {" else {
                throw WalkthroughError("InitializerFrame is not followed by `do {`")
            }
            let tail = [blank + "} catch {", blank + "    frame.end(raising: error)", blank + "    throw error", blank + "}", blank + "frame.end()"]
            guard let catchLine = lines.firstIndex(of: tail[0]), Array(lines[catchLine..<min(lines.count, catchLine + 5)]) == tail else {
                throw WalkthroughError("the initializer's frame does not end as `} catch { frame.end(raising: error); throw error }; frame.end()`")
            }
            let body = dedent(Array(lines[(end + 2)..<catchLine]), by: 4)
            lines.replaceSubrange(start..<(catchLine + 5), with: body)
            noteAt(start, own, "InitializerFrame")
        }
        // traced(...) around a body.
        var index = 0
        while index < lines.count {
            let line = lines[index]
            guard let call = line.range(of: "traced(\"") else {
                index += 1
                continue
            }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasSuffix("{") {
                let close = try closingBrace(after: index)
                let body = dedent(Array(lines[(index + 1)..<close]), by: 4)
                lines.replaceSubrange(index...close, with: body)
                noteAt(index, indentation(line), "traced")
                continue
            }
            guard let open = line.range(of: ") { ", range: call.upperBound..<line.endIndex), trimmed.hasSuffix(" }") else {
                if trimmed.hasSuffix(") {}") {
                    lines.remove(at: index)
                    noteAt(index, indentation(line), "traced")
                    continue
                }
                throw WalkthroughError("a traced(...) of a shape foldSeam does not know: \(trimmed)")
            }
            var value = String(line[open.upperBound...].dropLast(2))
            if let signature = value.range(of: " in ") { value = String(value[signature.upperBound...]) }
            lines[index] = String(repeating: " ", count: indentation(line)) + value
            noteAt(index, indentation(line), "traced")
            index += 1
        }
        // dispatched(...) around a call.
        index = 0
        while index < lines.count {
            let line = lines[index]
            guard let call = line.range(of: "dispatched(\"") else {
                index += 1
                continue
            }
            var prefix = String(line[..<call.lowerBound])
            var body: String
            if line.hasSuffix(") {") {
                let close = try closingBrace(after: index)
                guard close == index + 2 else {
                    throw WalkthroughError("a dispatched(...) whose body is not one line: \(line)")
                }
                body = lines[index + 1].trimmingCharacters(in: .whitespaces)
                lines.removeSubrange((index + 1)...close)
            } else if let open = line.range(of: ") { ", range: call.upperBound..<line.endIndex), line.hasSuffix(" }") {
                body = String(line[open.upperBound...].dropLast(2))
            } else {
                throw WalkthroughError("a dispatched(...) of a shape foldSeam does not know: \(line)")
            }
            // `try? dispatched { try f() }` is `try? f()`; `try dispatched { try f() }` is `try f()`.
            for marker in ["try? ", "try "] where prefix.hasSuffix(marker) && body.hasPrefix("try ") {
                prefix.removeLast(marker.count)
                body = marker + body.dropFirst(4)
            }
            lines[index] = prefix + body
            if let note { noteAt(note.index, note.indentation, "dispatched") } else { noteAt(index, indentation(line), "dispatched") }
            index += 1
        }
        guard let note else { throw WalkthroughError("no trace seam to fold in this excerpt") }
        lines.insert(String(repeating: " ", count: note.indentation) + seamFoldedNote(folded), at: note.index)
        return lines
    }

    /// The name of the class, struct, enum, protocol, actor or extension that encloses a
    /// declaration indented by `indentation` whose doc comment starts at `line`.
    static func enclosingType(_ lines: [String], before line: Int, indentation: Int) -> String? {
        guard indentation > 0 else { return nil }
        let keywords: Set<String> = ["class", "struct", "enum", "protocol", "actor", "extension"]
        for index in stride(from: line - 1, through: 0, by: -1) {
            let text = lines[index]
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("//") || Walkthrough.indentation(text) >= indentation { continue }
            let words = trimmed.split(separator: " ").map(String.init)
            guard let keyword = words.firstIndex(where: { keywords.contains($0) }), keyword + 1 < words.count else {
                return nil
            }
            return String(words[keyword + 1].prefix { $0.isLetter || $0.isNumber || $0 == "_" })
        }
        return nil
    }

    /// The last line (0-based) of the declaration that starts on 0-based line `start`, by the
    /// reading view's rule (`ReadingView.declarationEnd`, whose lines count from 1): where every
    /// brace, parenthesis and bracket opened since `start` is closed, outside strings and
    /// comments, attribute-only lines aside.
    static func declarationEnd(_ lines: [String], from start: Int) throws -> Int {
        guard let end = ReadingView.declarationEnd(lines, from: start + 1) else {
            throw WalkthroughError("the declaration starting on line \(start + 1) never closes")
        }
        return end - 1
    }
}

// MARK: - Python excerpts

extension Walkthrough {
    /// CPython 3.13's Lib/socketserver.py: $SOCKETSERVER_PY, or pyenv's 3.13.0, or a system
    /// Python 3.13; nil when none is on this machine.
    static let cpythonSocketserver: URL? = {
        let environment = ProcessInfo.processInfo.environment
        let home = environment["HOME"] ?? "/root"
        let candidates = [environment["SOCKETSERVER_PY"]].compactMap { $0 } + [
            "\(home)/.pyenv/versions/3.13.0/lib/python3.13/socketserver.py",
            "/usr/lib/python3.13/socketserver.py",
            "/usr/local/lib/python3.13/socketserver.py",
        ]
        return candidates.map(URL.init(fileURLWithPath:)).first { FileManager.default.fileExists(atPath: $0.path) }
    }()

    /// `Class.method`, `Class`, or `Lstart-end` of Lib/socketserver.py, dedented.
    static func pythonExcerpt(_ argument: String) throws -> [String] {
        guard let url = cpythonSocketserver else { throw WalkthroughError("CPython 3.13's socketserver.py is not here") }
        let lines = try lines(of: url)
        if argument.hasPrefix("L") {
            let bounds = argument.dropFirst().split(separator: "-").compactMap { Int($0) }
            guard bounds.count == 2, bounds[0] >= 1, bounds[0] <= bounds[1], bounds[1] <= lines.count else {
                throw WalkthroughError("expected `Lstart-end` within the file's \(lines.count) lines")
            }
            let chosen = Array(lines[(bounds[0] - 1)..<bounds[1]])
            return dedent(chosen, by: indentation(chosen[0]))
        }
        let parts = argument.split(separator: ".").map(String.init)
        guard parts.count == 1 || parts.count == 2 else { throw WalkthroughError("expected `Class` or `Class.method`") }
        guard let classLine = lines.firstIndex(where: { isDefinition($0, "class", parts[0]) }) else {
            throw WalkthroughError("no class \(parts[0]) in socketserver.py")
        }
        let classEnd = blockEnd(lines, from: classLine)
        if parts.count == 1 {
            return dedent(Array(lines[classLine...classEnd]), by: indentation(lines[classLine]))
        }
        guard classEnd > classLine,
            let defLine = lines[(classLine + 1)...classEnd].firstIndex(where: { isDefinition($0, "def", parts[1]) })
        else {
            throw WalkthroughError("no def \(parts[1]) in class \(parts[0])")
        }
        return dedent(Array(lines[defLine...blockEnd(lines, from: defLine)]), by: indentation(lines[defLine]))
    }

    /// Whether `line` starts `class NAME` or `def NAME`.
    static func isDefinition(_ line: String, _ keyword: String, _ name: String) -> Bool {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        let prefix = "\(keyword) \(name)"
        guard trimmed.hasPrefix(prefix) else { return false }
        let rest = trimmed.dropFirst(prefix.count)
        return rest.first == "(" || rest.first == ":"
    }

    /// The last non-blank line of the block that `start` opens: the line before the next
    /// non-blank line indented no deeper than `start`.
    static func blockEnd(_ lines: [String], from start: Int) -> Int {
        let own = indentation(lines[start])
        var last = start
        for index in (start + 1)..<lines.count {
            let line = lines[index]
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            if indentation(line) <= own { break }
            last = index
        }
        return last
    }
}

// MARK: - CLI blocks

extension Walkthrough {
    /// Outputs already computed, by command (the same command may appear twice).
    nonisolated(unsafe) static var outputs: [String: [String]] = [:]

    /// `[NAME=VALUE ...] socketserver-trace ARGS [| grep TEXT]...`: the tool's standard
    /// output, as lines, with the variables set (relative paths are the package's: `swift test`
    /// runs in its folder). The command must exit 0, or with N when the marker ends with
    /// `(exit N)`. `compare` and `python` run CPython 3.13; without it their blocks are skipped.
    static func runExcerpt(_ argument: String) throws -> [String] {
        if let cached = outputs[argument] { return cached }
        var commandLine = argument
        var expectedStatus: Int32 = 0
        if commandLine.hasSuffix(")"), let open = commandLine.range(of: " (exit ", options: .backwards),
            let status = Int32(commandLine[open.upperBound...].dropLast())
        {
            expectedStatus = status
            commandLine = String(commandLine[..<open.lowerBound])
        }
        let stages = try shellWords(commandLine).split(separator: "|", omittingEmptySubsequences: false).map(Array.init)
        var words = stages.first.map { $0[...] } ?? []
        var environment: [String: String] = [:]
        while let word = words.first, let equals = word.firstIndex(of: "="),
            word[..<equals].allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" })
        {
            environment[String(word[..<equals])] = String(word[word.index(after: equals)...])
            words = words.dropFirst()
        }
        guard words.first == "socketserver-trace" else {
            throw WalkthroughError("the command must start with `socketserver-trace` (after any NAME=VALUE)")
        }
        let command = Array(words.dropFirst())
        if ["compare", "python"].contains(command.first ?? ""), ComparisonTools.pythonVersion != "3.13" {
            throw WalkthroughSkipped()
        }
        let result = try runTool(command, environment: environment, timeout: 90)
        guard result.status == expectedStatus else {
            throw WalkthroughError("exit status \(result.status); stderr:\n\(result.stderr)")
        }
        var text = result.stdout
        if text.hasSuffix("\n") { text.removeLast() }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for stage in stages.dropFirst() {
            // `grep TEXT` or `grep -e TEXT -e TEXT...`: the lines containing any TEXT.
            var patterns: [String] = []
            if stage.count == 2 && stage[0] == "grep" {
                patterns = [stage[1]]
            } else if stage.count >= 3, stage[0] == "grep", stage.count % 2 == 1 {
                for pair in stride(from: 1, to: stage.count, by: 2) {
                    guard stage[pair] == "-e" else { break }
                    patterns.append(stage[pair + 1])
                }
                if patterns.count != stage.count / 2 { patterns = [] }
            }
            guard !patterns.isEmpty else {
                throw WalkthroughError("only `| grep TEXT` or `| grep -e TEXT -e TEXT` may follow the command")
            }
            guard patterns.allSatisfy({ !$0.hasPrefix("-") && $0.allSatisfy { $0.isLetter || $0.isNumber || " _-:=<>,'✗".contains($0) } }) else {
                throw WalkthroughError("grep's TEXT must be plain (letters, digits, space, _-:=<>,'✗), as grep matches it literally")
            }
            lines = lines.filter { line in patterns.contains { line.contains($0) } }
        }
        outputs[argument] = lines
        return lines
    }

    /// Split a command line as a shell would: spaces separate words, quotes group them, and an
    /// unquoted `|` is a word of its own.
    static func shellWords(_ text: String) throws -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var quote: Character? = nil
        for c in text {
            if let q = quote {
                if c == q { quote = nil } else { word.append(c) }
                continue
            }
            switch c {
            case "'", "\"":
                quote = c
                inWord = true
            case " ":
                if inWord { words.append(word); word = ""; inWord = false }
            case "|":
                if inWord { words.append(word); word = ""; inWord = false }
                words.append("|")
            default:
                word.append(c)
                inWord = true
            }
        }
        guard quote == nil else { throw WalkthroughError("unclosed quote") }
        if inWord { words.append(word) }
        return words
    }
}

// MARK: - Tests

@Suite("WalkthroughTests", .serialized)
struct WalkthroughTests {
    @Test("every Swift excerpt is the declaration in Sources/", .timeLimit(.minutes(3)))
    func swiftExcerpts() throws {
        try Walkthrough.check(.swift, Walkthrough.swiftExcerpt)
    }

    @Test("every trace and diagram is what socketserver-trace prints", .timeLimit(.minutes(3)))
    func cliBlocks() throws {
        try Walkthrough.check(.run, Walkthrough.runExcerpt)
    }

    @Test("a seam-folded excerpt keeps no seam and every call the seam wrapped", .timeLimit(.minutes(1)))
    func seamFolded() throws {
        var seen = 0
        for file in try Walkthrough.files() {
            for block in try Walkthrough.blocks(in: file)
            where block.kind == .swift && block.argument.hasSuffix(" " + Walkthrough.seamFoldedWord) {
                seen += 1
                let lines = try Walkthrough.swiftExcerpt(block.argument)
                let whole = try Walkthrough.swiftExcerpt(String(block.argument.dropLast(Walkthrough.seamFoldedWord.count + 1)))
                let notes = lines.filter { $0.contains("// (trace seam folded out: ") }
                #expect(notes.count == 1, "\(block): the excerpt does not say, once, what was folded")
                let folded = lines.filter { !notes.contains($0) }.joined(separator: "\n")
                for seam in ["traced(", "dispatched(", "InitializerFrame", "frame.end"] {
                    #expect(!folded.contains(seam), "\(block): \(seam) is left in")
                }
                // Each `{ try f(...) }` a dispatched wrapped is still called.
                for line in whole where line.contains("dispatched(") && line.hasSuffix(" }") {
                    let call = line[line.range(of: ") { ")!.upperBound...].dropLast(2)
                    #expect(folded.contains(call), "\(block): \(call) is gone")
                }
            }
        }
        #expect(seen > 0, "no seam-folded excerpt in Walkthrough/*.md")
    }

    @Test("every measured block has the shape of what socketserver-trace prints", .timeLimit(.minutes(3)))
    func measuredBlocks() throws {
        try Walkthrough.check(.runShape, Walkthrough.runExcerpt, comparing: Walkthrough.shape)
    }

    @Test(
        "every Python excerpt is CPython 3.13's Lib/socketserver.py", .timeLimit(.minutes(3)),
        .enabled(if: Walkthrough.cpythonSocketserver != nil, "CPython 3.13's socketserver.py is not on this machine"))
    func pythonExcerpts() throws {
        let source = try String(contentsOf: Walkthrough.cpythonSocketserver!, encoding: .utf8)
        // 3.12.1 and 3.13.0 are byte-identical; older versions lack the Forking Unix servers.
        try #require(source.contains("__version__ = \"0.4\"") && source.contains("class ForkingUnixStreamServer"))
        try Walkthrough.check(.python, Walkthrough.pythonExcerpt)
    }

    @Test("every swift, text or untagged block has a marker, and every marker a block", .timeLimit(.minutes(3)))
    func everyBlockIsMarked() throws {
        for file in try Walkthrough.files() {
            for (line, language) in try Walkthrough.unmarkedBlocks(in: file) {
                Issue.record("Walkthrough/\(file.lastPathComponent):\(line): a ```\(language) block with no marker above it")
            }
            for block in try Walkthrough.blocks(in: file) {
                if block.fence == nil && !Walkthrough.updating {
                    Issue.record("\(block): no fenced block right after the marker")
                } else if let (open, _) = block.fence {
                    let language = Walkthrough.fenceOpening(try Walkthrough.lines(of: file)[open])!.language
                    #expect(language == Walkthrough.language(block),
                            "\(block): fenced as ```\(language), expected ```\(Walkthrough.language(block))")
                }
            }
        }
    }

    @Test("every relative link of the Walkthrough points at a file of the package", .timeLimit(.minutes(3)))
    func linksResolve() throws {
        let files = try Walkthrough.files()
        #expect(files.contains { $0.lastPathComponent == "README.md" })
        let index = try String(contentsOf: Walkthrough.directory.appendingPathComponent("README.md"), encoding: .utf8)
        for file in files where file.lastPathComponent != "README.md" {
            #expect(index.contains("(\(file.lastPathComponent))"), "Walkthrough/README.md does not link \(file.lastPathComponent)")
        }
        for file in files {
            var inFence = false
            for (number, line) in try Walkthrough.lines(of: file).enumerated() {
                if line.hasPrefix("```") { inFence.toggle() }
                if inFence { continue }
                // Links into site/ lead to the stepper, which the reader makes (WalkthroughStepTests).
                for target in markdownLinks(line)
                where !target.contains("://") && !target.hasPrefix("#") && !target.hasPrefix(Walkthrough.siteFolder) {
                    let path = String(target.prefix { $0 != "#" })
                    let url = Walkthrough.directory.appendingPathComponent(path).standardized
                    #expect(FileManager.default.fileExists(atPath: url.path),
                            "Walkthrough/\(file.lastPathComponent):\(number + 1): the link \(target) leads nowhere")
                }
            }
        }
    }

    /// The targets of the `[text](target)` links of a line.
    func markdownLinks(_ line: String) -> [String] {
        var targets: [String] = []
        var rest = Substring(line)
        while let close = rest.range(of: "](") {
            let after = rest[close.upperBound...]
            guard let end = after.firstIndex(of: ")") else { break }
            targets.append(String(after[..<end]))
            rest = after[end...]
        }
        return targets
    }
}
