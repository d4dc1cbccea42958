// Swift-only: what the reading view reads in the port's Swift sources.
//
// Every declaration of the port ends its doc comment with `Python: NAME (Lib/socketserver.py:N)`;
// that line is the map between the two files. From the text alone this file finds each
// tagged declaration (its doc comment, its first line, its closing brace), the declaration a
// probe line belongs to, and who calls whom: the port announces every call a user could
// override at its call site (`dispatched("finish_request", ...)`), and the few helpers it
// calls directly (`reap()`, `_threads.append(t)`, `super.init(...)`) are found by name.
import Diagrams

/// A Swift source file, by the name `#fileID` gives it (`"SocketServer/SocketServer.swift"`).
public struct SwiftSourceFile: Sendable {
    public let fileID: String
    /// Its lines, without their ends.
    public let lines: [String]

    public init(fileID: String, text: String) {
        self.fileID = fileID
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        self.lines = lines
    }
}

/// A declaration whose doc comment ends with a `Python:` line naming Lib/socketserver.py.
struct TaggedDeclaration {
    let fileID: String
    /// 1-based lines: the doc comment's first, the declaration's first, its last.
    let docStart, line, end: Int
    /// `"BaseServer.serve_forever"`, and its line in Lib/socketserver.py.
    let pythonName: String, pythonLine: Int
    /// The class, protocol or extension it is declared in, if any.
    let enclosingType: String?
    /// The Swift name it declares (`"serveForever"`, `"init"`, `"BaseServer"`).
    let swiftName: String
    /// A class, protocol, struct, enum or extension: its members are declarations of their own.
    let isType: Bool

    /// The last line shown for it: a type's header only (its members have rows of their own).
    var shownEnd: Int { isType ? line : end }
    /// The method part of ``pythonName``.
    var pythonMethod: String { String(pythonName.split(separator: ".").last ?? "") }
}

/// Where a probe's line is, as the stepper shows it.
public struct SwiftLocation: Sendable, Equatable, Hashable {
    public let fileID: String
    /// The declaration the probe is in (its first line), or, for a call site, the probe's line.
    public let line: Int
    /// The last line of that declaration (the probe's line for a call site).
    public let end: Int
    /// The probe's own line.
    public let probe: Int
    /// The probe is a call site (`dispatched(`): the method that ran is not in the port (a
    /// user's override), so the line shown is where the port called it.
    public let isCallSite: Bool
}

/// The Swift sources of the port, read.
public struct SwiftSources: Sendable {
    public let files: [SwiftSourceFile]
    let declarations: [TaggedDeclaration]
    /// For each Python function, the Python functions that call it, by name.
    let callers: [String: [String]]

    public init(_ files: [SwiftSourceFile]) {
        self.files = files
        let declarations = files.flatMap(Self.taggedDeclarations)
        self.declarations = declarations
        callers = Self.callers(declarations, files)
    }

    func file(_ fileID: String) -> SwiftSourceFile? { files.first { $0.fileID == fileID } }

    /// The declaration a probe at `line` of `fileID` belongs to: the innermost `func`, `init`,
    /// `deinit` or `subscript` above it that encloses it. A `dispatched(` probe is a
    /// call site and stays where it is.
    public func location(fileID: String, probe line: Int) -> SwiftLocation? {
        guard let file = file(fileID), line >= 1, line <= file.lines.count else { return nil }
        let text = file.lines[line - 1]
        if text.contains("dispatched(") {
            return SwiftLocation(fileID: fileID, line: line, end: line, probe: line, isCallSite: true)
        }
        let depth = indentation(text)
        var candidate = line - 1
        while candidate >= 1 {
            let header = file.lines[candidate - 1]
            if indentation(header) < depth, isFunctionHeader(header),
                let end = declarationEnd(file.lines, from: candidate), end >= line
            {
                return SwiftLocation(fileID: fileID, line: candidate, end: end, probe: line, isCallSite: false)
            }
            candidate -= 1
        }
        return SwiftLocation(fileID: fileID, line: line, end: line, probe: line, isCallSite: false)
    }

