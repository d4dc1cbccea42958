// Helpers for every test target that starts threads, forks or spawns: time, /proc, the
// checks that nothing a test started outlives it, and the deadlines that end what got stuck.
//
// Tests that fork, or that change process-wide state, run their body in a fresh process with a
// Swift Testing exit test, `#expect(processExitsWith: .success) { isolated { ... } }`: the
// process that forks then has no other test's threads (which are not enrolled in the fork gate),
// and the checks see only this test.
import Glibc
import Processes
import SocketServer
import Sockets
import Testing

// MARK: - Boxes

/// A value shared between the test and the threads of a server, guarded by a lock.
public final class Box<Value: Sendable>: Sendable {
    private let storage: Lock<Value>

    public init(_ value: Value) { storage = Lock(value) }

    /// The current value.
    public var value: Value { storage.withLock { $0 } }

    /// Replace the value.
    public func set(_ newValue: Value) { storage.withLock { $0 = newValue } }

    /// Change the value in place.
    public func update(_ body: (inout Value) -> Void) {
        storage.withLock { value in body(&value) }
    }
}

extension Box where Value == Int {
    /// Add one.
    public func increment() { update { $0 += 1 } }
}

extension Box where Value == [String] {
    /// Append one entry to the log.
    public func append(_ entry: String) { update { $0.append(entry) } }
}

extension Box where Value == [any Error] {
    /// Append one error.
    public func append(_ error: any Error) { update { $0.append(error) } }
}

// MARK: - Time

/// Seconds on the monotonic clock.
public func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// How many seconds `body` took, on the monotonic clock.
public func secondsTaken(_ body: () throws -> Void) rethrows -> Double {
    let start = now()
    try body()
    return now() - start
}

/// Sleep for `seconds` (outside the fork gate).
public func sleep(seconds: Double) {
    let microseconds = useconds_t(seconds * 1_000_000)
    ForkGate.outside { _ = usleep(microseconds) }
}

/// Poll `condition` every millisecond until it holds or `timeout` seconds pass.
@discardableResult
public func waitUntil(timeout: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = now() + timeout
    while !condition() {
        if now() > deadline { return false }
        ForkGate.outside { _ = usleep(1000) }
    }
    return true
}


// MARK: - Files

/// A short temporary directory, /tmp/sst-XXXXXX, for Unix socket paths and logs.
public final class TempDir: Sendable {
    public let path: String

