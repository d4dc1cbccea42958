// Tests of Socket: TCP and UDP over 127.0.0.1, timeouts, close, SIGPIPE, CLOEXEC, EINTR.
import Glibc
import Processes
import Sockets
import TestSupport
import Testing

@Suite("Socket", .timeLimit(.minutes(1)))
struct SocketTests {
    @Test("TCP echo over 127.0.0.1 port 0")
    func tcpEcho() throws {
        let (l, port) = try tcpListener()
        defer { try? l.close() }
        let server = TestThread {
            guard let (conn, _) = try? l.accept() else { return }
            defer { try? conn.close() }
            while let data = try? conn.recv(1024), !data.isEmpty {
                try? conn.sendall(data)
            }
        }
        defer { server.join() }
        let c = try Socket()
        defer { try? c.close() }
        try c.connect(.inet(host: "127.0.0.1", port: port))
        try c.sendall(b("hello world"))
        var got: [UInt8] = []
        while got.count < 11 { got += try c.recv(1024) }
        #expect(got == b("hello world"))
        try c.shutdown(SHUT_WR)
        #expect(try c.recv(1024) == [])
        #expect(c.description == "<socket fd=\(c.fileno()), family=2, type=1>")
    }

    @Test("UDP sendto/recvfrom, truncation at bufsize")
    func udp() throws {
        let (s, addr) = try loopbackSocket(SOCK_DGRAM)
        defer { try? s.close() }
        let c = try Socket(AF_INET, SOCK_DGRAM)
        defer { try? c.close() }
        #expect(try c.sendto(b("0123456789"), addr) == 10)
        #expect(try c.sendto(b("next"), addr) == 4)
        let (data, from) = try s.recvfrom(4)
        #expect(data == b("0123"))
        #expect(from == .inet(host: "127.0.0.1", port: try c.getsockname().port!))
        #expect(try s.recvfrom(100).0 == b("next"))
    }

    @Test("settimeout: recv throws timedOut within bounds")
    func recvTimeout() throws {
        try withSocketPair { a, bSock throws in
            try a.settimeout(0.2)
            #expect(a.gettimeout() == 0.2)
            #expect(isNonBlocking(a.fileno()))
            let start = now()
            let e = osError { _ = try a.recv(10) }
            let elapsed = now() - start
            #expect(e == OSError.timedOut)
            #expect(e?.description == "timed out")
            #expect(elapsed >= 0.19 && elapsed < 2)
            #expect(throws: ValueError("Timeout value out of range")) { try a.settimeout(-1) }
            try a.settimeout(nil)
            #expect(!isNonBlocking(a.fileno()))
            a.setblocking(false)
            #expect(a.gettimeout() == 0)
            let e2 = osError { _ = try a.recv(10) }
            #expect(e2?.errno == EAGAIN)
            #expect(e2?.kind == .blockingIO)
            #expect(e2?.pythonClassName == "BlockingIOError")
        }
    }

    @Test("sendall with a timeout bounds the total duration")
    func sendallTimeout() throws {
        try withTCPPair { c, s throws in
            try c.settimeout(0.3)
            let start = now()
            let e = osError { try c.sendall([UInt8](repeating: 0x61, count: 64 << 20)) }
            #expect(e?.kind == .timeout)
            #expect(now() - start < 5)
        }
    }

    @Test("accept()ed socket is blocking when the listener has a timeout")
    func acceptBlocking() throws {
        let (l, port) = try tcpListener()
        defer { try? l.close() }
        try l.settimeout(5)
        let c = try Socket()
        defer { try? c.close() }
        try c.connect(.inet(host: "127.0.0.1", port: port))
        let (conn, addr) = try l.accept()
        defer { try? conn.close() }
        #expect(conn.gettimeout() == nil)
        #expect(!isNonBlocking(conn.fileno()))
        #expect(addr == (try c.getsockname()))
        #expect(isCloexec(conn.fileno()))
        // And accept on a timed listener with nobody connecting times out.
        try l.settimeout(0.1)
        #expect(osError { _ = try l.accept() } == OSError.timedOut)
    }