    /// Every tagged declaration of a file.
    private static func taggedDeclarations(_ file: SwiftSourceFile) -> [TaggedDeclaration] {
        let lines = file.lines
        var found: [TaggedDeclaration] = []
        for (index, raw) in lines.enumerated() {
            let trimmed = raw.drop { $0 == " " }
            guard trimmed.hasPrefix("/// Python: "), let (name, pythonLine) = pythonTag(String(trimmed)),
                index + 1 < lines.count, !lines[index + 1].drop(while: { $0 == " " }).hasPrefix("///")
            else { continue }
            var docStart = index
            while docStart > 0, lines[docStart - 1].drop(while: { $0 == " " }).hasPrefix("///") { docStart -= 1 }
            // The declaration's own line: attributes on lines of their own come first.
            var line = index + 1
            while line + 1 < lines.count, lines[line].drop(while: { $0 == " " }).hasPrefix("@"),
                !lines[line].drop(while: { $0 == " " }).contains(" ")
            {
                line += 1
            }
            let header = lines[line]
            let (swiftName, isType) = declaredName(header)
            let end = declarationEnd(lines, from: line + 1) ?? (line + 1)
            found.append(
                TaggedDeclaration(
                    fileID: file.fileID, docStart: docStart + 1, line: line + 1, end: end,
                    pythonName: name, pythonLine: pythonLine,
                    enclosingType: enclosingType(lines, before: docStart, indentation: indentation(raw)),
                    swiftName: swiftName, isType: isType))
        }
        return found
    }

    /// `/// Python: BaseServer.serve_forever (Lib/socketserver.py:218)...` → the name and line.
    static func pythonTag(_ line: String) -> (String, Int)? {
        let marker = " (Lib/socketserver.py:"
        guard let open = line.firstRange(of: marker) else { return nil }
        let name = String(line[line.index(line.startIndex, offsetBy: "/// Python: ".count)..<open.lowerBound])
        let digits = line[open.upperBound...].prefix { $0.isNumber }
        guard !name.isEmpty, !name.contains(" "), let number = Int(digits),
            line[open.upperBound...].dropFirst(digits.count).first == ")"
        else { return nil }
        return (name, number)
    }

