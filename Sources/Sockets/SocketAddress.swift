// Swift-only: the address forms Python's socket module takes and returns, and the only
// place where socket-address memory is converted to and from `struct sockaddr`.
import Glibc

/// A socket address in one of Python's shapes.
///
/// Python passes addresses as tuples or strings: `('127.0.0.1', 9999)` for AF_INET,
/// `('::1', 9999, 0, 0)` for AF_INET6, a path `'/tmp/s'` for AF_UNIX, and `None` when the
/// kernel reports no address (a datagram from an unbound AF_UNIX socket). CPython
/// converts them in C (`getsockaddrarg`, `makesockaddr` in Modules/socketmodule.c).
///
/// Python: the address tuples of the socket module (Lib/socket.py)
public enum SocketAddress: Hashable, Sendable, CustomStringConvertible {
    /// An IPv4 address: `(host, port)`. `host` may be a name such as "localhost", or ""
    /// for INADDR_ANY.
    case inet(host: String, port: Int)
    /// An IPv6 address: `(host, port, flowinfo, scope_id)`.
    case inet6(host: String, port: Int, flowinfo: UInt32 = 0, scopeID: UInt32 = 0)
    /// A Unix-domain path. "" is the address of an unbound AF_UNIX stream socket (Python
    /// gives `''`); a leading NUL byte is a Linux abstract name.
    case unix(String)
    /// No address at all (the kernel returned a zero length): Python's `None`.
    case unnamed

    /// Python's `repr()` of the address: "('127.0.0.1', 9999)", "('::1', 9999, 0, 0)",
    /// "'/tmp/s'", "None".
    /// Python's `str()` of the address, as `print` shows it: a tuple as its repr, a Unix
    /// path without quotes, `None` for an unbound peer.
    public var str: String {
        if case .unix(let path) = self { return path }
        return description
    }

    public var description: String {
        switch self {
        case .inet(let host, let port):
            "(\(pyStrRepr(host)), \(port))"
        case .inet6(let host, let port, let flowinfo, let scopeID):
            "(\(pyStrRepr(host)), \(port), \(flowinfo), \(scopeID))"
        case .unix(let path):
            pyStrRepr(path)
        case .unnamed:
            "None"
        }
    }

    /// `address[0]`: the host of an internet address, the path of a Unix address, `nil`
    /// for ``unnamed``.
    public var host: String? {
        switch self {
        case .inet(let host, _), .inet6(let host, _, _, _): host
        case .unix(let path): path
        case .unnamed: nil
        }
    }

    /// `address[1]`: the port of an internet address, else `nil`.
    public var port: Int? {
        switch self {
        case .inet(_, let port), .inet6(_, let port, _, _): port
        case .unix, .unnamed: nil
        }
    }

