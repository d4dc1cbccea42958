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
        let count = bytes.count
        func startsWord(_ at: Int) -> Bool { at == 0 || !isWordByte(bytes[at - 1]) }
        func digitsEnd(_ from: Int) -> Int {
            var end = from
            while end < count, isDigit(bytes[end]) { end += 1 }
            return end
        }
        func matches(_ literal: String, at: Int) -> Bool {
            let utf8 = Array(literal.utf8)
            return at + utf8.count <= count && Array(bytes[at..<at + utf8.count]) == utf8
        }
        // The digits after `word` when a word starting here is `word` and one or more digits.
        func digits(after word: String) -> Range<Int>? {
            guard startsWord(index), matches(word, at: index) else { return nil }
            let start = index + word.utf8.count
            let end = digitsEnd(start)
            return end > start ? start..<end : nil
        }
        while index < count {
            let byte = bytes[index]
            // A temp path: `<tmpdir>/<name>` → `<tmpN>`.
            if byte == UInt8(ascii: "/"), index == 0 || !isPathByte(bytes[index - 1]),
                let prefix = tempPrefixes.first(where: { matchesBytes($0, in: bytes, at: index) })
            {
                var end = index + prefix.count
                while end < count, !endsPathComponent(bytes[end]) { end += 1 }
                if end > index + prefix.count {
                    let key = String(decoding: bytes[index..<end], as: UTF8.self)
                    let number = numberByFirstAppearance(key, in: &temporaries)
                    out.append(contentsOf: "<tmp\(number)>".utf8)
                    index = end
                    continue
                }
            }
            // An address tuple: `('host', <port>` → `('host', PORTN`.
            if byte == UInt8(ascii: "("), index + 1 < count, bytes[index + 1] == UInt8(ascii: "'") {
                var quote = index + 2
                while quote < count, bytes[quote] != UInt8(ascii: "'"), bytes[quote] != 10 { quote += 1 }
                if quote + 3 < count, bytes[quote] == UInt8(ascii: "'"),
                    bytes[quote + 1] == UInt8(ascii: ","), bytes[quote + 2] == UInt8(ascii: " ")
                {
                    let end = digitsEnd(quote + 3)
                    let port = String(decoding: bytes[(quote + 3)..<end], as: UTF8.self)
                    if end > quote + 3, port != "0", end == count || !isWordByte(bytes[end]) {
                        out.append(contentsOf: bytes[index..<(quote + 3)])
                        out.append(contentsOf: "PORT\(numberByFirstAppearance(port, in: &ports))".utf8)
                        index = end
                        continue
                    }
                }
            }
            // A descriptor in a socket's repr: `fd=5` → `fd=FDN`.
            if byte == UInt8(ascii: "f"), let number = digits(after: "fd=") {
                let text = String(decoding: bytes[number], as: UTF8.self)
                out.append(contentsOf: "fd=FD\(descriptorName(text, request: request))".utf8)
                index = number.upperBound
                continue
            }
            // A memory address.
            if byte == UInt8(ascii: "0"), startsWord(index), matches("0x", at: index) {
                var end = index + 2
                while end < count, isHexDigit(bytes[end]) { end += 1 }
                if end - index >= 6 {
                    out.append(contentsOf: "0xADDR".utf8)
                    index = end
                    continue
                }
            }
            // A thread's default name: `Thread-7` → `Thread-N` by first appearance.
            if byte == UInt8(ascii: "T"), let number = digits(after: "Thread-") {
                let key = String(decoding: bytes[number], as: UTF8.self)
                out.append(contentsOf: "Thread-\(numberByFirstAppearance(key, in: &threadNumbers))".utf8)
                index = number.upperBound
                continue
            }
            // A number: a known pid (not part of a dotted number) becomes its process label.
            if isDigit(byte), startsWord(index), index == 0 || bytes[index - 1] != UInt8(ascii: ".") {
                let end = digitsEnd(index)
                let dotted = end < count && bytes[end] == UInt8(ascii: ".")
                let word = end < count && isWordByte(bytes[end])
                let text = String(decoding: bytes[index..<end], as: UTF8.self)
                if !dotted, !word, let label = pids[text] {
                    out.append(contentsOf: label.utf8)
                } else {
                    out.append(contentsOf: bytes[index..<end])
                }
                index = end
                continue
            }
            out.append(byte)
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
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
