// Swift-only: how a forked child's events reach its parent.
//
// Each child appends one record to the parent recorder's spool (an unlinked temp file opened
// with O_APPEND) in a single `write()` right before `_exit`, so records of concurrent children
// never interleave. A record is `R<length>\n` followed by netstrings (`<length>:<bytes>,`):
// trivial to write without Foundation in a child, and exact for any bytes a detail holds.
import Glibc

/// Encodes, decodes, writes and reads spool records.
enum SpoolCodec {
    /// What the bytes at an offset hold.
    enum Decoded {
        /// A whole record, and where the next one starts.
        case report(ChildReport, next: Int)
        /// A whole record that does not parse: skip to `next`.
        case skip(next: Int)
        /// Nothing, or a record still being written.
        case incomplete
        /// Not a record header: nothing after it can be trusted.
        case corrupt
    }

    /// One record holding `report`.
    static func encode(_ report: ChildReport) -> [UInt8] {
        var out = SpoolWriter()
        var copy = report
        try? copy.code(&out)  // a writer never throws (only a reader finds fields that do not parse)
        var record = Array("R\(out.bytes.count)\n".utf8)
        record.append(contentsOf: out.bytes)
        return record
    }

    /// The record at `offset` of `bytes`.
    static func decode(_ bytes: [UInt8], at offset: Int) -> Decoded {
        guard offset < bytes.count else { return .incomplete }
        guard bytes[offset] == UInt8(ascii: "R") else { return .corrupt }
        var cursor = offset + 1
        var length = 0
        while true {
            guard cursor < bytes.count else { return .incomplete }
            let byte = bytes[cursor]
            cursor += 1
            if byte == UInt8(ascii: "\n") { break }
            guard byte >= 48, byte <= 57, length < Int.max / 20 else { return .corrupt }
            length = length * 10 + Int(byte - 48)
        }
        guard bytes.count - cursor >= length else { return .incomplete }
        var reader = SpoolReader(bytes: bytes, offset: cursor, end: cursor + length)
        do {
            var report = ChildReport(processes: [], threads: [], spawns: [], events: [])
            try report.code(&reader)
            return .report(report, next: cursor + length)
        } catch {
            return .skip(next: cursor + length)
        }
    }

    /// Appends `bytes` to the spool: one `write()` (a regular file takes it whole; the loop only
    /// covers an interrupted or short write).
    static func write(_ bytes: [UInt8], to fd: Int32) {
        bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(fd, base + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }

    /// Everything in the spool from `offset` to its end.
    static func read(_ fd: Int32, from offset: Int) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var position = offset
        while true {
            let count = chunk.withUnsafeMutableBytes {
                pread(fd, $0.baseAddress, $0.count, off_t(position))
            }
            if count < 0 {
                if errno == EINTR { continue }
                break
            }
            if count == 0 { break }
            result.append(contentsOf: chunk[..<count])
            position += count
        }
        return result
    }
}

// MARK: - One list of fields per record type

/// What a record's fields are written by and read by: each record type lists its fields once,
/// in `code(_:)`, and the same list writes (``SpoolWriter``) and reads (``SpoolReader``).
protocol SpoolCoder {
    /// A text field.
    mutating func code(_ text: inout String) throws(SpoolReader.Corrupt)
    /// A list: its count, then each item (read into copies of `blank`).
    mutating func code<Item: SpoolRecord>(_ items: inout [Item], blank: Item) throws(SpoolReader.Corrupt)
}

/// A type with a list of fields in a spool record.
protocol SpoolRecord {
    mutating func code<C: SpoolCoder>(_ coder: inout C) throws(SpoolReader.Corrupt)
}

extension SpoolCoder {
    /// A number field.
    mutating func code<N: FixedWidthInteger>(_ number: inout N) throws(SpoolReader.Corrupt) {
        var text = String(number)
        try code(&text)
        guard let value = N(text) else { throw SpoolReader.Corrupt() }
        number = value
    }

    /// An optional number: empty for nil.
    mutating func code<N: FixedWidthInteger>(_ number: inout N?) throws(SpoolReader.Corrupt) {
        var text = number.map { String($0) } ?? ""
        try code(&text)
        if text.isEmpty { number = nil; return }
        guard let value = N(text) else { throw SpoolReader.Corrupt() }
        number = value
    }

    /// An optional text: empty for nil.
    mutating func code(_ text: inout String?) throws(SpoolReader.Corrupt) {
        var field = text ?? ""
        try code(&field)
        text = field.isEmpty ? nil : field
    }

    /// A flag: 1 or 0.
    mutating func code(_ flag: inout Bool) throws(SpoolReader.Corrupt) {
        var number = flag ? 1 : 0
        try code(&number)
        flag = number != 0
    }

    /// An enumeration by its raw text.
    mutating func code<K: RawRepresentable>(_ kind: inout K) throws(SpoolReader.Corrupt) where K.RawValue == String {
        var text = kind.rawValue
        try code(&text)
        guard let value = K(rawValue: text) else { throw SpoolReader.Corrupt() }
        kind = value
    }

    /// An optional frame: its process (empty for nil) and number.
    mutating func code(_ frame: inout TraceFrameID?) throws(SpoolReader.Corrupt) {
        var process = frame?.process
        var number = frame?.number
        try code(&process)
        try code(&number)
        frame = process.flatMap { process in number.map { TraceFrameID(process: process, number: $0) } }
    }
}

