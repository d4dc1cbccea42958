// The load generator: C client threads, each making one request after another until the run's
// time or count is used up. A stream request is connect, send a line, read until the server
// closes, close; a datagram request is one datagram and its reply, on a socket the thread
// keeps. Every reply is checked against the line upper-cased; every failed request is counted
// by kind and none is retried.
import Glibc
import SocketServer
import Synchronization

import func Sockets.pyBytesStrip
import func Sockets.pyBytesUpper

/// Where a run's clients send their requests.
enum Target: Sendable {
    case tcp(port: UInt16)
    case udp(port: UInt16)
    case unix(path: String)
}

/// How a request failed.
enum FailureKind: String, CaseIterable, Sendable {
    /// Nobody listened: ECONNREFUSED (or, for a Unix socket, no socket file).
    case refused
    /// The connection was reset: ECONNRESET or EPIPE.
    case reset
    /// No answer within the per-request timeout (a connect, send or receive timed out).
    case timeout
    /// The server closed before the whole reply came: a proper prefix of it (or nothing).
    case short
    /// A reply that is not the line upper-cased.
    case wrong
    /// Any other error of a system call.
    case other
}

/// One failed request.
struct Failure: Error {
    var kind: FailureKind
    var detail: String
}

/// Failed requests, by kind.
struct ErrorCounts: Sendable {
    private var counts = [Int](repeating: 0, count: FailureKind.allCases.count)

    subscript(kind: FailureKind) -> Int { counts[FailureKind.allCases.firstIndex(of: kind)!] }

    mutating func count(_ kind: FailureKind) {
        counts[FailureKind.allCases.firstIndex(of: kind)!] += 1
    }

    mutating func add(_ other: ErrorCounts) {
        for index in counts.indices { counts[index] += other.counts[index] }
    }

    var total: Int { counts.reduce(0, +) }

    /// `0`, or the total and its kinds: `3 (2 timeout, 1 reset)`.
    var summary: String {
        guard total > 0 else { return "0" }
        let kinds = FailureKind.allCases.filter { self[$0] > 0 }.map { "\(self[$0]) \($0.rawValue)" }
        return "\(total) (\(kinds.joined(separator: ", ")))"
    }
}

/// What one run of the load generator does.
struct LoadPlan: Sendable {
    var target: Target
    /// Client threads.
    var concurrency: Int
    /// Seconds of load; nil to send `requests` requests instead.
    var duration: Double?
    /// With no duration: the requests of the run, all threads together.
    var requests: Int
    /// Seconds a request may take.
    var timeout: Double
    /// Monotonic seconds after which no request starts.
    var hardDeadline: Double
    /// A number in every line, so that a reply meant for another run cannot pass for this one.
    var tag: Int
}

/// What one run measured.
struct LoadResult: Sendable {
    var ok = 0
    /// Of those, the ones that ended within the run's duration (all of them for a count).
    var inWindow = 0
    var errors = ErrorCounts()
    /// Latencies of the requests that succeeded, in nanoseconds, sorted.
    var latencies: [UInt64] = []
    /// Seconds from the first thread's start to the last thread's end.
    var elapsed: Double = 0
    /// The first failure's description, if any failed.
    var firstFailure: String?
}

/// What one client thread measured.
private struct WorkerResult: Sendable {
    var ok = 0
    var inWindow = 0
    var errors = ErrorCounts()
    var latencies: [UInt64] = []
    var firstFailure: String?
}

/// What the client threads of a run share.
private final class LoadShared: Sendable {
    let tickets = Atomic<Int>(0)
    let results = Mutex<[WorkerResult]>([])
}

/// `CLOCK_MONOTONIC` in nanoseconds.
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// `CLOCK_MONOTONIC` in seconds.
func monotonic() -> Double { Double(monotonicNanoseconds()) / 1e9 }

/// Sleeps `seconds`.
func pause(_ seconds: Double) {
    var interval = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
    var left = timespec()
    while nanosleep(&interval, &left) != 0 && errno == EINTR { interval = left }
}

