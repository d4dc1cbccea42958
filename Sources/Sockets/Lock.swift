// Swift-only: the one lock type of the package, over `pthread_mutex_t`.
import Glibc

/// A mutex holding the state it guards, as `Synchronization.Mutex` does, but over
/// `pthread_mutex_t`.
///
/// Two reasons not to use `Mutex`: the thread sanitizer of Swift 6.3 on Linux does not see
/// `Mutex` (correct code guarded by one is reported as racing, and real races behind one go
/// unreported), while it intercepts pthread mutexes; and a thread that has to wait for this lock
/// waits outside the ``ForkGate``, so that a fork never waits for a thread blocked here.
///
/// Hold it briefly: never across a blocking call, so that a forked child never finds it taken
/// by a thread that does not exist there (the buffered socket files are the exception, as
/// CPython's are, and a child never shares its parent's).
///
/// Swift-only: CPython guards its objects with the GIL and `PyThread_type_lock`.
public final class Lock<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    // Exclusive by the mutex: the runtime's exclusivity check would only add cost.
    @exclusivity(unchecked) private var value: Value

    /// A lock guarding `value`.
    public init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` on the guarded value while holding the lock.
    public func withLock<R, E: Error>(_ body: (inout Value) throws(E) -> R) throws(E) -> R {
        lock()
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }

    /// Runs `body` on the guarded value while holding the lock, moving `item` into it (a value
    /// the body stores is then moved, not copied).
    @inline(__always)
    public func withLock<Item, R>(moving item: consuming Item, _ body: (inout Value, consuming Item) -> R) -> R {
        lock()
        defer { pthread_mutex_unlock(mutex) }
        return body(&value, item)
    }

    /// Takes the lock; a thread that has to wait does so outside the fork gate.
    @inline(__always)
    private func lock() {
        if pthread_mutex_trylock(mutex) == 0 { return }
        let mutex = mutex
        _ = ForkGate.outside { pthread_mutex_lock(mutex) }
    }
}

extension Lock where Value == Void {
    /// A lock that guards no value of its own (the state is elsewhere).
    public convenience init() { self.init(()) }

    /// Runs `body` while holding the lock.
    public func withLock<R>(_ body: () throws -> R) rethrows -> R {
        lock()
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}
