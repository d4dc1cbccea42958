// Finding CPython on this machine, as the tests find it: `PYENV_VERSION=3.13.0 python3` (pyenv's
// 3.13.0, the version the port follows), or an interpreter the user names. The benchmark's
// CPython rows and the trace tool's `compare` and `python` commands start it this way.

/// An interpreter that answered.
public struct CPython: Sendable, Equatable {
    /// Its absolute path (`sys.executable`), started directly, with no shim in between.
    public let executable: String
    /// `3.13.0`.
    public let version: String

    /// Whether it is CPython 3.13, the version the port follows.
    public var isPortedVersion: Bool { version.hasPrefix("3.13.") }
}

/// The interpreters tried when the user names none, in order: pyenv's 3.13.0 first.
public let cpythonCandidates: [(command: String, environment: [String: String])] = [
    ("python3", ["PYENV_VERSION": "3.13.0"]), ("python3", [:]),
]

/// Runs `command` (a path, or a name found on PATH) with `environment` added and asks it for
/// its path and version, waiting at most `timeout` seconds.
///
/// - Returns: the interpreter, or nil when it did not start or did not answer as Python does.
public func probeCPython(_ command: String, environment: [String: String] = [:], timeout: Double = 25) -> CPython? {
    let probe = "import sys; print(sys.executable); print('%d.%d.%d' % sys.version_info[:3])"
    guard let child = try? Subprocess([command, "-c", probe], environment: environment) else { return nil }
    child.wait(timeout: timeout)
    child.stop(grace: 1)
    let lines = String(decoding: child.output, as: UTF8.self).split(separator: "\n").map(String.init)
    guard child.termination == .exited(0), lines.count == 2, lines[0].hasPrefix("/") else { return nil }
    return CPython(executable: lines[0], version: lines[1])
}
