// The driver's files: the script it gives CPython, the JSON report.
import Glibc

/// A file the driver could not write (or a folder it could not make).
struct FileError: Error, CustomStringConvertible {
    let description: String
}

/// Writes `text` to a new file at `path`.
func writeFile(_ path: String, _ text: String) throws(FileError) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw FileError(description: "cannot write \(path): \(errnoText())") }
    defer { close(fd) }
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if written < 0 {
            if errno == EINTR { continue }
            throw FileError(description: "cannot write \(path): \(errnoText())")
        }
        bytes = bytes.dropFirst(written)
    }
}

/// `strerror(errno)`.
func errnoText() -> String {
    let code = errno
    return String(cString: strerror(code))
}
