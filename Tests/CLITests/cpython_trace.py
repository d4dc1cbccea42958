#!/usr/bin/env python3
"""Run one `socketserver-trace run` scenario in CPython 3.13 and print, per lane, the calls.

This is the CPython side of Tests/CLITests/CPythonComparisonTests.swift: it builds the same
scenario Sources/socketserver-trace/Scenario.swift builds (same server class, handlers with the
same names and behaviour, same clients, same threads), records every call of a function of
Lib/socketserver.py (and of the scenario's own handler methods) with `sys.setprofile` and
`threading.setprofile`, and prints, for each (process, thread) lane, the functions called, in
order, as JSON:

    {"python": "3.13.0", "scenario": {...},
     "lanes": [{"process": "P0", "thread": "T0", "calls": ["TCPServer.__init__", ...]}, ...]}

Lanes are labelled as the Swift tracer labels them: P0 is this process, P1, P2... are forked
children in fork order; T0 is the main thread, T1, T2... are threads in the order they were
started; a forked child keeps the label of the thread that forked it. Only lanes with at least
one recorded call are printed.

Usage (the options are those of `socketserver-trace run`):

    PYENV_VERSION=3.13.0 python3 Tests/CLITests/cpython_trace.py \
        --server ThreadingTCPServer --handler uppercase --requests 2 --mode serve_forever

To see the comparison with the port for one scenario by hand (builds nothing: point --compare
at a built binary), run:

    swift build --scratch-path .build-cmp
    PYENV_VERSION=3.13.0 python3 Tests/CLITests/cpython_trace.py \
        --server ForkingTCPServer --requests 2 --compare .build-cmp/debug/socketserver-trace

which runs both sides, applies the comparison rule of the Swift test (see `collapse`) and
prints each lane side by side, then "EQUAL" (exit 0) or "DIFFERENT" (exit 1). Add --raw to
print both sides' lanes before collapsing.

Handler output ("127.0.0.1 wrote:", the clients' replies) goes to standard error, as the
port's does with a machine format; standard output is only the JSON.
"""

import argparse
import difflib
import json
import os
import shutil
import select
import socket
import time
import socketserver
import subprocess
import sys
import tempfile
import threading

SERVER_NAMES = [
    "TCPServer", "UDPServer", "ForkingUDPServer", "ForkingTCPServer", "ThreadingUDPServer",
    "ThreadingTCPServer", "UnixStreamServer", "UnixDatagramServer",
    "ThreadingUnixStreamServer", "ThreadingUnixDatagramServer", "ForkingUnixStreamServer",
    "ForkingUnixDatagramServer",
]


