// Swift-only emulation of the `io` classes socket.makefile() builds (Lib/_pyio.py,
// Modules/_io/*.c) and of socket.SocketIO (Lib/socket.py).
import Glibc
import Synchronization

// MARK: - IOBase

/// The base of all file objects.
///
/// Thread safety: the closed flag is an atomic; subclasses guard their own state.
///
/// Python: io.IOBase (Lib/_pyio.py)
open class IOBase: @unchecked Sendable {
    private let closedFlag = Atomic<Bool>(false)  // Python: __closed

    /// A new, open file object.
    public init() {}

    /// Whether the object is closed; the base reads the flag ``close()`` sets.
    ///
    /// Python: io.IOBase.closed (Lib/_pyio.py)
    open var closed: Bool {
        closedFlag.load(ordering: .acquiring)
    }

    /// Flush, then mark the object closed (even when the flush throws). Idempotent.
    ///
    /// Python: io.IOBase.close (Lib/_pyio.py)
    open func close() throws {
        if !closedFlag.load(ordering: .acquiring) {
            defer { closedFlag.store(true, ordering: .releasing) }
            try flush()
        }
    }

    /// Nothing to flush in the base; throws `ValueError("I/O operation on closed file.")` once
    /// closed.
    ///
    /// Python: io.IOBase.flush (Lib/_pyio.py)
    open func flush() throws {
        try _checkClosed()
    }

    /// Throws `ValueError("I/O operation on closed file.")` if ``closed``.
    ///
    /// Python: io.IOBase._checkClosed (Lib/_pyio.py)
    public final func _checkClosed(_ message: String = "I/O operation on closed file.") throws(ValueError) {
        if closed { throw ValueError(message) }
    }

    /// Whether the object can be read: false in the base.
    ///
    /// Python: io.IOBase.readable (Lib/_pyio.py)
    open func readable() -> Bool { false }

    /// Whether the object can be written: false in the base.
    ///
    /// Python: io.IOBase.writable (Lib/_pyio.py)
    open func writable() -> Bool { false }

    /// Read up to `size` bytes (all when negative); the base throws
    /// `UnsupportedOperation("read")`.
    ///
    /// Python: io.BufferedIOBase.read (Lib/_pyio.py)
    open func read(_ size: Int = -1) throws -> [UInt8] {
        throw UnsupportedOperation("read")
    }

    /// Read a line, through the `\n`, at most `size` bytes when `size` ≥ 0: calls
    /// ``read(_:)`` with 1 until a newline or end of file, so over a raw ``SocketIO`` each
    /// byte is one recv(2), as CPython.
    ///
    /// Python: io.IOBase.readline (Lib/_pyio.py)
    open func readline(_ size: Int = -1) throws -> [UInt8] {
        var res: [UInt8] = []
        while size < 0 || res.count < size {
            let b = try read(1)
            if b.isEmpty { break }
            res += b
            if res.last == 0x0A { break }
        }
        return res
    }

    /// Write bytes, returning how many were taken; the base throws
    /// `UnsupportedOperation("write")`.
    ///
    /// Python: io.BufferedIOBase.write (Lib/_pyio.py)
    open func write(_ b: [UInt8]) throws -> Int {
        throw UnsupportedOperation("write")
    }

    /// Call ``write(_:)`` once per item.
    ///
    /// Python: io.IOBase.writelines (Lib/_pyio.py)
    open func writelines(_ lines: [[UInt8]]) throws {
        try _checkClosed()
        for line in lines {
            _ = try write(line)
        }
    }

    /// The underlying descriptor; the base throws `UnsupportedOperation("fileno")`.
    ///
    /// Python: io.IOBase.fileno (Lib/_pyio.py)
    open func fileno() throws -> CInt {
        throw UnsupportedOperation("fileno")
    }
}

