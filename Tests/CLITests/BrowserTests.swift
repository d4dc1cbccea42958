// The reading view in a real browser: headless Chromium (Debian's chromium and
// chromium-driver), driven over WebDriver. Each test makes a site with the built tool, opens
// index.html#step=N for several N, and checks the element `current` against the JSON Lines of
// the same (deterministic) recording; presses keys and checks the step and the highlighted
// lines follow; takes screenshots and checks they are not blank (the browser decodes them);
// and checks that the page asked for nothing but its own file. Where Chromium is not
// installed, the suite is skipped and says so. Set BROWSER_SCREENSHOTS=DIR to keep the
// screenshots.
import Foundation
import TestSupport
import Testing

/// WebDriver's key codes.
enum Key {
    static let right = "\u{E014}", left = "\u{E012}", home = "\u{E011}", end = "\u{E010}", enter = "\u{E007}", space = " "
}

/// A site made by `html` and the JSON Lines of the same run.
struct BrowserSite {
    let directory: TempDir
    let options: [String]
    /// The JSON Lines, one object per event.
    let events: [[String: Any]]

    init(_ options: [String]) throws {
        self.options = options
        directory = try TempDir()
        let made = try runTool(["html"] + options + ["--output", directory.path], timeout: 300)
        guard made.status == 0 else { throw WebDriverError("html \(options) failed: \(made.stderr)") }
        let jsonl = try runTool(["run"] + options + ["--format", "jsonl"], timeout: 300)
        events = try jsonl.stdout.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
        }
    }

    var index: String { "file://\(directory.path)/index.html" }
    var source: String { "file://\(directory.path)/source.html" }
    func size(_ name: String) -> Int { (try? FileManager.default.attributesOfItem(atPath: directory.file(name))[.size] as? Int) ?? 0 }

    /// The `seq` of the first event matching `test`.
    func seq(where test: ([String: Any]) -> Bool) throws -> Int {
        try #require(events.first(where: test)?["seq"] as? Int)
    }

    /// What `#current` must say at `seq`: the JSON Lines' function and py_line, and the Swift
    /// declaration above the probe (`FILE:LINE`), with the ids of the lines to highlight.
    func expected(_ seq: Int) throws -> (step: String, function: String, python: String, swift: String, pyID: String?, swID: String?) {
        let event = try #require(events.first { $0["seq"] as? Int == seq })
        let function = event["function"] as? String ?? ""
        let pyLine = event["py_line"] as? Int
        var swift = ""
        var swID: String?
        if let file = event["swift_file"] as? String, let probe = event["swift_line"] as? Int {
            let line = declarationLine(file, probe)
            swift = "\(file):\(line)"
            swID = "sw0-L\(line)"
        }
        // A function of the traced program has no def in socketserver.py to highlight.
        let pyID = pyLine.map { "py-L\($0)" }
        return (String(seq), function, pyLine.map(String.init) ?? "", swift, pyID, swID)
    }

    /// The line of the `func` or `init` a probe is in (a `dispatched(` call site is its own line).
    func declarationLine(_ fileID: String, _ probe: Int) -> Int {
        let lines = readFile(packageRoot.appendingPathComponent("Sources/\(fileID)").path)
            .split(separator: "\n", omittingEmptySubsequences: false)
        guard probe >= 1, probe <= lines.count, !lines[probe - 1].contains("dispatched(") else { return probe }
        let depth = lines[probe - 1].prefix { $0 == " " }.count
        for line in stride(from: probe - 1, through: 1, by: -1) {
            let text = lines[line - 1]
            let trimmed = text.drop { $0 == " " }
            if text.prefix(while: { $0 == " " }).count < depth, !trimmed.hasPrefix("//"),
                text.contains("func ") || text.contains(" init(") || trimmed.hasPrefix("init(")
            {
                return line
            }
        }
        return probe
    }
}

/// Where screenshots are kept: $BROWSER_SCREENSHOTS; without it they are checked, not kept.
let screenshotFolder = ProcessInfo.processInfo.environment["BROWSER_SCREENSHOTS"]

