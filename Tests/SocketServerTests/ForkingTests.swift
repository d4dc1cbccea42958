// Every test that forks: the forking tests of test_socketserver.py (SocketServerTest's four
// Forking servers, ErrorHandlerTest's two forking tests) and the ForkingMixIn behaviour the
// CPython suite does not check (inventory 4.3, items 11-16).
//
// One serialized suite, and each body runs in a fresh process (an exit test): the process
// that forks has no other test's threads, and the checks that no descriptor, thread or child
// outlives the test see only this test. Children do tiny work and end with `_exit`.
import Glibc
import Processes
import SocketServer
import Sockets
import TestSupport
import Testing

@Suite("Forking", .serialized)
struct ForkingTests {
    static let tests = [
        // SocketServerTest
        FreshProcessTest("test_ForkingTCPServer") {
            try simpleSubprocess { try runServer(MyForkingTCPServer.self, MyStreamHandler.self, .stream) }
        },
        FreshProcessTest("test_ForkingUnixStreamServer") {
            try simpleSubprocess { try runServer(MyForkingUnixStreamServer.self, MyStreamHandler.self, .stream) }
        },
        FreshProcessTest("test_ForkingUDPServer") {
            try simpleSubprocess { try runServer(MyForkingUDPServer.self, MyDatagramHandler.self, .datagram) }
        },
        // Not wrapped in simple_subprocess, unlike the other Forking tests (as in CPython).
        FreshProcessTest("test_ForkingUnixDatagramServer") {
            try runServer(MyForkingUnixDatagramServer.self, MyDatagramHandler.self, .datagram)
        },

        // ErrorHandlerTest
        // The child calls handle_error; server_close blocks until the child is done.
        FreshProcessTest("test_forking_handled") {
            try runErrorTest(ForkingErrorTestServer.self, .valueError, handled: true)
        },
        // The child swallows SystemExit (os._exit in the finally), without handle_error.
        FreshProcessTest("test_forking_not_handled") {
            try runErrorTest(ForkingErrorTestServer.self, .systemExit, handled: false)
        },

        // ForkingMixIn behaviour (inventory 4.3)
        // max_children is enforced only by serve_forever's service_actions (a blocking
        // waitpid(-1, 0) until below the cap); handle_request never enforces it.
        FreshProcessTest("max_children: service_actions reaps down below the cap", maxChildrenBody),
        // A child exits with 0 after serving, and with 1 after any exception, handled or not.
        FreshProcessTest("child exit status is 0 on success, 1 on any exception", childExitStatusBody),
        // block_on_close = False: server_close reaps with WNOHANG and returns at once.
        FreshProcessTest("block_on_close false does not wait for children") { try blockOnCloseBody(block: false) },
        // block_on_close = True (the default): server_close waits for the children.
        FreshProcessTest("block_on_close true waits for children") { try blockOnCloseBody(block: true) },
        // The parent only closes its copy of the request (close_request); shutdown_request,
        // which would end the connection for the child too, runs only in the child.
        FreshProcessTest("parent calls close_request, not shutdown_request", parentClosesOnlyBody),
        // The collect_children branches: ChildProcessError for a pid that is not our child, and
        // the max_children loop with no child at all (waitpid(-1) raises ChildProcessError).
        FreshProcessTest("collect_children ChildProcessError branches", collectChildrenBranchesBody),
        // waitpid's EINTR is retried (PEP 475): a blocking collect_children still reaps.
        FreshProcessTest("collect_children retries EINTR in waitpid", waitpidEINTRBody),
        // The default handle_error runs in the child and writes its report once (stdio is
        // flushed before the fork and the report is written unbuffered).
        FreshProcessTest("a child's handle_error report is written once", childReportBody),
        // A child forked from a thread that blocks SIGINT and SIGTERM (as `serve` does for
        // sigtimedwait, and Dispatch workers do for everything) starts with no signal blocked,
        // as a CPython child does, so that Ctrl-C and SIGTERM can end it.
        FreshProcessTest("a forked child blocks no signal", childSignalMaskBody),
        // active_children is None until the first fork, then the set of live pids.
        FreshProcessTest("active_children is nil until the first fork", activeChildrenBody),
    ]