def say(line):
    """Program output: standard error, unbuffered (a forked child's lines are not repeated)."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def client_host(address):
    """Scenario.swift's clientHost: `client_address[0]` for an IP address, else all of it
    (a Unix client has no host part, and `''[0]` would raise)."""
    return address[0] if isinstance(address, tuple) else repr(address)


# --- The scenario's handlers: the same names and behaviour as in Scenario.swift. -------------

class MyTCPHandler(socketserver.BaseRequestHandler):
    """The notes' handler: read up to 1024 bytes, print them, send them back upper-cased. On a
    datagram server it does the same with request[0] and request[1]."""

    def handle(self):
        if isinstance(self.request, socket.socket):
            # self.request is the TCP socket connected to the client
            self.data = self.request.recv(1024).strip()
            say("{} wrote:".format(client_host(self.client_address)))
            say(repr(self.data))
            # just send back the same data, but upper-cased
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


HANDLERS = {
    "uppercase": MyTCPHandler, "stream": MyStreamHandler, "datagram": MyDatagramHandler,
    "error": BadHandler,
}


def _verify_request_false(self, request, client_address):
    return False


def rejecting(cls):
    """`class RejectingTCPServer(TCPServer): def verify_request(self, *a): return False`."""
    return type("Rejecting" + cls.__name__, (cls,), {"verify_request": _verify_request_false})


# --- The recorder. --------------------------------------------------------------------------

class Recorder:
    """Records `call` events of socketserver.py's functions and of the scenario's own methods,
    with their lane; follows threads (threading.setprofile) and forked children."""

    def __init__(self, own_names, spool_dir):
        self.socketserver_file = socketserver.__file__
        # code object -> Python name, for the scenario's own methods (handlers, reject).
        self.own_names = own_names
        self.spool_dir = spool_dir
        self.events = []  # (process, thread, function)
        self.process = "P0"
        self.forks = 0
        self.next_thread = 0
        self.lock = threading.Lock()
        self.names = {}  # code object -> name or None (cache)

    def name_of(self, code):
        try:
            return self.names[code]
        except KeyError:
            if code.co_filename == self.socketserver_file:
                # The comprehension frame of _Threads.reap (`<genexpr>`) is not a function of
                # the module: a generator frame re-enters on every item, and the port has no
                # such frame. Everything else is a def of socketserver.py.
                name = None if "<" in code.co_qualname else code.co_qualname
            else:
                name = self.own_names.get(code)
            self.names[code] = name
            return name

    def profile(self, frame, event, arg):
        if event != "call":
            return
        name = self.name_of(frame.f_code)
        if name is None:
            return
        # The label was given when the thread was started (see `install`), in start order, as
        # the Swift tracer gives labels; the main thread has none. Not cached by ident: a
        # finished thread's ident is reused by the next one. A forked child's only thread is
        # the forking Thread object, so it keeps its label.
        thread = threading.current_thread()
        label = getattr(thread, "_trace_label", None)
        if label is None:
            label = "T0" if isinstance(thread, threading._MainThread) else "T?"
        self.events.append((self.process, label, name))

    # Threads: label at start, in start order (one thread decides the order, as in Swift).
    def install(self):
        recorder = self
        original_start = threading.Thread.start
        original_exit = os._exit

        def start(thread):
            with recorder.lock:
                recorder.next_thread += 1
                thread._trace_label = "T{}".format(recorder.next_thread)
            return original_start(thread)

        def before_fork():
            recorder.forks += 1

        def after_in_child():
            # The child's events start empty; it is the next process in fork order, and its
            # only thread keeps its label (it is the same Thread object).
            recorder.events = []
            recorder.process = "P{}".format(recorder.forks)

        def exit_with_spool(status):
            # ForkingMixIn's child ends with os._exit: spool its events for the parent first.
            if recorder.process != "P0":
                path = os.path.join(recorder.spool_dir, "child-{}.json".format(os.getpid()))
                with open(path, "w") as spool:
                    json.dump({"process": recorder.process, "events": recorder.events}, spool)
            original_exit(status)

        self.original_start = original_start
        self.original_exit = original_exit
        threading.Thread.start = start
        os._exit = exit_with_spool
        os.register_at_fork(before=before_fork, after_in_child=after_in_child)
        threading.setprofile(self.profile)
        sys.setprofile(self.profile)

    def uninstall(self):
        sys.setprofile(None)
        threading.setprofile(None)
        threading.Thread.start = self.original_start
        os._exit = self.original_exit
        # (register_at_fork cannot be undone; the hooks only count forks, none follow.)

    def lanes(self):
        """Every lane with its calls, the children's spooled events merged in."""
        events = list(self.events)
        for entry in sorted(os.listdir(self.spool_dir)):
            if entry.startswith("child-") and entry.endswith(".json"):
                with open(os.path.join(self.spool_dir, entry)) as spool:
                    child = json.load(spool)
                events.extend(tuple(e) for e in child["events"])
        lanes = {}
        for process, thread, name in events:
            lanes.setdefault((process, thread), []).append(name)

        def number(label):
            return int(label[1:]) if label[1:].isdigit() else 1 << 30

        return [
            {"process": p, "thread": t, "calls": calls}
            for (p, t), calls in sorted(lanes.items(), key=lambda kv: (number(kv[0][0]), number(kv[0][1])))
        ]


# --- The scenario, as Scenario.run() runs it. -----------------------------------------------

def run_scenario(options):
    server_class = getattr(socketserver, options.server)
    if options.reject:
        server_class = rejecting(server_class)
    handler_class = HANDLERS[options.handler]
    is_datagram = server_class.socket_type == socket.SOCK_DGRAM
    is_unix = server_class.address_family == socket.AF_UNIX
    if options.handler == "stream" and is_datagram:
        sys.exit("the stream handler needs a stream server")
    if options.handler == "datagram" and not is_datagram:
        sys.exit("the datagram handler needs a datagram server")

    own_names = {
        MyTCPHandler.handle.__code__: "MyTCPHandler.handle",
        MyStreamHandler.handle.__code__: "MyStreamHandler.handle",
        MyDatagramHandler.handle.__code__: "MyDatagramHandler.handle",
        BadHandler.handle.__code__: "BadHandler.handle",
        _verify_request_false.__code__: "Rejecting{}.verify_request".format(options.server),
    }
    directory = tempfile.mkdtemp(prefix="sswpy-", dir="/tmp")  # short: Unix paths < 108 bytes
    try:
        recorder = Recorder(own_names, directory)
        address = os.path.join(directory, "server.sock") if is_unix else ("127.0.0.1", 0)

        def payload(i):
            return "hello {}\n".format(i).encode()

        def client(target, data, index):
            family = server_class.address_family
            kind = socket.SOCK_DGRAM if is_datagram else socket.SOCK_STREAM
            with socket.socket(family, kind) as sock:
                sock.settimeout(5)
                if is_datagram:
                    if is_unix:
                        sock.bind(os.path.join(directory, "client{}.sock".format(index)))
                    sock.sendto(data, target)
                    if options.handler == "error" or options.reject:
                        # As Scenario.swift: wait (at most 2 s) until the server has read
                        # the datagram, since no reply will tell.
                        deadline = time.monotonic() + 2
                        while (select.select([server.socket], [], [], 0)[0]
                               and time.monotonic() < deadline):
                            time.sleep(0.001)
                        return "(no reply)"
                    reply, _ = sock.recvfrom(8192)
                    return repr(reply)
                sock.connect(target)
                sock.sendall(data)
                reply = b""
                while True:
                    try:
                        chunk = sock.recv(8192)
                    except ConnectionResetError:
                        # Closed without reading our line (reject, error): the kernel may
                        # reset instead of ending the stream; nothing came back either way.
                        if options.handler == "error" or options.reject:
                            break
                        raise
                    if not chunk:
                        break
                    reply += chunk
                return repr(reply)

        replies = []
        recorder.install()
        try:
            server = server_class(address, handler_class)
            if options.timeout is not None:
                server.timeout = options.timeout
            if options.mode == "serve_forever":
                serving = threading.Thread(
                    target=server.serve_forever, kwargs={"poll_interval": 0.5}, name="serve_forever")
                serving.start()
                try:
                    for i in range(options.requests):
                        replies.append(client(server.server_address, payload(i + 1), i))
                finally:
                    server.shutdown()
                    serving.join()
                server.server_close()
            else:
                target = server.server_address

                def clients():
                    for i in range(options.requests):
                        replies.append(client(target, payload(i + 1), i))

                sending = threading.Thread(target=clients, name="client")
                if options.requests > 0:
                    sending.start()
                for _ in range(max(options.requests, 1)):
                    server.handle_request()
                if options.requests > 0:
                    sending.join()
                server.server_close()
        finally:
            recorder.uninstall()
        for i, reply in enumerate(replies):
            say("client {} received: {}".format(i + 1, reply))
        return recorder.lanes()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# --- The comparison rule (the same as CPythonComparisonTests.swift's). ----------------------

