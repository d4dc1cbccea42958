// The CPython rows: a small script, shipped as a string and written to a temporary file,
// serves one of CPython's socketserver classes with the notes' handler, as `_serve` does for
// the port. The interpreter is the one the tests compare with: `PYENV_VERSION=3.13.0 python3`,
// else whatever `python3` is (and the output says which), else none (and the output says so).
import Processes

/// The script: `python3 bench_server.py CLASS QUEUE LIFETIME [PATH]`.
let cpythonScript = """
    # The CPython side of socketserver-bench: serve one socketserver class with the notes'
    # handler until SIGTERM, or until LIFETIME seconds have passed (SIGALRM).
    # Usage: python3 bench_server.py CLASS QUEUE LIFETIME [PATH]
    import signal
    import socketserver
    import sys


    class MyTCPHandler(socketserver.BaseRequestHandler):
        def handle(self):
            self.data = self.request.recv(1024).strip()
            self.request.sendall(self.data.upper())


    class MyUDPHandler(socketserver.BaseRequestHandler):
        def handle(self):
            data = self.request[0].strip()
            socket = self.request[1]
            socket.sendto(data.upper(), self.client_address)


    def main():
        name, queue, lifetime = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        path = sys.argv[4] if len(sys.argv) > 4 else None
        signal.alarm(lifetime)
        server_class = getattr(socketserver, name)
        handler = MyUDPHandler if "UDP" in name else MyTCPHandler
        address = path if path else ("127.0.0.1", 0)
        # Built as the Swift side builds it, to choose the backlog.
        server = server_class(address, handler, bind_and_activate=False)
        server.request_queue_size = queue
        try:
            server.server_bind()
            server.server_activate()
        except BaseException:
            server.server_close()
            raise
        print("ready", 0 if path else server.server_address[1], flush=True)
        server.serve_forever()


    main()

    """

/// Finds CPython: `explicit` if given, else the first of ``cpythonCandidates`` that answers.
///
/// - Returns: the interpreter, or nil; and a note for the output when it is not CPython 3.13
///   or there is none.
func findCPython(_ explicit: String?) -> (CPython?, note: String?) {
    let attempts = explicit.map { [($0, [String: String]())] } ?? cpythonCandidates
    for (command, environment) in attempts {
        guard let found = probeCPython(command, environment: environment) else { continue }
        if found.isPortedVersion { return (found, nil) }
        return (found, "CPython \(found.version), not 3.13 (the version the port follows), runs the cpython: rows")
    }
    let what = explicit ?? "python3"
    return (nil, "no CPython (\(what) did not run): the cpython: rows are left out")
}