/// The base of raw (unbuffered) binary streams: ``read(_:)`` is built on ``readinto(_:)``.
///
/// Python: io.RawIOBase (Lib/_pyio.py)
open class RawIOBase: IOBase, @unchecked Sendable {
    /// A new raw stream.
    public override init() { super.init() }

    /// Read into `buffer`; the number of bytes read (0 at end of file), or `nil` when a
    /// non-blocking stream has no data (Python `None`). The base throws
    /// `UnsupportedOperation("readinto")`.
    ///
    /// Python: io.RawIOBase.readinto (Lib/_pyio.py)
    open func readinto(_ buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        throw UnsupportedOperation("readinto")
    }

    /// One ``readinto(_:)`` of up to `size` bytes; all until end of file when negative.
    ///
    /// Differs from Python: "no data on a non-blocking stream" (`None`) is returned as `[]`.
    ///
    /// Python: io.RawIOBase.read (Lib/_pyio.py)
    open override func read(_ size: Int = -1) throws -> [UInt8] {
        if size < 0 { return try readall() ?? [] }
        var b = [UInt8](repeating: 0, count: size)
        let n = try b.withUnsafeMutableBytes { try readinto($0) }
        guard let n else { return [] }
        b.removeSubrange(n...)
        return b
    }

    /// Read until end of file with reads of ``DEFAULT_BUFFER_SIZE``; `nil` if the stream
    /// would block before any data.
    ///
    /// Python: io.RawIOBase.readall (Lib/_pyio.py)
    open func readall() throws -> [UInt8]? {
        var res: [UInt8] = []
        while true {
            var chunk = [UInt8](repeating: 0, count: DEFAULT_BUFFER_SIZE)
            let n = try chunk.withUnsafeMutableBytes { try readinto($0) }
            guard let n else {
                if res.isEmpty { return nil }
                break
            }
            if n == 0 { break }
            res += chunk[..<n]
        }
        return res
    }
}

/// The base of buffered binary streams (subclassed by socketserver's `_SocketWriter`).
///
/// Python: io.BufferedIOBase (Lib/_pyio.py)
open class BufferedIOBase: IOBase, @unchecked Sendable {
    /// A new buffered stream.
    public override init() { super.init() }
}

// MARK: - SocketIO

/// The raw file object over a socket that ``Socket/makefile(_:buffering:)`` builds.
///
/// Reads are `recv_into`; once a read timed out, every later read throws
/// `OSError("cannot read from timed out object")`. Writes are one `send`, possibly partial.
/// Closing drops the socket's io reference (really closing it if the socket was closed and
/// this was the last one).
///
/// Differs from Python: where CPython returns `None` for EAGAIN/EWOULDBLOCK on a
/// non-blocking socket, ``readinto(_:)`` returns `nil`, ``read(_:)`` `[]` and ``write(_:)`` 0.
///
/// Thread safety: the socket reference is guarded by a ``Lock``, the timed-out flag is atomic.
///
/// Python: socket.SocketIO (Lib/socket.py)
public final class SocketIO: RawIOBase, @unchecked Sendable {
    private let sock: Lock<Socket?>
    private let reading: Bool
    private let writing: Bool
    private let timeoutOccurred = Atomic<Bool>(false)
    /// The mode: "rb", "wb" or "rwb".
    ///
    /// Python: socket.SocketIO.mode (Lib/socket.py)
    public let mode: String

    /// A raw file over `sock`; `mode` is one of r, w, rw, rb, wb, rwb. Does not add an io
    /// reference (``Socket/makefile(_:buffering:)`` does).
    ///
    /// Python: socket.SocketIO.__init__ (Lib/socket.py)
    public init(_ sock: Socket, _ mode: String) throws {
        guard ["r", "w", "rw", "rb", "wb", "rwb"].contains(mode) else {
            throw ValueError("invalid mode: \(pyStrRepr(mode))")
        }
        self.sock = Lock(sock)
        self.mode = mode.contains("b") ? mode : mode + "b"
        self.reading = mode.contains("r")
        self.writing = mode.contains("w")
        super.init()
    }

