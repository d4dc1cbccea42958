// Swift-only: the gate that keeps our threads out of the Swift runtime while a process forks.
//
// CPython needs no such thing for its own locks: a thread runs Python code only while it holds
// the GIL, and `os.fork()` holds the GIL. Swift code, though, asks its runtime for type
// metadata, witness tables and type names as it runs, and the runtime guards those caches with
// mutexes. A thread holding one at the moment of `fork()` leaves it locked for ever in the
// child, and the child's first call that needs the same cache waits for ever. The gate plays
// the GIL's part for that one moment: every thread that takes part is either running Swift code
// ("inside") or blocked in a system call or a wait ("outside"), and `fork()` waits until no
// thread is inside.
import Glibc
import Synchronization

/// Keeps the threads that take part out of the Swift runtime at the moment of `fork()`.
///
/// A thread takes part once it has called ``enroll()``: every ``PThread`` of the port does so
/// when it starts, and the command-line tool enrols its main thread. Such a thread counts as
/// inside the gate while it runs Swift code, and steps outside for every system call made
/// through this module (``outside(_:)``), every wait of ``Lock`` and of the port's `Event`,
/// and every join. ``forking(_:)`` closes the gate, waits until no enrolled thread is inside,
/// forks, and opens the gate again in both processes. A thread returning from a system call
/// while the gate is closed waits until it opens. So a forked child never finds a runtime lock
/// taken by an enrolled thread.
///
/// What it cannot cover: a thread that never enrolled (one that Dispatch, Swift concurrency or
/// a C library started) can be inside the runtime at the fork, and nothing can list the
/// runtime's locks to check. Such a process should not fork, as CPython 3.12 warns. A thread
/// that computes for long between system calls delays a fork; it can call ``checkpoint()``
/// now and then. The wait is bounded (``drainLimit``): past it the fork goes ahead with a
/// warning on standard error, once per process.
///
/// State: one atomic word, `2 × (threads inside) + (1 if closed)`; a pthread mutex and two
/// conditions for the slow paths. The code that runs outside (between leaving and entering)
/// calls C only, never the Swift runtime. Cost when no fork is waiting: one atomic add on the
/// way out of Swift code and one compare-and-swap on the way back in.
///
/// Swift-only: CPython's GIL keeps other threads out of the interpreter during `fork()`.
public enum ForkGate {
    private static let state = Atomic<Int>(0)
    private static let closedBit = 1
    private static let oneThread = 2
    /// Guards the slow paths (waiting for the gate to open, waiting for it to drain); the
    /// forking thread holds it across `fork()`, so that no other thread holds it in the child.
    private nonisolated(unsafe) static let mutex: UnsafeMutablePointer<pthread_mutex_t> = {
        let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        return mutex
    }()
    /// Signalled when the gate opens.
    private nonisolated(unsafe) static let opened: UnsafeMutablePointer<pthread_cond_t> = makeCondition()
    /// Signalled when the last enrolled thread steps outside a closed gate.
    private nonisolated(unsafe) static let drained: UnsafeMutablePointer<pthread_cond_t> = makeCondition()
    /// The per-thread enrolment count (nil or 0: not enrolled).
    private static let enrolment: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()
    private static let warned = Atomic<Bool>(false)

    /// How long ``forking(_:)`` waits for the enrolled threads to step outside before it forks
    /// anyway, in seconds.
    public static let drainLimit: Double = 2

    private static func makeCondition() -> UnsafeMutablePointer<pthread_cond_t> {
        let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        initialize(condition)
        return condition
    }