    @Test("in a fresh process", .timeLimit(.minutes(1)), arguments: tests.map(\.name))
    func inFreshProcess(_ name: String) async {
        await #expect(processExitsWith: .success) { [name] in FreshProcessTest.run(name, of: ForkingTests.tests) }
    }
}

// MARK: - Bodies

/// "a forked child blocks no signal": the request is served by a child forked from a thread
/// that blocks SIGINT and SIGTERM.
func childSignalMaskBody() throws {
    blockSignals([SIGINT, SIGTERM])
    defer { unblockSignals([SIGINT, SIGTERM]) }
    try withServerAndClient(ForkingTCPServer.self, SignalMaskHandler.self) { server, client throws in
        try server.handleRequest()
        let reply = text(try receiveAll(client))
        try server.serverClose()
        #expect(reply == "0000000000000000", "the child's SigBlk")
    }
}

/// "active_children is nil until the first fork".
func activeChildrenBody() throws {
    let server = try ForkingTCPServer(.inet(host: HOST, port: 0), MyStreamHandler.self)
    #expect(server.activeChildren == nil)
    try server.collectChildren()  // returns at once: no child yet
    #expect(server.activeChildren == nil)
    let client = try connectedClient(server.serverAddress)
    defer { try? client.close() }
    try client.sendall(TEST_STR)
    try server.handleRequest()
    #expect(server.activeChildren?.count == 1)
    #expect(try receiveLine(client) == TEST_STR)
    try server.serverClose()
    #expect(server.activeChildren == [])
}


/// A forking server that leaves its children for the test to reap, and whose handle_error
/// writes nothing (the child's stderr is the test's).
final class UnreapedForkingServer: ForkingTCPServer, @unchecked Sendable {
    override func collectChildren(blocking: Bool = false) throws {}
    override func handleError(_ request: Request, _ clientAddress: SocketAddress) throws {}
}

/// A handler that echoes one line, then does what `behaviour` of the server says.
final class ChildBehaviourHandler: StreamRequestHandler {
    override func handle() throws {
        let line = try rfile.readline()
        _ = try wfile.write(line)
        switch text(line) {
        case "value\n": throw ValueError("child failure")
        case "exit\n": throw SystemExit(3)
        case "sleep\n": sleep(seconds: 0.4)
        default: break
        }
    }
}

/// Answers with the SigBlk line of the process that handles the request (its blocked signals).
final class SignalMaskHandler: StreamRequestHandler {
    override func handle() throws {
        let line = readFile("/proc/self/status").split(separator: "\n").first { $0.hasPrefix("SigBlk:") }
        let mask = line?.split(whereSeparator: { $0 == "\t" || $0 == " " }).last.map(String.init) ?? "?"
        _ = try wfile.write(bytes(mask))
    }
}

/// Connect, send `line`, let the server fork a child for it, and read the echo and (when the
/// child ends the connection) the end of stream.
@discardableResult
func forkOneRequest(_ server: TCPServer, _ line: String, readToEnd: Bool = true) throws -> [UInt8] {
    let client = try connectedClient(server.serverAddress)
    defer { try? client.close() }
    try client.sendall(bytes(line))
    try server.handleRequest()
    let echo = try receiveLine(client)
    #expect(echo == bytes(line), "the child echoed the line")
    if readToEnd {
        #expect(try client.recv(100).isEmpty, "the child ended the connection")
    }
    return echo
}

func maxChildrenBody() throws {
    let server = try ForkingTCPServer(.inet(host: HOST, port: 0), ChildBehaviourHandler.self)
    server.maxChildren = 2
    for _ in 0..<3 {
        try forkOneRequest(server, "hello\n")
    }
    #expect(server.activeChildren?.count == 3, "handle_request does not enforce max_children")
    try server.serviceActions()
    #expect((server.activeChildren?.count ?? 99) < 2, "service_actions reaped below max_children")
    try server.serverClose()
    #expect(server.activeChildren == [], "server_close reaped the rest")
}