    private var socket: Socket? { sock.withLock { $0 } }

    /// Receive into `buffer`; 0 at end of stream, `nil` on EAGAIN.
    ///
    /// Python: socket.SocketIO.readinto (Lib/socket.py)
    public override func readinto(_ buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        try _checkClosed()
        if !reading { throw UnsupportedOperation("File or stream is not readable.") }
        if timeoutOccurred.load(ordering: .acquiring) {
            throw OSError("cannot read from timed out object")
        }
        guard let s = socket else { throw ValueError("I/O operation on closed file.") }
        let result = Result { () throws(OSError) -> Int in try s.recvInto(buffer) }
        switch result {
        case .success(let n):
            return n
        case .failure(let error) where error.kind == .timeout:
            timeoutOccurred.store(true, ordering: .releasing)
            throw error
        case .failure(let error) where error.errno == EAGAIN || error.errno == EWOULDBLOCK:
            return nil
        case .failure(let error):
            throw error
        }
    }

    /// One `send`; returns the number of bytes sent (0 on EAGAIN).
    ///
    /// Python: socket.SocketIO.write (Lib/socket.py)
    public override func write(_ b: [UInt8]) throws -> Int {
        try _checkClosed()
        if !writing { throw UnsupportedOperation("File or stream is not writable.") }
        guard let s = socket else { throw ValueError("I/O operation on closed file.") }
        switch Result(catching: { () throws(OSError) -> Int in try s.send(b) }) {
        case .success(let n):
            return n
        case .failure(let error) where error.errno == EAGAIN || error.errno == EWOULDBLOCK:
            return 0
        case .failure(let error):
            throw error
        }
    }

    /// Whether the file was opened for reading (false once closed).
    ///
    /// Python: socket.SocketIO.readable (Lib/socket.py)
    public override func readable() -> Bool { !closed && reading }

    /// Whether the file was opened for writing (false once closed).
    ///
    /// Python: socket.SocketIO.writable (Lib/socket.py)
    public override func writable() -> Bool { !closed && writing }

    /// The socket's descriptor.
    ///
    /// Python: socket.SocketIO.fileno (Lib/socket.py)
    public override func fileno() throws -> CInt {
        try _checkClosed()
        return socket?.fileno() ?? -1
    }

    /// Close the file and drop the socket's io reference. Idempotent.
    ///
    /// Python: socket.SocketIO.close (Lib/socket.py)
    public override func close() throws {
        if closed { return }
        try super.close()
        let s = sock.withLock { s -> Socket? in
            let old = s
            s = nil
            return old
        }
        try s?._decrefSocketios()
    }
}

// MARK: - BufferedReader

/// A buffered reader over a raw stream, with CPython's C algorithm.
///
/// ``read(_:)`` loops until `size` bytes or end of file (``read(_:)`` with no size until end
/// of file); ``readline(_:)`` scans the buffer for `\n` and refills it with one raw read of
/// up to the buffer size per step; bytes after the newline stay buffered (read-ahead).
///
/// Thread safety: buffer state is guarded by a lock held across raw reads, as CPython's.
///
/// Python: io.BufferedReader (Modules/_io/bufferedio.c)
public final class BufferedReader: BufferedIOBase, @unchecked Sendable {
    /// The raw stream.
    ///
    /// Python: io.BufferedReader.raw (Modules/_io/bufferedio.c)
    public let raw: RawIOBase
    /// The buffer capacity.
    public let bufferSize: Int
    private let lock = Lock()  // held across raw reads and writes, as CPython's ENTER_BUFFERED
    private var buffer: [UInt8]
    private var pos = 0
    private var readEnd = -1  // -1: no valid read buffer

