// The conditions under which a ForkingMixIn child used to hang for ever: thousands of forks
// while the other threads of the same process (the clients, the serving thread, two busy
// threads, a recorder) run unspecialised generic code, take type names, touch lazy globals and
// allocate as fast as they can. A child forked while another thread held one of the Swift
// runtime's locks waited for that lock for ever. The fork gate is what prevents it; this test
// is what shows it, in a fresh process, bounded in count and time, and with every stuck child
// reported by pid and killed.
import Glibc
import SocketServer
import Sockets
import TestSupport
import Testing
import Tracing

@Suite("ForkStress", .serialized)
struct ForkStressTests {
    @Test(
        "3,000 forked requests beside busy threads: no child stuck", .timeLimit(.minutes(3)),
        .disabled(if: sanitizer != nil, "a sanitizer's own locks make forks beside threads hang"))
    func forkStress() async {
        await #expect(processExitsWith: .success) {
            isolated(deadline: 150) { try forkStressBody(requests: 3000, clients: 4, seconds: 90) }
        }
    }
}

/// A value type of ours, so that the generic code below meets a type the runtime has not
/// cached for the standard library.
struct ChurnPair: Hashable {
    var a: Int
    var b: String
}

/// A lazily made global, touched on every turn of the busy threads.
let churnTable: [String: Int] = Dictionary(uniqueKeysWithValues: (0..<16).map { ("k\($0)", $0) })

/// Generic code that a debug build does not specialise: every call asks the runtime for the
/// metadata of `[T?]`, `Set<T>` and `[Bool: [T?]]`, for conditional conformances, and for a
/// type name (under the runtime's one type-name lock).
@inline(never)
func churnOnce<T: Hashable>(_ value: T) -> Int {
    let optionals: [T?] = [value, nil, value]
    let unique = Set(optionals.compactMap { $0 })
    let grouped = Dictionary(grouping: optionals) { $0 == nil }
    return unique.count + grouped.count + _typeName(type(of: grouped)).count + _typeName(T.self).count
}

/// One turn of a busy thread.
func churn(_ round: Int) -> Int {
    churnOnce(round) + churnOnce("s\(round % 7)") + churnOnce([round % 5])
        + churnOnce(ChurnPair(a: round % 3, b: "b")) + (churnTable["k\(round % 16)"] ?? 0)
}

/// Serves `requests` requests with a ForkingTCPServer (a recorder attached) from `clients`
/// client threads within `seconds`, while three threads churn; then checks that every request
/// was answered, that no child was left running, and that the recorder saw every handler.
func forkStressBody(requests: Int, clients: Int, seconds: Double) throws {
    let recorder = Recorder(deterministic: false)
    Trace.attach(recorder)
    defer { Trace.attach(nil) }
    let server = try ForkingTCPServer(.inet(host: HOST, port: 0), MyStreamHandler.self)
    server.blockOnClose = false  // a stuck child must not hang server_close: it is reported below
    let address = server.serverAddress
    let serving = try ServingThread(server)

    let stop = ThreadEvent()
    let churners = (0..<3).map { index in
        PThread(name: "churn \(index)") {
            var round = index
            while !stop.isSet() {
                round &+= churn(round)
                ForkGate.checkpoint()  // a fork may go ahead between two turns
            }
        }
    }
    for thread in churners { try thread.start() }
    let outcome = try driveLoad(requests: requests, clients: clients, until: now() + seconds) { ticket, _ in
        let client = try connectedClient(address)
        defer { try? client.close() }
        let line = bytes("request \(ticket)\n")
        try client.sendall(line)
        return try receiveAll(client) == line ? nil : "wrong reply"
    }
    stop.set()
    for thread in churners { try thread.join() }
    server.shutdown()
    try serving.join()
    try server.serverClose()

    // A child that has not ended two seconds after the last reply is stuck.
    waitUntil(timeout: 2) { descendants().allSatisfy { $0.state == "Z" } }
    let stuck = killDescendants()
    try? server.collectChildren(blocking: false)
    while (try? os.waitpid(-1, os.WNOHANG).0) ?? 0 > 0 {}

    #expect(stuck.isEmpty, "\(stuck.count) forked children stuck: \(stuck)")
    #expect(outcome.failures.isEmpty, "\(outcome.failures.count) requests failed: \(outcome.failures.prefix(5))")
    // Clients stop taking requests at the deadline (a loaded machine forks slowly): every
    // request that was sent must have been answered, and enough must have been sent for the
    // stress to mean something (before the fork gate, a child got stuck within the first
    // thousand or so).
    let sent = outcome.sent
    #expect(outcome.answered == sent, "answered \(outcome.answered) of the \(sent) requests sent")
    #expect(sent >= 1000, "only \(sent) of \(requests) requests were sent within \(seconds) s")
    let handled = recorder.recording().events.filter { $0.method == "handle" && $0.kind == .call }.count
    #expect(handled == outcome.answered, "the recorder saw \(handled) handlers for \(outcome.answered) replies")
    print("fork stress: \(outcome.answered) forked requests answered of \(sent) sent, \(stuck.count) children stuck")
}