func childExitStatusBody() throws {
    let server = try UnreapedForkingServer(.inet(host: HOST, port: 0), ChildBehaviourHandler.self)
    defer { try? server.serverClose() }
    for (line, expected) in [("hello\n", 0), ("value\n", 1), ("exit\n", 1)] as [(String, CInt)] {
        try forkOneRequest(server, line)
        let pids = server.activeChildren ?? []
        #expect(pids.count == 1)
        for pid in pids {
            #expect(try waitExitCode(pid) == expected, "exit status after \(line.dropLast())")
        }
        server.activeChildren = []
    }
}

func blockOnCloseBody(block: Bool) throws {
    let server = try ForkingTCPServer(.inet(host: HOST, port: 0), ChildBehaviourHandler.self)
    server.blockOnClose = block
    try forkOneRequest(server, "sleep\n", readToEnd: false)
    let pids = server.activeChildren ?? []
    #expect(pids.count == 1)
    let start = now()
    try server.serverClose()
    let elapsed = now() - start
    if block {
        #expect(elapsed >= 0.2, "server_close waited for the child")
        #expect(server.activeChildren == [])
    } else {
        #expect(elapsed < 0.2, "server_close did not wait for the child")
        #expect(server.activeChildren == pids, "the running child is still active")
        for pid in pids {
            #expect(try waitExitCode(pid) == 0)
        }
    }
}

/// Records, in the parent, which request hooks the forking server called.
final class CloseRecordingForkingServer: ForkingTCPServer, @unchecked Sendable {
    let calls = Box<[String]>([])
    let closed = Box<Socket?>(nil)

    override func shutdownRequest(_ request: Request) throws {
        calls.append("shutdown_request")
        try super.shutdownRequest(request)
    }

    override func closeRequest(_ request: Request) throws {
        calls.append("close_request")
        closed.set(request.socket)
        try super.closeRequest(request)
    }
}

func parentClosesOnlyBody() throws {
    let server = try CloseRecordingForkingServer(.inet(host: HOST, port: 0), ChildBehaviourHandler.self)
    try forkOneRequest(server, "hello\n")  // the child shut the connection down: EOF
    #expect(server.calls.value == ["close_request"], "the parent called only close_request")
    #expect(server.closed.value?.fileno() == -1, "the parent's copy is closed")
    try server.serverClose()
}

func collectChildrenBranchesBody() throws {
    let server = try ForkingTCPServer(.inet(host: HOST, port: 0), StreamRequestHandler.self)
    defer { try? server.serverClose() }
    // pid 1 is not our child: waitpid raises ChildProcessError, "someone else reaped it".
    server.activeChildren = [1]
    try server.collectChildren()
    #expect(server.activeChildren == [])
    // Above max_children with no child at all: waitpid(-1, 0) raises ChildProcessError and
    // the set is emptied ("we don't have any children, we're done").
    server.maxChildren = 2
    server.activeChildren = [1, 2]
    try server.collectChildren()
    #expect(server.activeChildren == [])
}

func childReportBody() throws {
    let server = try ForkingTCPServer(.inet(host: HOST, port: 0), FailingHandler.self)
    let output = try capturingStderr {
        let client = try connectedClient(server.serverAddress)
        defer { try? client.close() }
        try server.handleRequest()
        #expect(try client.recv(100).isEmpty, "the child shut the request down")
        try server.serverClose()  // waits for the child
    }
    let reports = output.split(separator: "\n").filter {
        $0.hasPrefix("Exception occurred during processing of request from")
    }.count
    #expect(reports == 1, "\(output)")
    #expect(output.contains("\nValueError: boom\n"), "\(output)")
}

func waitpidEINTRBody() throws {
    let server = try ForkingTCPServer(.inet(host: HOST, port: 0), ChildBehaviourHandler.self)
    try forkOneRequest(server, "sleep\n", readToEnd: false)
    let (_, calls) = try SyscallFaults.counting {
        try SyscallFaults.injecting(.init(.waitpid, errno: EINTR, count: 2)) {
            try server.serverClose()  // collect_children(blocking=True)
        }
    }
    #expect(server.activeChildren == [], "the child was reaped despite EINTR")
    #expect(calls[.waitpid] >= 3, "waitpid was retried")
}