    /// A reader over `raw` with a `bufferSize`-byte buffer.
    ///
    /// - Throws: `ValueError("buffer size must be strictly positive")`.
    ///
    /// Python: io.BufferedReader.__init__ (Modules/_io/bufferedio.c)
    public init(_ raw: RawIOBase, _ bufferSize: Int = DEFAULT_BUFFER_SIZE) throws {
        if bufferSize <= 0 { throw ValueError("buffer size must be strictly positive") }
        self.raw = raw
        self.bufferSize = bufferSize
        self.buffer = [UInt8](repeating: 0, count: bufferSize)
        super.init()
    }

    private var readahead: Int { readEnd == -1 ? 0 : readEnd - pos }

    private func checkClosed(_ message: String) throws {
        if raw.closed && readahead == 0 { throw ValueError(message) }
    }

    /// `_bufferedreader_raw_read`: one raw readinto; nil when it would block.
    private func rawRead(_ into: UnsafeMutableRawBufferPointer) throws -> Int? {
        guard let n = try raw.readinto(into) else { return nil }
        if n < 0 || n > into.count {
            throw OSError(
                "raw readinto() returned invalid length \(n) (should have been between 0 and \(into.count))")
        }
        return n
    }

    /// `_bufferedreader_fill_buffer`: one raw read after the valid data.
    private func fillBuffer() throws -> Int? {
        let start = readEnd == -1 ? 0 : readEnd
        let n = try buffer.withUnsafeMutableBytes { all in
            try rawRead(UnsafeMutableRawBufferPointer(rebasing: all[start..<bufferSize]))
        }
        if let n, n > 0 { readEnd = start + n }
        return n
    }

    private func resetBuffer() { readEnd = -1 }

    /// Whether the raw stream is closed.
    ///
    /// Python: io.BufferedReader.closed (Modules/_io/bufferedio.c)
    public override var closed: Bool { raw.closed }

    /// Whether the raw stream is readable.
    ///
    /// Python: io.BufferedReader.readable (Modules/_io/bufferedio.c)
    public override func readable() -> Bool { raw.readable() }

    /// The raw stream's descriptor.
    ///
    /// Python: io.BufferedReader.fileno (Modules/_io/bufferedio.c)
    public override func fileno() throws -> CInt { try raw.fileno() }

    /// Flush the raw stream (nothing to write).
    ///
    /// Python: io.BufferedReader.flush (Modules/_io/bufferedio.c)
    public override func flush() throws { try raw.flush() }

    /// Flush, then close the raw stream (see ``closeBuffered(_:flushing:)``). Idempotent.
    ///
    /// Python: io.BufferedReader.close (Modules/_io/bufferedio.c)
    public override func close() throws { try closeBuffered(raw, flushing: flush) }

    /// Read `size` bytes, fewer only at end of file; all until end of file when -1.
    ///
    /// Python: io.BufferedReader.read (Modules/_io/bufferedio.c)
    public override func read(_ size: Int = -1) throws -> [UInt8] {
        if size < -1 { throw ValueError("read length must be non-negative or -1") }
        try checkClosed("read of closed file")
        return try lock.withLock { () throws -> [UInt8] in
            if size == -1 { return try readAll() }
            if size <= readahead { return readFast(size) }
            return try readGeneric(size)
        }
    }

    private func readFast(_ n: Int) -> [UInt8] {
        let res = Array(buffer[pos..<(pos + n)])
        pos += n
        return res
    }

    private func readAll() throws -> [UInt8] {
        var data: [UInt8] = []
        let current = readahead
        if current > 0 {
            data = readFast(current)
        }
        resetBuffer()
        let rest = try raw.readall()
        return data + (rest ?? [])
    }

