// Swift-only: the part of Python's `traceback` module that socketserver and threading print
// with.
//
// `handle_error` (traceback.print_exc) and the default `threading.excepthook` both print an
// exception the way Python does; Swift records no Python frames, so one function writes the
// block both print, with a line in place of the frames.
import Sockets

/// Python's `traceback` module, the part the port prints with.
///
/// Python: traceback (Lib/traceback.py)
public enum traceback {
    /// What stands where Python lists the frames of a traceback.
    public static let framesLine = "  (Swift keeps no Python frames: run socketserver-trace to see the calls)"

    /// The report of `error`, as Python prints an exception that was raised: the header
    /// "Traceback (most recent call last):", ``framesLine``, then the exception line
    /// (``pythonExceptionLine(_:)``); each line ends with a newline.
    ///
    /// Differs from Python: one line in place of the frames, which Swift does not keep; a
    /// recording (`socketserver-trace`) shows the calls instead.
    ///
    /// Python: traceback.format_exception (Lib/traceback.py)
    public static func formatException(_ error: any Error) -> String {
        "Traceback (most recent call last):\n" + framesLine + "\n" + pythonExceptionLine(error) + "\n"
    }
}
