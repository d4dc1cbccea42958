# The notes' example as the notes run it: `with TCPServer(...) as server: server.serve_forever()`,
# until Ctrl-C. Traced, it shows the KeyboardInterrupt leaving serve_forever and __exit__
# calling server_close.
#
#   swift run socketserver-trace python -- python3 Walkthrough/examples/serve_until_ctrl_c.py
#   (then `nc 127.0.0.1 PORT` elsewhere, and Ctrl-C)
import socketserver


class MyTCPHandler(socketserver.BaseRequestHandler):
    def handle(self):
        # self.request is the TCP socket connected to the client
        self.data = self.request.recv(1024).strip()
        print("{} wrote:".format(self.client_address[0]))
        print(self.data)
        # just send back the same data, but upper-cased
        self.request.sendall(self.data.upper())


if __name__ == "__main__":
    HOST, PORT = "127.0.0.1", 0  # 0: a free port, printed below

    # Create the server, binding to localhost on a free port
    with socketserver.TCPServer((HOST, PORT), MyTCPHandler) as server:
        print("serving on port", server.server_address[1], flush=True)
        # Activate the server; this will keep running until you
        # interrupt the program with Ctrl-C
        server.serve_forever()
