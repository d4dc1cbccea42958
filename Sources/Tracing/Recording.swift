// Swift-only: what a recorder hands to the views.
//
// CPython's `sys.setprofile` gives a callback frames one at a time; a reader wants the whole
// story afterwards, with every thread and every forked child in it. A `Recording` is that
// story: the events, who ran them (processes and threads), and where each new thread or child
// came from (spawn links), so that a view can nest a worker's calls under the call that
// started it.

import SocketServer

/// Which frame an event belongs to: the process that opened it and a number unique there.
///
/// A forked child opens its frames under its own process label, so numbers never clash with
/// the parent's, and the frames it inherited at the fork keep the parent's identity.
public struct TraceFrameID: Hashable, Sendable, CustomStringConvertible {
    /// The label of the process that opened the frame (`"P0"`).
    public var process: String
    /// The frame's number in that process, from 0 in order of opening.
    public var number: Int

    /// Makes a frame identity.
    public init(process: String, number: Int) {
        self.process = process
        self.number = number
    }

    /// `P0#12`.
    public var description: String { "\(process)#\(number)" }
}

/// One thing that happened in a traced function: it was called, it returned, or it raised.
public struct TraceEvent: Sendable, Equatable {
    /// What happened.
    public enum Kind: String, Sendable {
        /// The function was entered.
        case call
        /// The function returned normally.
        case `return`
        /// The function ended with an exception.
        case raise
    }

    /// The position in the recording (merged order of all processes, by time).
    public var seq: Int
    /// Call, return or raise.
    public var kind: Kind
    /// The Python qualified name of the function that ran (`"ThreadingMixIn.process_request"`);
    /// for a user override that did not announce itself, `"<receiver class>.<method>"`.
    public var function: String
    /// The class that defines the function that ran (`"ThreadingMixIn"`).
    public var definingClass: String
    /// The runtime class of the receiver (`"ThreadingTCPServer"`).
    public var selfClass: String
    /// The Python method name (`"process_request"`).
    public var method: String
    /// The Swift name of the declaration (`"processRequest(_:_:)"`).
    public var swift: String
    /// The line of the `def` in Lib/socketserver.py 3.13; nil for functions outside it.
    public var pyLine: Int?
    /// The process label: `"P0"` for the recorder's process, `"P1"`, ... in fork order.
    public var process: String
    /// The thread label within its process: `"T0"`, `"T1"`, ... in order of appearance.
    public var thread: String
    /// The real process id.
    public var pid: Int32
    /// The real thread id (Linux `gettid`).
    public var tid: Int32
    /// The request the event belongs to (1, 2, ... in order of `get_request` returns), if any.
    public var request: Int?
    /// The number of frames open below this one on its thread (0 at the bottom).
    public var depth: Int
    /// `CLOCK_MONOTONIC` nanoseconds, comparable between the processes of one machine.
    public var time: UInt64
    /// For a call, the arguments in short text; for a return, `"-> <result>"`; for a raise,
    /// the exception line (`"ValueError: boom"`).
    public var detail: String
    /// The frame this event opens or closes.
    public var frame: TraceFrameID
    /// The Swift file of the probe, as `#fileID` names it (`"SocketServer/SocketServer.swift"`),
    /// if the probe said.
    public var swiftFile: String?
    /// The line of the probe in ``swiftFile``.
    public var swiftLine: Int?
    /// What ``detail`` was made from, when the recorder has it: the call's arguments or the
    /// returned value, typed (views rename run-specific values from these rather than from the
    /// text). Nil for a raise, for a detail that was cut, and for a forked child's events, which
    /// come back as text.
    public var values: TraceEventValues? = nil

    /// Makes an event.
    public init(
        seq: Int, kind: Kind, function: String, definingClass: String, selfClass: String,
        method: String, swift: String, pyLine: Int?, process: String, thread: String, pid: Int32,
        tid: Int32, request: Int?, depth: Int, time: UInt64, detail: String, frame: TraceFrameID,
        swiftFile: String? = nil, swiftLine: Int? = nil
    ) {
        self.seq = seq
        self.kind = kind
        self.function = function
        self.definingClass = definingClass
        self.selfClass = selfClass
        self.method = method
        self.swift = swift
        self.pyLine = pyLine
        self.process = process
        self.thread = thread
        self.pid = pid
        self.tid = tid
        self.request = request
        self.depth = depth
        self.time = time
        self.detail = detail
        self.frame = frame
        self.swiftFile = swiftFile
        self.swiftLine = swiftLine
    }
}

