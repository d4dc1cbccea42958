// The two ways a detail is normalized, from typed values and from text, give the same text.
import SocketServer
import Sockets
import Testing

@testable import Tracing

@Suite("Detail normalizer")
struct NormalizerTests {
    /// An event whose detail is `values` shown as the recorder shows them.
    static func event(_ values: TraceEventValues, request: Int? = 1) -> TraceEvent {
        let detail: String
        switch values {
        case .arguments(let arguments): detail = arguments.description
        case .result(let value): detail = "-> " + value.description
        }
        var event = TraceEvent(
            seq: 0, kind: .call, function: "TCPServer.verify_request", definingClass: "TCPServer",
            selfClass: "TCPServer", method: "verify_request", swift: "verifyRequest(_:_:)", pyLine: 335,
            process: "P0", thread: "T1", pid: 4242, tid: 4243, request: request, depth: 2, time: 0,
            detail: detail, frame: TraceFrameID(process: "P0", number: 0))
        event.values = values
        return event
    }

    static let samples: [TraceEventValues] = [
        .arguments(.of("request", TraceValue.socket(fd: 7), "client_address", SocketAddress.inet(host: "127.0.0.1", port: 50432))),
        .arguments(.of("server_address", SocketAddress.inet6(host: "::1", port: 0, flowinfo: 0, scopeID: 0))),
        .arguments(.of("request", TraceValue.tuple([.bytes(Array("hi \u{1B}[2J".utf8)), .socket(fd: 3)]))),
        .arguments(.of("server_address", SocketAddress.unix("/tmp/socketserver-x/sock"))),
        .arguments(.of("thread", TraceValue.thread(name: "Thread-7 (process_request_thread)", daemon: true))),
        .arguments(.of("sock", TraceValue.socket(fd: -1))),
        .arguments(.of("status", 4242)),
        .result(.tuple([.socket(fd: 9), .address(.inet(host: "127.0.0.1", port: 50433))])),
        .result(.int(-4242)),
        .result(.str("it's\n")),
    ]

    @Test("typed values and their text normalize alike, in one sequence of first appearances")
    func typedMatchesText() {
        let processes = [TraceProcess(label: "P1", pid: 4242, parent: "P0", exitStatus: 0)]
        var typed = DetailNormalizer(enabled: true, processes: processes)
        var scanned = DetailNormalizer(enabled: true, processes: processes)
        for sample in Self.samples {
            let event = Self.event(sample)
            var text = event
            text.values = nil
            let fromValues = typed.detail(of: event)
            #expect(fromValues == scanned.detail(of: text), "\(sample)")
        }
        // The typed path did rename: the port became PORT1, the descriptor FD1, the pid P1.
        var fresh = DetailNormalizer(enabled: true, processes: processes)
        #expect(fresh.detail(of: Self.event(Self.samples[0])) == "request=<socket fd=FD1>, client_address=('127.0.0.1', PORT1)")
        #expect(fresh.detail(of: Self.event(Self.samples[6])) == "status=P1")
    }

    @Test("a fileno result is a descriptor name")
    func filenoResult() {
        var normalizer = DetailNormalizer(enabled: true, processes: [])
        #expect(normalizer.detail(of: Self.event(.result(.int(5)), request: nil), descriptorResult: true) == "-> FD1")
    }
}
