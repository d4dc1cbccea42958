// Swift-only: a trace written as JSON Lines, read back into a recording.
//
// Two writers produce such files: the JSON Lines view (`--format jsonl`: one call, return or
// raise per line) and the Python tracer the CLI ships, which records a CPython program with
// `sys.setprofile` and also writes where each thread and forked child came from, each lane's
// name and how each child ended. Whatever wrote it, the file becomes a `Recording`, so that
// every view shows a CPython program as it shows the port.
//
// The line kinds, by their `event` field:
//   call, return, raise   `function`, `self`, `py_line`, `process`, `thread`, `request`, `depth`,
//                         `t` (microseconds), `detail`; `swift`, `swift_file`, `swift_line`,
//                         `pid`, `tid` when known
//   process               `process`, `pid`, `parent`: a process, P0 or a forked child
//   thread                `process`, `thread`, `name`, `pid`, `tid`: a lane's thread
//   spawn                 `kind` (thread or fork), `process`, `thread`, `name`, `parent_process`,
//                         `parent_thread`, `position`, `depth`, `request`, `t`
//   exit                  `process`, `status`: a child called os._exit(status)
//   truncated             `process`, `limit`: the tracer wrote no more events (read, and left out)
import Sockets

/// A line of a trace file that is not what a trace holds.
public struct TraceFileError: Error, CustomStringConvertible {
    /// The line (1-based) and what is wrong with it.
    public let description: String
}

/// The recording a JSON Lines trace holds, lines in the order written.
///
/// - Parameters:
///   - text: the file's text.
///   - deterministic: how views show the recording (see ``Recording/deterministic``).
/// - Throws: ``TraceFileError`` naming the first line that is no JSON object or lacks a field.
public func readTraceFile(_ text: String, deterministic: Bool) throws(TraceFileError) -> Recording {
    var reader = TraceFileReader()
    for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
    where !line.allSatisfy(\.isWhitespace) {
        do throws(JSONError) {
            guard case .object(let fields) = try JSONValue.parse(Array(line.utf8)) else {
                throw JSONError("not a JSON object")
            }
            try reader.add(TraceLine(fields: fields))
        } catch {
            throw TraceFileError(description: "line \(index + 1): \(error.message)")
        }
    }
    return reader.recording(deterministic: deterministic)
}

/// Builds a recording line by line.
private struct TraceFileReader {
    var events: [TraceEvent] = []
    var processes: [TraceProcess] = []
    var threads: [TraceThread] = []
    var spawns: [TraceSpawn] = []
    var exits: [String: Int32] = [:]
    /// The frames open on each lane, to give each return the identity of its call.
    var open: [LaneID: [TraceFrameID]] = [:]
    var nextFrame = 0

    mutating func add(_ line: TraceLine) throws(JSONError) {
        let kind = try line.string("event")
        switch kind {
        case "call", "return", "raise":
            let process = try line.string("process"), thread = try line.string("thread")
            let lane = LaneID(process: process, thread: thread)
            let frame: TraceFrameID
            if kind == "call" {
                frame = TraceFrameID(process: process, number: nextFrame)
                nextFrame += 1
                open[lane, default: []].append(frame)
            } else if let opened = open[lane]?.popLast() {
                frame = opened
            } else {
                // The end of a frame the lane inherited (a child ending its parent's call).
                frame = TraceFrameID(process: process, number: nextFrame)
                nextFrame += 1
            }
            let function = try line.string("function")
            let dot = function.lastIndex(of: ".")
            events.append(
                TraceEvent(
                    seq: events.count, kind: TraceEvent.Kind(rawValue: kind)!, function: function,
                    definingClass: dot.map { String(function[..<$0]) } ?? "",
                    selfClass: try line.optionalString("self") ?? "",
                    method: dot.map { String(function[function.index(after: $0)...]) } ?? function,
                    swift: try line.optionalString("swift") ?? "", pyLine: try line.optionalInt("py_line"),
                    process: process, thread: thread, pid: Int32(try line.optionalInt("pid") ?? 0),
                    tid: Int32(try line.optionalInt("tid") ?? 0), request: try line.optionalInt("request"),
                    depth: try line.int("depth"), time: UInt64(max(0, try line.int("t"))) * 1000,
                    detail: try line.string("detail"), frame: frame,
                    swiftFile: try line.optionalString("swift_file"), swiftLine: try line.optionalInt("swift_line")))
        case "process":
            processes.append(
                TraceProcess(
                    label: try line.string("process"), pid: Int32(try line.int("pid")),
                    parent: try line.optionalString("parent"), exitStatus: nil))
        case "thread":
            threads.append(
                TraceThread(
                    process: try line.string("process"), label: try line.string("thread"),
                    name: try line.string("name"), pid: Int32(try line.int("pid")), tid: Int32(try line.int("tid"))))
        case "spawn":
            guard let spawnKind = TraceSpawn.Kind(rawValue: try line.string("kind")) else {
                throw JSONError("unknown spawn kind")
            }
            spawns.append(
                TraceSpawn(
                    kind: spawnKind, process: try line.string("process"), thread: try line.string("thread"),
                    name: try line.string("name"), parentProcess: try line.string("parent_process"),
                    parentThread: try line.string("parent_thread"), parentFrame: nil,
                    position: try line.int("position"), depth: try line.int("depth"),
                    request: try line.optionalInt("request"), time: UInt64(max(0, try line.int("t"))) * 1000,
                    started: true))
        case "exit":
            exits[try line.string("process")] = Int32(truncatingIfNeeded: try line.int("status"))
        case "truncated":
            break
        default:
            throw JSONError("unknown event \(pyStrRepr(kind))")
        }
    }