/// The typed values behind an event's detail.
public enum TraceEventValues: Sendable, Equatable {
    /// A call's arguments.
    case arguments(TraceArguments)
    /// A return's value.
    case result(TraceValue)
}

/// One process of a recording.
public struct TraceProcess: Sendable, Equatable {
    /// `"P0"` for the recorder's own process, `"P1"`, ... in fork order (a child's own
    /// children are `"P1.1"`, ...).
    public var label: String
    /// The real process id (0 until the fork succeeded).
    public var pid: Int32
    /// The label of the process that forked this one; nil for `P0`.
    public var parent: String?
    /// The status the child passed to `_exit`, once it has reported.
    public var exitStatus: Int32?
}

/// One thread of one process of a recording: a lane of the views.
public struct TraceThread: Sendable, Equatable {
    /// The process label (`"P0"`).
    public var process: String
    /// The thread label in that process (`"T1"`).
    public var label: String
    /// The thread's name: the `PThread` name (`"Thread-1 (process_request_thread)"`), or
    /// `"main"` / `"thread"` for threads the port did not start.
    public var name: String
    /// The real process id.
    public var pid: Int32
    /// The real thread id.
    public var tid: Int32
}

/// Where a thread or a forked child came from.
public struct TraceSpawn: Sendable, Equatable {
    /// A new thread, or a new process.
    public enum Kind: String, Sendable {
        /// A thread started through `PThread.start()`.
        case thread
        /// A child made by `os.fork()`.
        case fork
    }

    /// Thread or fork.
    public var kind: Kind
    /// The process of the new lane (the child's label for a fork).
    public var process: String
    /// The thread of the new lane (for a fork, the forking thread's label, which the child
    /// keeps).
    public var thread: String
    /// The new thread's name (`"Thread-2 (process_request_thread)"`), or `"fork"`.
    public var name: String
    /// The process that spawned it.
    public var parentProcess: String
    /// The thread that spawned it.
    public var parentThread: String
    /// The innermost frame open on the spawning thread (`ThreadingMixIn.process_request`).
    public var parentFrame: TraceFrameID?
    /// How many events the spawning thread had recorded before the spawn: where the new lane
    /// goes in a causal view.
    public var position: Int
    /// The spawning thread's stack depth at the spawn (what a child's stack starts with).
    public var depth: Int
    /// The request current on the spawning thread, which the new lane inherits.
    public var request: Int?
    /// `CLOCK_MONOTONIC` nanoseconds of the spawn.
    public var time: UInt64
    /// Whether the thread ran or the fork succeeded.
    public var started: Bool
}

/// A snapshot of everything a ``Recorder`` saw, forked children included.
public struct Recording: Sendable, Equatable {
    /// Whether views use stable labels, normalized details and a logical clock (the default),
    /// or real times, pids, tids and ports.
    public var deterministic: Bool
    /// `CLOCK_MONOTONIC` nanoseconds when the recorder was made: real-clock time zero.
    public var origin: UInt64
    /// Every event, merged by time; `seq` is the index here.
    public var events: [TraceEvent]
    /// `P0` first, then children in fork order.
    public var processes: [TraceProcess]
    /// Every thread that recorded something or was started, by process then label.
    public var threads: [TraceThread]
    /// Every thread start and fork, in the order they were announced.
    public var spawns: [TraceSpawn]
    /// Frames whose events stand for several identical calls in a row, with how many: a
    /// recorder made with `foldRepeats` keeps the first of such a run and counts the others.
    /// Views that fold repeats add these counts to theirs; views that list every event show
    /// the frame once. Empty for every other recording.
    public var repeats: [TraceFrameID: Int] = [:]

    /// The thread entry of a lane, if known.
    public func thread(process: String, label: String) -> TraceThread? {
        threads.first { $0.process == process && $0.label == label }
    }
}

/// The number in a label (`"T12"` → 12), for ordering lanes; labels of grandchildren
/// (`"P1.2"`) order after their parent by their first number, then the rest.
func labelNumbers(_ label: String) -> [Int] {
    label.dropFirst().split(separator: ".").map { Int($0) ?? 0 }
}
