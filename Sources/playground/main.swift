// The playground: a server of your own, traced. `swift run playground` starts it on 127.0.0.1,
// sends it a few requests, stops it and prints every call it made, as the tool's tree does.
//
// It starts from the notes' example (the handler `socketserver-trace` runs by default) and adds
// a server subclass with its own verify_request. Things to try, one at a time, then run again:
//   - the server's base class: `ThreadingTCPServer` moves each request to a thread of its own,
//     `ForkingTCPServer` to a child process (see which methods change in the trace);
//   - `verifyRequest`: return false for the second request and watch what is left out;
//   - `handle`: throw an error (`throw ValueError("boom")`) and follow handle_error;
//   - the messages the clients send, or how many there are;
//   - `serveForever(pollInterval:)`, or `handleRequest()` in a loop instead of serve_forever.
// What your classes override shows up under their own names (`handle  MyTCPHandler`).
import Glibc
import SocketServer
import Sockets
import Tracing

/// The notes' handler: read up to 1024 bytes, print them, send them back upper-cased.
final class MyTCPHandler: BaseRequestHandler {
    override func handle() throws {
        // self.request is the TCP socket connected to the client
        let data = try request.recv(1024).filter { $0 != UInt8(ascii: "\n") }
        if case .inet(let host, _) = clientAddress { print("\(host) wrote:") }
        print(pyBytesRepr(data))
        // just send back the same data, but upper-cased
        try request.sendall(data.map { (97...122).contains($0) ? $0 - 32 : $0 })
    }
}

/// A server of your own: it turns away every request after the first `limit`.
final class LimitedServer: TCPServer, @unchecked Sendable {
    /// How many requests it serves.
    nonisolated(unsafe) static var limit = 2
    private var served = 0

    override func verifyRequest(_ request: Request, _ clientAddress: SocketAddress) throws -> Bool {
        served += 1
        return served <= Self.limit
    }
}

/// One client: send `message`, read the reply until the server closes the connection.
func ask(_ address: SocketAddress, _ message: String) throws -> String {
    let client = try Socket(Sockets.AF_INET, Sockets.SOCK_STREAM)
    defer { try? client.close() }
    try client.settimeout(5)
    try client.connect(address)
    try client.sendall(Array(message.utf8))
    var reply: [UInt8] = []
    while true {
        let chunk: [UInt8]
        do { chunk = try client.recv(1024) } catch { break }  // a turned-away request may be reset
        if chunk.isEmpty { break }
        reply += chunk
    }
    return pyBytesRepr(reply)
}

// Nothing here may hang: if the playground is still running after 20 seconds, SIGALRM ends it.
alarm(20)
// The main thread takes part in the fork gate, so that a forking server (ForkingTCPServer)
// beside the serving thread forks safely.
ForkGate.enroll()

let recorder = Recorder(deterministic: true)
Trace.attach(recorder)
let server = try LimitedServer(.inet(host: "127.0.0.1", port: 0), MyTCPHandler.self)
let serving = PThread(targetName: "serve_forever") { try server.serveForever() }
try serving.start()
for message in ["hello world", "hello again", "one too many"] {
    print("client received:", try ask(server.serverAddress, message))
}
server.shutdown()
try serving.join()
try server.serverClose()
Trace.attach(nil)
print(render(recorder.recording(), as: .tree), terminator: "")
