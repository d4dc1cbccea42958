# The forked variant of threading_server.py: a ForkingTCPServer subclass, so that each request
# is handled in a child process (P1, P2 in the trace), which ends with os._exit.
#
#   swift run socketserver-trace python -- python3 examples/forking_server.py
import socket
import socketserver
import threading


class UpperHandler(socketserver.StreamRequestHandler):
    """One line in, the same line upper-cased out."""

    def handle(self):
        line = self.rfile.readline()
        self.wfile.write(line.upper())


class LoopbackOnlyServer(socketserver.ForkingTCPServer):
    """Serves clients of this machine only."""

    def verify_request(self, request, client_address):
        return client_address[0] == "127.0.0.1"


def ask(address, word):
    with socket.create_connection(address, timeout=5) as client:
        client.sendall(word + b"\n")
        return client.makefile("rb").readline()


if __name__ == "__main__":
    with LoopbackOnlyServer(("127.0.0.1", 0), UpperHandler) as server:
        serving = threading.Thread(target=server.serve_forever)
        serving.start()
        for word in [b"hello", b"world"]:
            print(ask(server.server_address, word))
        server.shutdown()
        serving.join()
