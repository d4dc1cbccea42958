// The driver's files: the script it gives CPython, the JSON report, /proc/loadavg.
import Glibc

/// A file the driver could not write (or a folder it could not make).
struct FileError: Error, CustomStringConvertible {
    let description: String
}

/// The whole of a (small) file, or nil.
func readFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = read(fd, &chunk, chunk.count)
        if count < 0 && errno == EINTR { continue }
        if count <= 0 { break }
        bytes += chunk[..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
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