    @Test("close is idempotent; fileno -1; use after close is EBADF")
    func closeIdempotent() throws {
        let s = try Socket()
        #expect(s.fileno() >= 0)
        try s.close()
        try s.close()
        #expect(s.fileno() == -1)
        #expect(s.closed)
        #expect(s.description == "<socket [closed]>")
        for op in [
            { _ = try s.recv(1) }, { _ = try s.send([1]) }, { try s.bind(.inet(host: "127.0.0.1", port: 0)) },
            { try s.listen() }, { _ = try s.accept() }, { _ = try s.getsockname() },
            { try s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1) },
        ] as [() throws -> Void] {
            let e = osError(op)
            #expect(e?.errno == EBADF)
            #expect(e?.description == "[Errno 9] Bad file descriptor")
        }
    }

    @Test("SIGPIPE does not kill: send to a closed peer is EPIPE/ECONNRESET")
    func sigpipe() throws {
        let (a, bSock) = try Socket.socketpair()
        defer { try? a.close() }
        try bSock.close()
        let e = osError { _ = try a.send(b("x")) }
        #expect(e?.errno == EPIPE)
        #expect(e?.kind == .brokenPipe)

        let (c, s) = try tcpPair()
        defer { try? c.close() }
        try s.close()
        var failure: OSError? = nil
        for _ in 0..<100 {
            failure = osError { try c.sendall([UInt8](repeating: 1, count: 65536)) }
            if failure != nil { break }
            sleep(seconds: 0.01)
        }
        #expect(failure?.errno == EPIPE || failure?.errno == ECONNRESET)
        #expect(failure?.isConnectionError == true)
    }

    @Test("SOCK_CLOEXEC on socket, socketpair, accept")
    func cloexec() throws {
        let s = try Socket()
        defer { try? s.close() }
        #expect(isCloexec(s.fileno()))
        try withSocketPair { a, bSock throws in
            #expect(isCloexec(a.fileno()) && isCloexec(bSock.fileno()))
            try withTCPPair { c, conn throws in
                #expect(isCloexec(conn.fileno()))
                let ep = try EpollSelector()
                defer { ep.close() }
                #expect(isCloexec(ep.fileno()))
            }
        }
    }

    @Test("socket options")
    func options() throws {
        let s = try Socket()
        defer { try? s.close() }
        try s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
        #expect(try s.getsockopt(SOL_SOCKET, SO_REUSEADDR) != 0)
        try s.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1)
        #expect(try s.getsockopt(IPPROTO_TCP, TCP_NODELAY) != 0)
        #expect(try s.getsockopt(SOL_SOCKET, SO_TYPE) == SOCK_STREAM)
    }

    @Test("connect refused is ConnectionRefusedError")
    func refused() throws {
        let (probe, address) = try loopbackSocket(SOCK_STREAM)
        let port = address.port!
        try probe.close()
        let c = try Socket()
        defer { try? c.close() }
        let e = osError { try c.connect(.inet(host: "127.0.0.1", port: port)) }
        #expect(e?.kind == .connectionRefused)
        #expect(e?.description == "[Errno 111] Connection refused")
    }

    @Test("EINTR injected into accept, recv, send, sendall is retried")
    func injectedEINTR() throws {
        let (l, port) = try tcpListener()
        defer { try? l.close() }
        let c2 = try Socket()
        defer { try? c2.close() }
        try c2.connect(.inet(host: "127.0.0.1", port: port))
        let ((conn, _), accepts) = try SyscallFaults.counting {
            try SyscallFaults.injecting(.init(.accept, errno: EINTR, count: 2)) { try l.accept() }
        }
        defer { try? conn.close() }
        #expect(accepts[.accept] == 3)

        let (sent, sends) = try SyscallFaults.counting {
            try SyscallFaults.injecting(.init(.send, errno: EINTR, count: 2)) { try c2.send(b("abc")) }
        }
        #expect(sent == 3)
        #expect(sends[.send] == 3)

        let (received, recvs) = try SyscallFaults.counting {
            try SyscallFaults.injecting(.init(.recv, errno: EINTR, count: 2)) { try conn.recv(10) }
        }
        #expect(received == b("abc"))
        #expect(recvs[.recv] == 3)

        let (_, sendalls) = try SyscallFaults.counting {
            try SyscallFaults.injecting(.init(.send, errno: EINTR, count: 3)) { try c2.sendall(b("defg")) }
        }
        #expect(sendalls[.send] == 4)
        #expect(try conn.recv(10) == b("defg"))

        // Other errors are not retried.
        let reset = try SyscallFaults.injecting(.init(.recv, errno: ECONNRESET)) {
            osError { _ = try conn.recv(10) }
        }
        #expect(reset?.kind == .connectionReset)
    }

    @Test("EAGAIN on a timed socket polls again until the deadline")
    func injectedEAGAIN() throws {
        try withSocketPair { a, bSock throws in
            try a.settimeout(2)
            _ = try bSock.send(b("z"))
            let (received, calls) = try SyscallFaults.counting {
                try SyscallFaults.injecting(.init(.recv, errno: EAGAIN)) { try a.recv(1) }
            }
            #expect(received == b("z"))
            #expect(calls[.poll] == 2)
            #expect(calls[.recv] == 2)
        }
    }

    @Test("close ignores ECONNRESET, reports other errors, never retries")
    func closeErrors() throws {
        let s = try Socket()
        let fd = s.fileno()
        try SyscallFaults.injecting(.init(.close, errno: ECONNRESET)) { try s.close() }
        #expect(s.fileno() == -1)
        Glibc.close(fd)  // the injected failure skipped the real close

        let s2 = try Socket()
        let fd2 = s2.fileno()
        let (failed, closes) = try SyscallFaults.counting {
            try SyscallFaults.injecting(.init(.close, errno: EIO)) { osError { try s2.close() } }
        }
        #expect(failed?.errno == EIO)
        #expect(closes[.close] == 1)
        #expect(s2.fileno() == -1)
        let (_, again) = try SyscallFaults.counting { try s2.close() }  // idempotent
        #expect(again[.close] == 0)
        Glibc.close(fd2)
    }

    @Test("a fault left unconsumed is reported, and removed")
    func unconsumedFault() throws {
        try withSocketPair { a, bSock throws in
            let (error, calls) = SyscallFaults.counting {
                #expect(throws: SyscallFaults.Unconsumed.self) {
                    try SyscallFaults.injecting(.init(.shutdown, errno: EIO, count: 2)) { _ = try? a.shutdown(SHUT_WR) }
                }
            }
            #expect(error?.faults == [.init(.shutdown, errno: EIO, count: 1)])
            #expect(calls[.shutdown] == 1)
            try a.shutdown(SHUT_WR)  // nothing injected any more: the real call
            #expect(try bSock.recv(1) == [])
        }
    }
}

