// Swift-only: the subset of Python's `threading` module that socketserver uses.
//
// `threading.Thread` → ``PThread`` (over pthreads: `Foundation.Thread` is not Sendable on
// Linux), `threading.Event` → ``Event``. Both report to the trace seam, so that every thread
// the port starts appears in a recording with the request it serves.
import Glibc
import Sockets
import Synchronization

/// A thread of the operating system running a Python-style `target`.
///
/// State: `started` and `alive` are atomics; `handle` is written once by `start()` before
/// any `join()` may read it (guarded by `lock`). The thread takes part in the ``ForkGate``
/// from its first line to its last, so that a fork in another thread never catches it inside
/// the Swift runtime.
///
/// Python: threading.Thread (Lib/threading.py)
public final class PThread: Sendable, CustomStringConvertible {
    /// The thread's name, as Python makes it: `"Thread-1 (process_request_thread)"`.
    public let name: String
    private let target: @Sendable () throws -> Void
    private let isDaemon = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    private let alive = Atomic<Bool>(false)
    private let lock = Lock<pthread_t?>(nil)

    private static let counter = Atomic<Int>(0)
    private static let hook = Lock<@Sendable (ExceptHookArgs) -> Void>(PThread.defaultExcepthook)

    /// What a thread's uncaught error is reported with; tests replace it to watch.
    ///
    /// Python: threading.excepthook (Lib/threading.py)
    public static var excepthook: @Sendable (ExceptHookArgs) -> Void {
        get { hook.withLock { $0 } }
        set { hook.withLock { $0 = newValue } }
    }

    /// Python's default: ignore `SystemExit`, print anything else on standard error.
    public static let defaultExcepthook: @Sendable (ExceptHookArgs) -> Void = { args in
        if args.error is SystemExit { return }
        sys.writeStderr("Exception in thread \(args.threadName):\n" + traceback.formatException(args.error))
    }

    /// Makes an unstarted thread that will run `target`.
    ///
    /// - Parameters:
    ///   - targetName: the target's Python name, shown in the default thread name.
    public init(
        name: String? = nil, targetName: String? = nil, target: @escaping @Sendable () throws -> Void
    )
    {
        let number = PThread.counter.add(1, ordering: .relaxed).newValue
        self.name = name ?? "Thread-\(number)" + (targetName.map { " (\($0))" } ?? "")
        self.target = target
    }

    /// Whether the process may exit without joining this thread (Swift threads all die at
    /// exit; the flag decides who joins).
    public var daemon: Bool {
        get { isDaemon.load(ordering: .relaxed) }
        set { isDaemon.store(newValue, ordering: .relaxed) }
    }

    /// Start the thread.
    ///
    /// - Throws: `RuntimeError("threads can only be started once")`, or
    ///   `RuntimeError("can't start new thread")` when the system refuses.
    public func start() throws {
        guard !started.exchange(true, ordering: .acquiringAndReleasing) else {
            throw RuntimeError("threads can only be started once")
        }
        let inherited = Trace.recorder?.threadWillStart(name: name)
        let box = Unmanaged.passRetained(StartBox(thread: self, inherited: inherited))
        alive.store(true, ordering: .releasing)
        try lock.withLock { handle throws(RuntimeError) in
            var thread = pthread_t()
            guard pthread_create(&thread, nil, pthreadEntry, box.toOpaque()) == 0 else {
                box.release()
                alive.store(false, ordering: .releasing)
                started.store(false, ordering: .releasing)  // as Python: never started
                throw RuntimeError("can't start new thread")
            }
            handle = thread
        }
    }

    /// Runs on the new thread.
    fileprivate func run(inherited: (any Sendable)?) {
        if let inherited { Trace.recorder?.threadDidStart(name: name, inherited: inherited) }
        do {
            try target()
        } catch {
            PThread.excepthook(ExceptHookArgs(error: error, threadName: name))
        }
        Trace.recorder?.threadWillEnd()
        alive.store(false, ordering: .releasing)
    }