TIMING = {"BaseServer.service_actions", "ForkingMixIn.service_actions"}


def collapse(calls):
    """Drop every service_actions call and the collect_children that ForkingMixIn's
    service_actions makes: how many idle turns serve_forever takes is a matter of timing.
    collect_children called from handle_timeout or server_close stays."""
    result = []
    previous = None
    for name in calls:
        if name in TIMING:
            previous = name
            continue
        if name == "ForkingMixIn.collect_children" and previous == "ForkingMixIn.service_actions":
            previous = None
            continue
        previous = name
        result.append(name)
    return result


def swift_lanes(binary, argv):
    """Run the port's CLI and read its JSON Lines: the call events, per lane."""
    done = subprocess.run(
        [binary, "run"] + argv + ["--format", "jsonl", "--real-clock"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, check=True)
    lanes = {}
    for line in done.stdout.decode().splitlines():
        event = json.loads(line)
        if event["event"] == "call":
            lanes.setdefault((event["process"], event["thread"]), []).append(event["function"])
    return [{"process": p, "thread": t, "calls": c} for (p, t), c in sorted(lanes.items())]


def compare(binary, argv, ours, raw):
    theirs = swift_lanes(binary, argv)
    by_key = lambda lanes: {(l["process"], l["thread"]): l["calls"] for l in lanes}
    py, sw = by_key(ours), by_key(theirs)
    equal = True
    for key in sorted(set(py) | set(sw)):
        label = "{}/{}".format(*key)
        a, b = py.get(key, []), sw.get(key, [])
        if raw:
            print("== {} raw: CPython {} calls, Swift {} calls".format(label, len(a), len(b)))
            for line in difflib.unified_diff(a, b, "cpython", "swift", lineterm="", n=1000):
                print("   " + line)
        ca, cb = collapse(a), collapse(b)
        if ca == cb:
            print("== {}: equal ({} calls compared)".format(label, len(ca)))
            for name in ca:
                print("     " + name)
        else:
            equal = False
            print("!! {}: DIFFERENT".format(label))
            for line in difflib.unified_diff(ca, cb, "cpython", "swift", lineterm="", n=1000):
                print("   " + line)
    print("EQUAL" if equal else "DIFFERENT")
    return 0 if equal else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", choices=SERVER_NAMES, default="TCPServer")
    parser.add_argument("--handler", choices=sorted(HANDLERS), default="uppercase")
    parser.add_argument("--requests", type=int, default=1)
    parser.add_argument("--reject", action="store_true")
    parser.add_argument("--mode", choices=["serve_forever", "handle_request"], default="serve_forever")
    parser.add_argument("--timeout", type=float)
    parser.add_argument("--compare", metavar="BINARY",
                        help="also run the port's socketserver-trace and compare, lane by lane")
    parser.add_argument("--raw", action="store_true", help="with --compare: show uncollapsed lanes too")
    options = parser.parse_args()
    if sys.version_info[:2] != (3, 13):
        say("warning: this is Python {}, the port follows 3.13".format(sys.version.split()[0]))
    lanes = run_scenario(options)
    if options.compare:
        argv = ["--server", options.server, "--handler", options.handler,
                "--requests", str(options.requests), "--mode", options.mode]
        if options.reject:
            argv.append("--reject")
        if options.timeout is not None:
            argv += ["--timeout", repr(options.timeout)]
        sys.exit(compare(options.compare, argv, lanes, options.raw))
    scenario = {k: v for k, v in vars(options).items() if k not in ("compare", "raw")}
    json.dump({"python": sys.version.split()[0], "scenario": scenario, "lanes": lanes}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
