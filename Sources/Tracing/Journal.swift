// Swift-only: what a probe writes to, one per thread.
//
// A probe runs on the server's hot path. Recording a call used to mean taking the recorder's
// one mutex and sorting the event into frames, lanes, requests and parts right there: 3,000
// instructions an event. Now a probe appends the call as it was captured (typed, with the time)
// to its own thread's journal, under a lock only that thread and a flush ever take, and
// decides the one thing the port needs at once: whether the call opened a frame (the merge
// rule: a body announcing itself right inside the call site of the same method on the same
// receiver is that call). Everything else is done by a flush, on whatever thread asks the
// recorder something (a snapshot, a take, a thread start or a fork), which replays the
// journals into the recorder's state in time order.
//
// A consistent cut: a probe reads the clock while holding its journal's lock, and a flush
// takes from each journal only the entries stamped at or before the moment the flush began.
// Any entry stamped earlier was appended before its journal's lock was released, so it is in
// the journal when the flush gets there; entries stamped later wait for the next flush. The
// replay therefore sees every thread's events up to one instant, merged by time.
import Glibc
import SocketServer
import Sockets
import Synchronization

/// One thing a probe announced, and when.
struct JournalEntry {
    /// What happened.
    enum Kind {
        /// A call began.
        case begin(TraceCall)
        /// The innermost open frame of the thread ended.
        case end(TraceOutcome)
    }

    /// When it happened (`CLOCK_MONOTONIC` nanoseconds).
    var time: UInt64
    var kind: Kind
}

/// The entries of one thread for one recorder, and what the thread needs to apply the merge
/// rule on its own.
final class Journal: @unchecked Sendable {
    // `@unchecked`: `entries` is guarded by `lock`; `stack` is touched only by the owning
    // thread; the rest is immutable.

    /// One frame the thread is in, as the merge rule needs it.
    struct OpenFrame {
        var method: TraceName
        var receiver: ObjectIdentifier
        /// No body has announced itself in it yet (a call site's frame).
        var unnamed: Bool
        /// It called `get_request`: an accepting turn (what the recorder calls a part's home).
        var home = false
    }

    /// The serial number of the recorder it belongs to.
    let recorder: UInt64
    /// The thread's handle (`pthread_self`).
    let thread: UInt
    /// The thread's Linux id, read on the thread itself when the journal was made.
    let tid: Int32
    /// The order journals were made in (ties in time replay in this order).
    let order: Int
    /// What waits to be flushed, behind the lock the owner and a flush share.
    private let pending = Lock(Pending())
    // The runtime's exclusivity checks on `stack` and `inHome` would cost a probe more than the
    // rest of it (callgrind: a fifth of a traced request); only the owner thread touches them.
    /// The frames the thread is in, innermost last (owner thread only).
    @exclusivity(unchecked) private var stack: [OpenFrame]
    /// Whether a frame of `stack` is an accepting turn.
    @exclusivity(unchecked) private var inHome = false

    init(recorder: UInt64, order: Int, stack: [OpenFrame] = []) {
        self.recorder = recorder
        self.order = order
        self.stack = stack
        thread = UInt(pthread_self())
        tid = currentThreadID()
    }

    /// The entries not yet flushed, in chunks of ``chunkSize``: a journal nobody flushes for a
    /// long time grows by adding chunks, never by copying what it holds.
    struct Pending {
        var chunks: [[JournalEntry]] = []
        var last: [JournalEntry] = []
        static let chunkSize = 512

        /// Appends `entry`, stamped now.
        @inline(__always)
        mutating func append(_ entry: consuming JournalEntry) {
            if last.count == Pending.chunkSize || last.capacity == 0 {
                if !last.isEmpty { chunks.append(last) }
                last = []
                last.reserveCapacity(Pending.chunkSize)
            }
            entry.time = traceClock()
            last.append(entry)
        }
    }

    /// Appends `entry`, stamped now under the lock, moved in rather than copied (a call's
    /// description is a few hundred bytes with references in it).
    @inline(__always)
    private func append(_ entry: consuming JournalEntry) {
        pending.withLock(moving: entry) { pending, entry in pending.append(entry) }
    }

    /// A call begins on the owning thread.
    /// - Returns: whether it opened a frame (false: it names the call site's frame).
    @inline(__always)
    func begin(_ call: consuming TraceCall) -> Bool {
        let opened: Bool
        if call.function != nil, let top = stack.last, top.unnamed, top.method == call.method,
            top.receiver == call.receiver
        {
            stack[stack.count - 1].unnamed = false
            opened = false
        } else {
            if !inHome, call.method == getRequestName, !stack.isEmpty {
                stack[stack.count - 1].home = true
                inHome = true
            }
            stack.append(OpenFrame(method: call.method, receiver: call.receiver, unnamed: call.function == nil))
            opened = true
        }
        append(JournalEntry(time: 0, kind: .begin(consume call)))
        return opened
    }

