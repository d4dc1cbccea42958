// Swift-only: making details safe to print and, in deterministic mode, the same every run.
//
// A run binds ephemeral ports, gets whatever file descriptors and pids the system hands out and
// makes temp directories with random names; none of that may show in output that a test or the
// Walkthrough compares byte for byte. Each such value is renamed by its first appearance in the
// causal order (which is itself deterministic): `('127.0.0.1', PORT1)`, `fd=FD2`, `<tmp1>`,
// `Thread-3`, `P1` for a pid. Whatever the mode, control and direction-changing characters are
// escaped so that nothing a client sends can drive the reader's terminal.
//
// Where the recording has an event's values (the port's own calls), the descriptors, ports and
// pids among them are renamed by a switch over those values; text (a string, the bytes, a
// user's own detail, a forked child's events) is scanned for them. Both give the same names in
// the same order, so a detail reads the same whichever way it was made.
import Glibc
import SocketServer
import Sockets

/// Renames the run-specific values of details by first appearance, and escapes unsafe
/// characters.
struct DetailNormalizer {
    /// Whether run-specific values are renamed (deterministic mode); escaping always happens.
    let enabled: Bool
    private var ports: [String: Int] = [:]
    private var descriptors: [String: Int] = [:]
    private var temporaries: [String: Int] = [:]
    private var threadNumbers: [String: Int] = [:]
    private let pids: [String: String]
    private let tempPrefixes: [[UInt8]]

    /// - Parameters:
    ///   - enabled: rename run-specific values.
    ///   - processes: whose pids become their labels.
    init(enabled: Bool, processes: [TraceProcess]) {
        self.enabled = enabled
        var pids: [String: String] = [:]
        for process in processes where process.pid >= 100 { pids[String(process.pid)] = process.label }
        self.pids = pids
        var prefixes = [Array("/tmp/".utf8)]
        if let value = getenvString("TMPDIR"), !value.isEmpty {
            let prefix = value.hasSuffix("/") ? value : value + "/"
            if prefix != "/tmp/" { prefixes.insert(Array(prefix.utf8), at: 0) }
        }
        tempPrefixes = prefixes
    }

    /// A detail as views show it.
    ///
    /// - Parameters:
    ///   - request: the event's request: descriptors are renamed per request, because which
    ///     number the system reuses for the next connection depends on which thread closed
    ///     its socket first (all but the server's own, which keeps its name).
    ///   - descriptorResult: the detail is `-> <fd>` of `fileno`.
    mutating func detail(_ text: String, request: Int?, descriptorResult: Bool = false) -> String {
        let safe = escapeUnsafeCharacters(text)
        guard enabled else { return safe }
        if descriptorResult, safe.hasPrefix("-> "), let number = Int(safe.dropFirst(3)), number >= 0 {
            return "-> FD\(descriptorName(number, request: request))"
        }
        return rename(Array(safe.utf8), request: request)
    }

    /// An event's detail as views show it: from its values where the recording has them,
    /// else from its text (``detail(_:request:descriptorResult:)``).
    mutating func detail(of event: TraceEvent, descriptorResult: Bool = false) -> String {
        let scanned = { (me: inout DetailNormalizer) in
            me.detail(event.detail, request: event.request, descriptorResult: descriptorResult)
        }
        guard enabled, let values = event.values else { return scanned(&self) }
        switch values {
        case .arguments(let arguments):
            guard let named = arguments.namedValues, named.allSatisfy({ Self.isTyped($0.value) }) else {
                return scanned(&self)
            }
            return named.map { "\($0.name)=" + render($0.value, request: event.request) }.joined(separator: ", ")
        case .result(let value):
            guard Self.isTyped(value) else { return scanned(&self) }
            if descriptorResult, case .int(let number) = value, number >= 0 {
                return "-> FD\(descriptorName(number, request: event.request))"
            }
            return "-> " + render(value, request: event.request)
        }
    }