    /// Wait until the thread ends.
    ///
    /// - Throws: `RuntimeError("cannot join thread before it is started")`.
    public func join() throws {
        guard started.load(ordering: .acquiring) else {
            throw RuntimeError("cannot join thread before it is started")
        }
        // Take the handle out so that a second join does not join twice (Python allows it).
        guard let handle = lock.withLock({ handle in defer { handle = nil }; return handle })
        else {
            while alive.load(ordering: .acquiring) { _ = ForkGate.outside { usleep(1000) } }
            return
        }
        _ = ForkGate.outside { pthread_join(handle, nil) }
    }

    /// A thread nobody joined (reaped by `_Threads`, or a daemon) is detached once the last
    /// reference goes, so that the system frees its stack, as Python's threads are.
    deinit {
        if let handle = lock.withLock({ $0 }) { pthread_detach(handle) }
    }

    /// Python's repr without the state and ident, which depend on timing:
    /// `<Thread(Thread-2 (process_request_thread))>`.
    public var description: String { "<Thread(\(name)\(daemon ? ", daemon" : ""))>" }

    /// Whether the thread has started and not yet ended.
    public func isAlive() -> Bool { alive.load(ordering: .acquiring) }
}

/// What ``PThread/excepthook`` is called with.
///
/// Python: threading.ExceptHookArgs (Lib/threading.py)
public struct ExceptHookArgs: Sendable {
    /// The error that ended the thread (Python's `exc_value`).
    public let error: any Error
    /// The thread's name.
    public let threadName: String
}

/// What `pthread_create` hands to the new thread.
private final class StartBox: Sendable {
    let thread: PThread
    let inherited: (any Sendable)?
    init(thread: PThread, inherited: (any Sendable)?) {
        self.thread = thread
        self.inherited = inherited
    }
}

/// The C entry point of every ``PThread`` (a global function: closures made on the main actor
/// must not be handed to C).
private func pthreadEntry(_ raw: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    ForkGate.enroll()
    do {
        let box = Unmanaged<StartBox>.fromOpaque(raw!).takeRetainedValue()
        box.thread.run(inherited: box.inherited)
    }  // the box (and maybe the thread object) is released here, still inside the gate
    ForkGate.withdraw()
    return nil
}

/// A flag threads can wait for.
///
/// State: `flag` is guarded by `mutex`; waiters sleep on `condition`. The three live in memory
/// of their own, so that ``wait(_:)`` reads them outside the ``ForkGate`` with C calls only.
///
/// Python: threading.Event (Lib/threading.py)
public final class Event: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let flag = UnsafeMutablePointer<Bool>.allocate(capacity: 1)

    /// Makes an unset event.
    public init() {
        flag.initialize(to: false)
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
        flag.deallocate()
    }

    private func locked<R>(_ body: () -> R) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }

    /// Whether the flag is set.
    public func isSet() -> Bool { locked { flag.pointee } }

    /// Set the flag and wake every waiter; it stays set.
    public func set() {
        locked {
            flag.pointee = true
            pthread_cond_broadcast(condition)
        }
    }

    /// Clear the flag.
    public func clear() { locked { flag.pointee = false } }

    /// Wait until the flag is set, or `timeout` seconds pass.
    ///
    /// Waits outside the ``ForkGate``: the wait is C calls only.
    /// - Returns: the flag.
    @discardableResult
    public func wait(_ timeout: Double? = nil) -> Bool {
        let (mutex, condition) = (self.mutex, self.condition)
        let flag = self.flag
        guard let timeout else {
            return ForkGate.outside {
                pthread_mutex_lock(mutex)
                while !flag.pointee { pthread_cond_wait(condition, mutex) }
                pthread_mutex_unlock(mutex)
                return true
            }
        }
        let deadline = monotonicSeconds() + max(timeout, 0)
        var until = timespec(
            tv_sec: Int(deadline), tv_nsec: Int((deadline - deadline.rounded(.down)) * 1e9))
        return ForkGate.outside {
            pthread_mutex_lock(mutex)
            while !flag.pointee {
                if pthread_cond_timedwait(condition, mutex, &until) == ETIMEDOUT { break }
            }
            let set = flag.pointee
            pthread_mutex_unlock(mutex)
            return set
        }
    }
}

/// Seconds on the monotonic clock (Python's `time.monotonic`, which socketserver imports as
/// `time`).
func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
