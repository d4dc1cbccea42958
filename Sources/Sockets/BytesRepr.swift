// Swift-only: Python's repr() of bytes and str, always printable ASCII.

/// Python's `repr()` of bytes: `b'hello\n'`, `b"it's"`, `\xNN` for non-printable bytes.
///
/// Uses single quotes unless the bytes contain `'` and no `"`; escapes `\\`, the quote,
/// `\t`, `\n`, `\r`, and every byte below 0x20 or above 0x7e as `\xNN`. With `limit` and
/// more bytes than that, shows the first `limit` bytes then `...` after the closing quote
/// (`b'aaaa'...`). The result is pure printable ASCII, so nothing a client sends can drive
/// a terminal.
///
/// Python: bytes.__repr__ (Objects/bytesobject.c)
public func pyBytesRepr(_ bytes: [UInt8], limit: Int? = nil) -> String {
    var shown = bytes[...]
    var truncated = false
    if let limit, bytes.count > limit {
        shown = bytes[..<max(limit, 0)]
        truncated = true
    }
    let quote: UInt8 = (shown.contains(0x27) && !shown.contains(0x22)) ? 0x22 : 0x27
    var out: [UInt8] = [0x62, quote]  // b'
    let hex = Array("0123456789abcdef".utf8)
    for c in shown {
        switch c {
        case quote, 0x5C: out += [0x5C, c]
        case 0x09: out += [0x5C, 0x74]  // \t
        case 0x0A: out += [0x5C, 0x6E]  // \n
        case 0x0D: out += [0x5C, 0x72]  // \r
        case 0x20...0x7E: out.append(c)
        default: out += [0x5C, 0x78, hex[Int(c >> 4)], hex[Int(c & 0xF)]]
        }
    }
    out.append(quote)
    if truncated { out += [0x2E, 0x2E, 0x2E] }
    return String(decoding: out, as: UTF8.self)
}

/// Python's `repr()` of a str, restricted to printable ASCII as `ascii()`: `'...'`,
/// double quotes when the text has `'` and no `"`; `\\`, `\t`, `\n`, `\r`; other control
/// characters and non-ASCII as `\xNN`, `\uNNNN` or `\UNNNNNNNN`.
///
/// Differs from Python: `repr()` keeps printable non-ASCII characters; this escapes them
/// as `ascii()` does.
///
/// Python: builtins.ascii
public func pyStrRepr(_ s: String) -> String {
    let scalars = s.unicodeScalars
    let quote: Unicode.Scalar = (scalars.contains("'") && !scalars.contains("\"")) ? "\"" : "'"
    var out = String(quote)
    func hex(_ v: UInt32, _ width: Int) -> String {
        let digits = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
    for u in scalars {
        switch u {
        case quote, "\\": out += "\\" + String(u)
        case "\t": out += "\\t"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case " "..."~": out.unicodeScalars.append(u)
        default:
            let v = u.value
            if v <= 0xFF {
                out += "\\x" + hex(v, 2)
            } else if v <= 0xFFFF {
                out += "\\u" + hex(v, 4)
            } else {
                out += "\\U" + hex(v, 8)
            }
        }
    }
    out.unicodeScalars.append(quote)
    return out
}
