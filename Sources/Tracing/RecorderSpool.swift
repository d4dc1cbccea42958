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
        out.put("1")  // format version
        out.put(report.processes.count)
        for process in report.processes {
            out.put(process.label)
            out.put(Int(process.pid))
            out.put(process.parent ?? "")
            out.put(process.exitStatus.map { Int($0) })
        }
        out.put(report.threads.count)
        for thread in report.threads {
            out.put(thread.process)
            out.put(thread.label)
            out.put(thread.name)
            out.put(Int(thread.pid))
            out.put(Int(thread.tid))
        }
        out.put(report.spawns.count)
        for spawn in report.spawns {
            out.put(spawn.kind.rawValue)
            out.put(spawn.process)
            out.put(spawn.thread)
            out.put(spawn.name)
            out.put(spawn.parentProcess)
            out.put(spawn.parentThread)
            out.put(spawn.parentFrame?.process ?? "")
            out.put(spawn.parentFrame?.number)
            out.put(spawn.position)
            out.put(spawn.depth)
            out.put(spawn.request)
            out.put(String(spawn.time))
            out.put(spawn.started ? 1 : 0)
        }
        out.put(report.events.count)
        for event in report.events {
            out.put(event.kind.rawValue)
            out.put(event.function)
            out.put(event.definingClass)
            out.put(event.selfClass)
            out.put(event.method)
            out.put(event.swift)
            out.put(event.pyLine)
            out.put(event.process)
            out.put(event.thread)
            out.put(Int(event.pid))
            out.put(Int(event.tid))
            out.put(event.request)
            out.put(event.depth)
            out.put(String(event.time))
            out.put(event.detail)
            out.put(event.frame.process)
            out.put(event.frame.number)
            out.put(event.swiftFile ?? "")
            out.put(event.swiftLine)
        }
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
            return .report(try reader.report(), next: cursor + length)
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

/// Builds the netstrings of a record.
struct SpoolWriter {
    /// The bytes so far.
    var bytes: [UInt8] = []

    /// A text field.
    mutating func put(_ text: String) {
        let utf8 = text.utf8
        bytes.append(contentsOf: String(utf8.count).utf8)
        bytes.append(UInt8(ascii: ":"))
        bytes.append(contentsOf: utf8)
        bytes.append(UInt8(ascii: ","))
    }

    /// A number field.
    mutating func put(_ number: Int) { put(String(number)) }

    /// An optional number: empty for nil.
    mutating func put(_ number: Int?) { put(number.map { String($0) } ?? "") }
}

/// Reads the netstrings of one record.
struct SpoolReader {
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

    /// A text field.
    mutating func string() throws(Corrupt) -> String {
        String(decoding: try field(), as: UTF8.self)
    }

    /// A text field, nil when empty.
    mutating func optionalString() throws(Corrupt) -> String? {
        let text = try string()
        return text.isEmpty ? nil : text
    }

    /// A number field.
    mutating func int() throws(Corrupt) -> Int {
        guard let number = Int(try string()) else { throw Corrupt() }
        return number
    }

    /// A number field, nil when empty.
    mutating func optionalInt() throws(Corrupt) -> Int? {
        let text = try string()
        if text.isEmpty { return nil }
        guard let number = Int(text) else { throw Corrupt() }
        return number
    }

    /// A 32-bit number field (pids, tids, statuses).
    mutating func int32() throws(Corrupt) -> Int32 {
        guard let number = Int32(exactly: try int()) else { throw Corrupt() }
        return number
    }

    /// An unsigned 64-bit number field (times).
    mutating func uint64() throws(Corrupt) -> UInt64 {
        guard let number = UInt64(try string()) else { throw Corrupt() }
        return number
    }

    /// A count of items that follow (bounded by what the record can hold).
    mutating func count() throws(Corrupt) -> Int {
        let number = try int()
        guard number >= 0, number <= end - offset else { throw Corrupt() }
        return number
    }

    /// The whole record.
    mutating func report() throws(Corrupt) -> ChildReport {
        guard try string() == "1" else { throw Corrupt() }
        var report = ChildReport(processes: [], threads: [], spawns: [], events: [])
        for _ in 0..<(try count()) {
            report.processes.append(
                TraceProcess(
                    label: try string(), pid: try int32(), parent: try optionalString(),
                    exitStatus: try optionalInt().flatMap { Int32(exactly: $0) }))
        }
        for _ in 0..<(try count()) {
            report.threads.append(
                TraceThread(
                    process: try string(), label: try string(), name: try string(),
                    pid: try int32(), tid: try int32()))
        }
        for _ in 0..<(try count()) {
            guard let kind = TraceSpawn.Kind(rawValue: try string()) else { throw Corrupt() }
            let process = try string()
            let thread = try string()
            let name = try string()
            let parentProcess = try string()
            let parentThread = try string()
            let frameProcess = try optionalString()
            let frameNumber = try optionalInt()
            let frame = frameProcess.flatMap { process in
                frameNumber.map { TraceFrameID(process: process, number: $0) }
            }
            report.spawns.append(
                TraceSpawn(
                    kind: kind, process: process, thread: thread, name: name,
                    parentProcess: parentProcess, parentThread: parentThread, parentFrame: frame,
                    position: try int(), depth: try int(), request: try optionalInt(),
                    time: try uint64(), started: try int() != 0))
        }
        for _ in 0..<(try count()) {
            guard let kind = TraceEvent.Kind(rawValue: try string()) else { throw Corrupt() }
            report.events.append(
                TraceEvent(
                    seq: 0, kind: kind, function: try string(), definingClass: try string(),
                    selfClass: try string(), method: try string(), swift: try string(),
                    pyLine: try optionalInt(), process: try string(), thread: try string(),
                    pid: try int32(), tid: try int32(), request: try optionalInt(),
                    depth: try int(), time: try uint64(), detail: try string(),
                    frame: TraceFrameID(process: try string(), number: try int()),
                    swiftFile: try optionalString(), swiftLine: try optionalInt()))
        }
        return report
    }
}