    public init() throws {
        var template = Array("/tmp/sst-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard let made else { throw OSError.lastError() }
        path = String(cString: made)
    }

    /// A path inside the directory.
    public func file(_ name: String) -> String { path + "/" + name }

    /// Remove the directory and every entry in it.
    public func remove() {
        for name in directoryEntries(path) { unlink(file(name)) }
        rmdir(path)
    }
}


/// The names in a directory, without "." and "..".
public func directoryEntries(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}

/// The content of the file at `path`, "" if it does not exist.
public func readFile(_ path: String) -> String { readSmallFile(path) ?? "" }

// MARK: - Sockets

/// A connected pair of Unix stream sockets (Python: `socket.socketpair()`) for `body`; both
/// are closed after it.
public func withSocketPair<R>(_ body: (Socket, Socket) throws -> R) throws -> R {
    let (a, b) = try Socket.socketpair()
    defer {
        try? a.close()
        try? b.close()
    }
    return try body(a, b)
}

// MARK: - Resources of the process

/// The open file descriptors that a server or a test could leak, with what they are
/// ("7 -> socket:[1234]"): sockets, and files in the tests' temporary directories. (The
/// runtime's own descriptors, such as the timerfd and epoll of Dispatch that may appear at
/// any time on another thread, are left out.)
public func openDescriptors() -> Set<String> {
    var result: Set<String> = []
    for name in directoryEntries("/proc/self/fd") {
        var target = [CChar](repeating: 0, count: 256)
        let n = readlink("/proc/self/fd/" + name, &target, target.count - 1)
        guard n > 0 else { continue }
        let link = String(decoding: target[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if link.hasPrefix("socket:") || link.hasPrefix("/tmp/sst-") {
            result.insert(name + " -> " + link)
        }
    }
    return result
}

/// The number of open sockets and temporary files (entries of /proc/self/fd).
public func fdCount() -> Int { openDescriptors().count }

/// The number of threads (entries of /proc/self/task).
public func threadCount() -> Int { directoryEntries("/proc/self/task").count }

/// Whether this process has a child process (running or not yet reaped); leaves it waitable.
public func hasChildren() -> Bool {
    var info = siginfo_t()
    return waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0
}

/// Open, once, anything the first server and client open lazily, so that descriptor counts
/// taken afterwards are stable.
public func warmUp() throws {
    let server = try TCPServer(.inet(host: "127.0.0.1", port: 0), BaseRequestHandler.self)
    let client = try Socket(Sockets.AF_INET, SOCK_STREAM)
    try client.settimeout(5)
    try client.connect(server.serverAddress)
    try server.handleRequest()
    try client.close()
    try server.serverClose()
}

/// The body of an exit test: runs `body` in the fresh process (its thread enrolled in the fork
/// gate), bounded by a ``Watchdog``, records a thrown error as an issue, and checks that `body`
/// left no descriptor, thread or child behind. A descendant still alive at the end is reported
/// as stuck and killed, so that it cannot hold the exit test's pipes open.
public func isolated(
    deadline seconds: Double = 45, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) {
    let watchdog = Watchdog(seconds: seconds)
    defer { watchdog.disarm() }
    var fds = 0
    var threads = 0
    var descriptors: Set<String> = []
    do {
        try ForkGate.enrolled {
            try warmUp()
            fds = fdCount()
            descriptors = openDescriptors()
            threads = threadCount()
            try body()
        }
    } catch {
        Issue.record(error, "unexpected error", sourceLocation: sourceLocation)
        _ = killDescendants()
        return
    }
    waitUntil(timeout: 2) { fdCount() <= fds && threadCount() <= threads && !hasChildren() }
    let stuck = killDescendants()
    #expect(stuck.isEmpty, "stuck descendants, killed: \(stuck)", sourceLocation: sourceLocation)
    #expect(
        fdCount() <= fds,
        "a file descriptor outlived the test: \(openDescriptors().subtracting(descriptors).sorted())",
        sourceLocation: sourceLocation)
    #expect(threadCount() <= threads, "a thread outlived the test", sourceLocation: sourceLocation)
    #expect(!hasChildren(), "a child process outlived the test", sourceLocation: sourceLocation)
}

/// A test whose body runs in a fresh process, as one row of its suite's table. The suite has
/// one exit test parameterised by the rows' names, `#expect(processExitsWith: .success) {
/// [name] in FreshProcessTest.run(name, of: Suite.tests) }`: an exit test can take only such a
/// value into the new process, where the body is found again by its name.
public struct FreshProcessTest: Sendable {
    /// What the test checks, in words: its name in the test report.
    public let name: String
    /// The body's deadline, in seconds (see ``isolated(deadline:sourceLocation:_:)``).
    public let deadline: Double
    private let body: @Sendable () throws -> Void

    public init(_ name: String, deadline: Double = 45, _ body: @escaping @Sendable () throws -> Void) {
        self.name = name
        self.deadline = deadline
        self.body = body
    }

    /// In the fresh process: runs the body of the row of `table` named `name`, isolated.
    public static func run(_ name: String, of table: [FreshProcessTest], sourceLocation: SourceLocation = #_sourceLocation) {
        guard let test = table.first(where: { $0.name == name }) else {
            Issue.record("no fresh-process test named \(name)", sourceLocation: sourceLocation)
            return
        }
        isolated(deadline: test.deadline, sourceLocation: sourceLocation, test.body)
    }
}

// MARK: - Deadlines for what a test starts

/// A process below this one, as /proc shows it.
public struct Descendant: CustomStringConvertible {
    public let pid: pid_t
    public let parent: pid_t
    /// The state letter of /proc/PID/stat (`S` sleeping, `Z` zombie, ...).
    public let state: String
    /// Where in the kernel it waits (/proc/PID/wchan).
    public let waitChannel: String
    /// The blocked-signal mask (SigBlk of /proc/PID/status).
    public let blocked: String

    public var description: String {
        "pid \(pid) (child of \(parent)) state \(state), waiting in \(waitChannel), SigBlk \(blocked)"
    }
}

/// Every living process whose chain of parents leads to this one.
public func descendants() -> [Descendant] {
    let table = processTable()
    let parents = Dictionary(uniqueKeysWithValues: table.map { ($0.pid, $0.parent) })
    let me = getpid()
    return table.compactMap { entry in
        var ancestor = entry.parent
        var hops = 0
        while ancestor != me, ancestor > 1, let next = parents[ancestor], hops < 64 {
            ancestor = next
            hops += 1
        }
        guard ancestor == me else { return nil }
        return Descendant(
            pid: entry.pid, parent: entry.parent, state: entry.state, waitChannel: waitChannel(entry.pid),
            blocked: processStatus(entry.pid, "SigBlk") ?? "?")
    }
}

/// SIGKILL every living descendant that is not a zombie, reap this process's own children, and
/// return what was killed.
@discardableResult
public func killDescendants() -> [Descendant] {
    let living = descendants().filter { $0.state != "Z" }
    for process in living { kill(process.pid, SIGKILL) }
    var status: CInt = 0
    for process in living where process.parent == getpid() {
        _ = ForkGate.outside { waitpid(process.pid, &status, 0) }
    }
    return living
}

/// Ends the process when a test body overruns its deadline: writes which descendants were
/// still running (pid, state, wait channel, blocked signals) to standard error, kills them by
/// pid, and exits with status 1, so that an exit test fails instead of waiting for ever on a
/// child that holds its pipes. (A stuck child may block every signal but SIGKILL.)
public final class Watchdog: Sendable {
    private let disarmed = SocketServer.Event()
    private let thread: PThread

    public init(seconds: Double) {
        let disarmed = disarmed
        thread = PThread(name: "watchdog") {
            if disarmed.wait(seconds) { return }
            let stuck = killDescendants()
            let lines = stuck.map { "  stuck: \($0)\n" }.joined()
            sys.writeStderr(
                "watchdog: the test overran its \(seconds) s deadline; killed \(stuck.count) descendant(s)\n\(lines)")
            Glibc._exit(1)
        }
        thread.daemon = true
        try? thread.start()
    }

    /// The body finished in time.
    public func disarm() {
        disarmed.set()
        try? thread.join()
    }
}


// MARK: - Sanitizers

/// The sanitizer this test binary was built with ("thread", "address"), or nil.
///
/// Some tests cannot run under one: a sanitizer's runtime keeps locks of its own that a child
/// forked beside other threads can find taken (so high-volume fork tests hang there), and it
/// needs far more address space than an `RLIMIT_AS` test leaves.
public let sanitizer: String? = {
    if dlsym(nil, "__tsan_init") != nil { return "thread" }
    if dlsym(nil, "__asan_init") != nil { return "address" }
    return nil
}()
