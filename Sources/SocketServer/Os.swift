// Swift-only: the subset of Python's `os` and `sys` modules that socketserver uses.
//
// `os.fork`, `os.waitpid`, `os._exit` and `sys.exception()` are spelled as in Python so that
// the port reads like the original; they also tell the trace seam about forks, because a forked
// child's events must reach the parent's recording before the child exits.
import Glibc
import Sockets

/// Python's `os` module, the part socketserver uses.
///
/// Python: os (Lib/os.py)
public enum os {
    /// Return immediately from `waitpid` if no child has exited.
    public static let WNOHANG: CInt = Glibc.WNOHANG

    /// Fork a child process: 0 in the child, the child's pid in the parent.
    ///
    /// Flushes stdio first so that the child does not repeat the parent's buffered output.
    /// Forks through the ``ForkGate``: every enrolled thread (each ``PThread``, the tool's main
    /// thread) is outside the Swift runtime at that moment, so the child never waits for a
    /// runtime lock that another thread held. The child starts with no signal blocked.
    /// - Throws: `OSError` when the system refuses.
    ///
    /// Differs from Python: CPython's child inherits the forking thread's signal mask, which is
    /// empty because CPython's threads never block signals; ours may fork from a thread that
    /// Dispatch or the tool started with signals blocked, and such a child could not be
    /// stopped with SIGINT or SIGTERM.
    ///
    /// Python: os.fork
    public static func fork() throws(OSError) -> Int32 {
        fflush(nil)
        let recorder = Trace.recorder
        let inherited = recorder?.processWillFork()
        var error: CInt = 0
        let pid = ForkGate.forking {
            let pid = Glibc.fork()
            error = Glibc.errno
            return pid
        }
        if pid < 0 { throw OSError(errno: error) }
        if pid == 0 {
            var none = sigset_t()
            sigemptyset(&none)
            pthread_sigmask(SIG_SETMASK, &none, nil)
        }
        if let recorder, let inherited {
            if pid == 0 {
                Trace.attach(recorder.childDidStart(inherited: inherited))
            } else {
                recorder.processDidFork(child: pid, inherited: inherited)
            }
        }
        return pid
    }

    /// Wait for a child: `(0, 0)` while it runs under `WNOHANG`, else `(pid, status)`.
    ///
    /// - Throws: `OSError` (`ECHILD`, kind `.childProcess`, is Python's `ChildProcessError`).
    ///
    /// Python: os.waitpid
    public static func waitpid(_ pid: Int32, _ options: CInt) throws(OSError) -> (Int32, CInt) {
        let result = try os_waitpid(pid, options)
        return (result.pid, result.status)
    }

    /// End the process at once: no atexit handlers, no stdio flush, no `defer`.
    ///
    /// Python: os._exit
    public static func _exit(_ status: Int32) -> Never {
        Trace.recorder?.childWillExit(status: status)
        Glibc._exit(status)
    }
}

/// Python's `sys` module, the part socketserver uses: the exception being handled.
///
/// Python: sys (Python/sysmodule.c)
public enum sys {
    /// The key of the thread-local slot holding the exception being handled.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)  // every `handling` restores the slot it found
        return key
    }()

    /// Holds an error in the thread-local slot.
    private final class ErrorBox {
        let error: any Error
        init(_ error: any Error) { self.error = error }
    }

    /// The exception being handled on this thread, as inside an `except` block.
    ///
    /// Python: sys.exception
    public static func exception() -> (any Error)? {
        guard let raw = pthread_getspecific(key) else { return nil }
        return Unmanaged<ErrorBox>.fromOpaque(raw).takeUnretainedValue().error
    }

    /// Swift-only: run `body` as the body of an `except` clause that caught `error`, so that
    /// `handle_error` can find it as Python's does with `sys.exception()`.
    public static func handling<R>(_ error: any Error, _ body: () throws -> R) rethrows -> R {
        let previous = pthread_getspecific(key)
        let box = Unmanaged.passRetained(ErrorBox(error))
        pthread_setspecific(key, box.toOpaque())
        defer {
            pthread_setspecific(key, previous)
            box.release()
        }
        return try body()
    }

    /// Write text to standard error at once (unbuffered, so a forked child's output is
    /// never lost or repeated).
    ///
    /// Swift-only: `print(..., file=sys.stderr)`.
    public static func writeStderr(_ text: String) { writeAll(2, text) }

    /// Write all of `text` to descriptor `fd` at once, retrying interrupted writes; give up
    /// silently on any other error, as `print` to a closed stream does.
    ///
    /// Swift-only: the unbuffered write behind ``writeStderr(_:)``.
    public static func writeAll(_ fd: CInt, _ text: String) {
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { try? os_writeAll(fd, $0) }
    }
}

/// Python's `time.monotonic`, which socketserver imports as `time`.
///
/// Python: time.monotonic
func time() -> Double { monotonicSeconds() }
