// Tests of PollSelector, SelectSelector and EpollSelector.
import Glibc
import Sockets
import TestSupport
import Testing

@Suite("Selectors", .timeLimit(.minutes(1)))
struct SelectorsTests {
    static let kinds: [String] = ["poll", "select", "epoll"]

    func make(_ kind: String) throws -> any BaseSelector {
        switch kind {
        case "poll": PollSelector()
        case "select": SelectSelector()
        default: try EpollSelector()
        }
    }

    @Test("readiness", arguments: kinds)
    func readiness(_ kind: String) throws {
        let sel = try make(kind)
        defer { sel.close() }
        try withSocketPair { a, bSock throws in
            let key = try sel.register(a, EVENT_READ)
            #expect(key.fd == a.fileno())
            #expect(key.events == EVENT_READ)
            #expect(sel.map[a.fileno()] != nil)
            #expect(try sel.select(0).isEmpty)
            _ = try bSock.send(b("x"))
            let ready = try sel.select(1)
            #expect(ready.count == 1)
            #expect(ready.first?.events == EVENT_READ)
            #expect(ready.first?.key.fileobj === a)
            _ = try sel.unregister(a)
            #expect(sel.map.isEmpty)
            _ = try sel.register(bSock, EVENT_WRITE)
            #expect(try sel.select(nil).map(\.events) == [EVENT_WRITE])
            #expect(throws: KeyError.self) { _ = try sel.register(bSock, EVENT_READ) }
            #expect(throws: KeyError.self) { _ = try sel.unregister(a) }
            #expect(throws: ValueError("Invalid events: 4")) { _ = try sel.register(a, 4) }
            #expect(throws: ValueError("Invalid events: 0")) { _ = try sel.register(a, 0) }
            sel.close()
            #expect(sel.map.isEmpty)
        }
    }

    @Test("a timeout waits at least t", arguments: kinds)
    func timeoutWaits(_ kind: String) throws {
        let sel = try make(kind)
        defer { sel.close() }
        try withSocketPair { a, bSock throws in
            _ = try sel.register(a, EVENT_READ)
            let start = now()
            #expect(try sel.select(0.15).isEmpty)
            let elapsed = now() - start
            #expect(elapsed >= 0.15 && elapsed < 3)
        }
    }

    @Test("register of fd -1: ValueError Invalid file descriptor: -1", arguments: kinds)
    func invalidFD(_ kind: String) throws {
        let sel = try make(kind)
        defer { sel.close() }
        let s = try Socket()
        try s.close()
        #expect(throws: ValueError("Invalid file descriptor: -1")) { _ = try sel.register(s, EVENT_READ) }
    }

    @Test("POLLNVAL: a registered socket closed under the selector reads as ready; unregister finds it")
    func pollnval() throws {
        // Use a high descriptor number so a parallel test cannot reuse it after the close.
        try withSocketPair { a, bSock throws in
            let high = fcntl(a.fileno(), F_DUPFD_CLOEXEC, CInt(900))
            #expect(high >= 900)
            let s = Socket(family: AF_UNIX, type: SOCK_STREAM, fileno: high)
            let sel = PollSelector()
            defer { sel.close() }
            _ = try sel.register(s, EVENT_READ)
            try s.close()
            let ready = try sel.select(0)
            #expect(ready.map(\.events) == [EVENT_READ])
            #expect(ready.first?.key.fd == high)
            let key = try sel.unregister(s)  // found by identity, fileno is -1 now
            #expect(key.fd == high)
        }
    }

    @Test("SelectSelector refuses descriptors >= FD_SETSIZE")
    func selectLimit() throws {
        try withSocketPair { a, bSock throws in
            let high = fcntl(a.fileno(), F_DUPFD_CLOEXEC, CInt(1100))
            guard high >= 1024 else { return }  // RLIMIT_NOFILE too low
            let s = Socket(family: AF_UNIX, type: SOCK_STREAM, fileno: high)
            defer { try? s.close() }
            let sel = SelectSelector()
            defer { sel.close() }
            _ = try sel.register(s, EVENT_READ)
            #expect(throws: ValueError("filedescriptor out of range in select()")) { _ = try sel.select(0) }
        }
    }

    @Test("EINTR injected into poll/select/epoll_wait is retried", arguments: kinds)
    func injectedEINTR(_ kind: String) throws {
        let call: Syscall = kind == "poll" ? .poll : kind == "select" ? .select : .epollWait
        let sel = try make(kind)
        defer { sel.close() }
        try withSocketPair { a, bSock throws in
            _ = try sel.register(a, EVENT_READ)
            _ = try bSock.send(b("x"))
            let (ready, calls) = try SyscallFaults.counting {
                try SyscallFaults.injecting(.init(call, errno: EINTR, count: 2)) { try sel.select(1) }
            }
            #expect(ready.map(\.events) == [EVENT_READ])
            #expect(calls[call] == 3)
            // Other errors propagate.
            #expect(throws: OSError(errno: ENOMEM)) {
                try SyscallFaults.injecting(.init(call, errno: ENOMEM)) { _ = try sel.select(0) }
            }
        }
    }

    @Test("EpollSelector after close")
    func epollClosed() throws {
        let sel = try EpollSelector()
        sel.close()
        #expect(sel.fileno() == -1)
        #expect(throws: ValueError("I/O operation on closed epoll object")) { _ = try sel.select(0) }
        sel.close()
    }
}
