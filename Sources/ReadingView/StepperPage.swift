// Swift-only: index.html, the stepper. The page holds the run as data (a JSON object in a
// `<script type="application/json">`, read with JSON.parse) and both source files as rows of
// lines; its script (Assets.swift) shows one event at a time from the data.

extension ReadingSite {
    /// The page.
    func stepperPage() -> String {
        let count = run.events.count
        var page = pageHead(title: "Stepper: \(title)", style: Assets.style + Assets.stepperStyle)
        page += """
            <body class="stepper-page">
            <a class="skip" href="#controls">Skip to the step controls</a>
            <header class="top">
            <h1>Stepper <span class="sub">\(html(title))</span></h1>
            <nav><a href="source.html">Lib/socketserver.py beside the Swift port</a></nav>
            </header>
            <noscript><p class="warning">The stepper needs JavaScript; <a href="source.html">the source view</a> does not.</p></noscript>
            <section id="controls" aria-label="Step controls">
            <div class="buttons">
            <button type="button" id="first" aria-keyshortcuts="Home">◀◀ First</button>
            <button type="button" id="back" aria-keyshortcuts="ArrowLeft">◀ Back</button>
            <button type="button" id="forward" aria-keyshortcuts="ArrowRight">Forward ▶</button>
            <button type="button" id="last" aria-keyshortcuts="End">Last ▶▶</button>
            <span id="position">\(count) events</span>
            </div>
            <div class="slider"><label for="slider">Step</label>
            <input id="slider" type="range" min="0" max="\(max(0, count - 1))" step="1" value="0"></div>
            <form id="jump"><label for="request">Jump to request</label>
            <input id="request" type="number" min="1" inputmode="numeric" \(run.requests.isEmpty ? "disabled" : "max=\"\(run.requests.last!.number)\"")>
            <button type="submit"\(run.requests.isEmpty ? " disabled" : "")>Go</button>
            <button type="button" id="prev-request" aria-keyshortcuts="[">[ previous request</button>
            <button type="button" id="next-request" aria-keyshortcuts="]">next request ]</button>
            <span id="jump-note" role="status"></span></form>
            <p class="keys">Keys: <kbd>←</kbd> <kbd>→</kbd> one event, <kbd>Home</kbd> <kbd>End</kbd> the first and the last, <kbd>[</kbd> <kbd>]</kbd> the previous and the next request. The address ends in <code>#step=N</code>: a link to this moment.</p>
            <p id="announce" class="visually-hidden" aria-live="polite"></p>
            </section>
            <main class="stepper">
            <section id="current" class="panel now" tabindex="-1" aria-labelledby="now-title" data-step="" data-function="" data-python-line="" data-swift-line="">
            <h2 id="now-title">Loading the run…</h2>
            <dl id="now-facts"></dl>
            <h3>Arguments</h3><pre id="now-args" class="detail"></pre>
            <h3>Result</h3><pre id="now-result" class="detail"></pre>
            <h3>Which version ran, and why</h3>
            <p id="mro-note"></p>
            <table id="mro-table"><caption class="visually-hidden">The receiver's MRO</caption><thead><tr><th scope="col">class (MRO order)</th><th scope="col">defines it?</th><th scope="col">ran?</th></tr></thead><tbody></tbody></table>
            </section>
            <section class="panel stack" aria-labelledby="stack-title">
            <h2 id="stack-title">Call stack</h2>
            <p class="hint">Innermost first; each frame is a link to its call.</p>
            <ol id="stack"></ol>
            </section>
            \(pythonPane())
            \(swiftPanes())
            </main>
            \(lanesPanel())
            <script id="trace-data" type="application/json">\(stepperData())</script>
            <script>
            \(Assets.stepperScript)
            </script>
            </body>
            </html>

            """
        return page
    }

    /// The Python pane: the whole of Lib/socketserver.py, or a note saying why it is missing.
    private func pythonPane() -> String {
        let body =
            python.isPresent
            ? "<div class=\"lines\">\n" + sourceLines(python.lines, prefix: "py") + "</div>\n"
            : "<p class=\"missing\">Lib/socketserver.py was not found when this page was made (\(html(python.origin))): the panel names the Python line of each event all the same.</p>"
        return """
            <section class="panel source py-panel" aria-labelledby="py-title">
            <h2 id="py-title">Python <span class="file">Lib/socketserver.py</span> <span id="py-where" class="where"></span></h2>
            <div class="pane" id="py" tabindex="0" aria-label="Lib/socketserver.py">
            \(body)</div>
            </section>
            """
    }

