// `socketserver-trace experiment`: each experiment runs to its end and what it observes that
// does not depend on timing is what these tests expect (what does depend on it, round trips and
// CPU time, the tests only expect to be there). runTool records any process an experiment
// leaves behind. One at a time: several measure timings or fill the descriptor table.
import Foundation
import TestSupport
import Testing

/// An experiment and the lines its output must contain.
struct ExpectedExperiment: Sendable, CustomTestStringConvertible {
    let name: String
    let lines: [String]
    /// Whether every verdict it prints must hold (false where a verdict compares timings).
    let verdictsHold: Bool
    /// What else is wrong with its output lines, if anything.
    let problem: @Sendable ([String]) -> String?
    var testDescription: String { name }

    /// `name`, which must print each line of `printing` (as it prints them, leading spaces
    /// included).
    init(
        _ name: String, printing: String, verdictsHold: Bool = true,
        problem: @escaping @Sendable ([String]) -> String? = { _ in nil }
    ) {
        self.name = name
        self.lines = printing.split(separator: "\n").map(String.init)
        self.verdictsHold = verdictsHold
        self.problem = problem
    }
}

/// The numbers of the first line of `lines` that contains `text`, in order.
func numbers(in lines: [String], after text: String) -> [Int] {
    guard let line = lines.first(where: { $0.contains(text) }), let range = line.range(of: text) else { return [] }
    return line[range.upperBound...].split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
}

