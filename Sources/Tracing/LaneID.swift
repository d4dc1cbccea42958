// Swift-only: the name of a lane of a trace, one thread of one process.

/// One lane of a trace: a thread of a process, shown as `P0/T1`.
///
/// Every view keys its lanes by this one type, so that a lane is never spelled as text in two
/// ways.
struct LaneID: Hashable, CustomStringConvertible {
    /// The process label (`"P0"`, `"P1.1"`).
    let process: String
    /// The thread label within it (`"T1"`).
    let thread: String

    /// `"P0/T1"`.
    var description: String { "\(process)/\(thread)" }
}

extension TraceEvent {
    /// The lane the event happened in.
    var lane: LaneID { LaneID(process: process, thread: thread) }
}

extension TraceSpawn {
    /// The lane the spawn starts (the new thread, or the child's first thread).
    var lane: LaneID { LaneID(process: process, thread: thread) }
    /// The lane the spawn was made from.
    var parentLane: LaneID { LaneID(process: parentProcess, thread: parentThread) }
}

extension LaneID: Comparable {
    /// Processes in fork order (`P0`, `P1`, `P1.1`, `P2`), then threads in start order.
    static func < (a: LaneID, b: LaneID) -> Bool {
        a.process != b.process
            ? labelNumbers(a.process).lexicographicallyPrecedes(labelNumbers(b.process))
            : labelNumbers(a.thread).lexicographicallyPrecedes(labelNumbers(b.thread))
    }
}
