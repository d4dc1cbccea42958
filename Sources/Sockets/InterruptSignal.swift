// Swift-only: Ctrl-C as a Python program takes it, a KeyboardInterrupt out of the wait it
// interrupted.
//
// CPython installs a SIGINT handler at start-up. Its C part only notes the signal; the
// interpreter then runs the Python part, which raises KeyboardInterrupt, at the next bytecode
// or as soon as a system call fails with EINTR (PyErr_CheckSignals). The port has no bytecodes,
// so it looks at the note where a program spends its idle time: each selector looks before it
// waits and when its wait is interrupted. A Swift program that does not install the handler
// keeps the system's default, and Ctrl-C ends it at once.
import Glibc
import Synchronization

/// Whether a SIGINT arrived that no selector has raised yet. Set by the signal handler: an
/// atomic store is all a handler may safely do.
///
/// Swift-only: CPython's `is_tripped` flag (Modules/signalmodule.c) plays this part.
private let interruptNoted = Atomic<Bool>(false)

/// SIGINT as Python's default handler takes it: a ``KeyboardInterrupt`` raised by the next
/// selector wait (or the one it interrupts).
///
/// Swift-only: CPython raises it from any Python code, between two bytecodes.
public enum InterruptSignal {
    /// Installs the handler, for the whole process. The signal interrupts the wait of whichever
    /// thread takes it: a program whose main thread serves blocks SIGINT in its other threads,
    /// so that the main thread is the one interrupted, as in CPython, where only the main thread
    /// runs signal handlers. A thread that blocks SIGINT itself (Dispatch's threads block every
    /// signal) is not interrupted; it raises when its next wait begins.
    ///
    /// Python: signal.signal(signal.SIGINT, signal.default_int_handler)
    public static func installDefaultIntHandler() {
        interruptNoted.store(false, ordering: .relaxed)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in interruptNoted.store(true, ordering: .relaxed) }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0  // no SA_RESTART: a blocking call returns EINTR, as under CPython
        sigaction(SIGINT, &action, nil)
    }

    /// Gives SIGINT back its default action (ending the process) and forgets a noted signal.
    ///
    /// Python: signal.signal(signal.SIGINT, signal.SIG_DFL)
    public static func restoreDefault() {
        Glibc.signal(SIGINT, SIG_DFL)
        interruptNoted.store(false, ordering: .relaxed)
    }

    /// Whether a SIGINT is waiting to be raised.
    ///
    /// Swift-only: what a selector asks before it retries an interrupted wait.
    static var isPending: Bool { interruptNoted.load(ordering: .relaxed) }

    /// Raises the KeyboardInterrupt of a SIGINT that arrived, once.
    ///
    /// - Throws: ``KeyboardInterrupt``.
    ///
    /// Python: PyErr_CheckSignals (Modules/signalmodule.c)
    static func check() throws {
        if interruptNoted.exchange(false, ordering: .relaxed) { throw KeyboardInterrupt() }
    }
}
