// The experiments about the server's own code paths: the notes' program ended by Ctrl-C, and
// the surprises the port's tests pin down, one experiment each.
import Glibc
import Processes
import SocketServer
import Sockets
import Synchronization

// MARK: - ctrl-c

extension CLI {
    static let ctrlC = Experiment(
        name: "ctrl-c",
        summary: "the notes' `with TCPServer(...) as server: serve_forever()`, Ctrl-C",
        does: """
            Runs the notes' program, traced, on the main thread, with Python's SIGINT handler
            installed (signal.default_int_handler: Ctrl-C raises KeyboardInterrupt):
                with socketserver.TCPServer(("127.0.0.1", 0), MyTCPHandler) as server:
                    server.serve_forever()
            A client thread (blocking SIGINT, so that the signal interrupts the main thread, as it
            does in a Python program) sends one request, then sends SIGINT to the process, as Ctrl-C
            in a terminal does.
            """,
        body: { report in
            InterruptSignal.installDefaultIntHandler()
            defer { InterruptSignal.restoreDefault() }
            let reply = Lock<String>("(none)")
            let kept = Lock<TCPServer?>(nil)
            let loopEnded = Event()
            var client: PThread?
            report.observe("what the program printed:")
            let (result, recording) = traced {
                try TCPServer(.inet(host: "127.0.0.1", port: 0), MyTCPHandler.self).with { server in
                    kept.withLock { $0 = server }
                    let address = server.serverAddress
                    let sender = PThread(name: "client") {
                        blockSignals([SIGINT])
                        defer {
                            kill(getpid(), SIGINT)
                            // Should the signal not end the loop, shutdown() does, in 5 s.
                            if !loopEnded.wait(5) { server.shutdown() }
                        }
                        let bytes = try request(address, Array("hello world".utf8))
                        reply.withLock { $0 = pyBytesRepr(bytes) }
                    }
                    client = sender
                    try sender.start()
                    defer { loopEnded.set() }
                    try server.serveForever()
                }
            }
            try? client?.join()
            let left: String
            switch result {
            case .success: left = "nothing: the with block ended normally"
            case .failure(let error): left = pythonExceptionLine(error)
            }
            let closed = kept.withLock { $0?.socket.fileno() } == -1
            report.observe("the client received: \(reply.withLock { $0 })")
            report.observe("what left the with block: \(left)")
            report.observe("the listening socket after it: \(closed ? "closed (fileno() is -1)" : "still open")")
            report.observe(trace: recording, "the trace:")
            report.verdict(
                left == "KeyboardInterrupt" && closed,
                "Ctrl-C raises KeyboardInterrupt in select(); it leaves serve_forever() through its"
                    + "\n     finally (the flag reset, the event set), and the with block's __exit__ calls"
                    + "\n     server_close() on its way out. The program then ends with the traceback.")
        })
}

// MARK: - stale-shutdown

extension CLI {
    static let staleShutdown = Experiment(
        name: "stale-shutdown",
        summary: "shutdown() after a loop ended: the next serve_forever() returns at once",
        does: """
            Runs serve_forever() on a thread and stops it with shutdown(). Calls shutdown() again,
            with no loop running. Then, with a client waiting, starts serve_forever() again (stopped
            after 1 s if it is still running), then a third time. The last two are traced.
            """,
        body: { report in
            let server = try TurnCountingServer(.inet(host: "127.0.0.1", port: 0), MyStreamHandler.self)
            defer { try? server.serverClose() }
            try ServingThread(server, pollInterval: 0.05).stop()

            let returned = Atomic<Bool>(false)
            let second = PThread(name: "shutdown") {
                server.shutdown()
                returned.store(true, ordering: .releasing)
            }
            try second.start()
            let secondReturned = waitUntil(1) { returned.load(ordering: .acquiring) }

            let client = try connectedClient(server.serverAddress)
            defer { try? client.close() }
            try client.sendall(Array("hello\n".utf8))
            let turnsBefore = server.turns.load(ordering: .relaxed)
            let ended = Atomic<Bool>(false)
            var secondLoopEnded = false
            var reply = Received.endOfStream
            let (_, recording) = traced {
                let loop = PThread(targetName: "serve_forever") {
                    try server.serveForever(pollInterval: 0.05)
                    ended.store(true, ordering: .releasing)
                }
                try loop.start()
                secondLoopEnded = waitUntil(1) { ended.load(ordering: .acquiring) }
                if !secondLoopEnded { server.shutdown() }
                try loop.join()
                let turns = server.turns.load(ordering: .relaxed) - turnsBefore
                report.observe("the second shutdown(), no loop running: \(secondReturned ? "returned at once" : "still waiting after 1 s")")
                report.observe("the next serve_forever(): \(secondLoopEnded ? "returned at once" : "still running after 1 s"), after \(turns) turn(s)")
                let third = try ServingThread(server, pollInterval: 0.05)
                reply = Received(client, within: 2)
                try third.stop()
            }
            try? second.join()
            report.observe("the third serve_forever() served the waiting client, who read: \(reply)")
            report.observe(trace: recording, "the trace of the second and third loops:")
            report.verdict(
                secondReturned && secondLoopEnded && reply == .bytes(Array("HELLO\n".utf8)),
                "shutdown() with no loop running returns at once (the finished loop left the event set)"
                    + "\n     and leaves the flag set, so the next serve_forever() ends before its first turn,"
                    + "\n     serving nothing; its finally clears the flag, and the loop after it serves.")
        })
}