    /// The recording: processes ordered as the recorder orders them (P0, then children in
    /// fork order), the ones only events name added, exit statuses filled in.
    func recording(deterministic: Bool) -> Recording {
        var processes = self.processes
        for event in events where !processes.contains(where: { $0.label == event.process }) {
            processes.append(TraceProcess(label: event.process, pid: event.pid, parent: nil, exitStatus: nil))
        }
        for index in processes.indices { processes[index].exitStatus = exits[processes[index].label] }
        processes.sort { labelNumbers($0.label).lexicographicallyPrecedes(labelNumbers($1.label)) }
        var threads = self.threads
        for event in events where !threads.contains(where: { $0.process == event.process && $0.label == event.thread }) {
            threads.append(TraceThread(process: event.process, label: event.thread, name: "thread", pid: event.pid, tid: event.tid))
        }
        threads.sort { LaneID(process: $0.process, thread: $0.label) < LaneID(process: $1.process, thread: $1.label) }
        return Recording(
            deterministic: deterministic, origin: 0, events: events, processes: processes, threads: threads,
            spawns: spawns)
    }
}

/// The fields of one line, read by name.
private struct TraceLine {
    let fields: [String: JSONValue]

    func string(_ name: String) throws(JSONError) -> String { try required(name, try optionalString(name)) }

    func optionalString(_ name: String) throws(JSONError) -> String? {
        try optional(name, "a string") { if case .string(let text) = $0 { text } else { nil } }
    }

    func int(_ name: String) throws(JSONError) -> Int { try required(name, try optionalInt(name)) }

    func optionalInt(_ name: String) throws(JSONError) -> Int? {
        try optional(name, "an integer") { if case .integer(let number) = $0 { number } else { nil } }
    }

    /// The field `name` as `extract` reads it; nil when it is absent or null.
    private func optional<T>(_ name: String, _ kind: String, _ extract: (JSONValue) -> T?) throws(JSONError) -> T? {
        guard let value = fields[name], value != .null else { return nil }
        guard let read = extract(value) else { throw JSONError("\(name) is not \(kind)") }
        return read
    }

    private func required<T>(_ name: String, _ value: T?) throws(JSONError) -> T {
        guard let value else { throw JSONError("no \(name) field") }
        return value
    }
}

/// What a JSON text is not.
struct JSONError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// A JSON value (RFC 8259), as much as a trace needs: numbers are integers or doubles.
enum JSONValue: Equatable {
    case null
    case bool(Bool)
    case integer(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The one value `bytes` hold.
    static func parse(_ bytes: [UInt8]) throws(JSONError) -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.index == bytes.count else { throw JSONError("text after the value at byte \(parser.index + 1)") }
        return value
    }
}

/// A recursive-descent parser over UTF-8 bytes.
private struct JSONParser {
    let bytes: [UInt8]
    var index = 0

    /// Deeper nesting than a trace ever has is refused rather than allowed to exhaust the stack.
    static let maxDepth = 64

