// Signal sets and the calling thread's signal mask, for programs that take signals on one
// thread (sigtimedwait) or must let one thread take a signal its creator blocks.
import Glibc

/// A signal set holding `signals`.
public func signalSet(_ signals: [Int32]) -> sigset_t {
    var set = sigset_t()
    sigemptyset(&set)
    for signal in signals { sigaddset(&set, signal) }
    return set
}

/// Adds `signals` to the calling thread's mask (new threads inherit it); the set, for
/// sigtimedwait.
@discardableResult
public func blockSignals(_ signals: [Int32]) -> sigset_t {
    var set = signalSet(signals)
    pthread_sigmask(SIG_BLOCK, &set, nil)
    return set
}

/// Takes `signals` out of the calling thread's mask.
public func unblockSignals(_ signals: [Int32]) {
    var set = signalSet(signals)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
}
