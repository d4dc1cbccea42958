// Finding the CPython the project follows: the interpreter the tests compare with is
// `PYENV_VERSION=3.13.0 python3`, else whatever `python3` is. The benchmark runs its CPython
// rows with it; the reading view reads its Lib/socketserver.py.

/// A CPython interpreter found on this machine.
public struct CPython: Sendable {
    /// Its absolute path (`sys.executable`), started directly, with no shim in between.
    public let executable: String
    /// `3.13.0`.
    public let version: String
    /// Where its `socketserver` module is (`socketserver.__file__`).
    public let socketserverFile: String
}

/// Finds CPython: `explicit` if given, else `PYENV_VERSION=3.13.0 python3`, else `python3`.
/// Each attempt gets 25 seconds.
///
/// - Returns: the interpreter, or nil; and a note for the output when it is not CPython 3.13
///   or there is none.
public func findCPython(_ explicit: String?) -> (CPython?, note: String?) {
    let probe =
        "import socketserver, sys; print(sys.executable); print('%d.%d.%d' % sys.version_info[:3]);"
        + " print(socketserver.__file__)"
    var attempts: [(command: String, environment: [String: String])] = []
    if let explicit {
        attempts.append((explicit, [:]))
    } else {
        attempts.append(("python3", ["PYENV_VERSION": "3.13.0"]))
        attempts.append(("python3", [:]))
    }
    for (command, environment) in attempts {
        guard let child = try? Subprocess([command, "-c", probe], environment: environment) else { continue }
        child.wait(timeout: 25)
        child.stop(grace: 1)
        let lines = String(decoding: child.output, as: UTF8.self).split(separator: "\n").map(String.init)
        guard child.termination == .exited(0), lines.count == 3, lines[0].hasPrefix("/") else { continue }
        let found = CPython(executable: lines[0], version: lines[1], socketserverFile: lines[2])
        if found.version.hasPrefix("3.13.") { return (found, nil) }
        return (found, "CPython \(found.version), not 3.13 (the version the port follows), runs the cpython: rows")
    }
    let what = explicit ?? "python3"
    return (nil, "no CPython (\(what) did not run): the cpython: rows are left out")
}
