# A socketserver program of your own, as `socketserver-trace python` traces it (see
# Walkthrough/tools.md): a ThreadingTCPServer subclass that chooses its clients, and a
# StreamRequestHandler. It serves two clients on 127.0.0.1 and ends by itself.
#
#   swift run socketserver-trace python -- python3 Walkthrough/examples/threading_server.py
import socket
import socketserver
import threading


class UpperHandler(socketserver.StreamRequestHandler):
    """One line in, the same line upper-cased out."""

    def handle(self):
        line = self.rfile.readline()
        self.wfile.write(line.upper())


class LoopbackOnlyServer(socketserver.ThreadingTCPServer):
    """Serves clients of this machine only."""

    def verify_request(self, request, client_address):
        return client_address[0] == "127.0.0.1"


def ask(address, word):
    with socket.create_connection(address, timeout=5) as client:
        client.sendall(word + b"\n")
        return client.makefile("rb").readline()


def serve_two_clients(server_class):
    """Serve on a thread of its own, ask two questions, shut down."""
    with server_class(("127.0.0.1", 0), UpperHandler) as server:
        serving = threading.Thread(target=server.serve_forever)
        serving.start()
        for word in [b"hello", b"world"]:
            print(ask(server.server_address, word))
        server.shutdown()
        serving.join()


if __name__ == "__main__":
    serve_two_clients(LoopbackOnlyServer)
