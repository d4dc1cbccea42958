// `_ServerSelector` is the selector CPython picks on Linux, and it may be replaced, as the
// module global may be in Python: each handle_request() and serve_forever() makes its selector
// from the class set when it starts.
import SocketServer
import Sockets
import TestSupport
import Testing

@Suite("_ServerSelector", .serialized)
struct ServerSelectorTests {
    /// On Linux CPython picks `selectors.PollSelector` (select.poll exists).
    @Test("_ServerSelector is PollSelector")
    func serverSelector() {
        #expect(ObjectIdentifier(_ServerSelector) == ObjectIdentifier(PollSelector.self))
    }

    /// In a fresh process: the class is process-wide, and other tests' servers must keep poll.
    @Test("handle_request() and serve_forever() wait with the class _ServerSelector names", .timeLimit(.minutes(1)))
    func replaceable() async {
        await #expect(processExitsWith: .success) {
            isolated {
                _ServerSelector = EpollSelector.self
                defer { _ServerSelector = PollSelector.self }
                let server = try TCPServer(.inet(host: HOST, port: 0), MyStreamHandler.self)
                defer { try? server.serverClose() }
                let client = try connectedClient(server.serverAddress)
                defer { try? client.close() }
                try client.sendall(TEST_STR)
                let (_, calls) = try SyscallFaults.counting { try server.handleRequest() }
                #expect(try receiveLine(client) == TEST_STR)
                #expect(calls[.epollCreate] == 1 && calls[.epollWait] == 1 && calls[.poll] == 0)

                _ServerSelector = SelectSelector.self
                server.timeout = 0
                let (_, timedOut) = try SyscallFaults.counting { try server.handleRequest() }
                #expect(timedOut[.select] >= 1 && timedOut[.poll] == 0)
            }
        }
    }
}