    /// Swift-only: call `body` with this address as a `sockaddr` pointer and length for a
    /// socket of `family`; CPython does this in C (`getsockaddrarg`, `setipaddr`).
    ///
    /// Numeric hosts are parsed with `inet_pton`; other names ("localhost") are resolved with
    /// `getaddrinfo` for the family; "" means INADDR_ANY and "<broadcast>" INADDR_BROADCAST.
    /// An AF_INET6 socket also takes an ``inet(host:port:)`` pair (flowinfo and scope 0).
    ///
    /// Differs from Python: where CPython raises `OverflowError` (port outside 0–65535) or
    /// `TypeError` (wrong address shape for the family, `None`), this throws an ``OSError``
    /// with errno `nil` and the same message; a failed name lookup throws an ``OSError``
    /// with the negative `EAI_*` code as errno and `gai_strerror`'s message, as
    /// `socket.gaierror` ("[Errno -2] Name or service not known").
    ///
    /// - Throws: ``OSError``; `OSError("AF_UNIX path too long")` (errno `nil`) before any
    ///   system call when the path has 108 bytes or more (`sizeof(sun_path)`).
    public func withSockAddr<R>(
        family: CInt, caller: String = "getsockaddrarg", _ body: (UnsafePointer<sockaddr>, socklen_t) throws(OSError) -> R
    ) throws(OSError) -> R {
        var storage = sockaddr_storage()
        let length: socklen_t
        switch (family, self) {
        case (AF_INET, .inet(let host, let port)):
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = try Self.networkPort(port, caller: caller).bigEndian
            sin.sin_addr = try Self.ipv4Address(host)
            Self.store(sin, into: &storage)
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        case (AF_INET6, .inet(let host, let port)),
            (AF_INET6, .inet6(let host, let port, _, _)):
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = try Self.networkPort(port, caller: caller).bigEndian
            let (addr, resolvedScope) = try Self.ipv6Address(host)
            sin6.sin6_addr = addr
            if case .inet6(_, _, let flowinfo, let scopeID) = self {
                sin6.sin6_flowinfo = flowinfo.bigEndian
                sin6.sin6_scope_id = scopeID != 0 ? scopeID : resolvedScope
            } else {
                sin6.sin6_scope_id = resolvedScope
            }
            Self.store(sin6, into: &storage)
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        case (AF_UNIX, .unix(let path)):
            let bytes = Array(path.utf8)
            var sun = sockaddr_un()
            let capacity = MemoryLayout.size(ofValue: sun.sun_path)  // 108
            let offset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
            let abstract = bytes.isEmpty || bytes[0] == 0
            // CPython: regular paths need room for the trailing NUL; abstract ones do not.
            if abstract ? bytes.count > capacity : bytes.count >= capacity {
                throw OSError("AF_UNIX path too long")
            }
            sun.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &sun.sun_path) { raw in
                raw.copyBytes(from: bytes)
            }
            Self.store(sun, into: &storage)
            length = socklen_t(offset + bytes.count + (abstract ? 0 : 1))
        case (AF_INET, _):
            throw OSError("AF_INET address must be tuple, not \(pythonTypeName)")
        case (AF_INET6, _):
            throw OSError("AF_INET6 address must be tuple, not \(pythonTypeName)")
        case (AF_UNIX, _):
            throw OSError("a bytes-like object is required, not '\(pythonTypeName)'")
        default:
            throw OSError("getsockaddrarg: bad family \(family)")
        }
        return try withUnsafePointer(to: &storage) { (p) throws(OSError) -> R in
            try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { (sa) throws(OSError) -> R in
                try body(sa, length)
            }
        }
    }

    /// An address from the kernel (`accept`, `recvfrom`, `getsockname`, `getpeername`).
    ///
    /// A zero `length` is ``unnamed`` (Python `None`); an AF_UNIX address with no path bytes
    /// is `.unix("")` (Python `''`).
    ///
    /// Python: makesockaddr (Modules/socketmodule.c)
    public init(storage: sockaddr_storage, length: socklen_t) {
        if length == 0 {
            self = .unnamed
            return
        }
        switch CInt(storage.ss_family) {
        case AF_INET:
            let sin = withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in.self) }
            self = .inet(host: Self.ntop(AF_INET, sin.sin_addr), port: Int(UInt16(bigEndian: sin.sin_port)))
        case AF_INET6:
            let sin6 = withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in6.self) }
            self = .inet6(
                host: Self.ntop(AF_INET6, sin6.sin6_addr), port: Int(UInt16(bigEndian: sin6.sin6_port)),
                flowinfo: UInt32(bigEndian: sin6.sin6_flowinfo), scopeID: sin6.sin6_scope_id)
        case AF_UNIX:
            let offset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
            let pathLength = min(max(Int(length) - offset, 0), 108)
            let bytes: [UInt8] = withUnsafeBytes(of: storage) { raw in
                Array(raw[offset..<(offset + pathLength)])
            }
            if let first = bytes.first, first == 0 {
                self = .unix(String(decoding: bytes, as: UTF8.self))  // Linux abstract name
            } else {
                let end = bytes.firstIndex(of: 0) ?? bytes.count
                self = .unix(String(decoding: bytes[..<end], as: UTF8.self))
            }
        default:
            self = .unnamed
        }
    }

    /// Swift-only: run `body` with room for a kernel-written address, then decode it.
    static func fromKernel<R>(
        _ body: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) throws(OSError) -> R
    ) throws(OSError) -> (R, SocketAddress) {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let r = try withUnsafeMutablePointer(to: &storage) { (p) throws(OSError) -> R in
            try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { (sa) throws(OSError) -> R in
                try body(sa, &length)
            }
        }
        return (r, SocketAddress(storage: storage, length: length))
    }

    // MARK: Helpers

    private var pythonTypeName: String {
        switch self {
        case .inet, .inet6: "tuple"
        case .unix: "str"
        case .unnamed: "NoneType"
        }
    }

    private static func store<T>(_ value: T, into storage: inout sockaddr_storage) {
        withUnsafeBytes(of: value) { src in
            withUnsafeMutableBytes(of: &storage) { dst in
                dst.copyMemory(from: src)
            }
        }
    }

    /// `caller` names the socket method in the message, as CPython's does (`bind()`).
    private static func networkPort(_ port: Int, caller: String) throws(OSError) -> UInt16 {
        guard (0...65535).contains(port) else {
            throw OSError("\(caller): port must be 0-65535.")
        }
        return UInt16(port)
    }

    /// An IPv4 address in dotted-quad form (`"127.0.0.1"`), as `inet_ntop` writes it.
    ///
    /// Written by hand: glibc's `inet_ntop` formats the four numbers through `sprintf`, which
    /// with the buffers around it was a sixth of the instructions of an untraced TCP request
    /// (callgrind), and every request decodes its client's address.
    private static func ntop(_ family: CInt, _ addr: in_addr) -> String {
        let value = UInt32(bigEndian: addr.s_addr)
        return String(unsafeUninitializedCapacity: 15) { text in
            var count = 0
            for shift in [24, 16, 8, 0] as [UInt32] {
                let octet = UInt8(truncatingIfNeeded: value >> shift)
                if shift != 24 {
                    text[count] = UInt8(ascii: ".")
                    count += 1
                }
                if octet >= 100 {
                    text[count] = UInt8(ascii: "0") + octet / 100
                    count += 1
                }
                if octet >= 10 {
                    text[count] = UInt8(ascii: "0") + octet / 10 % 10
                    count += 1
                }
                text[count] = UInt8(ascii: "0") + octet % 10
                count += 1
            }
            return count
        }
    }

    /// An IPv6 address as `inet_ntop` writes it (`"::1"`, with its rules for `::`).
    private static func ntop(_ family: CInt, _ addr: in6_addr) -> String {
        var addr = addr
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(INET6_ADDRSTRLEN) + 1) { buffer in
            guard inet_ntop(family, &addr, buffer.baseAddress, socklen_t(buffer.count)) != nil else { return "" }
            return String(cString: buffer.baseAddress!)
        }
    }

    private static func ipv4Address(_ host: String) throws(OSError) -> in_addr {
        if host.isEmpty { return in_addr(s_addr: INADDR_ANY.bigEndian) }
        if let canonical = dottedQuad(host) { return canonical }  // "255.255.255.255" too
        if host == "<broadcast>" { return in_addr(s_addr: INADDR_BROADCAST.bigEndian) }
        var addr = in_addr()
        if inet_pton(AF_INET, host, &addr) == 1 { return addr }
        let storage = try resolve(host, family: AF_INET)
        return withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in.self) }.sin_addr
    }

    /// `host` as an IPv4 address when it is one in canonical dotted-quad form (`"127.0.0.1"`:
    /// four numbers 0–255 without leading zeros), which `inet_pton` reads the same way; nil
    /// for anything else, left to `inet_pton` and the resolver.
    ///
    /// Read by hand because a datagram server's every reply goes through it (`sendto` takes the
    /// client's address as text, as Python's does), and handing the text to `inet_pton` was a
    /// tenth of an untraced UDP request (callgrind).
    static func dottedQuad(_ host: String) -> in_addr? {
        // Over the bytes as one buffer: stepping through the UTF-8 view a byte at a time made
        // the address of a sendto cost 754 instructions; this way, 513 (callgrind).
        var host = host
        return host.withUTF8 { dottedQuad(bytes: $0) }
    }

    /// ``dottedQuad(_:)`` over the text's UTF-8 bytes.
    private static func dottedQuad(bytes host: UnsafeBufferPointer<UInt8>) -> in_addr? {
        var value: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var dots = 0
        for byte in host {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, dots < 3 else { return nil }
                value = value << 8 | octet
                octet = 0
                digits = 0
                dots += 1
            } else if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                guard digits == 0 || octet != 0 else { return nil }  // a leading zero
                octet = octet * 10 + UInt32(byte - UInt8(ascii: "0"))
                digits += 1
                guard digits <= 3, octet <= 255 else { return nil }
            } else {
                return nil
            }
        }
        guard dots == 3, digits > 0 else { return nil }
        return in_addr(s_addr: (value << 8 | octet).bigEndian)
    }

    private static func ipv6Address(_ host: String) throws(OSError) -> (in6_addr, UInt32) {
        if host.isEmpty { return (in6addr_any, 0) }
        var addr = in6_addr()
        if inet_pton(AF_INET6, host, &addr) == 1 { return (addr, 0) }
        let storage = try resolve(host, family: AF_INET6)
        let sin6 = withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in6.self) }
        return (sin6.sin6_addr, sin6.sin6_scope_id)
    }

    /// `getaddrinfo(host, NULL, {family})`, the first result (CPython `setipaddr`).
    private static func resolve(_ host: String, family: CInt) throws(OSError) -> sockaddr_storage {
        var hints = addrinfo()
        hints.ai_family = family
        var result: UnsafeMutablePointer<addrinfo>? = nil
        let rc = getaddrinfo(host, nil, &hints, &result)
        defer { if result != nil { freeaddrinfo(result) } }
        guard rc == 0, let info = result, let sa = info.pointee.ai_addr else {
            let code = rc == 0 ? EAI_NONAME : rc
            throw OSError(errno: code, strerror: String(cString: gai_strerror(code)), kind: .other)
        }
        var storage = sockaddr_storage()
        let count = min(Int(info.pointee.ai_addrlen), MemoryLayout<sockaddr_storage>.size)
        withUnsafeMutableBytes(of: &storage) { dst in
            dst.copyMemory(from: UnsafeRawBufferPointer(start: UnsafeRawPointer(sa), count: count))
        }
        return storage
    }
}
