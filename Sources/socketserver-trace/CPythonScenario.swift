// The CPython side of `socketserver-trace compare`: the scenarios of Scenario.swift written with
// CPython's own socketserver, shipped inside the tool as text and written into a temporary
// folder when `compare` runs it under the tracer (PythonTracer.swift).

/// The script: `PYTHON socketserver_tracer.py socketserver_scenario.py --server NAME ...`,
/// with `run`'s options.
let cpythonScenarioSource = #"""
    # The CPython side of `socketserver-trace compare`, carried inside the tool, which writes this
    # file into a temporary folder and runs it under its tracer: the scenario
    # Sources/socketserver-trace/Scenario.swift runs, built the same way with CPython's own
    # socketserver: the same server class, handlers with the same names and behaviour, the same
    # clients, the same threads.
    #
    # Usage: PYTHON socketserver_tracer.py socketserver_scenario.py --server NAME --handler KIND
    #        --requests N --mode MODE [--reject] [--timeout S]
    #
    # What the handlers print and what the clients receive goes to standard error.
    import argparse
    import os
    import select
    import shutil
    import socket
    import socketserver
    import sys
    import tempfile
    import threading
    import time


    def say(line):
        """Program output: unbuffered, so that a forked child's lines are neither lost nor repeated."""
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


    def client_host(address):
        """`client_address[0]` for an IP address, else all of it (a Unix client has no host)."""
        return address[0] if isinstance(address, tuple) else repr(address)


    class MyTCPHandler(socketserver.BaseRequestHandler):
        """The notes' handler; on a datagram server the same with request[0] and request[1]."""

        def handle(self):
            if isinstance(self.request, socket.socket):
                self.data = self.request.recv(1024).strip()
                say("{} wrote:".format(client_host(self.client_address)))
                say(repr(self.data))
                self.request.sendall(self.data.upper())
            else:
                packet, sock = self.request
                self.data = packet.strip()
                say("{} wrote:".format(client_host(self.client_address)))
                say(repr(self.data))
                sock.sendto(self.data.upper(), self.client_address)


    class MyStreamHandler(socketserver.StreamRequestHandler):
        """One line in, the same line upper-cased out."""

        def handle(self):
            line = self.rfile.readline()
            self.wfile.write(line.upper())


    class MyDatagramHandler(socketserver.DatagramRequestHandler):
        """One line in, the same line upper-cased out."""

        def handle(self):
            line = self.rfile.readline()
            self.wfile.write(line.upper())


    class BadHandler(socketserver.BaseRequestHandler):
        """handle() raises, as test_socketserver's BadHandler."""

        def handle(self):
            raise ValueError("boom")


    HANDLERS = {"uppercase": MyTCPHandler, "stream": MyStreamHandler, "datagram": MyDatagramHandler, "error": BadHandler}


    def rejecting(cls):
        """`class RejectingTCPServer(TCPServer): def verify_request(self, *a): return False`."""

        def verify_request(self, request, client_address):
            return False

        return type("Rejecting" + cls.__name__, (cls,), {"verify_request": verify_request})


    def main():
        parser = argparse.ArgumentParser()
        parser.add_argument("--server", default="TCPServer")
        parser.add_argument("--handler", choices=sorted(HANDLERS), default="uppercase")
        parser.add_argument("--requests", type=int, default=1)
        parser.add_argument("--reject", action="store_true")
        parser.add_argument("--mode", choices=["serve_forever", "handle_request"], default="serve_forever")
        parser.add_argument("--timeout", type=float)
        options = parser.parse_args()

        server_class = getattr(socketserver, options.server)
        if options.reject:
            server_class = rejecting(server_class)
        is_datagram = server_class.socket_type == socket.SOCK_DGRAM
        is_unix = server_class.address_family == socket.AF_UNIX
        no_reply = options.handler == "error" or options.reject
        directory = tempfile.mkdtemp(prefix="sswpy-", dir="/tmp")  # short: Unix paths < 108 bytes
        try:
            address = os.path.join(directory, "server.sock") if is_unix else ("127.0.0.1", 0)

            def client(target, data, index):
                kind = socket.SOCK_DGRAM if is_datagram else socket.SOCK_STREAM
                with socket.socket(server_class.address_family, kind) as sock:
                    sock.settimeout(5)
                    if is_datagram:
                        if is_unix:
                            sock.bind(os.path.join(directory, "client{}.sock".format(index)))
                        sock.sendto(data, target)
                        if no_reply:
                            # Wait (at most 2 s) until the server has read the datagram, since no
                            # reply will tell.
                            deadline = time.monotonic() + 2
                            while select.select([server.socket], [], [], 0)[0] and time.monotonic() < deadline:
                                time.sleep(0.001)
                            return "(no reply)"
                        reply, _ = sock.recvfrom(8192)
                        return repr(reply)
                    sock.connect(target)
                    try:
                        sock.sendall(data)
                    except (BrokenPipeError, ConnectionResetError):
                        # Closed without reading our line (a Unix socket refuses it): as below.
                        if no_reply:
                            return repr(b"")
                        raise
                    reply = b""
                    while True:
                        try:
                            chunk = sock.recv(8192)
                        except ConnectionResetError:
                            # Closed without reading our line: nothing came back either way.
                            if no_reply:
                                break
                            raise
                        if not chunk:
                            break
                        reply += chunk
                    return repr(reply)

            def wait_for_workers():
                # As Scenario.swift: the next request's _Threads.reap finds the same threads.
                threads = getattr(server, "_threads", None)
                if isinstance(threads, list):
                    deadline = time.monotonic() + 2
                    while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
                        time.sleep(0.001)

            def payload(i):
                return "hello {}\n".format(i).encode()

            replies = []
            server = server_class(address, HANDLERS[options.handler])
            if options.timeout is not None:
                server.timeout = options.timeout
            if options.mode == "serve_forever":
                serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.5})
                serving.start()
                try:
                    for i in range(options.requests):
                        replies.append(client(server.server_address, payload(i + 1), i))
                        wait_for_workers()
                finally:
                    server.shutdown()
                    serving.join()
                server.server_close()
            else:
                target = server.server_address

                def clients():
                    for i in range(options.requests):
                        replies.append(client(target, payload(i + 1), i))
                        wait_for_workers()

                sending = threading.Thread(target=clients, name="client")
                if options.requests > 0:
                    sending.start()
                for _ in range(max(options.requests, 1)):
                    server.handle_request()
                if options.requests > 0:
                    sending.join()
                server.server_close()
            for i, reply in enumerate(replies):
                say("client {} received: {}".format(i + 1, reply))
        finally:
            shutil.rmtree(directory, ignore_errors=True)


    main()

    """#