/// Runs `plan` and waits for every client thread.
func runLoad(_ plan: LoadPlan) -> LoadResult {
    let shared = LoadShared()
    let start = monotonicNanoseconds()
    let threads = (0..<plan.concurrency).map { worker in
        PThread(name: "client \(worker)") { clientLoop(plan, worker: worker, start: start, shared: shared) }
    }
    var started: [PThread] = []
    var result = LoadResult()
    for thread in threads {
        do {
            try thread.start()
            started.append(thread)
        } catch {
            result.errors.count(.other)
            result.firstFailure = result.firstFailure ?? "client thread: \(error)"
        }
    }
    for thread in started { try? thread.join() }
    result.elapsed = Double(monotonicNanoseconds() - start) / 1e9
    for worker in shared.results.withLock({ $0 }) {
        result.ok += worker.ok
        result.inWindow += worker.inWindow
        result.errors.add(worker.errors)
        result.latencies += worker.latencies
        result.firstFailure = result.firstFailure ?? worker.firstFailure
    }
    result.latencies.sort()
    return result
}

/// One client thread: requests until the run's time, count or hard deadline is used up.
private func clientLoop(_ plan: LoadPlan, worker: Int, start: UInt64, shared: LoadShared) {
    var result = WorkerResult()
    let end = plan.duration.map { start + UInt64($0 * 1e9) }
    let hard = UInt64(plan.hardDeadline * 1e9)
    let client = Client(plan.target, timeout: plan.timeout)
    defer { client.close() }
    var sequence = 0
    while true {
        let now = monotonicNanoseconds()
        if now >= hard || isInterrupted { break }
        if let end {
            if now >= end { break }
        } else if shared.tickets.wrappingAdd(1, ordering: .relaxed).oldValue >= plan.requests {
            break
        }
        sequence += 1
        let payload = Array("hello \(plan.tag) \(worker) \(sequence)\n".utf8)
        let began = monotonicNanoseconds()
        do {
            try client.request(payload, expected: pyBytesUpper(pyBytesStrip(payload)))
            let finished = monotonicNanoseconds()
            result.latencies.append(finished - began)
            result.ok += 1
            if end.map({ finished <= $0 }) ?? true { result.inWindow += 1 }
        } catch {
            result.errors.count(error.kind)
            result.firstFailure = result.firstFailure ?? "\(error.kind.rawValue): \(error.detail)"
        }
    }
    shared.results.withLock { $0.append(result) }
}

/// One client thread's sockets and buffer.
private final class Client {
    let target: Target
    let timeout: Double
    /// The server's address.
    var address = sockaddr_storage()
    var addressLength = socklen_t(0)
    /// The datagram client's socket (-1 until the first request, and for stream clients).
    var datagramSocket: CInt = -1
    /// Replies that may still come for datagrams that timed out (the last few).
    var late: [[UInt8]] = []
    let buffer: UnsafeMutablePointer<UInt8>
    let capacity = 4096

