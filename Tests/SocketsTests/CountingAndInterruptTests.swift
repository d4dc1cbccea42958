// SyscallFaults.counting (the scoped count of a thread's system calls), the epoll selector's
// calls as the syscall layer counts them, and SIGINT raised as KeyboardInterrupt by a
// selector's wait once InterruptSignal's handler is installed.
import Glibc
import Processes
import Sockets
import TestSupport
import Testing

@Suite("Syscall counting", .timeLimit(.minutes(1)))
struct SyscallCountingTests {
    @Test("counting returns the calls of its body on this thread, by kind")
    func countsTheBody() throws {
        try withSocketPair { a, b throws in
            let (received, calls) = try SyscallFaults.counting { () throws -> [UInt8] in
                _ = try b.send(Array("xy".utf8))
                return try a.recv(2)
            }
            #expect(received == Array("xy".utf8))
            #expect(calls[.send] == 1 && calls[.recv] == 1)
            #expect(calls.total == 2)
            #expect(calls.description == "recv 1, send 1")
            let (_, none) = SyscallFaults.counting { () }
            #expect(none == SyscallCounts())
        }
    }

    @Test("another thread's calls are not counted")
    func otherThreads() throws {
        try withSocketPair { a, b throws in
            let (_, calls) = SyscallFaults.counting {
                let other = TestThread { _ = try? b.send(Array("z".utf8)) }
                other.join()
            }
            #expect(calls[.send] == 0)
            #expect(try a.recv(1) == Array("z".utf8))
        }
    }

    @Test("an epoll selector's life is four counted calls: create, register, wait, close")
    func epollCalls() throws {
        try withSocketPair { a, _ throws in
            let (_, calls) = try SyscallFaults.counting {
                let selector = try EpollSelector()
                _ = try selector.register(a, EVENT_READ)
                _ = try selector.select(0)
                selector.close()
            }
            #expect(calls.description == "close 1, epoll_wait 1, epoll_create1 1, epoll_ctl 1")
        }
    }

    @Test("DefaultSelector is epoll on Linux, as selectors picks it")
    func defaultSelector() {
        #expect(ObjectIdentifier(DefaultSelector.self) == ObjectIdentifier(EpollSelector.self))
    }
}

/// Runs `body` with InterruptSignal's handler installed and SIGINT unblocked on this thread
/// (tests run on threads that block every signal, as Dispatch's do), with one end of a socket
/// pair for a selector to watch.
func withInterruptHandler(_ body: (Socket) throws -> Void) throws {
    InterruptSignal.installDefaultIntHandler()
    defer { InterruptSignal.restoreDefault() }
    unblockSignals([SIGINT])
    defer { blockSignals([SIGINT]) }
    try withSocketPair { a, _ throws in try body(a) }
}

@Suite("SIGINT as KeyboardInterrupt", .serialized)
struct InterruptSignalTests {
    /// In a fresh process: the handler is process-wide.
    @Test("a SIGINT during a selector's wait raises KeyboardInterrupt from it, once", .timeLimit(.minutes(1)))
    func interruptsTheWait() async {
        await #expect(processExitsWith: .success) {
            isolated {
                try withInterruptHandler { a throws in
                    for selector in [PollSelector(), SelectSelector(), try EpollSelector()] as [any BaseSelector] {
                        defer { selector.close() }
                        _ = try selector.register(a, EVENT_READ)
                        let waiting = pthread_self()
                        let sender = TestThread {
                            sleep(seconds: 0.05)
                            pthread_kill(waiting, SIGINT)
                        }
                        // Without the signal, select(10) would return [] after 10 s.
                        #expect(throws: KeyboardInterrupt.self) { _ = try selector.select(10) }
                        sender.join()
                        #expect(try selector.select(0).isEmpty, "raised once: the next wait is a plain one")
                    }
                }
            }
        }
    }

    @Test("a SIGINT that came between two waits is raised by the next", .timeLimit(.minutes(1)))
    func raisedByTheNextWait() async {
        await #expect(processExitsWith: .success) {
            isolated {
                try withInterruptHandler { a throws in
                    let selector = PollSelector()
                    _ = try selector.register(a, EVENT_READ)
                    pthread_kill(pthread_self(), SIGINT)
                    #expect(throws: KeyboardInterrupt.self) { _ = try selector.select(10) }
                }
            }
        }
    }

    @Test("without the handler, EINTR is retried and no KeyboardInterrupt is raised", .timeLimit(.minutes(1)))
    func withoutTheHandler() throws {
        try withSocketPair { a, _ throws in
            let selector = PollSelector()
            _ = try selector.register(a, EVENT_READ)
            let ready = try SyscallFaults.injecting(.init(.poll, errno: EINTR)) { try selector.select(0.05) }
            #expect(ready.isEmpty)
        }
    }
}
