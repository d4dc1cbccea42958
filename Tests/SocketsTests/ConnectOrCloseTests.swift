// Tests of Socket.connectOrClose: the timeout set before the connect, the socket closed when
// either fails.
import Sockets
import TestSupport
import Testing

@Suite("connectOrClose", .timeLimit(.minutes(1)))
struct ConnectOrCloseTests {
    @Test("a bad timeout closes the socket before any connect")
    func badTimeout() throws {
        let client = try Socket()
        #expect(throws: ValueError.self) {
            try client.connectOrClose(.inet(host: "127.0.0.1", port: 9), timeout: -1)
        }
        #expect(client.fileno() == -1)
    }

    @Test("a refused connect closes the socket and throws ConnectionRefusedError")
    func refused() throws {
        let (listener, port) = try tcpListener()
        try listener.close()  // nobody listens on the port now
        let client = try Socket()
        let error = osError { try client.connectOrClose(.inet(host: "127.0.0.1", port: port), timeout: 5) }
        #expect(error?.kind == .connectionRefused)
        #expect(client.fileno() == -1)
    }

    @Test("a connect that succeeds leaves the socket open, its timeout set")
    func connects() throws {
        let (listener, port) = try tcpListener()
        let client = try Socket()
        defer {
            try? client.close()
            try? listener.close()
        }
        try client.connectOrClose(.inet(host: "127.0.0.1", port: port), timeout: 5)
        #expect(client.fileno() >= 0)
        #expect(client.gettimeout() == 5)
        #expect(try client.getpeername().port == port)
    }
}