/// What the page says of `#current` and its highlighted lines.
let readCurrent = """
    var c = document.getElementById('current');
    function visible(el) {
      if (!el) return false;
      var pane = el.closest('.pane').getBoundingClientRect(), r = el.getBoundingClientRect();
      return r.top >= pane.top - 1 && r.bottom <= pane.bottom + 1;
    }
    var py = document.querySelector('#py .ln.hl');
    var sw = document.querySelector('.sw-panel .pane:not([hidden]) .ln.hl');
    return [c.getAttribute('data-step'), c.getAttribute('data-function'), c.getAttribute('data-python-line'),
            c.getAttribute('data-swift-line'), py ? py.id : '', sw ? sw.id : '', visible(py) || !py, visible(sw) || !sw,
            location.hash, document.getElementById('py-L1') !== null];
    """

@Suite("BrowserTests", .serialized, .enabled(if: Browser.available, Comment(rawValue: Browser.skipReason)))
struct BrowserTests {
    /// Checks `#current` and the highlighted lines at `seq` against the JSON Lines.
    func checkStep(_ browser: WebDriver, _ site: BrowserSite, _ seq: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let want = try site.expected(seq)
        // The address follows a moment after the step (it is rewritten at most every 120 ms).
        _ = waitUntil(timeout: 3) { (try? browser.run("return location.hash;") as? String) == "#step=\(seq)" }
        let got = try #require(try browser.run(readCurrent) as? [Any], sourceLocation: sourceLocation)
        let text = got.map { "\($0)" }
        #expect(text[0] == want.step, "data-step", sourceLocation: sourceLocation)
        #expect(text[1] == want.function, "data-function at \(seq)", sourceLocation: sourceLocation)
        #expect(text[2] == want.python, "data-python-line at \(seq)", sourceLocation: sourceLocation)
        #expect(text[3] == want.swift, "data-swift-line at \(seq)", sourceLocation: sourceLocation)
        #expect(text[8] == "#step=\(seq)", "the address names the step", sourceLocation: sourceLocation)
        let pythonShown = got[9] as? Bool == true
        if pythonShown, let pyID = want.pyID {
            #expect(text[4] == pyID, "highlighted Python line at \(seq) (\(want.function))", sourceLocation: sourceLocation)
        } else {
            #expect(text[4] == "", "no Python line at \(seq) (\(want.function))", sourceLocation: sourceLocation)
        }
        #expect(text[5] == (want.swID ?? ""), "highlighted Swift line at \(seq)", sourceLocation: sourceLocation)
        #expect(got[6] as? Bool == true && got[7] as? Bool == true, "the highlighted lines are scrolled into view at \(seq)",
                sourceLocation: sourceLocation)
    }

    /// Opens `#step=seq` and checks it.
    func open(_ browser: WebDriver, _ site: BrowserSite, step seq: Int) throws {
        try browser.open(site.index + "#step=\(seq)")
        try checkStep(browser, site, seq)
    }

    /// Takes a screenshot, keeps it as `name` (with BROWSER_SCREENSHOTS), and checks with the
    /// browser's own PNG decoder that it is not blank: many colours, and ink on a good part of
    /// it. Returns where it was kept.
    @discardableResult
    func screenshot(_ browser: WebDriver, _ name: String) throws -> String {
        let png = try browser.screenshot()
        var path = "\(name) (not kept: set BROWSER_SCREENSHOTS=DIR to keep it)"
        if let folder = screenshotFolder {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            path = folder + "/" + name
            try png.write(to: URL(fileURLWithPath: path))
        }
        try browser.open("about:blank")
        let decode = """
            var done = arguments[arguments.length - 1], image = new Image();
            image.onload = function () {
              var canvas = document.createElement('canvas');
              canvas.width = image.width; canvas.height = image.height;
              var g = canvas.getContext('2d'); g.drawImage(image, 0, 0);
              var data = g.getImageData(0, 0, canvas.width, canvas.height).data, colours = new Set(), ink = 0, seen = 0;
              for (var i = 0; i < data.length; i += 4 * 7) {
                seen++; colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
                if (data[i] < 160 || data[i + 1] < 160 || data[i + 2] < 160) ink++;
              }
              done([image.width, image.height, colours.size, ink / seen]);
            };
            image.onerror = function () { done([0, 0, 0, 0]); };
            image.src = 'data:image/png;base64,' + arguments[0];
            """
        let stats = try #require(try browser.runAsync(decode, [png.base64EncodedString()]) as? [Double])
        #expect(stats[0] > 300 && stats[1] > 300, "\(name): \(stats)")
        #expect(stats[2] >= 16, "\(name) has \(Int(stats[2])) colours: blank?")
        #expect(stats[3] > 0.01, "\(name): only \(stats[3]) of it is ink: blank?")
        _ = try browser.requestedURLs()  // the decoding page's own entries
        return path
    }

    /// Since the last look at the network log, the site's pages asked only for files of their
    /// own folder, and fetched no resource; `loaded` names the page that must have been loaded.
    func checkOnlyOwnFiles(
        _ browser: WebDriver, _ site: BrowserSite, loaded: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let resources = try browser.run("return performance.getEntriesByType('resource').map(function (e) { return e.name; });") as? [String]
        #expect(resources == [], "the page fetched \(resources ?? [])", sourceLocation: sourceLocation)
        let folder = "file://\(site.directory.path)/"
        let asked = try browser.requestedURLs().filter { $0.page.hasPrefix(folder) }
        #expect(asked.contains { $0.url.hasPrefix(folder + loaded) }, "the network log does not show \(loaded) loading: \(asked)",
                sourceLocation: sourceLocation)
        for (url, page) in asked {
            #expect(url.hasPrefix(folder), "\(page) asked for \(url)", sourceLocation: sourceLocation)
        }
    }

    /// Makes the site of a run with `options`, opens a browser on it, and ends both after `body`.
    func withSite(
        _ options: [String], phone: Bool = false, seconds: Double = 240, _ body: (BrowserSite, WebDriver) throws -> Void
    ) throws {
        let site = try BrowserSite(options)
        defer { site.directory.remove() }
        let browser = phone ? try WebDriver(width: 390, height: 844, phone: true, seconds: seconds) : try WebDriver(seconds: seconds)
        defer { browser.close() }
        try body(site, browser)
    }

    /// The time the page takes for one step forward, layout included, over `steps` steps (ms).
    func stepTime(_ browser: WebDriver, steps: Int) throws -> Double {
        try #require(try browser.run("""
            var t0 = performance.now();
            for (var k = 0; k < \(steps); k++) {
              document.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
              document.getElementById('current').offsetHeight;
            }
            return (performance.now() - t0) / \(steps);
            """) as? Double)
    }

    @Test("the default run: #step=N for several N, the keys, the buttons, no request elsewhere", .timeLimit(.minutes(5)))
    func defaultRun() throws {
        try withSite([]) { site, browser in try defaultRun(site, browser) }
    }

    func defaultRun(_ site: BrowserSite, _ browser: WebDriver) throws {
        let last = site.events.count - 1
        let getRequest = try site.seq { $0["function"] as? String == "TCPServer.get_request" }
        let process = try site.seq { $0["function"] as? String == "BaseServer.process_request" }
        let handle = try site.seq { $0["function"] as? String == "MyTCPHandler.handle" }
        for seq in [0, getRequest, handle, last, process] { try open(browser, site, step: seq) }
        try checkOnlyOwnFiles(browser, site, loaded: "index.html")
        // The arrow keys move one event and the highlighted lines follow; Home and End.
        try browser.press([Key.right])
        try checkStep(browser, site, process + 1)
        try browser.press([Key.right, Key.right])
        try checkStep(browser, site, process + 3)
        try browser.press([Key.left])
        try checkStep(browser, site, process + 2)
        try browser.press([Key.end])
        try checkStep(browser, site, last)
        try browser.press([Key.home])
        print("browser: the default run (\(site.events.count) events): index.html \(site.size("index.html")) bytes, "
            + "source.html \(site.size("source.html")) bytes; one step \(String(format: "%.2f", try stepTime(browser, steps: 30))) ms in the page")
        try browser.press([Key.end])
        try browser.press([Key.right])
        try checkStep(browser, site, last)
        try browser.press([Key.home])
        try checkStep(browser, site, 0)
        // Keyboard only: a button takes Enter and Space; the request box takes a number.
        _ = try browser.run("document.getElementById('forward').focus();")
        try browser.press([Key.enter, Key.space])
        try checkStep(browser, site, 2)
        #expect(try browser.run("return document.activeElement.id;") as? String == "forward")
        _ = try browser.run("document.getElementById('request').focus();")
        try browser.press(["1", Key.enter])
        try checkStep(browser, site, try site.seq { $0["request"] as? Int == 1 })
        // A step the run does not have opens the first, and says so.
        try browser.open(site.index + "#step=999999")
        #expect(try browser.run("return document.getElementById('current').getAttribute('data-step');") as? String == "0")
        #expect((try browser.run("return document.getElementById('jump-note').textContent;") as? String)?.contains("no step 999999") == true)
        try browser.open("about:blank")
        try browser.open(site.index + "#step=\(process)")
        try checkOnlyOwnFiles(browser, site, loaded: "index.html")
        try screenshot(browser, "stepper-default-1280x800.png")
        try browser.open(site.source + "#fn-BaseServer.process_request")
        try checkOnlyOwnFiles(browser, site, loaded: "source.html")
        let target = try browser.run("return document.getElementById('fn-BaseServer.process_request').getBoundingClientRect().top;") as? Double
        #expect(target.map { $0 >= -1 && $0 < 200 } == true, "source.html#fn-… scrolls to its row: \(String(describing: target))")
        try screenshot(browser, "source-default-1280x800.png")
    }

    @Test("a ThreadingTCPServer run: worker threads in lanes of their own", .timeLimit(.minutes(5)))
    func threading() throws {
        try laneRun(
            ["--server", "ThreadingTCPServer", "--requests", "3"], lane: ("thread", "T3"),
            also: ["ThreadingMixIn.process_request", "ThreadingMixIn.server_close"],
            key: Key.left, moves: -1, screenshot: "stepper-threading-1280x800.png"
        ) { browser in
            let lanes = try browser.run("return document.querySelectorAll('.lane-table tbody tr').length;") as? Int
            #expect(lanes == 5, "T0, the serving thread and three workers")
        }
    }

    @Test("a ForkingTCPServer run: each child a lane, its stack going on in the parent's", .timeLimit(.minutes(5)))
    func forking() throws {
        try laneRun(
            ["--server", "ForkingTCPServer", "--requests", "2"], lane: ("process", "P2"),
            also: ["ForkingMixIn.process_request", "ForkingMixIn.collect_children"],
            key: Key.right, moves: 1, screenshot: "stepper-forking-1280x800.png"
        ) { browser in
            let stack = try browser.run("return Array.prototype.map.call(document.querySelectorAll('#stack li'), function (li) { return li.textContent; });") as? [String]
            #expect(stack?.contains { $0.contains("ForkingMixIn.process_request") && $0.contains("before the fork") } == true,
                    "the child's stack goes on in the parent's call: \(stack ?? [])")
        }
    }

    /// A run with `options` that serves requests on other threads or in other processes: opens
    /// the first step of the lane (the first event whose JSON Lines `field` has `value`) and of
    /// each function of `also`; at the lane's step, checks what the page `shows`, then that `key`
    /// moves `moves` steps; checks the page asked for nothing else and takes a screenshot.
    func laneRun(
        _ options: [String], lane: (field: String, value: String), also functions: [String], key: String, moves: Int,
        screenshot name: String, shows: (WebDriver) throws -> Void
    ) throws {
        try withSite(options) { site, browser in
            let first = try site.seq { $0[lane.field] as? String == lane.value }
            let others = try functions.map { function in try site.seq { $0["function"] as? String == function } }
            for seq in [first] + others { try open(browser, site, step: seq) }
            try browser.open(site.index + "#step=\(first)")
            try shows(browser)
            try browser.press([key])
            try checkStep(browser, site, first + moves)
            try checkOnlyOwnFiles(browser, site, loaded: "index.html")
            try screenshot(browser, name)
        }
    }

    @Test("phone width: one column, nothing wider than the screen", .timeLimit(.minutes(5)))
    func phoneWidth() throws {
        try withSite(["--server", "ForkingTCPServer", "--requests", "2"], phone: true) { site, browser in try phoneWidth(site, browser) }
    }

    func phoneWidth(_ site: BrowserSite, _ browser: WebDriver) throws {
        let child = try site.seq { $0["process"] as? String == "P1" }
        for page in [site.index + "#step=\(child)", site.source] {
            try browser.open(page)
            let widths = try #require(try browser.run("return [document.documentElement.scrollWidth, window.innerWidth];") as? [Int])
            let wide = try browser.run("""
                var out = [], widest = null, right = 0;
                document.querySelectorAll('body *').forEach(function (e) {
                  var r = e.getBoundingClientRect();
                  if (r.right > right) { right = r.right; widest = e; }
                  if (r.right > 391 && out.length < 8) out.push(e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(r.right));
                  if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible' && out.length < 8)
                    out.push('overflowing ' + e.tagName + '.' + e.className + '#' + e.id + ' ' + e.scrollWidth + '>' + e.clientWidth + ' ' + (e.textContent || '').slice(0, 60));
                });
                out.push('widest ' + (widest ? widest.tagName + '.' + widest.className + ' ' + Math.round(right) : ''));
                out.push('scale ' + (window.visualViewport ? visualViewport.scale : '?') + ' body ' + document.body.scrollWidth);
                return out;
                """) as? [String] ?? []
            #expect(widths == [390, 390], "\(page) is wider than a phone's 390 px: \(widths), \(wide)")
        }
        try browser.open(site.index + "#step=\(child)")
        try checkStep(browser, site, child)
        try screenshot(browser, "stepper-forking-390x844.png")
        try browser.open(site.source)
        try screenshot(browser, "source-390x844.png")
    }

    @Test("a 1,000-request trace opens and steps (the times are printed, not judged)", .timeLimit(.minutes(10)))
    func thousandRequests() throws {
        let started = now()
        try withSite(["--requests", "1000"], seconds: 400) { site, browser in
            try thousandRequests(site, browser, made: now() - started)
        }
    }

    func thousandRequests(_ site: BrowserSite, _ browser: WebDriver, made: Double) throws {
        let opening = now()
        try browser.open(site.index + "#step=0")
        let opened = now() - opening
        let times = try #require(try browser.run("""
            var n = performance.getEntriesByType('navigation')[0];
            return [n.domContentLoadedEventEnd, n.loadEventEnd, window.stepperReady];
            """) as? [Double])
        let perStep = try stepTime(browser, steps: 200)
        try checkStep(browser, site, 200)
        let pressing = now()
        for _ in 0..<20 { try browser.press([Key.right]) }
        let perPress = (now() - pressing) / 20
        try checkStep(browser, site, 220)
        _ = try browser.run("document.getElementById('request').focus();")
        try browser.press(["5", "0", "0", Key.enter])
        try checkStep(browser, site, try site.seq { $0["request"] as? Int == 500 })
        try browser.press([Key.end])
        try checkStep(browser, site, site.events.count - 1)
        try checkOnlyOwnFiles(browser, site, loaded: "index.html")
        let shot = try screenshot(browser, "stepper-1000-requests-1280x800.png")
        print("""
            browser: 1000-request trace (\(site.events.count) events): index.html \(site.size("index.html")) bytes, \
            source.html \(site.size("source.html")) bytes, made in \(String(format: "%.1f", made)) s (html and run --format jsonl); \
            opened through WebDriver in \(Int(opened * 1000)) ms; DOMContentLoaded \(Int(times[0])) ms, load \(Int(times[1])) ms, \
            stepper ready \(Int(times[2])) ms; one step \(String(format: "%.2f", perStep)) ms in the page, \
            one key press \(Int(perPress * 1000)) ms through WebDriver; screenshot \(shot)
            """)
    }
}