/// A signal handler that does nothing (installed without SA_RESTART).
private func noopHandler(_: CInt) {}

@Suite("RealEINTR", .serialized, .timeLimit(.minutes(1)))
struct RealEINTRTests {
    @Test("a real SIGUSR1 interrupting poll(2) in PollSelector.select is retried")
    func realSignal() throws {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = noopHandler
        action.sa_flags = 0  // no SA_RESTART
        sigemptyset(&action.sa_mask)
        var old = sigaction()
        #expect(sigaction(SIGUSR1, &action, &old) == 0)
        defer { sigaction(SIGUSR1, &old, nil) }

        try withSocketPair { a, bSock throws in
            let result = Box<(events: [Int], elapsed: Double, polls: Int, recvs: Int)>(([], 0, 0, 0))
            let started = Box(false)
            let worker = TestThread {
                // Threads inherit the creator's mask, and Dispatch workers block signals.
                unblockSignals([SIGUSR1])
                let sel = PollSelector()
                defer { sel.close() }
                _ = try? sel.register(a, EVENT_READ)
                started.set(true)
                let start = now()
                let (ready, polls) = SyscallFaults.counting { (try? sel.select(10)) ?? [] }
                let elapsed = now() - start
                // Then a blocking recv interrupted by a signal, retried too.
                let (_, recvs) = SyscallFaults.counting {
                    _ = try? a.recv(1)
                    _ = try? a.recv(1)
                }
                result.set((ready.map(\.events), elapsed, polls[.poll], recvs[.recv]))
            }
            while !started.value { sleep(seconds: 0.01) }
            sleep(seconds: 0.2)
            pthread_kill(worker.thread, SIGUSR1)
            sleep(seconds: 0.2)
            pthread_kill(worker.thread, SIGUSR1)
            sleep(seconds: 0.1)
            _ = try bSock.send(b("x"))
            sleep(seconds: 0.2)
            pthread_kill(worker.thread, SIGUSR1)  // worker is blocked in the second recv
            sleep(seconds: 0.1)
            _ = try bSock.send(b("y"))
            worker.join()
            let r = result.value
            #expect(r.events == [EVENT_READ])
            #expect(r.elapsed >= 0.4 && r.elapsed < 5)
            #expect(r.polls >= 3)
            #expect(r.recvs >= 3)
        }
    }
}
