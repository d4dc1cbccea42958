// Swift-only: one recorded run as the stepper walks it, read from its JSON Lines.
//
// The stepper takes the JSON Lines of a run (`run --format jsonl`, or a file a reader hands to
// `html --input`, which may come from CPython's side), so that a view of a live run and a view
// of a file are made the same way. What the lines do not say is worked out here: which call
// each return ends, which call each call was made from (the call stack), and where each lane
// (a thread of a process) came from: a forked child's label names its parent (`P1.2` was
// forked by `P1`, `P3` by `P0`) and it keeps the forking thread's label; a new thread is taken
// to come from the lane of its process that has a call open and ran last, which in the
// deterministic order (each new lane listed right where it was started) is the lane that
// started it.
import Tracing

/// One event of a run: one line of its JSON Lines, with every text escaped for display.
public struct StepEvent: Sendable, Equatable {
    /// What happened.
    public enum Kind: String, Sendable, CaseIterable {
        case call, `return`, raise
    }

    /// The line's `seq`: what `#step=N` names.
    public var seq: Int
    public var kind: Kind
    /// `"ThreadingMixIn.process_request"`.
    public var function: String
    /// The runtime class of the receiver (`self`).
    public var selfClass: String
    /// The Swift name of the declaration (`"processRequest(_:_:)"`), or "".
    public var swift: String
    /// `"SocketServer/SocketServer.swift"`, where the probe is; nil for a trace of CPython.
    public var swiftFile: String?
    public var swiftLine: Int?
    /// The line of the `def` in Lib/socketserver.py.
    public var pyLine: Int?
    public var process: String
    public var thread: String
    public var request: Int?
    public var depth: Int
    /// The line's `t`: logical in deterministic mode, microseconds otherwise.
    public var time: Int
    /// Arguments, `-> result`, or the exception line.
    public var detail: String

    /// `"process_request"`.
    public var method: String { String(function.split(separator: ".").last ?? Substring(function)) }
    /// The class part of ``function`` (`"ThreadingMixIn"`): the class whose version ran.
    public var definingClass: String {
        guard let dot = function.lastIndex(of: ".") else { return selfClass }
        return String(function[..<dot])
    }
}

/// Where a lane came from.
public enum LaneOrigin: Sendable, Equatable {
    /// The first lane of a process nobody is seen forking (the main thread).
    case main
    /// A thread started from `lane` (an index into ``SteppedRun/lanes``) at event `at`.
    case thread(from: Int, at: Int)
    /// A child forked from `lane` at event `at`.
    case fork(from: Int, at: Int)
}

/// A thread of a process.
public struct StepLane: Sendable, Equatable {
    public var process: String
    public var thread: String
    public var origin: LaneOrigin
    /// The indices of its first and last events.
    public var first: Int
    public var last: Int

    /// `"P0/T1"`.
    public var label: String { "\(process)/\(thread)" }
}

/// A line of the JSON Lines that is not an event of a recording.
public struct TraceFileError: Error, Equatable, CustomStringConvertible {
    /// 1-based.
    public let line: Int
    public let message: String
    public var description: String { "line \(line): \(message)" }
}

/// A recorded run, ready to step through.
public struct SteppedRun: Sendable {
    /// The events, in the order of the file.
    public let events: [StepEvent]
    /// The lanes, in order of first appearance.
    public let lanes: [StepLane]
    /// For each event, its lane.
    public let laneOf: [Int]
    /// For each event, the event that pairs with it (a call's end, an end's call), or -1.
    public let partner: [Int]
    /// For each event, the call it happened inside (for an end: inside its call's caller), or
    /// -1. A forked child's first calls are inside the parent's call that forked it.
    public let caller: [Int]
    /// Requests by number, with the index of the first event of each.
    public let requests: [(number: Int, first: Int)]