    /// The innermost open frame of the owning thread ends.
    /// - Returns: whether it was an accepting turn.
    @inline(__always)
    func end(_ outcome: TraceOutcome) -> Bool {
        guard let frame = stack.popLast() else { return false }  // opened before recording began
        append(JournalEntry(time: 0, kind: .end(outcome)))
        if frame.home { inHome = false }
        return frame.home
    }

    /// Takes the entries stamped at or before `cutoff`, oldest first.
    func take(upTo cutoff: UInt64) -> [JournalEntry] {
        pending.withLock { p in
            var all = p.chunks.flatMap { $0 }
            all.append(contentsOf: p.last)
            p.chunks = []
            p.last.removeAll(keepingCapacity: true)
            guard let newest = all.last, newest.time > cutoff else { return all }
            var count = 0
            while count < all.count, all[count].time <= cutoff { count += 1 }
            p.last.append(contentsOf: all[count...])  // stamped after the cut: the next flush's
            all.removeSubrange(count...)
            return all
        }
    }

    /// Runs `body` while holding the journal's lock (a test holds it across a fork, as a flush
    /// on another thread may).
    func holdingLock<R>(_ body: () -> R) -> R { pending.withLock { _ in body() } }

    /// Drops the entries and marks the journal as belonging to a recorder that is gone, so
    /// that its thread lets go of it (see ``JournalSet``).
    func retire() {
        pending.withLock { p in
            p.chunks = []
            p.last = []
        }
        retired.store(true, ordering: .releasing)
    }

    /// Whether its recorder is gone (read when a thread's set is pruned). An atomic, not under
    /// the lock: a forked child prunes its set, and a parent's flush may have held the lock of
    /// one of the journals in it at the fork.
    var isRetired: Bool { retired.load(ordering: .acquiring) }
    private let retired = Atomic<Bool>(false)

    // MARK: - The current thread's journals

    /// A thread's journals, one per recorder that recorded on it (normally one; a recorder
    /// made for a child inside the same process, as a rehearsal or a test does, adds another
    /// without disturbing the first).
    final class JournalSet {
        var journals: [Journal] = []
    }

    /// The thread-specific slot holding the current thread's set (retained).
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { pointer in
            guard let pointer else { return }
            Unmanaged<JournalSet>.fromOpaque(pointer).release()
        }
        return key
    }()

    /// The current thread's set, made on first use.
    private static var currentSet: JournalSet {
        if let pointer = pthread_getspecific(key) {
            return Unmanaged<JournalSet>.fromOpaque(pointer).takeUnretainedValue()
        }
        let set = JournalSet()
        pthread_setspecific(key, Unmanaged.passRetained(set).toOpaque())
        return set
    }

    /// The current thread's journal for the recorder numbered `recorder`, if it has one.
    @inline(__always)
    static func current(for recorder: UInt64) -> Journal? {
        guard let pointer = pthread_getspecific(key) else { return nil }
        let set = Unmanaged<JournalSet>.fromOpaque(pointer).takeUnretainedValue()
        for journal in set.journals where journal.recorder == recorder { return journal }
        return nil
    }

    /// Makes `journal` the current thread's for its recorder, and lets go of journals whose
    /// recorder is gone.
    static func install(_ journal: Journal) {
        let set = currentSet
        set.journals.removeAll { $0.recorder == journal.recorder || $0.isRetired }
        set.journals.insert(journal, at: 0)
    }

    /// The current thread stops recording for the recorder numbered `recorder`.
    static func remove(for recorder: UInt64) {
        guard let pointer = pthread_getspecific(key) else { return }
        Unmanaged<JournalSet>.fromOpaque(pointer).takeUnretainedValue().journals.removeAll {
            $0.recorder == recorder
        }
    }
}

/// Merges the taken entries of several journals by time (ties in journal order).
func mergeByTime(_ batches: [(journal: Journal, entries: [JournalEntry])]) -> [(Journal, JournalEntry)] {
    if batches.count == 1 { return batches[0].entries.map { (batches[0].journal, $0) } }
    var merged: [(Journal, JournalEntry)] = []
    merged.reserveCapacity(batches.reduce(0) { $0 + $1.entries.count })
    var next = [Int](repeating: 0, count: batches.count)
    while true {
        var best: Int? = nil
        for index in batches.indices where next[index] < batches[index].entries.count {
            guard let current = best else {
                best = index
                continue
            }
            if batches[index].entries[next[index]].time < batches[current].entries[next[current]].time {
                best = index
            }
        }
        guard let chosen = best else { return merged }
        merged.append((batches[chosen].journal, batches[chosen].entries[next[chosen]]))
        next[chosen] += 1
    }
}
