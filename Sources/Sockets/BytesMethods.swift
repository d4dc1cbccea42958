// Swift-only: the two methods of bytes that the notes' handler calls on what a client sent,
// `strip()` and `upper()`, for the tool's and the benchmark's handlers alike.

/// Whether `byte` is ASCII whitespace as bytes methods see it: space, \t, \n, \v, \f, \r.
///
/// Python: Py_ISSPACE (Include/pyctype.h)
@inlinable
public func pyIsSpace(_ byte: UInt8) -> Bool {
    byte == 32 || (byte >= 9 && byte <= 13)
}

/// Python's `bytes.strip()` with no argument: the bytes without the ASCII whitespace at both
/// ends.
///
/// Python: bytes.strip (Objects/bytesobject.c)
public func pyBytesStrip(_ bytes: [UInt8]) -> [UInt8] {
    var start = 0
    var end = bytes.count
    while start < end && pyIsSpace(bytes[start]) { start += 1 }
    while end > start && pyIsSpace(bytes[end - 1]) { end -= 1 }
    return start == 0 && end == bytes.count ? bytes : Array(bytes[start..<end])
}

/// Python's `bytes.upper()`: ASCII letters upper-cased, every other byte as it is.
///
/// Python: bytes.upper (Objects/bytes_methods.c)
public func pyBytesUpper(_ bytes: [UInt8]) -> [UInt8] {
    // A copy changed in place: `map` called its closure per byte (callgrind: 470 instructions
    // for a 20-byte line, a thirteenth of an untraced TCP request).
    var upper = bytes
    upper.withUnsafeMutableBufferPointer { buffer in
        for i in buffer.indices where buffer[i] &- 97 < 26 { buffer[i] &-= 32 }
    }
    return upper
}