    /// Reads JSON Lines: one object per non-empty line, with at least `seq`, `event`,
    /// `function`, `process` and `thread`; the other fields of `run --format jsonl` are used
    /// when present.
    public init(jsonl text: String) throws(TraceFileError) {
        var events: [StepEvent] = []
        var number = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            if line.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) { continue }
            let value: JSONValue
            do {
                value = try parseJSON(String(line))
            } catch {
                throw TraceFileError(line: number, message: error.description)
            }
            events.append(try Self.event(value, line: number))
        }
        guard !events.isEmpty else { throw TraceFileError(line: number, message: "no events: the file is empty") }
        self.init(events: events)
    }

    /// One event from one JSON object.
    private static func event(_ value: JSONValue, line: Int) throws(TraceFileError) -> StepEvent {
        guard case .object = value else { throw TraceFileError(line: line, message: "expected a JSON object") }
        func text(_ key: String) throws(TraceFileError) -> String {
            guard let field = value[key] else { throw TraceFileError(line: line, message: "no \"\(key)\"") }
            guard let string = field.string else {
                throw TraceFileError(line: line, message: "\"\(key)\" must be a string")
            }
            return escapeUnsafeCharacters(string)
        }
        func optionalText(_ key: String) throws(TraceFileError) -> String? {
            guard let field = value[key], !field.isNull else { return nil }
            return try text(key)
        }
        func optionalNumber(_ key: String) throws(TraceFileError) -> Int? {
            guard let field = value[key], !field.isNull else { return nil }
            guard let number = field.int else {
                throw TraceFileError(line: line, message: "\"\(key)\" must be a whole number or null")
            }
            return number
        }
        guard let seq = try optionalNumber("seq") else { throw TraceFileError(line: line, message: "no \"seq\"") }
        let kindText = try text("event")
        guard let kind = StepEvent.Kind(rawValue: kindText) else {
            throw TraceFileError(line: line, message: "\"event\" must be \"call\", \"return\" or \"raise\", not \"\(kindText)\"")
        }
        let function = try text("function")
        var event = StepEvent(
            seq: seq, kind: kind, function: function, selfClass: "", swift: try optionalText("swift") ?? "",
            swiftFile: try optionalText("swift_file"), swiftLine: try optionalNumber("swift_line"),
            pyLine: try optionalNumber("py_line"), process: try text("process"), thread: try text("thread"),
            request: try optionalNumber("request"), depth: try optionalNumber("depth") ?? 0,
            time: try optionalNumber("t") ?? 0, detail: try optionalText("detail") ?? "")
        event.selfClass = try optionalText("self") ?? event.definingClass
        return event
    }

    /// Pairs the events, finds the call stacks and where each lane came from.
    public init(events: [StepEvent]) {
        var lanes: [StepLane] = []
        var laneIndex: [String: Int] = [:]
        var laneOf: [Int] = []
        var partner = [Int](repeating: -1, count: events.count)
        var caller = [Int](repeating: -1, count: events.count)
        // Per lane: the calls open, and the call a forked child's first calls are inside.
        var stacks: [[Int]] = []
        var inherited: [Int] = []
        var processes: Set<String> = []
        var firstRequest: [Int: Int] = [:]
        for (index, event) in events.enumerated() {
            let key = event.process + "/" + event.thread
            let lane: Int
            if let known = laneIndex[key] {
                lane = known
            } else {
                lane = lanes.count
                let origin = Self.origin(
                    of: event, isNewProcess: !processes.contains(event.process), lanes: lanes, stacks: stacks)
                lanes.append(StepLane(process: event.process, thread: event.thread, origin: origin, first: index, last: index))
                laneIndex[key] = lane
                stacks.append([])
                if case .fork(let parent, _) = origin { inherited.append(stacks[parent].last ?? -1) } else { inherited.append(-1) }
                processes.insert(event.process)
            }
            laneOf.append(lane)
            lanes[lane].last = index
            if let request = event.request, firstRequest[request] == nil { firstRequest[request] = index }
            switch event.kind {
            case .call:
                caller[index] = stacks[lane].last ?? inherited[lane]
                stacks[lane].append(index)
            case .return, .raise:
                // The innermost open call of the same function; calls above it never ended.
                if let position = stacks[lane].lastIndex(where: { events[$0].function == event.function }) {
                    let call = stacks[lane][position]
                    partner[index] = call
                    partner[call] = index
                    caller[index] = caller[call]
                    stacks[lane].removeSubrange(position...)
                } else {
                    caller[index] = stacks[lane].last ?? inherited[lane]
                }
            }
        }
        self.events = events
        self.lanes = lanes
        self.laneOf = laneOf
        self.partner = partner
        self.caller = caller
        self.requests = firstRequest.sorted { $0.key < $1.key }.map { (number: $0.key, first: $0.value) }
    }

    /// Where the lane of `event`, seen for the first time, came from.
    private static func origin(
        of event: StepEvent, isNewProcess: Bool, lanes: [StepLane], stacks: [[Int]]
    ) -> LaneOrigin {
        if isNewProcess {
            guard !lanes.isEmpty, let parent = parentProcess(of: event.process, among: lanes) else { return .main }
            let candidates = lanes.indices.filter { lanes[$0].process == parent }
            let lane = candidates.first { lanes[$0].thread == event.thread }
                ?? candidates.max { lanes[$0].last < lanes[$1].last }!
            return .fork(from: lane, at: lanes[lane].last)
        }
        let sameProcess = lanes.indices.filter { lanes[$0].process == event.process }
        let busy = sameProcess.filter { !stacks[$0].isEmpty }
        guard let lane = (busy.isEmpty ? sameProcess : busy).max(by: { lanes[$0].last < lanes[$1].last }) else {
            return .main
        }
        return .thread(from: lane, at: lanes[lane].last)
    }

    /// The label of the process that forked `label` (`P1.2` → `P1`, `P3` → the first process),
    /// if that process has been seen.
    private static func parentProcess(of label: String, among lanes: [StepLane]) -> String? {
        if let dot = label.lastIndex(of: ".") {
            let parent = String(label[..<dot])
            return lanes.contains { $0.process == parent } ? parent : nil
        }
        let first = lanes[0].process
        return first == label ? nil : first
    }

    /// The index of the event whose `seq` is `seq`.
    public func index(ofSeq seq: Int) -> Int? {
        if seq >= 0, seq < events.count, events[seq].seq == seq { return seq }
        return events.firstIndex { $0.seq == seq }
    }
}