    mutating func skipSpace() {
        while index < bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[index]) { index += 1 }
    }

    func fail(_ what: String) -> JSONError { JSONError("\(what) at byte \(index + 1)") }

    mutating func expect(_ literal: String) throws(JSONError) {
        let utf8 = Array(literal.utf8)
        guard index + utf8.count <= bytes.count, Array(bytes[index..<index + utf8.count]) == utf8 else {
            throw fail("expected \(literal)")
        }
        index += utf8.count
    }

    mutating func value(depth: Int) throws(JSONError) -> JSONValue {
        guard depth < Self.maxDepth else { throw fail("nesting too deep") }
        skipSpace()
        guard index < bytes.count else { throw fail("expected a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            var fields: [String: JSONValue] = [:]
            try items(closedBy: UInt8(ascii: "}"), "object") { (parser: inout JSONParser) throws(JSONError) in
                parser.skipSpace()
                guard parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: "\"") else {
                    throw parser.fail("expected a key")
                }
                let key = try parser.string()
                parser.skipSpace()
                try parser.expect(":")
                fields[key] = try parser.value(depth: depth + 1)
            }
            return .object(fields)
        case UInt8(ascii: "["):
            var elements: [JSONValue] = []
            try items(closedBy: UInt8(ascii: "]"), "array") { (parser: inout JSONParser) throws(JSONError) in
                elements.append(try parser.value(depth: depth + 1))
            }
            return .array(elements)
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"):
            try expect("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expect("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expect("null")
            return .null
        default:
            return try number()
        }
    }

    /// The items of an object or an array, from its opening bracket (the index is on it) to
    /// `close`: `item` reads one; commas separate them.
    mutating func items(
        closedBy close: UInt8, _ what: String, _ item: (inout JSONParser) throws(JSONError) -> Void
    ) throws(JSONError) {
        index += 1
        skipSpace()
        if index < bytes.count, bytes[index] == close {
            index += 1
            return
        }
        while true {
            try item(&self)
            skipSpace()
            guard index < bytes.count else { throw fail("unclosed \(what)") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == close {
                index += 1
                return
            } else {
                throw fail("expected , or \(Character(Unicode.Scalar(close)))")
            }
        }
    }

    mutating func number() throws(JSONError) -> JSONValue {
        let start = index
        var integral = true
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        while index < bytes.count {
            let byte = bytes[index]
            if byte >= 0x30 && byte <= 0x39 {
                index += 1
            } else if [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"), UInt8(ascii: "-")].contains(byte) {
                integral = false
                index += 1
            } else {
                break
            }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if integral, let number = Int(text) { return .integer(number) }
        if !integral, let number = Double(text) { return .double(number) }
        index = start
        throw fail("expected a value")
    }

    /// A string literal; the index is on its opening quote.
    mutating func string() throws(JSONError) -> String {
        index += 1
        var scalars = String.UnicodeScalarView()
        var run = index
        func flush(_ end: Int) { scalars.append(contentsOf: String(decoding: bytes[run..<end], as: UTF8.self).unicodeScalars) }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                flush(index)
                index += 1
                return String(scalars)
            }
            if byte < 0x20 { throw fail("control character in a string") }
            guard byte == UInt8(ascii: "\\") else {
                index += 1
                continue
            }
            flush(index)
            index += 1
            guard index < bytes.count else { break }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""): scalars.append("\"")
            case UInt8(ascii: "\\"): scalars.append("\\")
            case UInt8(ascii: "/"): scalars.append("/")
            case UInt8(ascii: "b"): scalars.append("\u{8}")
            case UInt8(ascii: "f"): scalars.append("\u{c}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code), index + 1 < bytes.count,
                    bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                {
                    let mark = index
                    index += 2
                    let low = try hex4()
                    if (0xDC00..<0xE000).contains(low) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        index = mark
                    }
                }
                // A lone surrogate is no scalar: it shows as the replacement character.
                scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
            default:
                index -= 1
                throw fail("unknown escape")
            }
            run = index
        }
        throw fail("unclosed string")
    }

    mutating func hex4() throws(JSONError) -> UInt32 {
        guard index + 4 <= bytes.count, let code = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16)
        else { throw fail("expected four hex digits") }
        index += 4
        return code
    }
}