// MARK: - closed-socket-spin

/// How many turns of a spinning loop the experiment waits for, at most.
let spinTurns = 1000

/// A server that counts its loop's turns and remembers what `get_request` raised.
final class SpinWatchingServer: TurnCountingServer, @unchecked Sendable {
    let acceptErrors = Lock<[String]>([])

    override func getRequest() throws -> (Request, SocketAddress) {
        do {
            return try super.getRequest()
        } catch {
            acceptErrors.withLock { if $0.count < 3 { $0.append(pythonExceptionLine(error)) } else { $0[2] = "…" } }
            throw error
        }
    }
}

extension CLI {
    static let closedSocketSpin = Experiment(
        name: "closed-socket-spin",
        summary: "a listening socket closed under serve_forever() makes the loop spin",
        does: """
            Starts serve_forever(poll_interval=0.5) on a thread, then closes the server's listening
            socket under it (server.socket.close(), not server_close() after shutdown()), and times
            the loop's turns, until \(spinTurns) or 2 s more have passed. Then calls shutdown().
            """,
        body: { report in
            let server = try SpinWatchingServer(.inet(host: "127.0.0.1", port: 0), MyStreamHandler.self)
            let serving = try ServingThread(server)
            // Once the loop has served a request, it watches the socket's descriptor.
            _ = try request(server.serverAddress, Array("hello\n".utf8))
            try server.socket.close()
            let turnsAtClose = server.turns.load(ordering: .relaxed)
            // The poll under way when the socket closed runs to its timeout: a close does not
            // wake it. The count starts at the first turn after it.
            waitUntil(2) { server.turns.load(ordering: .relaxed) > turnsAtClose }
            let firstTurn = monotonicSeconds()
            let spun = waitUntil(2) { server.turns.load(ordering: .relaxed) - turnsAtClose >= spinTurns }
            let spinning = monotonicSeconds() - firstTurn
            let turns = server.turns.load(ordering: .relaxed) - turnsAtClose
            try serving.stop()
            try server.serverClose()
            report.observe("after the close, from the loop's first turn on: \(turns) turns in \(readableSeconds(spinning))")
            report.observe("  (a loop that waits poll_interval between turns makes one every 0.5 s)")
            report.observe("what get_request() raised, each turn: \(server.acceptErrors.withLock { $0.first } ?? "nothing")")
            report.observe("shutdown() still ended the loop: yes")
            report.verdict(
                spun,
                "poll() reports the closed descriptor (POLLNVAL) as ready at once, accept() fails with"
                    + "\n     EBADF, _handle_request_noblock() swallows the OSError, and the loop turns again: a"
                    + "\n     busy spin until shutdown(). Call shutdown() before server_close().")
        })
}

// MARK: - verify-raises

/// A server whose verify_request keeps the request and raises, as a check with a bug would.
final class RaisingVerifyServer: TCPServer, @unchecked Sendable {
    let kept = Lock<Request?>(nil)

    override func verifyRequest(_ request: Request, _ clientAddress: SocketAddress) throws -> Bool {
        kept.withLock { $0 = request }
        throw ValueError("the check failed")
    }
}