    /// Whether a value holds no text made at capture (which only the scan can read).
    private static func isTyped(_ value: TraceValue) -> Bool {
        switch value {
        case .text: return false
        case .tuple(let items): return items.allSatisfy(isTyped)
        default: return true
        }
    }

    /// One value with its run-specific parts renamed.
    private mutating func render(_ value: TraceValue, request: Int?) -> String {
        switch value {
        case .socket(let fd):
            guard fd >= 0 else { return "<socket fd=\(fd)>" }  // closed: nothing to rename
            return "<socket fd=FD\(descriptorName(fd, request: request))>"
        case .address(.inet(let host, let port)):
            guard let host = quotedHost(host) else { break }
            return "(\(host), \(portName(port)))"
        case .address(.inet6(let host, let port, let flowinfo, let scopeID)):
            guard let host = quotedHost(host) else { break }
            return "(\(host), \(portName(port)), \(flowinfo), \(scopeID))"
        case .int(let number):
            let digits = String(number.magnitude)
            return (number < 0 ? "-" : "") + (pids[digits] ?? digits)
        case .tuple(let items):
            let texts = items.map { render($0, request: request) }
            return texts.count == 1 ? "(\(texts[0]),)" : "(\(texts.joined(separator: ", ")))"
        default:
            break
        }
        return rename(Array(escapeUnsafeCharacters(value.description).utf8), request: request)
    }

    /// A host's repr with its own text renamed, when the text rule would see a port after it
    /// (a single-quoted repr on one line); nil otherwise, so that the value is scanned whole.
    private mutating func quotedHost(_ host: String) -> String? {
        let repr = escapeUnsafeCharacters(pyStrRepr(host))
        guard repr.hasPrefix("'"), !host.contains("'"), !repr.contains("\n") else { return nil }
        return rename(Array(repr.utf8), request: nil)
    }

    /// `PORTn` by first appearance; port 0 (ask the system for one) stays as it is.
    private mutating func portName(_ port: Int) -> String {
        guard port != 0 else { return "0" }
        return "PORT\(numberByFirstAppearance(String(port), in: &ports))"
    }

    /// A thread or process name as views show it (`Thread-N` renumbered).
    mutating func name(_ text: String) -> String { detail(text, request: nil) }

    /// The name of descriptor `number` as seen in `request`: a descriptor first seen outside
    /// any request (the server's own socket) keeps that name everywhere, so a datagram
    /// request's socket is the `FD1` that `fileno` returned; the others are named per request.
    private mutating func descriptorName(_ number: CustomStringConvertible, request: Int?) -> Int {
        if let server = descriptors["0/\(number)"] { return server }
        return descriptorName("\(request ?? 0)/\(number)")
    }

    private mutating func descriptorName(_ key: String) -> Int {
        numberByFirstAppearance(key, in: &descriptors)
    }

