// The handler's two bytes methods, against what CPython 3.13 gives for the same bytes: upper()
// changes a to z only (never a byte of 128 or more), strip() drops the six ASCII whitespace
// bytes at both ends and nothing else.
import Testing

import Sockets

@Suite struct BytesMethodsTests {
    @Test("upper() over every byte value upper-cases a to z and leaves the other 230 as they are")
    func upperEveryByte() {
        let all = (0...255).map { UInt8($0) }
        let upper = pyBytesUpper(all)
        #expect(upper.count == 256)
        for (byte, result) in zip(all, upper) {
            let expected = (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) ? byte - 32 : byte
            #expect(result == expected, "upper of byte \(byte)")
        }
        #expect(pyBytesUpper([]) == [])
        #expect(pyBytesUpper(Array("hello, world {é}\n".utf8)) == Array("HELLO, WORLD {é}\n".utf8))
    }

    @Test("upper() leaves its argument unchanged")
    func upperCopies() {
        let line = Array("abc".utf8)
        _ = pyBytesUpper(line)
        #expect(line == Array("abc".utf8))
    }

    @Test("strip() drops space, \\t, \\n, \\v, \\f, \\r at both ends, and keeps every other byte")
    func stripEnds() {
        let whitespace: [UInt8] = [32, 9, 10, 11, 12, 13]
        #expect(pyBytesStrip(whitespace + Array("a b".utf8) + whitespace.reversed()) == Array("a b".utf8))
        #expect(pyBytesStrip(whitespace) == [])
        #expect(pyBytesStrip([]) == [])
        for byte in (0...255).map({ UInt8($0) }) where !whitespace.contains(byte) {
            #expect(pyBytesStrip([32, byte, 10]) == [byte], "strip keeps byte \(byte)")
        }
    }
}