    /// `_bufferedreader_read_generic`: whole buffer-size blocks straight into the result,
    /// the remainder through the buffer.
    private func readGeneric(_ n: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: n)
        var written = 0
        var remaining = n
        let current = readahead
        if current > 0 {
            out.replaceSubrange(0..<current, with: buffer[pos..<(pos + current)])
            written += current
            remaining -= current
            pos += current
        }
        resetBuffer()
        while remaining > 0 {
            let r = bufferSize * (remaining / bufferSize)  // MINUS_LAST_BLOCK
            if r == 0 { break }
            let got = try out.withUnsafeMutableBytes { all in
                try rawRead(UnsafeMutableRawBufferPointer(rebasing: all[written..<(written + r)]))
            }
            guard let got, got > 0 else {
                return Array(out[..<written])  // EOF or would block
            }
            remaining -= got
            written += got
        }
        pos = 0
        readEnd = 0
        while remaining > 0 && readEnd < bufferSize {
            let got = try fillBuffer()
            guard let got, got > 0 else {
                return Array(out[..<written])
            }
            let take = min(got, remaining)
            out.replaceSubrange(written..<(written + take), with: buffer[pos..<(pos + take)])
            written += take
            pos += take
            remaining -= take
        }
        return out
    }

    /// Read a line through `\n` (at most `size` bytes when `size` ≥ 0), a partial line at
    /// end of file, or `[]` at end of file.
    ///
    /// Python: io.BufferedReader.readline (Modules/_io/bufferedio.c)
    public override func readline(_ size: Int = -1) throws -> [UInt8] {
        try checkClosed("readline of closed file")
        return try lock.withLock { () throws -> [UInt8] in
            var limit = size
            var n = readahead
            if limit >= 0 && n > limit { n = limit }
            if let i = buffer[pos..<(pos + n)].firstIndex(of: 0x0A) {
                return readFast(i - pos + 1)
            }
            if n == limit { return readFast(n) }
            var chunks: [UInt8] = []
            if n > 0 {
                chunks = readFast(n)
                if limit >= 0 { limit -= n }
            }
            while true {
                resetBuffer()
                guard let got = try fillBuffer(), got > 0 else { break }
                var count = got
                if limit >= 0 && count > limit { count = limit }
                if let i = buffer[0..<count].firstIndex(of: 0x0A) {
                    chunks += buffer[0...i]
                    pos = i + 1
                    return chunks
                }
                chunks += buffer[0..<count]
                if count == limit {
                    pos = count
                    break
                }
                pos = count
                if limit >= 0 { limit -= count }
            }
            return chunks
        }
    }
}

// MARK: - BufferedWriter

/// A buffered writer over a raw stream.
///
/// ``write(_:)`` buffers and returns the full length, writing the buffer out when the new
/// data does not fit; ``flush()`` loops raw writes until the buffer is empty; ``close()``
/// flushes first and rethrows a flush error after closing the raw stream anyway.
///
/// Thread safety: buffer state is guarded by a lock held across raw writes, as CPython's.
///
/// Python: io.BufferedWriter (Modules/_io/bufferedio.c)
public final class BufferedWriter: BufferedIOBase, @unchecked Sendable {
    /// The raw stream.
    ///
    /// Python: io.BufferedWriter.raw (Modules/_io/bufferedio.c)
    public let raw: RawIOBase
    /// The buffer capacity.
    public let bufferSize: Int
    private let lock = Lock()  // held across raw reads and writes, as CPython's ENTER_BUFFERED
    private var pending: [UInt8] = []

    /// A writer over `raw` with a `bufferSize`-byte buffer.
    ///
    /// - Throws: `ValueError("buffer size must be strictly positive")`.
    ///
    /// Python: io.BufferedWriter.__init__ (Modules/_io/bufferedio.c)
    public init(_ raw: RawIOBase, _ bufferSize: Int = DEFAULT_BUFFER_SIZE) throws {
        if bufferSize <= 0 { throw ValueError("buffer size must be strictly positive") }
        self.raw = raw
        self.bufferSize = bufferSize
        super.init()
    }

    /// Whether the raw stream is closed.
    ///
    /// Python: io.BufferedWriter.closed (Modules/_io/bufferedio.c)
    public override var closed: Bool { raw.closed }

    /// Whether the raw stream is writable.
    ///
    /// Python: io.BufferedWriter.writable (Modules/_io/bufferedio.c)
    public override func writable() -> Bool { raw.writable() }

