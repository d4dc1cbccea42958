// The CPython rows: a small script, shipped as a string and written to a temporary file,
// serves one of CPython's socketserver classes with the notes' handler, as `_serve` does for
// the port. The interpreter is the one the tests compare with (`findCPython`, in Processes):
// `PYENV_VERSION=3.13.0 python3`, else whatever `python3` is (and the output says which), else
// none (and the output says so).

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