let expectedExperiments: [ExpectedExperiment] = [
    ExpectedExperiment("shutdown-vs-close", printing: """
        shutdown(SHUT_WR), a dup still open:  peer's recv: b'' (the end of the stream)
        close(), a dup still open:            peer's recv: nothing in 200 ms (TimeoutError)
          ... and after the dup's close():    peer's recv: b'' (the end of the stream)
        close(), a forked child holds it:     peer's recv: nothing in 200 ms (TimeoutError)
          ... and after the child exits:      peer's recv: b'' (the end of the stream)
        shutdown(SHUT_WR), a child holds it:  peer's recv: b'' (the end of the stream)
          ... the child's send afterwards:    BrokenPipeError: [Errno 32] Broken pipe
        close() with 6 bytes unread:          peer's recv: ConnectionResetError: [Errno 104] Connection reset by peer
        after shutdown(SHUT_WR): recv b'more', getpeername() works,
        after close(): fileno() -1, recv OSError: [Errno 9] Bad file descriptor
        """),
    ExpectedExperiment("selectors", printing: #"""
        PollSelector    poll 1
        SelectSelector  select 1
        EpollSelector   epoll_create1 1, epoll_ctl 1, epoll_wait 1, close 1
        and the request's own, the same with each: accept 1, recv 1, send 1, shutdown 1, close 1
        EpollSelector   1
        the server's socket at descriptor 1024, one handle_request() with each:
        SelectSelector  ValueError: filedescriptor out of range in select()
        PollSelector    served, the client read b'HELLO\n'
        EpollSelector   served, the client read b'HELLO\n'
        selectors.DefaultSelector here: EpollSelector (socketserver._ServerSelector: PollSelector)
        """#),
    ExpectedExperiment("inet-vs-unix", printing: """
        AF_INET: poll 1, accept 1, recv 1, send 1, shutdown 1, close 1
        AF_UNIX: poll 1, accept 1, recv 1, send 1, shutdown 1, close 1
        median round trip
        """),
    ExpectedExperiment("ctrl-c", printing: """
        127.0.0.1 wrote:
        the client received: b'HELLO WORLD'
        what left the with block: KeyboardInterrupt
        the listening socket after it: closed (fileno() is -1)
        P0 T0  __enter__  BaseServer  :385  → <TCPServer object>
        P0 T0  serve_forever  BaseServer  :218  poll_interval=0.5
        P0 T0  ✗ KeyboardInterrupt
        P0 T0  __exit__  BaseServer  :388
        P0 T0    server_close  TCPServer  :484
        """),
    // A full accept queue drops SYNs: the kernel's rule, not a timing. The one-at-a-time
    // server can take one client before all 64 are connecting, and listen(5) queues six.
    ExpectedExperiment(
        "backlog",
        printing: """
            request_queue_size 5: listen(5), 64 clients at once
            request_queue_size 128: listen(128), 64 clients at once
            """,
        problem: { lines in
            let retried = lines.filter { $0.contains("connects whose SYN was sent again: ") }
                .map { numbers(in: [$0], after: "again: ").first ?? -1 }
            return retried.count == 2 && retried[0] >= 48 && retried[1] == 0
                ? nil : "retried SYNs, listen(5) then listen(128): \(retried)"
        }),
    ExpectedExperiment("poll-interval", printing: "0.5 s\n0.05 s\n0.005 s\nshutdown() took", verdictsHold: false),
    ExpectedExperiment("stale-shutdown", printing: #"""
        the second shutdown(), no loop running: returned at once
        the next serve_forever(): returned at once, after 0 turn(s)
        the third serve_forever() served the waiting client, who read: b'HELLO\n'
        """#),
    ExpectedExperiment("closed-socket-spin", printing: """
        what get_request() raised, each turn: OSError: [Errno 9] Bad file descriptor
        shutdown() still ended the loop: yes
        """),
    ExpectedExperiment("verify-raises", printing: """
        handle_request() raised: ValueError: the check failed
        the request's socket afterwards: open
        the client's recv while the request is referenced: nothing in 300 ms (TimeoutError)
        the client's recv once the last reference is gone: ConnectionResetError: [Errno 104] Connection reset by peer
        P0 T0      verify_request  RaisingVerifyServer
        """),
    ExpectedExperiment(
        "max-children", printing: "4 × handle_request()                      4             2",
        problem: { lines in
            let underLoop = numbers(in: lines, after: "  serve_forever()  ")
            return underLoop.count == 2 && underLoop[0] <= 2 && underLoop[1] == 2
                ? nil : "serve_forever() row: \(underLoop)"
        }),
    ExpectedExperiment("fork-inherits-client", printing: #"""
        the child holds a descriptor for the client's socket (same inode): yes
        the client close()s:            the handler's read: TimeoutError: timed out (no end of stream)
        the client shutdown(SHUT_WR)s:  the handler's read: b'hello\n', then the end of the stream
        """#),
]

@Suite("ExperimentTests", .serialized)
struct ExperimentTests {
    @Test("every experiment observes what it should", .timeLimit(.minutes(2)), arguments: expectedExperiments)
    func experiment(_ expected: ExpectedExperiment) throws {
        let result = try runTool(["experiment", expected.name], timeout: 60)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stderr.isEmpty, "stderr: \(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("\(expected.name): ") == true)
        for section in ["What it does:", "Observed:", "Conclusion:"] {
            #expect(lines.contains(section), "\(expected.name) has no \(section)")
        }
        for line in expected.lines {
            #expect(result.stdout.contains(line), "\(expected.name) does not print: \(line)")
        }
        let verdicts = lines.filter { $0.hasPrefix("  ✓ ") || $0.hasPrefix("  ✗ ") }
        #expect(!verdicts.isEmpty, "\(expected.name) concludes nothing")
        if let problem = expected.problem(lines) { Issue.record("\(expected.name): \(problem)") }
        if expected.verdictsHold {
            for verdict in verdicts where verdict.hasPrefix("  ✗ ") {
                Issue.record("\(expected.name): \(verdict)\n\(result.stdout)")
            }
        }
    }

    @Test("--list names every experiment once, one line each", .timeLimit(.minutes(1)))
    func list() throws {
        let result = try runTool(["experiment", "--list"])
        #expect(result.status == 0)
        let names = result.stdout.split(separator: "\n").map { String($0.prefix { $0 != " " }) }
        #expect(names == expectedExperiments.map(\.name))
        #expect(result.stdout.split(separator: "\n").allSatisfy { $0.count <= 96 })
    }

    @Test("a wrong name or a missing one is a usage error (exit 2)", .timeLimit(.minutes(1)))
    func usageErrors() throws {
        let cases: [([String], String)] = [
            (["experiment"], "the following arguments are required: NAME"),
            (["experiment", "nosuch"], "argument NAME: invalid choice: 'nosuch' (choose from 'shutdown-vs-close',"),
            (["experiment", "--list", "ctrl-c"], "argument --list: not allowed with argument NAME"),
            (["experiment", "ctrl-c", "backlog"], "unrecognized arguments: backlog"),
            (["experiment", "--list=yes"], "argument --list: ignored explicit argument 'yes'"),
        ]
        try expectUsageErrors(cases, usage: "usage: socketserver-trace experiment")
    }

    @Test("chapter 7 has a section and a generated block for every experiment", .timeLimit(.minutes(1)))
    func chapter() throws {
        let text = try String(contentsOf: Walkthrough.directory.appendingPathComponent("07-experiments.md"), encoding: .utf8)
        for experiment in expectedExperiments {
            #expect(text.contains("## `\(experiment.name)`"), "no section for \(experiment.name)")
            #expect(
                text.contains("<!-- run: socketserver-trace experiment \(experiment.name) -->")
                    || text.contains("<!-- run-shape: socketserver-trace experiment \(experiment.name) -->"),
                "no generated block for \(experiment.name)")
        }
    }
}
