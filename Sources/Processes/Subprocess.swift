// Starting another program and ending it for sure: posix_spawnp into a process group of its
// own, its standard output and error captured through pipes, a wait with a deadline, and a
// stop that kills whatever the program started, by pid.
//
// posix_spawnp, not fork: glibc starts the child with clone(CLONE_VM | CLONE_VFORK) and the
// child runs no Swift code before exec, so the caller's other threads cannot leave a runtime
// lock taken in it. And waitpid on the child's own pid, never on any child: a test runner may
// be waiting for children of its own in the same process.
import Glibc
import Synchronization

/// A program that could not be started.
public struct SpawnError: Error, CustomStringConvertible {
    /// What went wrong ("cannot run python3: No such file or directory").
    public let description: String

    /// An error saying `description`.
    public init(_ description: String) { self.description = description }
}

/// How a child ended.
public enum Termination: Equatable, Sendable, CustomStringConvertible {
    /// It called exit with this status.
    case exited(Int32)
    /// This signal ended it.
    case signalled(Int32)

    /// The number a shell gives it (`$?`): the exit status, or 128 + the signal.
    public var code: Int32 {
        switch self {
        case .exited(let status): status
        case .signalled(let signal): 128 + signal
        }
    }

    /// "exit status 1", "killed by signal 15".
    public var description: String {
        switch self {
        case .exited(let status): "exit status \(status)"
        case .signalled(let signal): "killed by signal \(signal)"
        }
    }
}

/// A child process: standard input from /dev/null; standard output and standard error into
/// pipes that a thread of this object empties as the child writes, so that a chatty child
/// never blocks on a full pipe whatever the caller is doing; a process group of its own, so
/// that ``stop(grace:)`` can end what it forked too; no signal blocked, and the signals a
/// caller's threads may block or ignore at their default actions.
///
/// The child is not reaped until ``stop(grace:)`` (or deinit): as long as it is a zombie, its
/// pid, which is also its group's id, cannot be given to another process, so signalling the
/// group reaches no stranger.
public final class Subprocess: @unchecked Sendable {
    /// The child's process id, which is also its process group's.
    public let pid: pid_t
    /// The command it runs, as given.
    public let command: [String]
    private let pipes: CapturedPipes
    private var reader = pthread_t()
    /// The lock over what follows (the pipes have their own).
    private let state = Mutex(State())

    private struct State {
        var exited = false
        var termination: Termination?
        var reapedElsewhere = false
        var stopped = false
        /// Where ``readLine(timeout:)`` goes on in the standard output.
        var lineStart = 0
    }

    /// The signals a child starts with at their default actions: those a parent commonly
    /// ignores (SIGPIPE) or handles, and those a program is stopped or poked with.
    private static let defaultSignals = [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGALRM, SIGUSR1, SIGUSR2, SIGCHLD]