    /// The Swift files the run's probes are in (the port's main file first), one pane each;
    /// the script shows the one of the current event.
    private func swiftPanes() -> String {
        var out = """
            <section class="panel source sw-panel" aria-labelledby="sw-title">
            <h2 id="sw-title">Swift <span id="sw-file" class="file"></span> <span id="sw-where" class="where"></span></h2>

            """
        for (index, file) in shownSwiftFiles().enumerated() {
            out += "<div class=\"pane\" id=\"sw\(index)\" data-file=\"\(html(file.fileID))\" tabindex=\"0\" aria-label=\"\(html(file.fileID))\"\(index == 0 ? "" : " hidden")>\n"
            out += "<div class=\"lines\">\n" + sourceLines(file.lines, prefix: "sw\(index)") + "</div>\n"
            out += "</div>\n"
        }
        return out + "</section>"
    }

    /// The Swift files shown: the port's first, then any other a probe of the run is in.
    func shownSwiftFiles() -> [SwiftSourceFile] {
        var files: [SwiftSourceFile] = []
        if let first = swift.files.first { files.append(first) }
        for event in run.events {
            if let id = event.swiftFile, !files.contains(where: { $0.fileID == id }), let file = swift.file(id) {
                files.append(file)
            }
        }
        return files
    }

    /// The lanes: a drawing (the script draws it) and the same as a table.
    private func lanesPanel() -> String {
        var laneRequests = [Set<Int>](repeating: [], count: run.lanes.count)
        for (index, event) in run.events.enumerated() {
            if let request = event.request { laneRequests[run.laneOf[index]].insert(request) }
        }
        var rows = ""
        for (number, lane) in run.lanes.enumerated() {
            let origin: String
            switch lane.origin {
            case .main: origin = "the first thread of the run"
            case .thread(let from, let at):
                origin = "a thread started from \(html(run.lanes[from].label)) at \(stepLink(at))"
            case .fork(let from, let at):
                origin = "a child process forked from \(html(run.lanes[from].label)) at \(stepLink(at))"
            }
            rows += "<tr><th scope=\"row\">\(html(lane.label))</th><td>\(origin)</td><td>\(stepLink(lane.first))</td>"
                + "<td>\(stepLink(lane.last))</td><td>\(requestList(laneRequests[number].sorted()))</td></tr>\n"
        }
        return """
            <section id="lanes-panel" class="panel lanes" aria-labelledby="lanes-title">
            <h2 id="lanes-title">Lanes: every thread and process</h2>
            <p class="legend">One row per lane, time left to right. Each event is a tick in its request's colour (grey: no request), and the request's number is written where there is room. A solid arrow is a thread starting, a dashed arrow a fork. The current event is the tall line with a ▼ over its lane, whose name is marked ▶. Click a lane to go to its nearest event.</p>
            <div class="lanes-scroll"><canvas id="lanes" role="img" aria-label="The lanes of the run; the table below says the same in words."></canvas></div>
            <details\(run.lanes.count <= 12 ? " open" : "")><summary>The lanes as a table (\(run.lanes.count))</summary>
            <div class="table-scroll"><table class="lane-table"><thead><tr><th scope="col">lane</th><th scope="col">where it came from</th><th scope="col">first event</th><th scope="col">last event</th><th scope="col">requests</th></tr></thead>
            <tbody>
            \(rows)</tbody></table></div></details>
            </section>
            """
    }

    /// `<a href="#step=SEQ">step SEQ</a>` for the event at `index`.
    private func stepLink(_ index: Int) -> String {
        let seq = run.events[index].seq
        return "<a href=\"#step=\(seq)\">step \(seq)</a>"
    }

    /// `1, 2, 5–9`: request numbers, runs of them shortened.
    private func requestList(_ numbers: [Int]) -> String {
        guard !numbers.isEmpty else { return "none" }
        var parts: [String] = []
        var start = numbers[0]
        var previous = numbers[0]
        for number in numbers.dropFirst() + [Int.min] {
            if number == previous + 1 {
                previous = number
                continue
            }
            parts.append(start == previous ? "\(start)" : "\(start)–\(previous)")
            start = number
            previous = number
        }
        return parts.joined(separator: ", ")
    }