    /// One pass over the bytes, renaming what it recognises.
    private mutating func rename(_ bytes: [UInt8], request: Int?) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if let (text, end) = renaming(bytes, at: index, request: request) {
                out.append(contentsOf: text.utf8)
                index = end
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The new text for what starts at `index`, and where it ends; nil when nothing starts there.
    private mutating func renaming(_ bytes: [UInt8], at index: Int, request: Int?) -> (String, Int)? {
        let count = bytes.count
        let byte = bytes[index]
        let startsWord = index == 0 || !isWordByte(bytes[index - 1])
        func digitsEnd(_ from: Int) -> Int {
            var end = from
            while end < count, isDigit(bytes[end]) { end += 1 }
            return end
        }
        // The digits after `word` when a word starting here is `word` and one or more digits.
        func digits(after word: String) -> Range<Int>? {
            let literal = Array(word.utf8)
            guard startsWord, matchesBytes(literal, in: bytes, at: index) else { return nil }
            let end = digitsEnd(index + literal.count)
            return end > index + literal.count ? (index + literal.count)..<end : nil
        }
        func text(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

        switch byte {
        case UInt8(ascii: "/"):
            // A temp path: `<tmpdir>/<name>` → `<tmpN>`.
            guard index == 0 || !isPathByte(bytes[index - 1]),
                let prefix = tempPrefixes.first(where: { matchesBytes($0, in: bytes, at: index) })
            else { return nil }
            var end = index + prefix.count
            while end < count, !endsPathComponent(bytes[end]) { end += 1 }
            guard end > index + prefix.count else { return nil }
            return ("<tmp\(numberByFirstAppearance(text(index..<end), in: &temporaries))>", end)
        case UInt8(ascii: "("):
            // An address tuple: `('host', <port>` → `('host', PORTN`.
            guard index + 1 < count, bytes[index + 1] == UInt8(ascii: "'") else { return nil }
            var quote = index + 2
            while quote < count, bytes[quote] != UInt8(ascii: "'"), bytes[quote] != 10 { quote += 1 }
            guard quote + 3 < count, bytes[quote] == UInt8(ascii: "'"),
                bytes[quote + 1] == UInt8(ascii: ","), bytes[quote + 2] == UInt8(ascii: " ")
            else { return nil }
            let end = digitsEnd(quote + 3)
            let port = text((quote + 3)..<end)
            guard end > quote + 3, port != "0", end == count || !isWordByte(bytes[end]) else { return nil }
            return (text(index..<(quote + 3)) + "PORT\(numberByFirstAppearance(port, in: &ports))", end)
        case UInt8(ascii: "f"):
            // A descriptor in a socket's repr: `fd=5` → `fd=FDN`.
            guard let number = digits(after: "fd=") else { return nil }
            return ("fd=FD\(descriptorName(text(number), request: request))", number.upperBound)
        case UInt8(ascii: "0") where startsWord && matchesBytes(Array("0x".utf8), in: bytes, at: index):
            // A memory address.
            var end = index + 2
            while end < count, isHexDigit(bytes[end]) { end += 1 }
            return end - index >= 6 ? ("0xADDR", end) : nil
        case UInt8(ascii: "T"):
            // A thread's default name: `Thread-7` → `Thread-N` by first appearance.
            guard let number = digits(after: "Thread-") else { return nil }
            return ("Thread-\(numberByFirstAppearance(text(number), in: &threadNumbers))", number.upperBound)
        case _ where isDigit(byte):
            // A number: a known pid (not part of a dotted number) becomes its process label.
            guard startsWord, index == 0 || bytes[index - 1] != UInt8(ascii: ".") else { return nil }
            let end = digitsEnd(index)
            let dotted = end < count && bytes[end] == UInt8(ascii: ".")
            let word = end < count && isWordByte(bytes[end])
            let number = text(index..<end)
            return (!dotted && !word ? pids[number] ?? number : number, end)
        default:
            return nil
        }
    }
}

/// The number `key` has in `table`: its own if seen before, else the next one (1, 2, ...).
private func numberByFirstAppearance(_ key: String, in table: inout [String: Int]) -> Int {
    if let known = table[key] { return known }
    table[key] = table.count + 1
    return table.count
}

private func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }

private func isHexDigit(_ byte: UInt8) -> Bool {
    isDigit(byte) || (byte >= 97 && byte <= 102) || (byte >= 65 && byte <= 70)
}

private func isWordByte(_ byte: UInt8) -> Bool {
    isDigit(byte) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || byte == 95
}

private func isPathByte(_ byte: UInt8) -> Bool {
    isWordByte(byte) || byte == UInt8(ascii: "/") || byte == UInt8(ascii: ".")
        || byte == UInt8(ascii: "-")
}

private func endsPathComponent(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "/"), UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: " "),
        UInt8(ascii: ","), UInt8(ascii: ")"), UInt8(ascii: ">"), UInt8(ascii: "\\"), 10:
        return true
    default:
        return false
    }
}

private func matchesBytes(_ literal: [UInt8], in bytes: [UInt8], at index: Int) -> Bool {
    guard index + literal.count <= bytes.count else { return false }
    for offset in literal.indices where bytes[index + offset] != literal[offset] { return false }
    return true
}

/// An environment variable, without Foundation.
func getenvString(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    return String(cString: value)
}