    /// The raw stream's descriptor.
    ///
    /// Python: io.BufferedWriter.fileno (Modules/_io/bufferedio.c)
    public override func fileno() throws -> CInt { try raw.fileno() }

    /// One raw write, checked (`_bufferedwriter_raw_write`); nil when it would block.
    private func rawWrite(_ bytes: ArraySlice<UInt8>) throws -> Int? {
        let n = try raw.write(Array(bytes))
        if n < 0 || n > bytes.count {
            throw OSError(
                "raw write() returned invalid length \(n) (should have been between 0 and \(bytes.count))")
        }
        return n == 0 && !bytes.isEmpty ? nil : n
    }

    private static let wouldBlock = OSError(
        errno: EAGAIN, strerror: "write could not complete without blocking", kind: .blockingIO)

    /// `_bufferedwriter_flush_unlocked`: write the buffer out; progress is kept on error.
    private func flushUnlocked() throws {
        while !pending.isEmpty {
            guard let n = try rawWrite(pending[...]) else { throw Self.wouldBlock }
            pending.removeFirst(n)
        }
    }

    /// Buffer `b`; returns `b.count`.
    ///
    /// Python: io.BufferedWriter.write (Modules/_io/bufferedio.c)
    public override func write(_ b: [UInt8]) throws -> Int {
        try lock.withLock { () throws -> Int in
            if raw.closed { throw ValueError("write to closed file") }
            if pending.count + b.count <= bufferSize {
                pending += b
                return b.count
            }
            try flushUnlocked()
            var written = 0
            var remaining = b.count
            while remaining > bufferSize {
                guard let n = try rawWrite(b[written...]) else { throw Self.wouldBlock }
                written += n
                remaining -= n
            }
            pending = Array(b[written...])
            return b.count
        }
    }

    /// Write the whole buffer out with as many raw writes as needed.
    ///
    /// Python: io.BufferedWriter.flush (Modules/_io/bufferedio.c)
    public override func flush() throws {
        try lock.withLock { () throws in
            if raw.closed { throw ValueError("flush of closed file") }
            try flushUnlocked()
        }
    }

    /// Flush, then close the raw stream (see ``closeBuffered(_:flushing:)``). Idempotent.
    ///
    /// Python: io.BufferedWriter.close (Modules/_io/bufferedio.c)
    public override func close() throws { try closeBuffered(raw, flushing: flush) }
}

/// The close of a buffered reader or writer: flush, close the raw stream even if the flush
/// failed, then rethrow the flush error (an error of the raw close wins); nothing when the raw
/// stream is closed already.
///
/// Python: _io__Buffered_close_impl (Modules/_io/bufferedio.c)
func closeBuffered(_ raw: RawIOBase, flushing flush: () throws -> Void) throws {
    if raw.closed { return }
    var flushError: (any Error)? = nil
    do { try flush() } catch { flushError = error }
    try raw.close()
    if let flushError { throw flushError }
}

// MARK: - BufferedRWPair

/// A reader and a writer joined into one object, for ``Socket/makefile(_:buffering:)``
/// with mode "rwb".
///
/// Python: io.BufferedRWPair (Modules/_io/bufferedio.c)
public final class BufferedRWPair: BufferedIOBase, @unchecked Sendable {
    /// The reading half.
    public let reader: BufferedReader
    /// The writing half.
    public let writer: BufferedWriter

    /// A pair over `reader` and `writer` raw streams with `bufferSize`-byte buffers.
    ///
    /// Python: io.BufferedRWPair.__init__ (Modules/_io/bufferedio.c)
    public init(_ reader: RawIOBase, _ writer: RawIOBase, _ bufferSize: Int = DEFAULT_BUFFER_SIZE) throws {
        if !reader.readable() { throw UnsupportedOperation("\"reader\" argument must be readable.") }
        if !writer.writable() { throw UnsupportedOperation("\"writer\" argument must be writable.") }
        self.reader = try BufferedReader(reader, bufferSize)
        self.writer = try BufferedWriter(writer, bufferSize)
        super.init()
    }