    /// The run as the script reads it: one array per field (indices into `strings` for text),
    /// and the tables the events point into. It depends on the run and the Swift sources only
    /// (not on whether CPython's file was found), so a golden file can hold it.
    func stepperData() -> String {
        var strings: [String] = []
        var stringIndex: [String: Int] = [:]
        func intern(_ text: String) -> Int {
            if let known = stringIndex[text] { return known }
            strings.append(text)
            stringIndex[text] = strings.count - 1
            return strings.count - 1
        }
        let files = shownSwiftFiles().map(\.fileID)
        var locations: [SwiftLocation] = []
        var locationIndex: [SwiftLocation: Int] = [:]
        var mroSteps: [MROStep] = []
        var mroIndex: [String: Int] = [:]
        var pyRanges: [String: ClosedRange<Int>] = [:]
        var seq: [Int] = [], kind: [Int] = [], function: [Int] = [], selfClass: [Int] = [], py: [Int] = []
        var sw: [Int] = [], swiftText: [Int] = [], request: [Int] = [], depth: [Int] = [], time: [Int] = []
        var detail: [Int] = [], mro: [Int] = []
        for event in run.events {
            seq.append(event.seq)
            kind.append(StepEvent.Kind.allCases.firstIndex(of: event.kind)!)
            function.append(intern(event.function))
            selfClass.append(intern(event.selfClass))
            py.append(event.pyLine ?? -1)
            if let location = swiftLocation(event), files.contains(location.fileID) {
                if locationIndex[location] == nil {
                    locationIndex[location] = locations.count
                    locations.append(location)
                }
                sw.append(locationIndex[location]!)
            } else {
                sw.append(-1)
            }
            swiftText.append(intern(swiftLineText(event)))
            request.append(event.request ?? 0)
            depth.append(event.depth)
            time.append(event.time)
            detail.append(intern(event.detail))
            let key = event.selfClass + " " + event.function
            if mroIndex[key] == nil {
                mroIndex[key] = mroSteps.count
                mroSteps.append(MROStep(selfClass: event.selfClass, method: event.method, definingClass: event.definingClass))
            }
            mro.append(mroIndex[key]!)
            if pyRanges[event.function] == nil,
                let range = PythonSource.range(of: event.definingClass, def: event.pyLine)
            {
                pyRanges[event.function] = range
            }
        }
        let lanes = run.lanes.map { lane -> String in
            var fields: [(String, String)] = [
                ("label", scriptJSON(lane.label)), ("first", String(lane.first)), ("last", String(lane.last)),
            ]
            switch lane.origin {
            case .main: fields.append(("kind", scriptJSON("main")))
            case .thread(let from, let at):
                fields += [("kind", scriptJSON("thread")), ("from", String(from)), ("at", String(at))]
            case .fork(let from, let at):
                fields += [("kind", scriptJSON("fork")), ("from", String(from)), ("at", String(at))]
            }
            return objectJSON(fields)
        }
        let locationRows = locations.map { location in
            jsonNumbers([
                files.firstIndex(of: location.fileID)!, location.line, location.end, location.probe,
                location.isCallSite ? 1 : 0,
            ])
        }
        let mroRows = mroSteps.map { step in
            objectJSON([
                ("rows", "[" + step.rows.map { "[\(scriptJSON($0.className)),\($0.defines ? 1 : 0),\($0.ran ? 1 : 0)]" }.joined(separator: ",") + "]"),
                ("note", scriptJSON(step.note)),
            ])
        }
        let ranges = pyRanges.sorted { $0.key < $1.key }.map { "\(scriptJSON($0.key)):[\($0.value.lowerBound),\($0.value.upperBound)]" }
        return objectJSON([
            ("title", scriptJSON(title)),
            ("seq", jsonNumbers(seq)), ("kind", jsonNumbers(kind)), ("fn", jsonNumbers(function)),
            ("self", jsonNumbers(selfClass)), ("py", jsonNumbers(py)), ("sw", jsonNumbers(sw)),
            ("swText", jsonNumbers(swiftText)), ("req", jsonNumbers(request)), ("depth", jsonNumbers(depth)),
            ("t", jsonNumbers(time)), ("detail", jsonNumbers(detail)), ("mro", jsonNumbers(mro)),
            ("lane", jsonNumbers(run.laneOf)), ("partner", jsonNumbers(run.partner)), ("caller", jsonNumbers(run.caller)),
            ("strings", jsonStrings(strings)),
            ("lanes", "[" + lanes.joined(separator: ",\n") + "]"),
            ("swiftFiles", jsonStrings(files)),
            ("locations", "[" + locationRows.joined(separator: ",") + "]"),
            ("mroSteps", "[" + mroRows.joined(separator: ",\n") + "]"),
            ("pyRanges", "{" + ranges.joined(separator: ",") + "}"),
            ("requests", "[" + run.requests.map { "[\($0.number),\($0.first)]" }.joined(separator: ",") + "]"),
        ])
    }
}

/// A JSON object from encoded values, one member a line.
func objectJSON(_ fields: [(String, String)]) -> String {
    "{" + fields.map { scriptJSON($0.0) + ":" + $0.1 }.joined(separator: ",\n") + "}"
}
