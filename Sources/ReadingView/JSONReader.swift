// Swift-only: reading JSON, for the JSON Lines a reader hands to `html --input`.
//
// The Sources import no Foundation, so this is a small parser of RFC 8259 JSON over UTF-8
// bytes. Its errors read as Python's `json` module words them ("Expecting ',' delimiter:
// line 1 column 12 (char 11)"), because the file may come from CPython's side of the project.

/// A JSON value.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    /// A number, as written (`12`, `-0.5e3`).
    case number(String)
    case string(String)
    case array([JSONValue])
    /// The members in the order written (a later duplicate key wins on lookup, as in Python).
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The member `key` of an object (the last one written under that key).
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.0 == key }?.1
    }

    /// The text of a string.
    public var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// A number that is a whole number (`12`, not `12.5`).
    public var int: Int? {
        if case .number(let text) = self { return Int(text) }
        return nil
    }

    /// Whether it is `null`.
    public var isNull: Bool { self == .null }
}

/// Why a text is no JSON: Python's message and where.
public struct JSONError: Error, Equatable, CustomStringConvertible {
    /// What was expected (`"Expecting value"`).
    public let message: String
    /// 1-based line and column, as Python counts them (in characters).
    public let line: Int
    public let column: Int
    /// 0-based character offset.
    public let offset: Int

    /// `Expecting value: line 1 column 1 (char 0)`.
    public var description: String { "\(message): line \(line) column \(column) (char \(offset))" }
}

/// Parses one JSON text (surrounding whitespace allowed, nothing else after the value).
public func parseJSON(_ text: String) throws(JSONError) -> JSONValue {
    var parser = JSONParser(Array(text.utf8))
    parser.skipSpace()
    let value = try parser.value(depth: 0)
    parser.skipSpace()
    if parser.index < parser.bytes.count { throw parser.error("Extra data") }
    return value
}

/// A recursive-descent parser over UTF-8 bytes.
private struct JSONParser {
    let bytes: [UInt8]
    var index = 0
    /// Deeper nesting than this is refused rather than risking the stack.
    static let maximumDepth = 512

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// An error at `at` (default: here), with Python's line, column and character offset.
    func error(_ message: String, at position: Int? = nil) -> JSONError {
        let end = min(position ?? index, bytes.count)
        var line = 1
        var column = 1
        var offset = 0
        for byte in bytes[..<end] where byte & 0xC0 != 0x80 {  // count characters, not bytes
            offset += 1
            if byte == 10 {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return JSONError(message: message, line: line, column: column, offset: offset)
    }

    mutating func skipSpace() {
        while index < bytes.count, [32, 9, 10, 13].contains(bytes[index]) { index += 1 }
    }

    mutating func value(depth: Int) throws(JSONError) -> JSONValue {
        guard index < bytes.count else { throw error("Expecting value") }
        if depth > Self.maximumDepth { throw error("Nesting too deep") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        default: return try number()
        }
    }

    mutating func literal(_ word: String, _ value: JSONValue) throws(JSONError) -> JSONValue {
        let utf8 = Array(word.utf8)
        guard index + utf8.count <= bytes.count, Array(bytes[index..<index + utf8.count]) == utf8 else {
            throw error("Expecting value")
        }
        index += utf8.count
        return value
    }

    mutating func number() throws(JSONError) -> JSONValue {
        let start = index
        func digits() -> Int {
            let from = index
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 { index += 1 }
            return index - from
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 else {
            throw error("Expecting value", at: start)
        }
        if bytes[index] == 48 { index += 1 } else { _ = digits() }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            let dot = index
            index += 1
            if digits() == 0 { index = dot }  // `1.` is `1` followed by extra data, as in Python
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            let mark = index
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            if digits() == 0 { index = mark }
        }
        return .number(String(decoding: bytes[start..<index], as: UTF8.self))
    }

    mutating func string() throws(JSONError) -> String {
        let start = index
        index += 1
        var out: [UInt8] = []
        while true {
            guard index < bytes.count else { throw error("Unterminated string starting at", at: start) }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: out, as: UTF8.self)
            }
            if byte < 0x20 { throw error("Invalid control character at") }
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                index += 1
                continue
            }
            guard index + 1 < bytes.count else { throw error("Unterminated string starting at", at: start) }
            let escape = bytes[index + 1]
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "u"):
                var scalar = try hexQuad(at: index + 2)
                index += 6
                // A surrogate pair is one character; a lone surrogate becomes U+FFFD.
                if (0xD800..<0xDC00).contains(scalar), index + 1 < bytes.count,
                    bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u"),
                    let low = try? hexQuad(at: index + 2), (0xDC00..<0xE000).contains(low)
                {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
                }
                out.append(contentsOf: String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8)
                continue
            default:
                throw error("Invalid \\escape")
            }
            index += 2
        }
    }

    /// The four hex digits at `at`, as a number.
    func hexQuad(at position: Int) throws(JSONError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw error("Invalid \\uXXXX escape", at: position - 2) }
        var value: UInt32 = 0
        for byte in bytes[position..<position + 4] {
            let digit: UInt32
            switch byte {
            case 48...57: digit = UInt32(byte - 48)
            case 65...70: digit = UInt32(byte - 55)
            case 97...102: digit = UInt32(byte - 87)
            default: throw error("Invalid \\uXXXX escape", at: position - 2)
            }
            value = value * 16 + digit
        }
        return value
    }

    mutating func array(depth: Int) throws(JSONError) -> JSONValue {
        index += 1
        var items: [JSONValue] = []
        skipSpace()
        if skip(UInt8(ascii: "]")) { return .array(items) }
        repeat {
            skipSpace()
            items.append(try value(depth: depth + 1))
        } while try another(before: UInt8(ascii: "]"))
        return .array(items)
    }

    mutating func object(depth: Int) throws(JSONError) -> JSONValue {
        index += 1
        var members: [(String, JSONValue)] = []
        skipSpace()
        if skip(UInt8(ascii: "}")) { return .object(members) }
        repeat {
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw error("Expecting property name enclosed in double quotes")
            }
            let key = try string()
            skipSpace()
            guard skip(UInt8(ascii: ":")) else { throw error("Expecting ':' delimiter") }
            skipSpace()
            members.append((key, try value(depth: depth + 1)))
        } while try another(before: UInt8(ascii: "}"))
        return .object(members)
    }

    /// Steps over `byte` if it comes next.
    mutating func skip(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// After an item of an array or object: true and past the `,` when another item follows,
    /// false and past `closing` when the container ends there.
    mutating func another(before closing: UInt8) throws(JSONError) -> Bool {
        skipSpace()
        if skip(closing) { return false }
        guard skip(UInt8(ascii: ",")) else { throw error("Expecting ',' delimiter") }
        return true
    }
}
