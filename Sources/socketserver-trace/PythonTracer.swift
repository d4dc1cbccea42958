// Running a Python program under the tracer the tool ships: the tracer is text inside the
// binary, written into a temporary folder with the program's events file; the interpreter is
// started through Processes (its own process group, its output through pipes, a deadline, and
// everything it started killed by pid at the end); Ctrl-C and SIGTERM are passed on to it, since
// a terminal's Ctrl-C reaches only the tool's own process group. When the program has ended,
// its events are read back as a recording (Tracing's TraceFile.swift).
import Glibc
import Processes
import SocketServer
import Sockets
import Tracing

/// The tracer: `PYTHON socketserver_tracer.py SCRIPT [ARGS...]`, with the events file in
/// SOCKETSERVER_TRACE_EVENTS.
let pythonTracerSource = #"""
    # The tracer socketserver-trace carries inside its binary (the tool's, not socketserver's):
    # the tool writes this file into a temporary folder and runs
    # `PYTHON socketserver_tracer.py SCRIPT [ARGS...]`.
    #
    # It records every call of a function of Lib/socketserver.py, and of the methods of the
    # program's own subclasses of BaseServer and BaseRequestHandler, with sys.setprofile (and
    # threading.setprofile for threads), and writes each call, return and raise as one JSON line
    # to the file SOCKETSERVER_TRACE_EVENTS names. The file is opened to append and each event is
    # one write(), so the lines of every thread and of every forked child land whole, in the order
    # they were written, and a child's lines are on disk before it ends with os._exit. The tool
    # reads the file back as a recording (Sources/Tracing/TraceFile.swift) and shows it with
    # every view.
    #
    # Lanes are labelled as the port's recorder labels them: P0 is this process, P1, P2, ...
    # children in fork order (a child's children P1.1, ...); T0 the main thread, T1, T2, ...
    # threads in the order they were started; a forked child keeps the label of the thread that
    # forked it. Requests are numbered as get_request returns them, and what runs inside the call
    # that asked, or in a thread or child it starts, belongs to that request.
    import dis
    import itertools
    import json
    import os
    import runpy
    import signal
    import socket
    import socketserver
    import sys
    import sysconfig
    import threading
    import time
    import types

    _ORIGIN = time.monotonic_ns()
    _FD = os.open(os.environ["SOCKETSERVER_TRACE_EVENTS"], os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    # Whether the program's own functions carry their line (compare leaves them out: the port's
    # scenario handlers have no Python line).
    _OWN_LINES = os.environ.get("SOCKETSERVER_TRACE_OWN_LINES", "1") == "1"
    _SOCKETSERVER = socketserver.__file__
    _BASES = (socketserver.BaseServer, socketserver.BaseRequestHandler)
    _RETURNS = {dis.opmap[name] for name in ("RETURN_VALUE", "RETURN_CONST") if name in dis.opmap}
    _LIBRARY = tuple(
        os.path.join(path, "") for path in {sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]})
    _PACKAGES = tuple(
        os.path.join(path, "") for path in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    _LIMIT = 300
    # At most this many events are written (a program that loops would fill the disk): the last
    # line says the trace was cut.
    _MAX_EVENTS = int(os.environ.get("SOCKETSERVER_TRACE_MAX_EVENTS", "100000"))
    _written = itertools.count(1)

    _process = "P0"
    _forks = itertools.count(1)
    _threads = itertools.count(1)
    _requests = itertools.count(1)
    _pending_fork = None
    _local = threading.local()
    _codes = {}
    _SKIP = object()  # what _classify says of a code object no event is written for
    _interrupt = None  # the KeyboardInterrupt raised for Ctrl-C, once raised
    _interrupt_pending = False  # a Ctrl-C that came while a hook ran, not raised yet


    def _write(record):
        number = next(_written)
        if number > _MAX_EVENTS:
            return
        if number == _MAX_EVENTS:
            record = {"event": "truncated", "process": _process, "limit": _MAX_EVENTS}
        record["t"] = (time.monotonic_ns() - _ORIGIN) // 1000
        os.write(_FD, (json.dumps(record) + "\n").encode())


    class _Frame:
        """A call this tracer recorded and that has not ended."""
        __slots__ = ("frame", "request", "exception", "function", "receiver", "line")

        def __init__(self, frame, request, function, receiver, line):
            self.frame = frame
            self.request = request
            self.exception = None
            self.function = function
            self.receiver = receiver
            self.line = line


    class _Lane:
        """One thread of this process: its label, its open frames, how many events it wrote."""
        __slots__ = ("label", "stack", "count", "request")

        def __init__(self, label, request):
            self.label = label
            self.stack = []
            self.count = 0
            self.request = request
            _write({"event": "thread", "process": _process, "thread": label,
                    "name": threading.current_thread().name, "pid": os.getpid(), "tid": threading.get_native_id()})

        def current_request(self):
            return self.stack[-1].request if self.stack else self.request


    def _lane():
        try:
            return _local.lane
        except AttributeError:
            thread = threading.current_thread()
            given = getattr(thread, "_socketserver_trace", None)
            if given is not None:
                label, request = given
            elif thread is threading.main_thread():
                label, request = "T0", None
            else:
                label, request = "T%d" % next(_threads), None
            _local.lane = _Lane(label, request)
            return _local.lane


    def _short(value):
        """The repr views show; a socket and a thread as the port shows them (Python's own reprs
        name the family, the type and both addresses, or the thread's state and ident, which
        change from run to run and fill a line of a tree)."""
        try:
            if isinstance(value, socket.socket):
                text = "<socket fd=%d>" % value.fileno()
            elif isinstance(value, threading.Thread):
                text = "<Thread(%s)>" % value.name
            elif type(value) is tuple:
                text = "(" + ", ".join(_short(item) for item in value) + ("," if len(value) == 1 else "") + ")"
            elif type(value) is list:
                text = "[" + ", ".join(_short(item) for item in value) + "]"
            else:
                text = repr(value)
        except Exception as error:
            text = "<repr failed: %s>" % type(error).__name__
        return text if len(text) <= _LIMIT else text[:_LIMIT - 1] + "\u2026"


    def _exception_line(error):
        # A call left by the KeyboardInterrupt of Ctrl-C was entered before its frame was traced
        # for exceptions again (see _on_interrupt).
        error = error if error is not None else _interrupt
        if error is None:
            return "exception"
        message = str(error) if not isinstance(error, BaseException) or error.args else ""
        return "%s: %s" % (type(error).__name__, message) if message else type(error).__name__


    def _classify(code):
        """What a code object is: (defining class, qualified name, first argument, whether it is
        socketserver.py's), the class and name None when the receiver must tell (a method that may
        be one of the program's own subclasses, or any method before Python 3.11, whose code
        objects have no qualified name); _SKIP for code no event is written for."""
        filename = code.co_filename
        first = code.co_varnames[0] if code.co_argcount else None
        qualname = getattr(code, "co_qualname", None)
        if filename == _SOCKETSERVER:
            # A comprehension or generator expression frame (`<genexpr>` in _Threads.reap)
            # resumes once per item; the port has no such frame.
            if "<" in code.co_name or (qualname and "<" in qualname):
                return _SKIP
            return (qualname.rpartition(".")[0], qualname, first, True) if qualname else (None, None, first, True)
        if first is None or filename == __file__ or filename.startswith("<frozen"):
            return _SKIP
        if filename.startswith(_LIBRARY) and not filename.startswith(_PACKAGES):
            return _SKIP
        return (None, None, first, False)


    def _info(code):
        info = _codes.get(code)
        if info is None:
            info = _codes[code] = _classify(code)
        return info


    def _defining_class(cls, code):
        for klass in cls.__mro__:
            function = klass.__dict__.get(code.co_name)
            function = getattr(function, "__func__", function)
            if getattr(function, "__code__", None) is code:
                return klass.__name__
        return getattr(code, "co_qualname", code.co_name).rpartition(".")[0]


    def _arguments(frame, code):
        names = list(code.co_varnames[1:code.co_argcount + code.co_kwonlyargcount])
        extra = code.co_argcount + code.co_kwonlyargcount
        if code.co_flags & 0x04:
            names.append(code.co_varnames[extra])
            extra += 1
        if code.co_flags & 0x08:
            names.append(code.co_varnames[extra])
        values = frame.f_locals
        return ", ".join("%s=%s" % (name, _short(values.get(name))) for name in names)


    def _call(frame):
        code = frame.f_code
        info = _info(code)
        if info is _SKIP:
            return False
        defining, function, first, socketserver_code = info
        receiver = frame.f_locals.get(first) if first else None
        if defining is None:
            if not socketserver_code and not isinstance(receiver, _BASES):
                return False
            defining = _defining_class(type(receiver), code)
            function = "%s.%s" % (defining, code.co_name) if defining else code.co_name
        line = code.co_firstlineno if socketserver_code or _OWN_LINES else None
        receiver_class = type(receiver).__name__ if first else defining
        lane = _lane()
        request = lane.current_request()
        _write({"event": "call", "function": function, "self": receiver_class, "py_line": line,
                "process": _process, "thread": lane.label, "request": request, "depth": len(lane.stack),
                "detail": _arguments(frame, code), "pid": os.getpid(), "tid": threading.get_native_id()})
        lane.count += 1
        lane.stack.append(_Frame(frame, request, function, receiver_class, line))
        return True


    def _end(frame, value):
        lane = _lane()
        if not lane.stack or lane.stack[-1].frame is not frame:
            return
        record = lane.stack.pop()
        code = frame.f_code
        # The profiler says "return" whether the call returned or raised; a call that returned
        # stopped on a return instruction, one that raised on the instruction that raised.
        raised = value is None and code.co_code[frame.f_lasti] not in _RETURNS
        request = record.request
        if not raised and code.co_name == "get_request":
            # A new request: it is the request of the call that asked, until that call ends.
            request = next(_requests)
            if lane.stack:
                lane.stack[-1].request = request
            else:
                lane.request = request
        _write({"event": "raise" if raised else "return", "function": record.function,
                "self": record.receiver, "py_line": record.line, "process": _process, "thread": lane.label, "request": request,
                "depth": len(lane.stack),
                "detail": _exception_line(record.exception) if raised else "-> " + _short(value),
                "pid": os.getpid(), "tid": threading.get_native_id()})
        lane.count += 1


    def _profile(frame, event, arg):
        if _interrupt is not None and sys.gettrace() is None:
            sys.settrace(_trace)  # switched off by the line event that raised Ctrl-C
        if event == "call":
            _call(frame)
        elif event == "return" and _codes.get(frame.f_code, _SKIP) is not _SKIP:
            _end(frame, arg)


    def _trace(frame, event, arg):
        """sys.settrace's global function. The profiler does not say which exception ended a call:
        the frames it records get a local function (line events off) that keeps the last one seen."""
        # (Called before the profiler hears of the call.)
        if _info(frame.f_code) is _SKIP:
            return None
        frame.f_trace_lines = False
        return _trace_local


    def _trace_local(frame, event, arg):
        if event == "exception":
            lane = _lane()
            for record in reversed(lane.stack):
                if record.frame is frame:
                    record.exception = arg[1]
                    break
        return _trace_local


    def _spawn(kind, label, name, parent, position, depth, request):
        _write({"event": "spawn", "kind": kind, "process": _process, "thread": label, "name": name,
                "parent_process": parent[0], "parent_thread": parent[1], "position": position,
                "depth": depth, "request": request})


    _original_start = threading.Thread.start


    def _start(thread):
        lane = _lane()
        label = "T%d" % next(_threads)
        request = lane.current_request()
        thread._socketserver_trace = (label, request)
        position, depth = lane.count, len(lane.stack)
        _original_start(thread)
        _spawn("thread", label, thread.name, (_process, lane.label), position, depth, request)


    def _before_fork():
        global _pending_fork
        lane = _lane()
        _pending_fork = (next(_forks), _process, lane.label, lane.count, len(lane.stack), lane.current_request())


    def _after_fork_in_child():
        global _process, _forks
        number, parent, thread, position, depth, request = _pending_fork
        _process = "P%d" % number if parent == "P0" else "%s.%d" % (parent, number)
        _forks = itertools.count(1)
        lane = _lane()
        lane.count = 0
        _write({"event": "process", "process": _process, "pid": os.getpid(), "parent": parent})
        _write({"event": "thread", "process": _process, "thread": thread, "name": threading.current_thread().name,
                "pid": os.getpid(), "tid": threading.get_native_id()})
        _spawn("fork", thread, "fork", (parent, thread), position, depth, request)


    _original_exit = os._exit


    def _exit(status):
        _write({"event": "exit", "process": _process, "status": status})
        _original_exit(status)


    def _on_interrupt(signum, frame):
        """Ctrl-C, raised in the program and never in this tracer: an exception out of the profile
        function would switch the profiler off, and the rest of the run would go unrecorded. When a
        hook of the tracer is running, the program's frames under it get a line tracer that raises
        it at the next line the program runs (which switches off only sys.settrace, put back by
        the profiler's next event)."""
        global _interrupt_pending
        hook = frame
        while hook is not None and hook.f_code not in _HOOKS:
            hook = hook.f_back
        if hook is None:
            raise KeyboardInterrupt
        _interrupt_pending = True
        below = hook.f_back
        while below is not None:
            if below.f_code.co_filename != __file__:
                below.f_trace = _raise_interrupt
                below.f_trace_lines = True
            below = below.f_back


    def _raise_interrupt(frame, event, arg):
        """The line tracer of _on_interrupt: the first line run raises the Ctrl-C, once."""
        global _interrupt, _interrupt_pending
        if not _interrupt_pending:
            return None
        if event != "line":
            return _raise_interrupt
        _interrupt_pending = False
        _interrupt = KeyboardInterrupt()
        raise _interrupt


    _HOOKS = {_profile.__code__, _trace.__code__, _trace_local.__code__}


    def _excepthook(kind, error, traceback):
        """The program's traceback, without the frames of this file and of runpy."""
        kept = []
        while traceback is not None:
            filename = traceback.tb_frame.f_code.co_filename
            if filename != __file__ and not filename.startswith(("<frozen runpy", runpy.__file__)):
                kept.append(traceback)
            traceback = traceback.tb_next
        traceback = None
        for entry in reversed(kept):
            traceback = types.TracebackType(traceback, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
        if isinstance(error, BaseException):
            error = error.with_traceback(traceback)  # the hook below prints the error's own
        sys.__excepthook__(kind, error, traceback)


    def main():
        if len(sys.argv) < 2:
            sys.exit("usage: socketserver_tracer.py SCRIPT [ARGS...]")
        script = sys.argv[1]
        sys.argv = sys.argv[1:]
        sys.path[0] = os.path.dirname(os.path.abspath(script))
        _write({"event": "process", "process": _process, "pid": os.getpid(), "parent": None})
        sys.excepthook = _excepthook
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, _on_interrupt)
        threading.Thread.start = _start
        os._exit = _exit
        os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)
        threading.setprofile(_profile)
        threading.settrace(_trace)
        sys.settrace(_trace)
        sys.setprofile(_profile)
        try:
            runpy.run_path(script, run_name="__main__")
        finally:
            sys.setprofile(None)
            sys.settrace(None)


    main()

    """#

/// The script a traced run runs.
enum TracedScript {
    /// A file of the reader's.
    case path(String)
    /// A script of the tool's, written beside the tracer under this name.
    case shipped(name: String, text: String)
}

/// What a traced run left.
struct TracedRun {
    /// The program's calls.
    var recording: Recording
    /// How the interpreter ended (nil if something else reaped it).
    var termination: Termination?
    /// What it wrote on standard error that was not passed on (for the message of a run that
    /// failed).
    var errors: String
    /// Whether it was stopped at its deadline.
    var timedOut: Bool
    /// Whether the tracer stopped writing at ``TracedPython/maxEvents``.
    var truncated: Bool
}

/// How to run a Python program under the tracer.
struct TracedPython {
    /// The interpreter, as given (`python3`, a path).
    var python: String
    var script: TracedScript
    var arguments: [String] = []
    /// Whether the program's own methods carry their line (the port's scenario handlers have
    /// none, so `compare` leaves them out on CPython's side too).
    var ownLines = true
    /// Where the program's standard output goes as it comes (its standard error goes to 2); nil
    /// drops its standard output and keeps its standard error for ``TracedRun``.
    var forwardOutput: CInt? = nil
    /// Seconds after which the program gets SIGINT, as from Ctrl-C; nil for none.
    var deadline: Double? = nil
    /// How the recording is shown (see ``Recording/deterministic``).
    var deterministic = true
    /// The option that named the interpreter, for messages.
    var argument = "PYTHON"

    /// How long a program has to end after SIGINT before it and its process group are killed.
    static let grace = 5.0

    /// How many events the tracer writes at most: 100,000 (some 50,000 calls, a few tens of
    /// MB), or what SOCKETSERVER_TRACE_MAX_EVENTS says. A program that loops would otherwise
    /// fill the disk and the tool's memory.
    static let maxEvents = getenv("SOCKETSERVER_TRACE_MAX_EVENTS").flatMap { Int(String(cString: $0)) }
        .map { max(1, $0) } ?? 100_000

    /// Runs the program to its end (or its deadline) and reads what it recorded.
    ///
    /// - Throws: ``ToolError`` when the interpreter cannot be started or its events cannot be
    ///   read.
    func run() throws -> TracedRun {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let tracer = folder.path + "/socketserver_tracer.py"
        let events = folder.path + "/events.jsonl"
        try writeText(pythonTracerSource, to: tracer)
        var scriptPath: String
        switch script {
        case .path(let path): scriptPath = path
        case .shipped(let name, let text):
            scriptPath = folder.path + "/" + name
            try writeText(text, to: scriptPath)
        }
        let environment = [
            "SOCKETSERVER_TRACE_EVENTS": events, "SOCKETSERVER_TRACE_OWN_LINES": ownLines ? "1" : "0",
            "SOCKETSERVER_TRACE_MAX_EVENTS": String(Self.maxEvents),
            // The program's prints arrive as it makes them, not when a pipe's buffer fills.
            "PYTHONUNBUFFERED": "1",
        ]

        // Ctrl-C and SIGTERM are taken here with sigtimedwait and passed on; the child starts
        // with them unblocked (Subprocess resets its mask).
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &signals, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }

        let child: Subprocess
        do {
            child = try Subprocess([python, tracer, scriptPath] + arguments, environment: environment)
        } catch {
            throw ToolError("argument \(argument): can't run \(pyStrRepr(python)): \(error)")
        }
        var passedOn = (output: 0, errors: 0)
        func passOn() {
            guard let target = forwardOutput else { return }
            let output = child.output, errors = child.errors
            output[passedOn.output...].withUnsafeBytes { try? os_writeAll(target, $0) }
            errors[passedOn.errors...].withUnsafeBytes { try? os_writeAll(2, $0) }
            passedOn = (output.count, errors.count)
        }
        let start = monotonicSeconds()
        var stopBy: Double? = nil
        var timedOut = false
        while !child.hasExited() {
            var tick = timespec(tv_sec: 0, tv_nsec: 20_000_000)
            let signal = sigtimedwait(&signals, nil, &tick)
            if signal == SIGINT || signal == SIGTERM {
                child.signal(signal)
                stopBy = stopBy ?? monotonicSeconds() + Self.grace
            }
            if let deadline, !timedOut, monotonicSeconds() - start >= deadline {
                timedOut = true
                child.signal(SIGINT)
                stopBy = monotonicSeconds() + Self.grace
            }
            passOn()
            if let stopBy, monotonicSeconds() >= stopBy { break }
        }
        let leftBehind = child.stop(grace: 1)
        passOn()
        if !leftBehind.isEmpty {
            sys.writeStderr("\(CLI.program): killed what the program left running: \(leftBehind.joined(separator: "; "))\n")
        }
        let text = readSmallFile(events) ?? ""
        let recording: Recording
        do {
            recording = try readTraceFile(text, deterministic: deterministic)
        } catch {
            throw ToolError("the tracer's events: \(error)")
        }
        let kept = forwardOutput == nil
        return TracedRun(
            recording: recording, termination: child.termination,
            errors: kept ? String(decoding: child.errors, as: UTF8.self) : "", timedOut: timedOut,
            truncated: text.contains(#"{"event": "truncated""#))
    }
}

/// Writes `text` to a new file at `path` (in a folder of the tool's own).
private func writeText(_ text: String, to path: String) throws {
    let file = try Output(path, argument: "the temporary folder")
    try file.write(text)
    try file.close()
}
