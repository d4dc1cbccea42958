// The driver's child processes: started with posix_spawnp, watched through a pipe and
// /proc/PID/stat, stopped by pid (SIGTERM, then SIGKILL after a bound) and reaped.
//
// posix_spawnp, not fork: glibc starts the child with clone(CLONE_VM | CLONE_VFORK) and the
// child runs no Swift code before exec, so the driver's own threads cannot leave a runtime lock
// taken in it.
import Glibc

/// A child that could not be started.
struct SpawnError: Error, CustomStringConvertible {
    let description: String
}

/// A child process: standard input from /dev/null, standard output into a pipe the driver
/// reads, standard error into a file, a process group of its own (so that whatever a forking
/// server forked can be stopped with it), no signal blocked, SIGPIPE, SIGINT, SIGTERM and
/// SIGALRM at their default actions.
final class ChildProcess {
    let pid: pid_t
    /// The read end of the child's standard output.
    private let output: CInt
    /// Where the child's standard error goes.
    let errorPath: String
    /// The wait status, once reaped.
    private(set) var status: Int32?
    /// Whether the child has ended (it stays unreaped until ``stop(grace:)``).
    private var exited = false
    /// Whether ``stop(grace:)`` has run.
    private var stopped = false
    /// Whether the child had ended by itself before ``stop(grace:)``.
    private(set) var endedBeforeStop = false
    /// Bytes read from the pipe but not yet returned as a line.
    private var pending: [UInt8] = []

    init(_ argv: [String], environment extra: [String: String] = [:], errorPath: String) throws(SpawnError) {
        self.errorPath = errorPath
        var ends: [CInt] = [-1, -1]
        guard pipe(&ends) == 0 else { throw SpawnError(description: "pipe: \(errnoText())") }
        // Neither end leaks into another child (the dup2 below gives this child its copy).
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, ends[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGALRM] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        var environment = currentEnvironment()
        for (key, value) in extra { environment[key] = value }
        let argvC = argv.map { strdup($0) } + [nil]
        let envC = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argvC.forEach { free($0) }
            envC.forEach { free($0) }
        }
        var pid = pid_t()
        let code = posix_spawnp(&pid, argv[0], &actions, &attributes, argvC, envC)
        close(ends[1])
        guard code == 0 else {
            close(ends[0])
            throw SpawnError(description: "cannot run \(argv[0]): \(String(cString: strerror(code)))")
        }
        self.pid = pid
        output = ends[0]
    }

    /// The next line of the child's standard output, without its newline; nil at end of file
    /// or after `timeout` seconds.
    func readLine(timeout: Double) -> String? {
        let deadline = monotonic() + timeout
        while true {
            if let newline = pending.firstIndex(of: 10) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return line
            }
            guard readMore(until: deadline) else { return nil }
        }
    }

    /// Everything the child writes on standard output until it closes it (at most `timeout`
    /// seconds).
    func readAll(timeout: Double) -> String {
        let deadline = monotonic() + timeout
        while readMore(until: deadline) {}
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Reads what the pipe holds into `pending`; false at end of file or at the deadline.
    private func readMore(until deadline: Double) -> Bool {
        var ready = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
        let left = deadline - monotonic()
        guard left > 0 else { return false }
        let polled = poll(&ready, 1, Int32(min(left * 1000, 60_000)) + 1)
        if polled < 0 { return errno == EINTR }
        if polled == 0 { return monotonic() < deadline }
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = read(output, &chunk, chunk.count)
        if count < 0 { return errno == EINTR || errno == EAGAIN }
        if count == 0 { return false }
        pending += chunk[..<count]
        return true
    }

    /// The child's CPU time in seconds (user + system, with its reaped children's), from
    /// /proc/PID/stat; nil once it is gone.
    func cpuSeconds() -> Double? {
        guard let stat = readFile("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return nil }
        // After "pid (comm)": state is field 3, utime 14, stime 15, cutime 16, cstime 17.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 14 else { return nil }
        let ticks = fields[11...14].compactMap { Double($0) }.reduce(0, +)
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The child's peak resident memory in kB (VmHWM in /proc/PID/status); nil once it is gone.
    func peakMemoryKB() -> Int? {
        guard let status = readFile("/proc/\(pid)/status"),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return nil }
        return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }

    /// Whether the child has ended. It is not reaped until ``stop(grace:)``: as long as it is a
    /// zombie, its pid, which is also its process group's id, cannot be given to another
    /// process, so signalling the group reaches no stranger.
    func hasExited() -> Bool {
        if exited { return true }
        var info = siginfo_t()
        let checked = waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT)
        if (checked == 0 && info.si_signo == SIGCHLD) || (checked < 0 && errno == ECHILD) { exited = true }
        return exited
    }

    /// Waits at most `timeout` seconds for the child to end; whether it did.
    @discardableResult
    func wait(timeout: Double) -> Bool {
        let deadline = monotonic() + timeout
        while !hasExited() && monotonic() < deadline { pause(0.002) }
        return hasExited()
    }

    /// Stops the child, once: SIGTERM, then SIGKILL if it is still there after `grace`
    /// seconds; then SIGKILL to whatever is left of its process group (a forked child that
    /// never ended); then reaps it and closes the pipe.
    func stop(grace: Double) {
        guard !stopped else { return }
        stopped = true
        endedBeforeStop = hasExited()
        if !endedBeforeStop {
            kill(pid, SIGTERM)
            if !wait(timeout: grace) {
                kill(pid, SIGKILL)
                wait(timeout: 10)
            }
        }
        kill(-pid, SIGKILL)
        var raw: Int32 = 0
        var reaped: pid_t
        repeat { reaped = waitpid(pid, &raw, 0) } while reaped < 0 && errno == EINTR
        if reaped == pid { status = raw }
        close(output)
    }

    /// How the child ended: "exit status 1", "killed by signal 15", or "running".
    var ending: String {
        guard let status else { return "running" }
        return status & 0x7f == 0 ? "exit status \((status >> 8) & 0xff)" : "killed by signal \(status & 0x7f)"
    }

    /// Whether the child ended by SIGTERM (the driver's stop).
    var endedByTerm: Bool { status.map { $0 & 0x7f == SIGTERM } ?? false }

    /// What the child wrote on standard error.
    var errorText: String { readFile(errorPath) ?? "" }
}

/// The process's environment as a dictionary.
func currentEnvironment() -> [String: String] {
    var result: [String: String] = [:]
    var entry = environ
    while let pointer = entry.pointee {
        let text = String(cString: pointer)
        if let equals = text.firstIndex(of: "=") {
            result[String(text[..<equals])] = String(text[text.index(after: equals)...])
        }
        entry += 1
    }
    return result
}

/// The whole of a (small) file, or nil.
func readFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = read(fd, &chunk, chunk.count)
        if count < 0 && errno == EINTR { continue }
        if count <= 0 { break }
        bytes += chunk[..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// Writes `text` to a new file at `path`.
func writeFile(_ path: String, _ text: String) throws(SpawnError) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw SpawnError(description: "cannot write \(path): \(errnoText())") }
    defer { close(fd) }
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if written < 0 {
            if errno == EINTR { continue }
            throw SpawnError(description: "cannot write \(path): \(errnoText())")
        }
        bytes = bytes.dropFirst(written)
    }
}

/// `strerror(errno)`.
func errnoText() -> String {
    let code = errno
    return String(cString: strerror(code))
}
