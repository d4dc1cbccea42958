// Finding CPython on this machine, as the tests find it: `PYENV_VERSION=3.13.0 python3` (pyenv's
// 3.13.0, the version the port follows), else `python3`, or an interpreter the user names. The
// benchmark's CPython rows, the trace tool's `compare` and `python` commands and the reading
// view (which reads its Lib/socketserver.py) start it this way.

/// An interpreter that answered.
public struct CPython: Sendable, Equatable {
    /// Its absolute path (`sys.executable`), started directly, with no shim in between.
    public let executable: String
    /// `3.13.0`.
    public let version: String
    /// Where its `socketserver` module is (`socketserver.__file__`).
    public let socketserverFile: String

    /// Whether it is CPython 3.13, the version the port follows.
    public var isPortedVersion: Bool { version.hasPrefix("3.13.") }
}

/// The interpreters tried when the user names none, in order: pyenv's 3.13.0 first.
public let cpythonCandidates: [(command: String, environment: [String: String])] = [
    ("python3", ["PYENV_VERSION": "3.13.0"]), ("python3", [:]),
]

/// Runs `command` (a path, or a name found on PATH) with `environment` added and asks it for
/// its path, version and socketserver module, waiting at most `timeout` seconds.
///
/// - Returns: the interpreter, or nil when it did not start or did not answer as Python does.
public func probeCPython(_ command: String, environment: [String: String] = [:], timeout: Double = 25) -> CPython? {
    let probe =
        "import socketserver, sys; print(sys.executable); print('%d.%d.%d' % sys.version_info[:3]);"
        + " print(socketserver.__file__)"
    guard let child = try? Subprocess([command, "-c", probe], environment: environment) else { return nil }
    child.wait(timeout: timeout)
    child.stop(grace: 1)
    let lines = String(decoding: child.output, as: UTF8.self).split(separator: "\n").map(String.init)
    guard child.termination == .exited(0), lines.count == 3, lines[0].hasPrefix("/") else { return nil }
    return CPython(executable: lines[0], version: lines[1], socketserverFile: lines[2])
}

/// Finds CPython: `explicit` if given, else the ``cpythonCandidates`` in order.
///
/// - Returns: the interpreter, or nil; and a note for the benchmark's output when it is not
///   CPython 3.13 or there is none.
public func findCPython(_ explicit: String?) -> (CPython?, note: String?) {
    let attempts = explicit.map { [($0, [String: String]())] } ?? cpythonCandidates
    for (command, environment) in attempts {
        guard let found = probeCPython(command, environment: environment) else { continue }
        if found.isPortedVersion { return (found, nil) }
        return (found, "CPython \(found.version), not 3.13 (the version the port follows), runs the cpython: rows")
    }
    return (nil, "no CPython (\(explicit ?? "python3") did not run): the cpython: rows are left out")
}
