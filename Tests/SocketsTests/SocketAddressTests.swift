// Tests of SocketAddress: Python reprs, conversions, round trips through the kernel.
import Glibc
import Sockets
import TestSupport
import Testing

@Suite("SocketAddress", .timeLimit(.minutes(1)))
struct SocketAddressTests {
    @Test("repr of each shape, as Python")
    func reprs() {
        #expect(SocketAddress.inet(host: "127.0.0.1", port: 9999).description == "('127.0.0.1', 9999)")
        #expect(SocketAddress.inet6(host: "::1", port: 9999).description == "('::1', 9999, 0, 0)")
        #expect(SocketAddress.unix("/tmp/s").description == "'/tmp/s'")
        #expect(SocketAddress.unix("").description == "''")
        #expect(SocketAddress.unnamed.description == "None")
        #expect(SocketAddress.inet(host: "h", port: 1).host == "h")
        #expect(SocketAddress.inet(host: "h", port: 1).port == 1)
        #expect(SocketAddress.unix("/p").host == "/p")
        #expect(SocketAddress.unix("/p").port == nil)
        #expect(SocketAddress.unnamed.host == nil)
    }

    private func roundTrip(_ a: SocketAddress, _ family: CInt) throws -> SocketAddress {
        try a.withSockAddr(family: family) { (sa, len) throws(OSError) in
            var storage = sockaddr_storage()
            withUnsafeMutableBytes(of: &storage) { dst in
                dst.copyMemory(from: UnsafeRawBufferPointer(start: UnsafeRawPointer(sa), count: Int(len)))
            }
            return SocketAddress(storage: storage, length: len)
        }
    }

    @Test("withSockAddr / init(storage:) round trips")
    func roundTrips() throws {
        #expect(try roundTrip(.inet(host: "127.0.0.1", port: 80), AF_INET) == .inet(host: "127.0.0.1", port: 80))
        #expect(try roundTrip(.inet(host: "", port: 1), AF_INET) == .inet(host: "0.0.0.0", port: 1))
        #expect(try roundTrip(.inet(host: "localhost", port: 2), AF_INET) == .inet(host: "127.0.0.1", port: 2))
        #expect(
            try roundTrip(.inet6(host: "::1", port: 443, flowinfo: 5, scopeID: 0), AF_INET6)
                == .inet6(host: "::1", port: 443, flowinfo: 5, scopeID: 0))
        #expect(try roundTrip(.inet(host: "::1", port: 7), AF_INET6) == .inet6(host: "::1", port: 7))
        #expect(try roundTrip(.unix("/tmp/x"), AF_UNIX) == .unix("/tmp/x"))
        var empty = sockaddr_storage()
        empty.ss_family = sa_family_t(AF_UNIX)
        #expect(SocketAddress(storage: empty, length: 2) == .unix(""))
        #expect(SocketAddress(storage: empty, length: 0) == .unnamed)
    }

    @Test("bad ports and shapes throw OSError before any syscall")
    func badInputs() {
        let e = osError { try _ = roundTrip(.inet(host: "127.0.0.1", port: 70000), AF_INET) }
        #expect(e?.description == "getsockaddrarg: port must be 0-65535.")
        #expect(osError { try _ = roundTrip(.unix("/x"), AF_INET) } != nil)
        #expect(osError { try _ = roundTrip(.unnamed, AF_UNIX) } != nil)
        let gai = osError { try _ = roundTrip(.inet(host: "no-such-host.invalid", port: 1), AF_INET) }
        #expect(gai?.errno.map { $0 < 0 } == true)
    }

    @Test("AF_UNIX path too long: 108 bytes refused, 107 accepted")
    func unixTooLong() throws {
        let long = "/" + String(repeating: "a", count: 107)  // 108 bytes
        let s = try Socket(AF_UNIX, SOCK_STREAM)
        defer { try? s.close() }
        let (e, calls) = SyscallFaults.counting { osError { try s.bind(.unix(long)) } }
        #expect(e?.description == "AF_UNIX path too long")
        #expect(e?.errno == nil)
        #expect(calls[.bind] == 0)
        let ok = String(long.dropLast())  // 107 bytes
        #expect(try roundTrip(.unix(ok), AF_UNIX) == .unix(ok))
    }

    @Test("kernel addresses: AF_INET, AF_INET6 ::1, AF_UNIX")
    func kernelAddresses() throws {
        let (s4, a4) = try loopbackSocket(SOCK_STREAM)
        defer { try? s4.close() }
        #expect(a4.host == "127.0.0.1")
        #expect(a4.description == "('127.0.0.1', \(a4.port!))")

        let s6 = try Socket(AF_INET6, SOCK_STREAM)
        defer { try? s6.close() }
        try s6.bind(.inet6(host: "::1", port: 0))
        try s6.listen()
        let a6 = try s6.getsockname()
        #expect(a6.description == "('::1', \(a6.port!), 0, 0)")
        let c6 = try Socket(AF_INET6, SOCK_STREAM)
        defer { try? c6.close() }
        try c6.connect(a6)
        let (conn6, peer6) = try s6.accept()
        defer { try? conn6.close() }
        #expect(peer6 == (try c6.getsockname()))
        #expect(try c6.getpeername() == a6)

        let folder = try TempDir()
        defer { folder.remove() }
        let dir = folder.path
        let l = try Socket(AF_UNIX, SOCK_STREAM)
        defer { try? l.close() }
        try l.bind(.unix(dir + "/s"))
        try l.listen()
        #expect(try l.getsockname() == .unix(dir + "/s"))
        let c = try Socket(AF_UNIX, SOCK_STREAM)
        defer { try? c.close() }
        try c.connect(.unix(dir + "/s"))
        let (conn, peer) = try l.accept()
        defer { try? conn.close() }
        #expect(peer == .unix(""))
        #expect(peer.description == "''")

        // A datagram from an unbound AF_UNIX socket comes from None.
        let d = try Socket(AF_UNIX, SOCK_DGRAM)
        defer { try? d.close() }
        try d.bind(.unix(dir + "/d"))
        let u = try Socket(AF_UNIX, SOCK_DGRAM)
        defer { try? u.close() }
        #expect(try u.sendto(b("x"), .unix(dir + "/d")) == 1)
        let (data, from) = try d.recvfrom(10)
        #expect(data == b("x"))
        #expect(from == .unnamed)
        #expect(from.description == "None")
        let bound = try Socket(AF_UNIX, SOCK_DGRAM)
        defer { try? bound.close() }
        try bound.bind(.unix(dir + "/c"))
        _ = try bound.sendto(b("y"), .unix(dir + "/d"))
        #expect(try d.recvfrom(10).1 == .unix(dir + "/c"))
    }
}