extension CLI {
    static let verifyRaises = Experiment(
        name: "verify-raises",
        summary: "verify_request() raising leaks the request: never shut down or closed",
        does: """
            A TCPServer subclass whose verify_request() raises ValueError (and keeps the request, as
            the exception's traceback does in CPython); a client sends one line; handle_request(),
            traced. Then drops the last reference to the request.
            """,
        body: { report in
            let server = try RaisingVerifyServer(.inet(host: "127.0.0.1", port: 0), MyStreamHandler.self)
            defer { try? server.serverClose() }
            server.timeout = 5
            let client = try connectedClient(server.serverAddress)
            defer { try? client.close() }
            try client.sendall(Array("hello\n".utf8))
            let (result, recording) = traced { try server.handleRequest() }
            let raised: String
            if case .failure(let error) = result { raised = pythonExceptionLine(error) } else { raised = "nothing" }
            let open = server.kept.withLock { $0?.socket.fileno() ?? -1 } >= 0
            let whileKept = Received(client, within: 0.3)
            server.kept.withLock { $0 = nil }
            let afterRelease = Received(client, within: 1)
            report.observe("handle_request() raised: \(raised)")
            report.observe("the request's socket afterwards: \(open ? "open" : "closed")")
            report.observe("the client's recv while the request is referenced: \(whileKept)")
            report.observe("the client's recv once the last reference is gone: \(afterRelease)")
            report.observe("  (the socket closed with the client's line unread: a reset)")
            report.observe(trace: recording, "the trace of handle_request():")
            report.verdict(
                raised == "ValueError: the check failed" && open && whileKept == .nothing(seconds: 0.3)
                    && afterRelease == .error("ConnectionResetError: [Errno 104] Connection reset by peer"),
                "verify_request() is called outside the try: its exception leaves the loop before any"
                    + "\n shutdown_request(), and the connection stays open, the client waiting, until the"
                    + "\n socket object is freed (in CPython, when the traceback goes), which closes it"
                    + "\n without a shutdown.")
        })
}

// MARK: - max-children

/// How many clients the experiment starts: twice max_children.
let maxChildrenClients = 4

/// A handler for a forked child: one line back, then it waits for the client's second line (or
/// its end), at most five seconds, so that the child outlives the reply.
final class LingeringHandler: StreamRequestHandler {
    override class var timeout: Double? { 5 }

    override func handle() throws {
        _ = try wfile.write(pyBytesUpper(try rfile.readline()))
        _ = try? rfile.readline()
    }
}

/// A forking server that records how many children it has after each fork, and says when it
/// has forked.
final class ChildCountingServer: ForkingTCPServer, @unchecked Sendable {
    let mostChildren = Atomic<Int>(0)
    let forked = Event()

    override func processRequest(_ request: Request, _ clientAddress: SocketAddress) throws {
        try super.processRequest(request, clientAddress)
        let count = activeChildren?.count ?? 0
        if count > mostChildren.load(ordering: .relaxed) { mostChildren.store(count, ordering: .relaxed) }
        forked.set()
    }

    override func handleError(_ request: Request, _ clientAddress: SocketAddress) throws {}
}

/// `count` clients, each on a thread: send a line, read the reply, wait until `released`
/// (at most five seconds), send a second line, read to the end.
func lingeringClients(_ address: SocketAddress, _ count: Int, released: Event) throws -> [PThread] {
    let clients = (0..<count).map { i in
        PThread(name: "client-\(i + 1)") {
            let socket = try connectedClient(address)
            defer { try? socket.close() }
            try socket.sendall(Array("hello \(i)\n".utf8))
            _ = try socket.recv(1024)
            _ = released.wait(5)
            try socket.sendall(Array("bye\n".utf8))
            while try !socket.recv(1024).isEmpty {}
        }
    }
    for client in clients { try client.start() }
    return clients
}

extension CLI {
    static let maxChildren = Experiment(
        name: "max-children",
        summary: "max_children is enforced only under serve_forever()",
        does: """
            A ForkingTCPServer with max_children = 2, each child staying until its client sends a
            second line. \(maxChildrenClients) clients, served first by \(maxChildrenClients) handle_request() calls (the clients wait until all
            four have returned), then by serve_forever() (the clients go on at once). After each
            fork the parent notes len(active_children).
            """,
        body: { report in
            var most: [Int] = []
            for underLoop in [false, true] {
                let server = try ChildCountingServer(.inet(host: "127.0.0.1", port: 0), LingeringHandler.self)
                server.maxChildren = 2
                server.timeout = 5
                let released = Event()
                if underLoop { released.set() }
                let clients = try lingeringClients(server.serverAddress, maxChildrenClients, released: released)
                if underLoop {
                    let serving = try ServingThread(server, pollInterval: 0.05)
                    for client in clients { try? client.join() }
                    try serving.stop()
                } else {
                    for _ in 0..<maxChildrenClients { try server.handleRequest() }
                    released.set()
                    for client in clients { try? client.join() }
                }
                try server.serverClose()  // waits for the children
                most.append(server.mostChildren.load(ordering: .relaxed))
            }
            report.observe(table: [
                ["", "most children at once", "max_children"],
                ["\(maxChildrenClients) × handle_request()", String(most[0]), "2"],
                ["serve_forever()", String(most[1]), "2"],
            ])
            report.verdict(
                most[0] == maxChildrenClients && most[1] <= 2,
                "The cap is kept by collect_children(), which serve_forever() runs after each turn"
                    + "\n     (service_actions) and which waits there for a child to exit; handle_request()"
                    + "\n     never calls it, so each call forks one more child, whatever max_children says.")
        })
}

