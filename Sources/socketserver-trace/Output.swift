// Where a command's text goes: standard output, or a file opened before any work is done, so
// that a path that cannot be written is reported before the run rather than after it. Every
// write is checked: a full disk or a closed pipe is an error (exit 1), not silence.
import Glibc
import Sockets

/// A runtime failure of the tool that is no Python exception: printed as it is, exit 1.
struct ToolError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// Standard output, or a file the tool writes.
final class Output {
    private var fd: CInt
    /// The file's path; nil for standard output.
    let path: String?

    /// Standard output.
    static var standard: Output { Output(fd: 1, path: nil) }

    /// Where program output goes now (`say`): standard output or standard error.
    static var program: Output { Output(fd: programOutputFD.load(ordering: .relaxed), path: nil) }

    private init(fd: CInt, path: String?) {
        self.fd = fd
        self.path = path
    }

    /// The file at `path`, created or emptied now; standard output when `path` is nil.
    ///
    /// - Parameter argument: the option that named the file, for the message.
    /// - Throws: ``ToolError`` with argparse's words for a file it cannot open
    ///   (`argument --output: can't open 'x': [Errno 2] No such file or directory: 'x'`).
    convenience init(_ path: String?, argument: String) throws {
        guard let path else {
            self.init(fd: 1, path: nil)
            return
        }
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        guard fd >= 0 else {
            let error = OSError(errno: errno, filename: path)
            throw ToolError("argument \(argument): can't open \(pyStrRepr(path)): \(error)")
        }
        self.init(fd: fd, path: path)
    }

    /// Writes all of `text`.
    func write(_ text: String) throws {
        let bytes = Array(text.utf8)
        let fd = self.fd
        let failure = bytes.withUnsafeBytes { buffer -> OSError? in
            do throws(OSError) {
                try os_writeAll(fd, buffer)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw ToolError("can't write \(destination): \(failure)") }
    }

    /// Closes the file, reporting what the system reports (standard streams stay open).
    func close() throws {
        guard path != nil, fd >= 0 else { return }
        let closing = fd
        fd = -1
        if Glibc.close(closing) != 0 {
            throw ToolError("can't write \(destination): \(OSError(errno: errno))")
        }
    }

    private var destination: String {
        path.map(pyStrRepr) ?? (fd == 2 ? "to standard error" : "to standard output")
    }

    deinit {
        if path != nil, fd >= 0 { Glibc.close(fd) }
    }
}

/// Whether `path` is a folder the tool may create files in.
///
/// - Throws: ``ToolError`` naming `argument` and what the system said.
func checkWritableFolder(_ path: String, argument: String) throws {
    var status = stat()
    if stat(path, &status) != 0 {
        throw ToolError("argument \(argument): can't write into \(pyStrRepr(path)): \(OSError(errno: errno, filename: path))")
    }
    if status.st_mode & S_IFMT != S_IFDIR {
        throw ToolError("argument \(argument): can't write into \(pyStrRepr(path)): \(OSError(errno: ENOTDIR, filename: path))")
    }
    if access(path, W_OK | X_OK) != 0 {
        throw ToolError("argument \(argument): can't write into \(pyStrRepr(path)): \(OSError(errno: errno, filename: path))")
    }
}
