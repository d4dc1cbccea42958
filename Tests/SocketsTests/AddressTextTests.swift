// The port writes IPv4 addresses as text itself (not through inet_ntop): these check that it
// writes what inet_ntop writes, for the edges of each octet and a spread of other values.
import Glibc
import Testing

@testable import Sockets

@Suite struct AddressTextTests {
    /// The host text of an AF_INET address whose four bytes (network order) are `value`'s.
    private func host(decoding value: UInt32) -> String {
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = UInt16(8080).bigEndian
        sin.sin_addr.s_addr = value.bigEndian
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { raw in
            withUnsafeBytes(of: sin) { raw.copyMemory(from: $0) }
        }
        let address = SocketAddress(storage: storage, length: socklen_t(MemoryLayout<sockaddr_in>.size))
        guard case .inet(let host, let port) = address else { return "not AF_INET: \(address)" }
        #expect(port == 8080)
        return host
    }

    /// What glibc's inet_ntop writes for the same address.
    private func ntop(_ value: UInt32) -> String {
        var addr = in_addr(s_addr: value.bigEndian)
        var buffer = [CChar](repeating: 0, count: 16)
        _ = inet_ntop(AF_INET, &addr, &buffer, socklen_t(buffer.count))
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    @Test func ipv4TextMatchesInetNtop() {
        let octets: [UInt32] = [0, 1, 9, 10, 99, 100, 199, 200, 249, 250, 255]
        var values: [UInt32] = octets.flatMap { a in octets.map { b in a << 24 | b << 16 | (255 - b) << 8 | a } }
        var state: UInt32 = 0x9E37_79B9
        for _ in 0..<2000 {  // a fixed pseudo-random spread (xorshift)
            state ^= state << 13
            state ^= state >> 17
            state ^= state << 5
            values.append(state)
        }
        let wrong = values.filter { host(decoding: $0) != ntop($0) }
        #expect(wrong.isEmpty, "first differences: \(wrong.prefix(5).map { (host(decoding: $0), ntop($0)) })")
        #expect(host(decoding: 0x7F00_0001) == "127.0.0.1")
    }

    @Test func dottedQuadReadsWhatInetPtonReads() {
        var texts = [
            "127.0.0.1", "0.0.0.0", "255.255.255.255", "10.0.100.9", "1.2.3.4", "01.2.3.4", "1.2.3.04",
            "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.4 ",
            " 1.2.3.4", "1.2.3.-4", "0x7f.0.0.1", "1.2.3.1000", "", "localhost", "::1", "1.2.3.a",
        ]
        var state: UInt32 = 0x2545_F491
        for _ in 0..<500 {
            state ^= state << 13
            state ^= state >> 17
            state ^= state << 5
            texts.append([24, 16, 8, 0].map { String(UInt8(truncatingIfNeeded: state >> $0)) }.joined(separator: "."))
        }
        for text in texts {
            var expected = in_addr()
            let accepted = inet_pton(AF_INET, text, &expected) == 1
            let ours = SocketAddress.dottedQuad(text)
            if let ours {
                #expect(accepted && ours.s_addr == expected.s_addr, "\(text): \(ours.s_addr) vs inet_pton's \(expected.s_addr)")
            } else {
                // What it leaves to inet_pton is only what inet_pton also rejects, or a
                // non-canonical spelling.
                #expect(!accepted || text.split(separator: ".").contains { $0.count > 1 && $0.first == "0" }, "\(text) left out")
            }
        }
    }

    @Test func ipv6TextIsInetNtops() {
        var sin6 = sockaddr_in6()
        sin6.sin6_family = sa_family_t(AF_INET6)
        sin6.sin6_addr = in6addr_loopback
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { raw in
            withUnsafeBytes(of: sin6) { raw.copyMemory(from: $0) }
        }
        let address = SocketAddress(storage: storage, length: socklen_t(MemoryLayout<sockaddr_in6>.size))
        guard case .inet6(let host, _, _, _) = address else {
            Issue.record("not AF_INET6: \(address)")
            return
        }
        #expect(host == "::1")
    }
}