    /// Whether the writer is closed.
    public override var closed: Bool { writer.closed }
    /// True.
    public override func readable() -> Bool { reader.readable() }
    /// True.
    public override func writable() -> Bool { writer.writable() }
    /// Read from the reader.
    public override func read(_ size: Int = -1) throws -> [UInt8] { try reader.read(size) }
    /// Read a line from the reader.
    public override func readline(_ size: Int = -1) throws -> [UInt8] { try reader.readline(size) }
    /// Write to the writer.
    public override func write(_ b: [UInt8]) throws -> Int { try writer.write(b) }
    /// Flush the writer.
    public override func flush() throws { try writer.flush() }

    /// Close the writer, then the reader even if that failed; the first error is rethrown.
    ///
    /// Python: io.BufferedRWPair.close (Modules/_io/bufferedio.c)
    public override func close() throws {
        var firstError: (any Error)? = nil
        do { try writer.close() } catch { firstError = error }
        do { try reader.close() } catch { if firstError == nil { firstError = error } }
        if let firstError { throw firstError }
    }
}

// MARK: - BytesIO

/// An in-memory binary stream (DatagramRequestHandler's `rfile` and `wfile`).
///
/// Thread safety: guarded by a lock.
///
/// Python: io.BytesIO (Modules/_io/bytesio.c)
public final class BytesIO: BufferedIOBase, @unchecked Sendable {
    private let lock = Lock()  // held across raw reads and writes, as CPython's ENTER_BUFFERED
    private var bytes: [UInt8]
    private var position = 0

    /// A stream holding `initial`, positioned at its start.
    ///
    /// Python: io.BytesIO.__init__ (Modules/_io/bytesio.c)
    public init(_ initial: [UInt8] = []) {
        bytes = initial
        super.init()
    }

    /// True unless closed.
    public override func readable() -> Bool { !closed }
    /// True unless closed.
    public override func writable() -> Bool { !closed }

    /// Read up to `size` bytes from the position (all that remain when negative).
    ///
    /// Python: io.BytesIO.read (Modules/_io/bytesio.c)
    public override func read(_ size: Int = -1) throws -> [UInt8] {
        try _checkClosed()
        return lock.withLock {
            let available = max(bytes.count - position, 0)
            let n = size < 0 ? available : min(size, available)
            let res = Array(bytes[position..<(position + n)])
            position += n
            return res
        }
    }

    /// Read through the next `\n` (at most `size` bytes when `size` ≥ 0).
    ///
    /// Python: io.BytesIO.readline (Modules/_io/bytesio.c)
    public override func readline(_ size: Int = -1) throws -> [UInt8] {
        try _checkClosed()
        return lock.withLock {
            let start = min(position, bytes.count)
            var end = bytes[start...].firstIndex(of: 0x0A).map { $0 + 1 } ?? bytes.count
            if size >= 0 { end = min(end, start + size) }
            position = end
            return Array(bytes[start..<end])
        }
    }

    /// Write `b` at the position (overwriting, extending, zero-filling a gap); returns `b.count`.
    ///
    /// Python: io.BytesIO.write (Modules/_io/bytesio.c)
    public override func write(_ b: [UInt8]) throws -> Int {
        try _checkClosed()
        lock.withLock {
            if position > bytes.count {
                bytes += [UInt8](repeating: 0, count: position - bytes.count)
            }
            let end = position + b.count
            let overlap = min(end, bytes.count)
            bytes.replaceSubrange(position..<overlap, with: b)
            position = end
        }
        return b.count
    }

    /// The whole content.
    ///
    /// Python: io.BytesIO.getvalue (Modules/_io/bytesio.c)
    public func getvalue() throws -> [UInt8] {
        try _checkClosed()
        return lock.withLock { bytes }
    }
}
