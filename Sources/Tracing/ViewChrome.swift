// Swift-only: Chrome Trace Event JSON, for Perfetto (ui.perfetto.dev) and chrome://tracing.
//
// Each call is a complete ("X") event on its process and thread, so nesting shows as stacked
// slices; "M" events name processes and threads; a flow arrow ("s" → "f") joins the call that
// started a thread or forked a child (the accepting thread's `process_request`) to the first
// call of the new lane (`process_request_thread`, or the child's `finish_request`).
// Deterministic mode uses the logical clock (one microsecond per event) and pids/tids derived
// from the labels (`P0` → pid 1, `T0` → tid 1: Perfetto treats 0 as the idle process).

/// `recording` as Chrome Trace Event JSON (`{"traceEvents":[...]}`), one event per line.
///
/// - Parameter filter: what to show.
public func renderChrome(_ recording: Recording, filter: TraceFilter = TraceFilter()) -> String {
    let deterministic = recording.deterministic
    let view = CausalView(recording, fold: deterministic, filter: filter)
    let processIndex = Dictionary(
        view.processes.enumerated().map { ($0.element.label, $0.offset) }, uniquingKeysWith: { a, _ in a })

    func pid(_ process: String, real: Int32) -> String {
        deterministic ? String((processIndex[process] ?? view.processes.count) + 1) : String(real)
    }
    func tid(_ thread: String, real: Int32) -> String {
        deterministic ? String((labelNumbers(thread).first ?? 0) + 1) : String(real)
    }
    func ts(_ row: ViewRow) -> String {
        if deterministic { return String(row.clock) }
        let time = row.event?.time ?? row.spawn?.time ?? view.origin
        return thousandths(time >= view.origin ? time - view.origin : 0)
    }
    func span(_ start: ViewRow, _ end: ViewRow) -> String {
        if deterministic { return String(max(1, end.clock - start.clock)) }
        let from = start.event?.time ?? view.origin
        let to = end.event?.time ?? end.spawn?.time ?? from
        return thousandths(to > from ? to - from : 0)
    }

    var lines: [String] = []
    var realPid: [String: Int32] = [:]
    for process in view.processes { realPid[process.label] = process.pid }
    // Names: processes, then threads, in the order the view meets them.
    var namedProcesses: Set<String> = []
    for lane in view.lanes {
        let lanePid = realPid[lane.process].flatMap { $0 == 0 ? nil : $0 } ?? lane.pid
        if namedProcesses.insert(lane.process).inserted {
            let name = deterministic ? lane.process : "\(lane.process) pid \(lanePid)"
            lines.append(
                TraceJSON.object([
                    ("name", TraceJSON.string("process_name")), ("ph", TraceJSON.string("M")),
                    ("pid", pid(lane.process, real: lanePid)), ("tid", "0"),
                    ("args", TraceJSON.object([("name", TraceJSON.string(name))])),
                ]))
            lines.append(
                TraceJSON.object([
                    ("name", TraceJSON.string("process_sort_index")), ("ph", TraceJSON.string("M")),
                    ("pid", pid(lane.process, real: lanePid)), ("tid", "0"),
                    ("args", TraceJSON.object([("sort_index", String(processIndex[lane.process] ?? 0))])),
                ]))
        }
        lines.append(
            TraceJSON.object([
                ("name", TraceJSON.string("thread_name")), ("ph", TraceJSON.string("M")),
                ("pid", pid(lane.process, real: lanePid)), ("tid", tid(lane.thread, real: lane.tid)),
                ("args", TraceJSON.object([("name", TraceJSON.string("\(lane.thread) \(lane.name)"))])),
            ]))
    }
    // Where each lane ends, for calls still open when the recording was taken.
    var lastRow: [LaneID: Int] = [:]
    for (index, row) in view.rows.enumerated() where row.event != nil { lastRow[row.laneKey] = index }
    var firstRow: [LaneID: Int] = [:]
    for (index, row) in view.rows.enumerated().reversed() where row.event != nil {
        firstRow[row.laneKey] = index
    }

    var flow = 0
    for (index, row) in view.rows.enumerated() {
        switch row.kind {
        case .call:
            let event = row.event!
            let end = row.partner.map { view.rows[$0] }
            var endRow = end ?? view.rows[lastRow[row.laneKey] ?? index]
            if end == nil, deterministic { endRow.clock += 1 }
            var args: [(String, String)] = [
                ("self", TraceJSON.string(event.selfClass)),
                ("swift", TraceJSON.string(event.swift)),
                ("py_line", TraceJSON.number(event.pyLine)),
                ("request", TraceJSON.number(event.request)),
                ("detail", TraceJSON.string(row.detail)),
            ]
            if let end { args.append(("result", TraceJSON.string(end.detail))) }
            if !deterministic, row.folded > 1 { args.append(("folded", String(row.folded))) }
            lines.append(
                TraceJSON.object([
                    ("name", TraceJSON.string(event.function)),
                    ("cat", TraceJSON.string(event.definingClass.isEmpty ? "socketserver" : event.definingClass)),
                    ("ph", TraceJSON.string("X")), ("ts", ts(row)), ("dur", span(row, endRow)),
                    ("pid", pid(row.process, real: event.pid)), ("tid", tid(row.thread, real: event.tid)),
                    ("args", TraceJSON.object(args)),
                ]))
        case .spawn:
            let spawn = row.spawn!
            let target = spawn.lane
            guard let first = firstRow[target].map({ view.rows[$0] }), let firstEvent = first.event else {
                continue
            }
            flow += 1
            let name = TraceJSON.string(spawn.kind == .fork ? "fork \(spawn.process)" : "start \(spawn.thread)")
            let parentPid = realPid[spawn.parentProcess] ?? 0
            let parentTid = view.lane(row.laneKey)?.tid ?? 0
            lines.append(
                TraceJSON.object([
                    ("name", name), ("cat", TraceJSON.string("spawn")), ("ph", TraceJSON.string("s")),
                    ("id", String(flow)), ("ts", ts(row)),
                    ("pid", pid(spawn.parentProcess, real: parentPid)),
                    ("tid", tid(spawn.parentThread, real: parentTid)),
                ]))
            lines.append(
                TraceJSON.object([
                    ("name", name), ("cat", TraceJSON.string("spawn")), ("ph", TraceJSON.string("f")),
                    ("bp", TraceJSON.string("e")), ("id", String(flow)), ("ts", ts(first)),
                    ("pid", pid(spawn.process, real: firstEvent.pid)),
                    ("tid", tid(spawn.thread, real: firstEvent.tid)),
                ]))
        case .return, .raise, .orphan:
            continue
        }
    }
    return "{\"traceEvents\":[\n" + lines.joined(separator: ",\n") + "\n],\"displayTimeUnit\":\"ms\"}\n"
}
