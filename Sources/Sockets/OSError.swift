// Swift-only representation of Python's builtins.OSError and its PEP 3151 subclasses.
import Glibc

/// An operating-system error, as Python's `OSError`.
///
/// Python maps some errno values to subclasses (PEP 3151): `ConnectionResetError`,
/// `TimeoutError`, ... Here they are one type, the subclass being ``kind``, so that
/// `catch let e as OSError` catches all of them exactly as `except OSError` does, and
/// `catch let e as OSError where e.kind == .timeout` is `except TimeoutError`.
/// Socket timeouts throw ``timedOut`` (errno `nil`, "timed out"), as CPython's
/// `socket.timeout`/`TimeoutError('timed out')`.
///
/// Python: builtins.OSError
public struct OSError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The C errno, or `nil` where Python's `errno` attribute is `None`
    /// ("timed out", "AF_UNIX path too long", "cannot read from timed out object").
    public var errno: CInt?
    /// The message: `strerror(errno)`, or the whole message when ``errno`` is `nil`.
    public var strerror: String
    /// The file name the error is about, if any (shown quoted after the message).
    public var filename: String?
    /// The PEP 3151 subclass Python would raise.
    public var kind: Kind

    /// The PEP 3151 subclasses of `OSError` that Python picks from the errno.
    ///
    /// Python: builtins.OSError subclasses (PEP 3151)
    public enum Kind: Sendable {
        /// `BlockingIOError`: EAGAIN, EALREADY, EWOULDBLOCK, EINPROGRESS.
        case blockingIO
        /// `ChildProcessError`: ECHILD.
        case childProcess
        /// `BrokenPipeError`: EPIPE, ESHUTDOWN.
        case brokenPipe
        /// `ConnectionAbortedError`: ECONNABORTED.
        case connectionAborted
        /// `ConnectionRefusedError`: ECONNREFUSED.
        case connectionRefused
        /// `ConnectionResetError`: ECONNRESET.
        case connectionReset
        /// `FileExistsError`: EEXIST.
        case fileExists
        /// `FileNotFoundError`: ENOENT.
        case fileNotFound
        /// `InterruptedError`: EINTR.
        case interrupted
        /// `IsADirectoryError`: EISDIR.
        case isADirectory
        /// `NotADirectoryError`: ENOTDIR.
        case notADirectory
        /// `PermissionError`: EACCES, EPERM.
        case permission
        /// `ProcessLookupError`: ESRCH.
        case processLookup
        /// `TimeoutError`: ETIMEDOUT, and socket timeouts (``OSError/timedOut``).
        case timeout
        /// Plain `OSError`.
        case other

        /// Swift-only: the kind Python's `OSError.__new__` picks for an errno
        /// (CPython does it in C, in `Objects/exceptions.c` `errnomap`).
        public init(errno: CInt?) {
            guard let e = errno else {
                self = .other
                return
            }
            switch e {
            case EAGAIN, EALREADY, EWOULDBLOCK, EINPROGRESS: self = .blockingIO
            case ECHILD: self = .childProcess
            case EPIPE, ESHUTDOWN: self = .brokenPipe
            case ECONNABORTED: self = .connectionAborted
            case ECONNREFUSED: self = .connectionRefused
            case ECONNRESET: self = .connectionReset
            case EEXIST: self = .fileExists
            case ENOENT: self = .fileNotFound
            case EINTR: self = .interrupted
            case EISDIR: self = .isADirectory
            case ENOTDIR: self = .notADirectory
            case EACCES, EPERM: self = .permission
            case ESRCH: self = .processLookup
            case ETIMEDOUT: self = .timeout
            default: self = .other
            }
        }
    }

    /// An error for `errno`, its message from the C library's `strerror`.
    ///
    /// Python: OSError(errno, os.strerror(errno), filename)
    public init(errno: CInt, filename: String? = nil) {
        self.errno = errno
        self.strerror = String(cString: Glibc.strerror(errno))
        self.filename = filename
        self.kind = Kind(errno: errno)
    }

    /// An error with only a message (its errno is `nil`), as `OSError("AF_UNIX path too long")`.
    ///
    /// Python: OSError(message)
    public init(_ message: String) {
        self.errno = nil
        self.strerror = message
        self.filename = nil
        self.kind = .other
    }

    /// Swift-only: an error with an errno and an explicit message, as CPython builds
    /// `socket.gaierror(code, gai_strerror(code))` and `BlockingIOError(EAGAIN, "write could not
    /// complete without blocking")`.
    public init(errno: CInt, strerror: String, kind: Kind? = nil) {
        self.errno = errno
        self.strerror = strerror
        self.filename = nil
        self.kind = kind ?? Kind(errno: errno)
    }

    /// The error a timed-out socket operation throws: errno `nil`, message "timed out",
    /// kind ``Kind/timeout``.
    ///
    /// Python: socket.timeout (= TimeoutError('timed out'), Lib/socket.py)
    public static let timedOut: OSError = {
        var e = OSError("timed out")
        e.kind = .timeout
        return e
    }()

    /// Swift-only: the error for the calling thread's current `errno`; read it
    /// immediately after the failing call. CPython does it in C with `PyErr_SetFromErrno`.
    public static func lastError() -> OSError {
        OSError(errno: Glibc.errno)
    }

    /// Whether this is a `ConnectionError` (broken pipe, connection aborted, refused or reset).
    ///
    /// Python: isinstance(e, ConnectionError)
    public var isConnectionError: Bool {
        switch kind {
        case .brokenPipe, .connectionAborted, .connectionRefused, .connectionReset: true
        default: false
        }
    }

    /// Python's `str()` of the error: "[Errno 98] Address already in use",
    /// "[Errno 2] No such file or directory: '/x'" with a filename, or just the message
    /// when errno is `nil`.
    ///
    /// Python: OSError.__str__ (Objects/exceptions.c)
    public var description: String {
        guard let errno else { return strerror }
        if let filename {
            return "[Errno \(errno)] \(strerror): \(pyStrRepr(filename))"
        }
        return "[Errno \(errno)] \(strerror)"
    }

    /// The name of the Python class for tracebacks and traces: "OSError", "TimeoutError",
    /// "ConnectionResetError", "BrokenPipeError", ...
    ///
    /// Python: type(e).__name__
    public var pythonClassName: String {
        switch kind {
        case .blockingIO: "BlockingIOError"
        case .childProcess: "ChildProcessError"
        case .brokenPipe: "BrokenPipeError"
        case .connectionAborted: "ConnectionAbortedError"
        case .connectionRefused: "ConnectionRefusedError"
        case .connectionReset: "ConnectionResetError"
        case .fileExists: "FileExistsError"
        case .fileNotFound: "FileNotFoundError"
        case .interrupted: "InterruptedError"
        case .isADirectory: "IsADirectoryError"
        case .notADirectory: "NotADirectoryError"
        case .permission: "PermissionError"
        case .processLookup: "ProcessLookupError"
        case .timeout: "TimeoutError"
        case .other: "OSError"
        }
    }
}

extension OSError: PythonClassNamed {}