    /// Starts `command` (a program found on PATH, or a path, and its arguments) with this
    /// process's environment and `extra` added.
    public init(_ command: [String], environment extra: [String: String] = [:]) throws(SpawnError) {
        guard let program = command.first else { throw SpawnError("no command to run") }
        self.command = command
        let output = try Self.makePipe()
        let errors: [CInt]
        do { errors = try Self.makePipe() } catch {
            output.forEach { _ = close($0) }
            throw error
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errors[1], 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = signalSet([])
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = signalSet(Self.defaultSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        var environment = currentEnvironment()
        environment.merge(extra) { $1 }
        let argv = command.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid = pid_t()
        let code = posix_spawnp(&pid, program, &actions, &attributes, argv, envp)
        // The child has its copies; the write ends here would keep the pipes from ending.
        close(output[1])
        close(errors[1])
        guard code == 0 else {
            close(output[0])
            close(errors[0])
            throw SpawnError("cannot run \(program): \(String(cString: strerror(code)))")
        }
        self.pid = pid
        pipes = CapturedPipes(output: output[0], errors: errors[0])
        let started = pthread_create(
            &reader, nil,
            { context in
                Unmanaged<CapturedPipes>.fromOpaque(context!).takeRetainedValue().readUntilEnd()
                return nil
            }, Unmanaged.passRetained(pipes).toOpaque())
        if started != 0 {
            // No thread: the child is ended now rather than left writing into pipes nobody reads.
            Unmanaged.passUnretained(pipes).release()
            kill(-pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            pipes.close()
            throw SpawnError("cannot start the thread that reads \(program)'s output")
        }
    }

    /// A pipe whose ends are closed on exec (the child gets its end through dup2) and whose
    /// read end does not block.
    private static func makePipe() throws(SpawnError) -> [CInt] {
        var ends: [CInt] = [-1, -1]
        guard c_pipe2(&ends, O_CLOEXEC) == 0 else {
            throw SpawnError("pipe: \(String(cString: strerror(errno)))")
        }
        _ = fcntl(ends[0], F_SETFL, fcntl(ends[0], F_GETFL) | O_NONBLOCK)
        return ends
    }

    deinit { stop() }

    // MARK: Output

    /// Everything the child has written on standard output so far.
    public var output: [UInt8] { pipes.output }

    /// Everything the child has written on standard error so far.
    public var errors: [UInt8] { pipes.errors }

    /// The next line of standard output, without its newline; nil when the output ended or
    /// `timeout` seconds passed first.
    public func readLine(timeout: Double) -> String? {
        let deadline = monotonicSeconds() + timeout
        while true {
            let start = state.withLock { $0.lineStart }
            let (line, ended) = pipes.line(from: start)
            if let line {
                state.withLock { $0.lineStart = start + line.count + 1 }
                return String(decoding: line, as: UTF8.self)
            }
            if ended || monotonicSeconds() >= deadline { return nil }
            pauseBriefly()
        }
    }

    // MARK: Life

    /// Whether the child has ended (it stays unreaped until ``stop(grace:)``).
    public func hasExited() -> Bool {
        state.withLock { state in
            if state.exited { return true }
            var info = siginfo_t()
            let checked = waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT)
            if checked == 0 && info._sifields._sigchld.si_pid == pid {
                state.exited = true
                let status = info._sifields._sigchld.si_status
                state.termination = Int(info.si_code) == CLD_EXITED ? .exited(status) : .signalled(status)
            } else if checked < 0 && errno == ECHILD {
                // Reaped by another waiter: ended, how is not known.
                state.exited = true
                state.reapedElsewhere = true
            }
            return state.exited
        }
    }

    /// How the child ended; nil while it runs (or if another waiter reaped it).
    public var termination: Termination? {
        _ = hasExited()
        return state.withLock { $0.termination }
    }

    /// Waits at most `timeout` seconds for the child to end; whether it did.
    @discardableResult
    public func wait(timeout: Double) -> Bool {
        let deadline = monotonicSeconds() + timeout
        while !hasExited() {
            if monotonicSeconds() >= deadline { return false }
            pauseBriefly()
        }
        return true
    }

    /// Sends `signal` to the child (not to its group).
    public func signal(_ signal: Int32) {
        guard !state.withLock({ $0.stopped }) else { return }
        kill(pid, signal)
    }

    /// Ends the child and everything of its process group, once: if it still runs, SIGTERM
    /// and SIGKILL after `grace` seconds (at once when `grace` is 0); then SIGKILL to what is
    /// left of the group; then reaps the child and collects the rest of its output.
    ///
    /// - Returns: the members of the group other than the child that were still running and
    ///   were killed ("pid 123 state S waiting in do_select"): what the child left behind.
    @discardableResult
    public func stop(grace: Double = 0) -> [String] {
        let already = state.withLock { state in
            defer { state.stopped = true }
            return state.stopped
        }
        guard !already else { return [] }
        if !hasExited() {
            if grace > 0 {
                kill(pid, SIGTERM)
                wait(timeout: grace)
            }
            if !hasExited() {
                kill(pid, SIGKILL)
                wait(timeout: 10)
            }
        }
        let members = processTable().filter { $0.group == pid && $0.pid != pid && $0.state != "Z" }
        for member in members { kill(member.pid, SIGKILL) }
        if !state.withLock({ $0.reapedElsewhere }) {
            // The child is our zombie, so the group id is still ours: this also reaches a
            // process forked since the table was read.
            kill(-pid, SIGKILL)
            let deadline = monotonicSeconds() + 10
            var raw: Int32 = 0
            while waitpid(pid, &raw, WNOHANG) == 0 && monotonicSeconds() < deadline { pauseBriefly() }
        }
        pipes.finish()
        pthread_join(reader, nil)
        pipes.close()
        return members.map { "pid \($0.pid) state \($0.state) waiting in \(waitChannel($0.pid))" }
    }
}

/// The read ends of a child's two pipes and what came through them. The reading thread and
/// the callers each drain the pipes under one lock, in whole non-blocking reads, so the bytes
/// stay in order and a caller always sees all that the pipes hold at that moment.
private final class CapturedPipes: @unchecked Sendable {
    private struct Captured {
        var descriptors: [CInt]
        var text: [[UInt8]] = [[], []]
        var ended = [false, false]
        var chunk = [UInt8](repeating: 0, count: 65536)
    }

    private let captured: Mutex<Captured>
    /// Set by ``finish()``: the reading thread returns after its next turn.
    private let finishing = Atomic<Bool>(false)

    init(output: CInt, errors: CInt) {
        captured = Mutex(Captured(descriptors: [output, errors]))
    }

    var output: [UInt8] { captured.withLock { Self.drain(&$0)[0] } }
    var errors: [UInt8] { captured.withLock { Self.drain(&$0)[1] } }

    /// The standard output's next complete line from byte `start`, and whether it ended.
    func line(from start: Int) -> (line: ArraySlice<UInt8>?, ended: Bool) {
        captured.withLock { captured in
            let output = Self.drain(&captured)[0]
            let line = output[min(start, output.count)...].firstIndex(of: 10).map { output[start..<$0] }
            return (line, captured.ended[0])
        }
    }

    /// Reads what both pipes hold, without blocking.
    private static func drain(_ captured: inout Captured) -> [[UInt8]] {
        for index in 0..<2 where !captured.ended[index] {
            let descriptor = captured.descriptors[index]
            while true {
                let count = captured.chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count > 0 {
                    captured.text[index] += captured.chunk[..<count]
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    captured.ended[index] = true
                    break
                } else if errno == EAGAIN {
                    break
                }
            }
        }
        return captured.text
    }

    /// The reading thread: waits for either pipe to have something, then drains both, until
    /// both have ended or ``finish()`` is called. Each wait is bounded, so that ``finish()``
    /// ends it even while a process outside the group holds a pipe open.
    func readUntilEnd() {
        let (output, errors) = captured.withLock { ($0.descriptors[0], $0.descriptors[1]) }
        var ready = [pollfd(fd: output, events: Int16(POLLIN), revents: 0), pollfd(fd: errors, events: Int16(POLLIN), revents: 0)]
        while !finishing.load(ordering: .acquiring) {
            let ended = captured.withLock { captured in
                _ = Self.drain(&captured)
                return captured.ended
            }
            if ended[0] && ended[1] { return }
            // An ended pipe is left out of the wait (poll skips negative descriptors).
            ready[0].fd = ended[0] ? -1 : output
            ready[1].fd = ended[1] ? -1 : errors
            _ = poll(&ready, 2, 100)
        }
        captured.withLock { _ = Self.drain(&$0) }
    }

    /// Tells the reading thread to stop after one more turn.
    func finish() { finishing.store(true, ordering: .releasing) }

    /// Closes the read ends (the reading thread has returned), keeping what was read.
    func close() {
        captured.withLock { captured in
            _ = Self.drain(&captured)
            for descriptor in captured.descriptors where descriptor >= 0 { _ = Glibc.close(descriptor) }
            captured.descriptors = [-1, -1]
            captured.ended = [true, true]
        }
    }
}

@_silgen_name("pipe2") private func c_pipe2(_ ends: UnsafeMutablePointer<CInt>, _ flags: CInt) -> CInt

/// Seconds on the monotonic clock.
public func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// The pause between two looks at a child: 1 ms.
private func pauseBriefly() { _ = usleep(1000) }

/// This process's environment as a dictionary.
private func currentEnvironment() -> [String: String] {
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
