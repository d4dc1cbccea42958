# The forked variant of threading_server.py: the same handler and clients with a
# ForkingTCPServer subclass, so that each request is handled in a child process (P1, P2 in the
# trace), which ends with os._exit.
#
#   swift run socketserver-trace python -- python3 Walkthrough/examples/forking_server.py
import socketserver

from threading_server import serve_two_clients


class LoopbackOnlyServer(socketserver.ForkingTCPServer):
    """Serves clients of this machine only, each in a child process."""

    def verify_request(self, request, client_address):
        return client_address[0] == "127.0.0.1"


if __name__ == "__main__":
    serve_two_clients(LoopbackOnlyServer)
