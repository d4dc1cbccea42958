// How the package's command-line tools end: with the status their work returns, or on an
// error with argparse's words and statuses, because our readers come from Python (a usage
// error: the usage, then `PROGRAM: error: MESSAGE`, status 2; any other failure:
// `PROGRAM: error: ...`, status 1). socketserver-trace and socketserver-bench both end here.
import Glibc

/// A command line a tool cannot run as typed: printed after the usage, exit status 2.
public struct UsageError: Error {
    /// What is wrong, as argparse says it (`argument --format: invalid choice: ...`).
    public let message: String
    /// The command's usage line(s), printed first.
    public let usage: String

    public init(message: String, usage: String) {
        self.message = message
        self.usage = usage
    }
}

/// Runs a tool's `main` and exits with the status it returns. A ``UsageError`` it throws is
/// printed on standard error after its usage, status 2; any other error as
/// `PROGRAM: error: ` and what `describe` says of it, status 1.
public func runTool(_ program: String, describe: (any Error) -> String, _ main: () throws -> Int32) -> Never {
    let failure: (text: String, status: Int32)
    do {
        exit(try main())
    } catch let error as UsageError {
        failure = ("\(error.usage)\n\(program): error: \(error.message)\n", 2)
    } catch {
        failure = ("\(program): error: \(describe(error))\n", 1)
    }
    writeToStandardError(failure.text)
    exit(failure.status)
}

/// Writes all of `text` on descriptor 2, retrying interrupted writes; gives up on any other
/// error (a tool's last words have nowhere else to go).
private func writeToStandardError(_ text: String) {
    var rest = Array(text.utf8)[...]
    while !rest.isEmpty {
        let written = rest.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        if written < 0 && errno == EINTR { continue }
        if written <= 0 { return }
        rest = rest.dropFirst(written)
    }
}