    /// The name a declaration line declares, and whether it declares a type.
    static func declaredName(_ line: String) -> (String, Bool) {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "(" || $0 == ":" || $0 == "<" || $0 == "{" })
        let types: Set<Substring> = ["class", "struct", "enum", "protocol", "extension", "actor"]
        for (position, word) in words.enumerated() {
            if word == "init" || word.hasPrefix("init?") || word == "deinit" { return ("init", false) }
            guard position + 1 < words.count else { continue }
            let member: Set<Substring> = ["func", "var", "let", "subscript"]
            if types.contains(word), !member.contains(words[position + 1]) { return (String(words[position + 1]), true) }
            if ["func", "var", "let", "case", "typealias", "subscript"].contains(word) {
                return (String(words[position + 1]), false)
            }
        }
        return ("", false)
    }

    /// The type that encloses a declaration indented by `indentation` whose doc comment starts
    /// at `line` (0-based), if any.
    static func enclosingType(_ lines: [String], before line: Int, indentation depth: Int) -> String? {
        guard depth > 0 else { return nil }
        for index in stride(from: line - 1, through: 0, by: -1) {
            let text = lines[index]
            let trimmed = text.drop { $0 == " " }
            if trimmed.isEmpty || trimmed.hasPrefix("//") || indentation(text) >= depth { continue }
            let (name, isType) = declaredName(text)
            return isType ? name : nil
        }
        return nil
    }

    /// Who calls each Python function, from the call sites in the tagged declarations' bodies.
    private static func callers(_ declarations: [TaggedDeclaration], _ files: [SwiftSourceFile]) -> [String: [String]] {
        let functions = declarations.filter { !$0.isType }
        var byMethod: [String: Set<String>] = [:]
        for declaration in functions { byMethod[declaration.pythonMethod, default: []].insert(declaration.pythonName) }
        var dispatchedMethods: Set<String> = []
        var sites: [(caller: TaggedDeclaration, text: String)] = []
        for declaration in functions {
            guard let file = files.first(where: { $0.fileID == declaration.fileID }) else { continue }
            for text in file.lines[(declaration.line - 1)..<declaration.end] {
                let code = String(text.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
                sites.append((declaration, code))
                for method in quotedArguments(of: "dispatched(", in: code) { dispatchedMethods.insert(method) }
            }
        }
        // The helpers no site dispatches, by Swift name (`reap`, `popAll`, `append`, `join`);
        // initializers are called through a class (`requestHandlerClass.init`) or `super`.
        var helpers: [String: Set<String>] = [:]
        for declaration in functions where !dispatchedMethods.contains(declaration.pythonMethod) && declaration.swiftName != "init" {
            helpers[declaration.swiftName, default: []].insert(declaration.pythonName)
        }
        // Properties that hold a port object (`_threads`) or a class (`requestHandlerClass`).
        var holders: Set<String> = []
        var classHolders: [String: String] = [:]
        for declaration in declarations where !declaration.isType {
            guard let file = files.first(where: { $0.fileID == declaration.fileID }) else { continue }
            let header = file.lines[declaration.line - 1]
            guard header.contains(" var ") || header.contains(" let ") else { continue }
            holders.insert(declaration.swiftName)
            if let colon = header.firstRange(of: ": "), let dotType = header[colon.upperBound...].firstRange(of: ".Type") {
                classHolders[declaration.swiftName] = String(header[colon.upperBound..<dotType.lowerBound])
            }
        }
        var calls: [String: Set<String>] = [:]
        func add(_ callees: Set<String>, from caller: String) {
            for callee in callees where callee != caller { calls[callee, default: []].insert(caller) }
        }
        for (caller, code) in sites {
            for method in quotedArguments(of: "dispatched(", in: code) { add(byMethod[method] ?? [], from: caller.pythonName) }
            for (receiver, name) in calledNames(in: code) {
                if name == "init", let receiver, let held = classHolders[receiver] {
                    add(resolved("__init__", in: held).map { [$0] } ?? [], from: caller.pythonName)
                } else if receiver == "super", let type = caller.enclosingType,
                    let superclass = ClassModel.pyClass(named: type)?.swift?.superclass
                {
                    let method = name == "init" ? "__init__" : pythonMethod(ofSwiftName: name, functions)
                    add(method.flatMap { resolved($0, in: superclass) }.map { [$0] } ?? [], from: caller.pythonName)
                } else if receiver == nil || receiver == "self" || holders.contains(receiver!) {
                    add(helpers[name] ?? [], from: caller.pythonName)
                }
            }
        }
        return calls.mapValues { $0.sorted() }
    }

    /// The Python method a Swift method name stands for (`serverClose` → `server_close`).
    private static func pythonMethod(ofSwiftName name: String, _ functions: [TaggedDeclaration]) -> String? {
        functions.first { $0.swiftName == name }?.pythonMethod
    }

    /// `Class.method` of the version of `method` that runs for `className`, per the class model.
    private static func resolved(_ method: String, in className: String) -> String? {
        ClassModel.resolve(method: method, in: className).map { "\($0).\(method)" }
    }

    /// The string literals that open the argument lists of `call` in `code`
    /// (`dispatched("setup", self)` → `setup`).
    static func quotedArguments(of call: String, in code: String) -> [String] {
        var found: [String] = []
        var rest = Substring(code)
        while let range = rest.firstRange(of: call + "\"") {
            let after = rest[range.upperBound...]
            guard let close = after.firstIndex(of: "\"") else { break }
            found.append(String(after[..<close]))
            rest = after[close...]
        }
        return found
    }

    /// The calls written in `code`: each name followed by `(` (but not after `func`), with the
    /// name before its dot if it has one (`_threads.append(t)` → `("_threads", "append")`,
    /// `reap()` → `(nil, "reap")`).
    static func calledNames(in code: String) -> [(receiver: String?, name: String)] {
        let characters = Array(code)
        var found: [(String?, String)] = []
        func isName(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" }
        var index = 0
        var inString = false
        while index < characters.count {
            let c = characters[index]
            if c == "\"" { inString.toggle() }
            guard !inString, isName(c), index == 0 || !isName(characters[index - 1]) else {
                index += 1
                continue
            }
            var end = index
            while end < characters.count, isName(characters[end]) { end += 1 }
            let name = String(characters[index..<end])
            let declared = index >= 5 && String(characters[(index - 5)..<index]) == "func "
            if end < characters.count, characters[end] == "(", !characters[index].isNumber, !declared {
                var receiver: String?
                if index > 0, characters[index - 1] == "." {
                    var start = index - 1
                    while start > 0, isName(characters[start - 1]) { start -= 1 }
                    receiver = start < index - 1 ? String(characters[start..<(index - 1)]) : ""
                }
                found.append((receiver, name))
            }
            index = end
        }
        return found
    }
}

/// The number of leading spaces.
func indentation(_ line: String) -> Int { line.prefix { $0 == " " }.count }

/// Whether a line starts a function-like declaration (`func`, `init`, `deinit`, `subscript`).
func isFunctionHeader(_ line: String) -> Bool {
    let trimmed = line.drop { $0 == " " }
    if trimmed.hasPrefix("//") || trimmed.hasPrefix("@") && !trimmed.contains(" ") { return false }
    let words = trimmed.split(whereSeparator: { $0 == " " || $0 == "(" || $0 == "<" })
    let modifiers: Set<Substring> = [
        "public", "open", "private", "fileprivate", "internal", "final", "override", "required", "convenience",
        "static", "class", "mutating", "nonmutating", "@discardableResult", "@inline(__always)", "@inlinable",
        "nonisolated",
    ]
    for word in words {
        if modifiers.contains(word) || word.hasPrefix("@") { continue }
        return word == "func" || word == "init" || word == "init?" || word == "deinit" || word == "subscript"
    }
    return false
}

/// The 1-based last line of the declaration that starts on 1-based line `start`: where every
/// brace, parenthesis and bracket opened since its start is closed again (outside strings and
/// comments), or its first line when it has no body. Public for the Walkthrough's drift test,
/// which cuts its Swift excerpts by the same rule.
public func declarationEnd(_ lines: [String], from start: Int) -> Int? {
    enum Mode { case code, string(multiline: Bool), interpolation(parens: Int) }
    var modes: [Mode] = [.code]
    var depth = 0  // braces, parentheses and brackets of code
    var inBlockComment = false
    guard start >= 1, start <= lines.count else { return nil }
    for index in (start - 1)..<lines.count {
        let characters = Array(lines[index])
        var position = 0
        func isTripleQuote(_ at: Int) -> Bool {
            at + 2 < characters.count && characters[at] == "\"" && characters[at + 1] == "\""
                && characters[at + 2] == "\""
        }
        scan: while position < characters.count {
            let c = characters[position]
            let next: Character? = position + 1 < characters.count ? characters[position + 1] : nil
            if inBlockComment {
                if c == "*" && next == "/" { inBlockComment = false; position += 1 }
                position += 1
                continue
            }
            switch modes.last! {
            case .string(let multiline):
                if c == "\\" {
                    if next == "(" { modes.append(.interpolation(parens: 0)) }
                    position += 2
                    continue
                }
                if c == "\"" && (!multiline || isTripleQuote(position)) {
                    modes.removeLast()
                    position += multiline ? 3 : 1
                    continue
                }
            case .code, .interpolation:
                if c == "/" && next == "/" { break scan }
                if c == "/" && next == "*" {
                    inBlockComment = true
                    position += 2
                    continue
                }
                if c == "\"" {
                    let multiline = isTripleQuote(position)
                    modes.append(.string(multiline: multiline))
                    position += multiline ? 3 : 1
                    continue
                }
                if case .interpolation(let parens) = modes.last! {
                    if c == "(" { modes[modes.count - 1] = .interpolation(parens: parens + 1) }
                    if c == ")" {
                        if parens == 0 { modes.removeLast() } else { modes[modes.count - 1] = .interpolation(parens: parens - 1) }
                    }
                } else if "{([".contains(c) {
                    depth += 1
                } else if "})]".contains(c) {
                    depth -= 1
                }
            }
            position += 1
        }
        let trimmed = lines[index].drop { $0 == " " }
        let attributeOnly = trimmed.hasPrefix("@") && !trimmed.contains(" ")
        if modes.count == 1 && !inBlockComment && depth <= 0 && !attributeOnly { return index + 1 }
    }
    return nil
}
