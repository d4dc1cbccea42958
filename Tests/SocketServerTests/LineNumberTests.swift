// The map the whole companion rests on: every `Python: NAME (Lib/socketserver.py:N)` tag of the
// port and every `traced("NAME", line: N, ...)` probe must name the line where CPython 3.13's
// socketserver.py defines NAME. CPython itself says where: a small script walks the file's
// syntax tree. Without CPython 3.13 the test says so and checks nothing.
import Foundation
import Glibc
import SocketServer
import TestSupport
import Testing

/// Prints "NAME LINE" for everything socketserver.py defines: module-level and class-level
/// `def`, `class` and assignments (inside `if` blocks too), and each `self.x = ...` of a method
/// as `Class.x` (its first assignment). Lines are where the statement starts.
private let definitionsScript = #"""
    import ast, socketserver
    tree = ast.parse(open(socketserver.__file__).read())
    seen = {}
    def note(name, line):
        seen.setdefault(name, line)
    def names(target):
        if isinstance(target, ast.Name):
            return [target.id]
        if isinstance(target, ast.Tuple):
            return [n for t in target.elts for n in names(t)]
        return []
    def walk(body, prefix):
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                note(prefix + node.name, node.lineno)
                if isinstance(node, ast.ClassDef):
                    walk(node.body, prefix + node.name + ".")
                else:
                    owner = prefix[:-1]
                    for inner in ast.walk(node):
                        if isinstance(inner, (ast.Assign, ast.AnnAssign)):
                            targets = inner.targets if isinstance(inner, ast.Assign) else [inner.target]
                            flat = [e for t in targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
                            for t in flat:
                                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self" and owner:
                                    note(owner + "." + t.attr, inner.lineno)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    for n in names(t):
                        note(prefix + n, node.lineno)
            elif isinstance(node, (ast.If, ast.Try)):
                walk(node.body, prefix)
                walk(getattr(node, "orelse", []), prefix)
    walk(tree.body, "")
    for name, line in seen.items():
        print(name, line)
    """#

/// One line-number claim of the port: what it names, the line it gives, where it is.
struct LineClaim: CustomStringConvertible {
    let name: String
    let line: Int
    let place: String
    var description: String { "\(place): \(name) at line \(line)" }
}

/// Every `Python: NAME (Lib/socketserver.py:N)` tag and `traced("NAME", line: N` probe in the
/// Swift files of `folder`.
func lineClaims(in folder: String) -> [LineClaim] {
    var claims: [LineClaim] = []
    for (file, lines) in swiftSources(in: folder) {
        for (index, text) in lines.enumerated() {
            let place = "\(file):\(index + 1)"
            let isComment = text.drop { $0 == " " }.hasPrefix("//")
            // Tags live in comments; probes in code (a comment may show a probe as an example).
            let markers = isComment ? [("Python: ", " (Lib/socketserver.py:")] : [("traced(\"", "\", line: ")]
            for (marker, closing) in markers {
                guard let start = text.range(of: marker), let middle = text.range(of: closing, range: start.upperBound..<text.endIndex)
                else { continue }
                let name = String(text[start.upperBound..<middle.lowerBound])
                let digits = text[middle.upperBound...].prefix { $0.isNumber }
                if let line = Int(digits) { claims.append(LineClaim(name: name, line: line, place: place)) }
            }
        }
    }
    return claims
}

/// The Swift files of `folder`, in name order, each with its lines.
func swiftSources(in folder: String) -> [(file: String, lines: [Substring])] {
    directoryEntries(folder).sorted().filter { $0.hasSuffix(".swift") }.map { file in
        (file, readFile(folder + "/" + file).split(separator: "\n", omittingEmptySubsequences: false))
    }
}

/// What `read` finds in the port's sources (more than `minimum` of them, or the test fails),
/// and what CPython 3.13 printed for `script`; nil, with a note, when CPython 3.13 is not
/// installed.
func portAgainstCPython<Found>(
    _ read: (String) -> [Found], moreThan minimum: Int, script: String, for test: String
) throws -> ([Found], CPythonRun)? {
    let found = read(portSources)
    #expect(found.count > minimum, "found \(found.count) in \(portSources)")
    guard let python = try CPython.run(script, for: test) else { return nil }
    return (found, python)
}

/// The folder of the port's sources.
let portSources: String = {
    var path = #filePath.split(separator: "/").dropLast(3).joined(separator: "/")
    path = "/" + path + "/Sources/SocketServer"
    return path
}()

/// The port's sources read against CPython 3.13's socketserver.py: the line numbers here, the
/// comments' words in OwnWordsTests.swift.
@Suite("The port against CPython 3.13")
struct PortAgainstCPythonTests {
    @Test("every Python: tag and traced(line:) names the line CPython defines it at", .timeLimit(.minutes(1)))
    func everyLine() throws {
        guard let (claims, python) = try portAgainstCPython(lineClaims, moreThan: 200, script: definitionsScript, for: "the line-number map")
        else { return }
        var defined: [String: Int] = [:]
        for entry in python.stdout.split(separator: "\n") {
            let parts = entry.split(separator: " ")
            if parts.count == 2, let line = Int(parts[1]) { defined[String(parts[0])] = line }
        }
        #expect(defined["BaseServer.serve_forever"] != nil, "CPython's map: \(python.stderr)")
        let unknown = claims.filter { defined[$0.name] == nil }
        let wrong = claims.filter { claim in defined[claim.name].map { $0 != claim.line } ?? false }
        #expect(unknown.isEmpty, "names socketserver.py does not define: \(unknown)")
        #expect(
            wrong.isEmpty,
            "wrong lines: \(wrong.map { "\($0) (CPython: \(defined[$0.name]!))" })")
    }
}