// MARK: - fork-inherits-client

/// What the experiment tells the handler of a forked child, before the fork: the client's
/// descriptor and its inode, and where to write what the child saw. Atomics, as a forked child
/// may not take a lock another thread held.
let inheritedClientFD = Atomic<Int32>(-1)
let inheritedClientInode = Atomic<UInt64>(0)
let childReportFD = Atomic<Int32>(-1)

/// The inode of the socket behind descriptor `fd`, or 0.
func socketInode(_ fd: CInt) -> UInt64 {
    var status = stat()
    return fstat(fd, &status) == 0 ? UInt64(status.st_ino) : 0
}

/// A handler that reads to the end of the stream (for at most half a second) and reports, on
/// the pipe `childReportFD` names, whether its process holds the client's socket and what its
/// read returned.
final class ReadToEndHandler: StreamRequestHandler {
    override class var timeout: Double? { 0.5 }

    override func handle() throws {
        let holds = socketInode(inheritedClientFD.load(ordering: .relaxed)) == inheritedClientInode.load(ordering: .relaxed)
        let read: String
        do {
            read = pyBytesRepr(try rfile.read()) + ", then the end of the stream"
        } catch {
            read = pythonExceptionLine(error) + " (no end of stream)"
        }
        sys.writeAll(childReportFD.load(ordering: .relaxed), "\(holds ? "yes" : "no")\t\(read)\n")
    }
}

extension CLI {
    static let forkInheritsClient = Experiment(
        name: "fork-inherits-client",
        summary: "a forked child holds the client's end if client and server share a process",
        does: """
            A ForkingTCPServer and its client in one process (the client a thread, as in CPython's
            own tests); handle_request() forks a child whose handler reads to the end of the stream
            (rfile.read(), 0.5 s timeout). The client sends a line and closes its socket; then again,
            with the client calling shutdown(SHUT_WR) instead of close().
            """,
        body: { report in
            var outcomes: [(holds: String, read: String)] = []
            for shutsDown in [false, true] {
                var ends: [CInt] = [-1, -1]
                guard pipe(&ends) == 0 else { throw OSError.lastError() }
                defer { Glibc.close(ends[0]) }
                var writeEnd = ends[1]
                defer { if writeEnd >= 0 { Glibc.close(writeEnd) } }
                childReportFD.store(ends[1], ordering: .relaxed)
                let server = try ChildCountingServer(.inet(host: "127.0.0.1", port: 0), ReadToEndHandler.self)
                server.timeout = 5
                let client = try connectedClient(server.serverAddress)
                inheritedClientFD.store(client.fileno(), ordering: .relaxed)
                inheritedClientInode.store(socketInode(client.fileno()), ordering: .relaxed)
                // The client ends its side once the child exists, from a thread of its own.
                let ending = PThread(name: "client") {
                    try client.sendall(Array("hello\n".utf8))
                    _ = server.forked.wait(5)
                    if shutsDown { try client.shutdown(SHUT_WR) } else { try client.close() }
                }
                try ending.start()
                try server.handleRequest()  // forks the child, which holds every descriptor
                Glibc.close(writeEnd)  // the child's copy is the last: its exit ends the report
                writeEnd = -1
                try? ending.join()
                try server.serverClose()  // waits for the child
                try? client.close()
                var text: [UInt8] = []
                var chunk = [UInt8](repeating: 0, count: 512)
                while text.count < 4096 {
                    let count = chunk.withUnsafeMutableBytes { buffer in
                        ForkGate.outside { read(ends[0], buffer.baseAddress, buffer.count) }
                    }
                    if count <= 0 { break }
                    text += chunk[..<count]
                }
                let fields = String(decoding: text.filter { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
                    .split(separator: "\t").map(String.init)
                outcomes.append(fields.count == 2 ? (fields[0], fields[1]) : ("?", "no report from the child"))
            }
            report.observe("the child holds a descriptor for the client's socket (same inode): \(outcomes[0].holds)")
            report.observe("the client close()s:            the handler's read: \(outcomes[0].read)")
            report.observe("the client shutdown(SHUT_WR)s:  the handler's read: \(outcomes[1].read)")
            report.verdict(
                outcomes[0].holds == "yes" && outcomes[0].read.hasPrefix("TimeoutError")
                    && outcomes[1].read == "b'hello\\n', then the end of the stream",
                "fork() copies every descriptor, the client's too: its close() gives up one of two, so"
                    + "\n     no end of stream reaches the handler, which waits for its timeout. shutdown()"
                    + "\n     ends the stream whoever holds the socket; a client in another process avoids it.")
        })
}