    /// Initialises a condition on the monotonic clock (also over one left by the parent in a
    /// child: destroying it there could wait for waiters that no longer exist).
    private static func initialize(_ condition: UnsafeMutablePointer<pthread_cond_t>) {
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    /// Makes every lazily initialised global of the gate before any thread needs it outside.
    private static func prepare() {
        _ = mutex
        _ = opened
        _ = drained
        _ = enrolment
    }

    // MARK: Taking part

    /// How many times the calling thread has enrolled (without withdrawing).
    private static var depth: Int {
        Int(bitPattern: pthread_getspecific(enrolment))
    }

    /// Whether the calling thread takes part in the gate.
    public static var isEnrolled: Bool { depth > 0 }

    /// The calling thread takes part from now on: it counts as inside while it runs Swift code.
    /// Calls nest; each needs a ``withdraw()``.
    public static func enroll() {
        prepare()
        let depth = depth
        if depth == 0 { enter() }
        pthread_setspecific(enrolment, UnsafeRawPointer(bitPattern: depth + 1))
    }

    /// The calling thread stops taking part (after as many calls as it enrolled).
    public static func withdraw() {
        let depth = depth
        guard depth > 0 else { return }
        pthread_setspecific(enrolment, UnsafeRawPointer(bitPattern: depth - 1))
        if depth == 1 { leave() }
    }

    /// Runs `body` with the calling thread enrolled.
    public static func enrolled<R>(_ body: () throws -> R) rethrows -> R {
        enroll()
        defer { withdraw() }
        return try body()
    }

    /// Runs `body`, which may block, outside the gate: a fork need not wait for it.
    ///
    /// `body` must not call into the Swift runtime (no generic code over new types, no class
    /// names, no lazy globals, no allocation of Swift objects): it is meant for one C call and
    /// reading `errno`. Nothing but C runs between leaving and entering.
    @inline(__always)
    public static func outside<R>(_ body: () -> R) -> R {
        guard pthread_getspecific(enrolment) != nil else { return body() }
        leave()
        let result = body()
        enter()
        return result
    }

    /// Steps outside and back in, so that a fork waiting for this thread can go ahead.
    public static func checkpoint() {
        outside {}
    }

    // MARK: Forking

    /// Closes the gate, waits until no enrolled thread is inside (at most ``drainLimit``
    /// seconds), runs `fork` (which returns 0 in the child, the child's pid in the parent, or
    /// -1), and opens the gate again. In the child, the gate starts afresh with only the
    /// calling thread.
    public static func forking(_ fork: () -> Int32) -> Int32 {
        prepare()
        let enrolled = isEnrolled
        if enrolled { leave() }
        pthread_mutex_lock(mutex)
        // Close the gate (after any fork already under way in another thread).
        while true {
            let current = state.load(ordering: .acquiring)
            if current & closedBit != 0 {
                pthread_cond_wait(opened, mutex)
                continue
            }
            if state.compareExchange(
                expected: current, desired: current | closedBit, ordering: .acquiringAndReleasing
            ).exchanged { break }
        }
        // Wait until every enrolled thread is outside.
        var until = timespec()
        clock_gettime(CLOCK_MONOTONIC, &until)
        until.tv_sec += Int(drainLimit)
        var drainedInTime = true
        while state.load(ordering: .acquiring) >= oneThread {
            if pthread_cond_timedwait(drained, mutex, &until) == ETIMEDOUT {
                drainedInTime = state.load(ordering: .acquiring) < oneThread
                break
            }
        }
        let inside = state.load(ordering: .acquiring) / oneThread
        let pid = fork()
        if pid == 0 {
            // The only thread of the child: nobody waits on the gate, nobody holds its mutex.
            pthread_mutex_init(mutex, nil)
            initialize(opened)
            initialize(drained)
            state.store(0, ordering: .releasing)
        } else {
            state.bitwiseAnd(~closedBit, ordering: .acquiringAndReleasing)
            pthread_cond_broadcast(opened)
            pthread_mutex_unlock(mutex)
        }
        if enrolled { enter() }
        if !drainedInTime && pid != 0 && !warned.exchange(true, ordering: .relaxed) {
            let text = Array(
                ("warning: os.fork(): forking although \(inside) thread(s) still ran Swift code after "
                    + "\(Int(drainLimit)) s; the child may hang\n").utf8)
            text.withUnsafeBytes { _ = Glibc.write(2, $0.baseAddress, $0.count) }
        }
        return pid
    }

    // MARK: Inside and outside

    /// Counts the calling thread inside, waiting while the gate is closed.
    @inline(__always)
    private static func enter() {
        let current = state.load(ordering: .relaxed)
        if current & closedBit == 0,
            state.compareExchange(
                expected: current, desired: current + oneThread, ordering: .acquiringAndReleasing
            ).exchanged
        {
            return
        }
        enterSlowly()
    }

    private static func enterSlowly() {
        while true {
            let current = state.load(ordering: .acquiring)
            if current & closedBit != 0 {
                pthread_mutex_lock(mutex)
                while state.load(ordering: .acquiring) & closedBit != 0 {
                    pthread_cond_wait(opened, mutex)
                }
                pthread_mutex_unlock(mutex)
                continue
            }
            if state.compareExchange(
                expected: current, desired: current + oneThread, ordering: .acquiringAndReleasing
            ).exchanged { return }
        }
    }

    /// Counts the calling thread outside; wakes a waiting fork when it was the last inside.
    @inline(__always)
    private static func leave() {
        let after = state.wrappingSubtract(oneThread, ordering: .acquiringAndReleasing).newValue
        if after == closedBit {
            pthread_mutex_lock(mutex)
            pthread_cond_signal(drained)
            pthread_mutex_unlock(mutex)
        }
    }
}