extension ChildReport: SpoolRecord {
    mutating func code<C: SpoolCoder>(_ coder: inout C) throws(SpoolReader.Corrupt) {
        var version = "1"
        try coder.code(&version)
        guard version == "1" else { throw SpoolReader.Corrupt() }
        try coder.code(&processes, blank: TraceProcess(label: "", pid: 0, parent: nil, exitStatus: nil))
        try coder.code(&threads, blank: TraceThread(process: "", label: "", name: "", pid: 0, tid: 0))
        try coder.code(
            &spawns,
            blank: TraceSpawn(
                kind: .thread, process: "", thread: "", name: "", parentProcess: "", parentThread: "",
                parentFrame: nil, position: 0, depth: 0, request: nil, time: 0, started: false))
        try coder.code(
            &events,
            blank: TraceEvent(
                seq: 0, kind: .call, function: "", definingClass: "", selfClass: "", method: "",
                swift: "", pyLine: nil, process: "", thread: "", pid: 0, tid: 0, request: nil,
                depth: 0, time: 0, detail: "", frame: TraceFrameID(process: "", number: 0)))
    }
}

extension TraceProcess: SpoolRecord {
    mutating func code<C: SpoolCoder>(_ coder: inout C) throws(SpoolReader.Corrupt) {
        try coder.code(&label)
        try coder.code(&pid)
        try coder.code(&parent)
        try coder.code(&exitStatus)
    }
}

extension TraceThread: SpoolRecord {
    mutating func code<C: SpoolCoder>(_ coder: inout C) throws(SpoolReader.Corrupt) {
        try coder.code(&process)
        try coder.code(&label)
        try coder.code(&name)
        try coder.code(&pid)
        try coder.code(&tid)
    }
}

extension TraceSpawn: SpoolRecord {
    mutating func code<C: SpoolCoder>(_ coder: inout C) throws(SpoolReader.Corrupt) {
        try coder.code(&kind)
        try coder.code(&process)
        try coder.code(&thread)
        try coder.code(&name)
        try coder.code(&parentProcess)
        try coder.code(&parentThread)
        try coder.code(&parentFrame)
        try coder.code(&position)
        try coder.code(&depth)
        try coder.code(&request)
        try coder.code(&time)
        try coder.code(&started)
    }
}

extension TraceEvent: SpoolRecord {
    mutating func code<C: SpoolCoder>(_ coder: inout C) throws(SpoolReader.Corrupt) {
        try coder.code(&kind)
        try coder.code(&function)
        try coder.code(&definingClass)
        try coder.code(&selfClass)
        try coder.code(&method)
        try coder.code(&swift)
        try coder.code(&pyLine)
        try coder.code(&process)
        try coder.code(&thread)
        try coder.code(&pid)
        try coder.code(&tid)
        try coder.code(&request)
        try coder.code(&depth)
        try coder.code(&time)
        try coder.code(&detail)
        var frameProcess = frame.process
        try coder.code(&frameProcess)
        try coder.code(&frame.number)
        frame.process = frameProcess
        try coder.code(&swiftFile)
        try coder.code(&swiftLine)
    }
}

/// Builds the netstrings of a record.
struct SpoolWriter: SpoolCoder {
    /// The bytes so far.
    var bytes: [UInt8] = []

    /// Writes a text field (the value stays as it is).
    mutating func code(_ text: inout String) {
        let utf8 = text.utf8
        bytes.append(contentsOf: String(utf8.count).utf8)
        bytes.append(UInt8(ascii: ":"))
        bytes.append(contentsOf: utf8)
        bytes.append(UInt8(ascii: ","))
    }

    /// Writes the count, then each item.
    mutating func code<Item: SpoolRecord>(_ items: inout [Item], blank: Item) throws(SpoolReader.Corrupt) {
        var count = items.count
        try code(&count)
        for index in items.indices { try items[index].code(&self) }
    }
}

/// Reads the netstrings of one record.
struct SpoolReader: SpoolCoder {
    /// A field that does not parse.
    struct Corrupt: Error {}

    let bytes: [UInt8]
    var offset: Int
    let end: Int

    /// The next field's bytes.
    mutating func field() throws(Corrupt) -> ArraySlice<UInt8> {
        var length = 0
        while true {
            guard offset < end else { throw Corrupt() }
            let byte = bytes[offset]
            offset += 1
            if byte == UInt8(ascii: ":") { break }
            guard byte >= 48, byte <= 57, length < Int.max / 20 else { throw Corrupt() }
            length = length * 10 + Int(byte - 48)
        }
        guard end - offset > length, bytes[offset + length] == UInt8(ascii: ",") else {
            throw Corrupt()
        }
        defer { offset += length + 1 }
        return bytes[offset..<offset + length]
    }

    /// Reads a text field into `text`.
    mutating func code(_ text: inout String) throws(Corrupt) {
        text = String(decoding: try field(), as: UTF8.self)
    }

    /// Reads the count (bounded by what the record can still hold), then each item.
    mutating func code<Item: SpoolRecord>(_ items: inout [Item], blank: Item) throws(Corrupt) {
        var count = 0
        try code(&count)
        guard count >= 0, count <= end - offset else { throw Corrupt() }
        items = []
        for _ in 0..<count {
            var item = blank
            try item.code(&self)
            items.append(item)
        }
    }
}