    init(_ target: Target, timeout: Double) {
        self.target = target
        self.timeout = timeout
        buffer = .allocate(capacity: capacity)
        switch target {
        case .tcp(let port), .udp(let port):
            var inet = loopbackAddress(port: port)
            withUnsafeBytes(of: &inet) { source in
                withUnsafeMutableBytes(of: &address) { $0.copyMemory(from: source) }
            }
            addressLength = socklen_t(MemoryLayout<sockaddr_in>.size)
        case .unix(let path):
            var unix = sockaddr_un()
            unix.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &unix.sun_path) { destination in
                for (index, byte) in path.utf8.prefix(destination.count - 1).enumerated() { destination[index] = byte }
            }
            withUnsafeBytes(of: &unix) { source in
                withUnsafeMutableBytes(of: &address) { $0.copyMemory(from: source) }
            }
            addressLength = socklen_t(MemoryLayout<sockaddr_un>.size)
        }
    }

    func close() {
        if datagramSocket >= 0 { Glibc.close(datagramSocket) }
        buffer.deallocate()
    }

    /// Sends `payload` and checks that the reply is `expected`.
    func request(_ payload: [UInt8], expected: [UInt8]) throws(Failure) {
        switch target {
        case .tcp, .unix: try streamRequest(payload, expected: expected)
        case .udp: try datagramRequest(payload, expected: expected)
        }
    }

    /// connect, send the line, read until the server closes, close.
    func streamRequest(_ payload: [UInt8], expected: [UInt8]) throws(Failure) {
        let deadline = monotonicNanoseconds() + UInt64(timeout * 1e9)
        let isUnix: Bool
        if case .unix = target { isUnix = true } else { isUnix = false }
        let fd = socket(isUnix ? AF_UNIX : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw failure(errno, "socket") }
        defer { Glibc.close(fd) }
        setTimeouts(fd)
        while true {
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, addressLength) }
            }
            if connected == 0 { break }
            let code = errno
            if code == EINTR { continue }
            // A Unix stream socket whose server's listen queue is full fails at once (or
            // after SO_SNDTIMEO) with EAGAIN, where TCP would wait for a SYN retry: try
            // again shortly, until the request's time is up.
            if code == EAGAIN && isUnix && monotonicNanoseconds() < deadline {
                pause(0.001)
                continue
            }
            throw failure(code, "connect")
        }
        var sent = 0
        while sent < payload.count {
            let written = payload.withUnsafeBytes {
                send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw failure(errno, "send")
            }
            sent += written
        }
        var received = 0
        while true {
            if received == capacity { throw Failure(kind: .wrong, detail: "a reply of more than \(capacity) bytes") }
            let count = recv(fd, buffer + received, capacity - received, 0)
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure(errno, "recv")
            }
            received += count
            if monotonicNanoseconds() > deadline { throw Failure(kind: .timeout, detail: "the reply took too long") }
        }
        try check(received, expected)
    }

    /// One datagram, and its reply, on the thread's socket (connected to the server, so that
    /// only the server's datagrams arrive).
    func datagramRequest(_ payload: [UInt8], expected: [UInt8]) throws(Failure) {
        if datagramSocket < 0 {
            datagramSocket = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard datagramSocket >= 0 else { throw failure(errno, "socket") }
            setTimeouts(datagramSocket)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(datagramSocket, $0, addressLength) }
            }
            guard connected == 0 else { throw failure(errno, "connect") }
        }
        let deadline = monotonicNanoseconds() + UInt64(timeout * 1e9)
        while true {
            let written = payload.withUnsafeBytes { send(datagramSocket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written >= 0 { break }
            if errno == EINTR { continue }
            throw failure(errno, "send")
        }
        while true {
            let count = recv(datagramSocket, buffer, capacity, 0)
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                if code == EAGAIN {
                    late.append(expected)
                    if late.count > 16 { late.removeFirst() }
                }
                throw failure(code, "recv")
            }
            let reply = UnsafeBufferPointer(start: buffer, count: count)
            if reply.elementsEqual(expected) { return }
            if let index = late.firstIndex(where: { reply.elementsEqual($0) }) {
                late.remove(at: index)  // the answer to a datagram that timed out: not ours
            } else {
                try check(count, expected)
            }
            if monotonicNanoseconds() > deadline { throw Failure(kind: .timeout, detail: "no reply in time") }
        }
    }

    /// Whether the `count` bytes in the buffer are `expected`: short if a proper prefix.
    func check(_ count: Int, _ expected: [UInt8]) throws(Failure) {
        let reply = UnsafeBufferPointer(start: buffer, count: count)
        if reply.elementsEqual(expected) { return }
        let text = String(decoding: reply.prefix(80), as: UTF8.self)
        if count < expected.count && expected.starts(with: reply) {
            throw Failure(kind: .short, detail: "got \(text.debugDescription), expected \(expected.count) bytes")
        }
        throw Failure(kind: .wrong, detail: "got \(text.debugDescription)")
    }

    /// SO_RCVTIMEO and SO_SNDTIMEO (which also bounds connect) to the per-request timeout.
    func setTimeouts(_ fd: CInt) {
        var interval = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
        for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
            setsockopt(fd, SOL_SOCKET, option, &interval, socklen_t(MemoryLayout<timeval>.size))
        }
    }
}

/// The failure an errno means.
func failure(_ code: CInt, _ call: String) -> Failure {
    let kind: FailureKind
    switch code {
    case ECONNREFUSED, ENOENT: kind = .refused
    case ECONNRESET, EPIPE: kind = .reset
    case EAGAIN, EINPROGRESS, ETIMEDOUT: kind = .timeout
    default: kind = .other
    }
    return Failure(kind: kind, detail: "\(call): \(String(cString: strerror(code)))")
}
