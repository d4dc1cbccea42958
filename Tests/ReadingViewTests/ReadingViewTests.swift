// The reading view without a browser: its JSON reader against Python's words, a run read from
// the golden JSON Lines (pairs, call stacks, where each lane came from), the Swift locations
// and callers read from the real sources, escaping, and byte-identical pages.
import Foundation
import Testing
import Tracing

@testable import ReadingView

/// The package's folder.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

func golden(_ name: String) throws -> String {
    try String(contentsOf: packageRoot.appendingPathComponent("Tests/CLITests/Golden/\(name)"), encoding: .utf8)
}

/// The port's sources, as the html command reads them.
let portSources: SwiftSources = {
    let folder = packageRoot.appendingPathComponent("Sources/SocketServer")
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.filter { $0.hasSuffix(".swift") }.sorted() ?? []
    let ordered = names.filter { $0 == "SocketServer.swift" } + names.filter { $0 != "SocketServer.swift" }
    return SwiftSources(ordered.map { name in
        SwiftSourceFile(
            fileID: "SocketServer/" + name,
            text: (try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)) ?? "")
    })
}()

@Suite("JSONReaderTests")
struct JSONReaderTests {
    @Test("values, escapes and surrogate pairs")
    func values() throws {
        let value = try parseJSON(#" {"a": [1, -2.5e3, true, false, null], "b": "x\"\\\/\n\u00e9\ud83d\ude00\ud800", "a": 3} "#)
        #expect(value["a"] == .number("3"))
        #expect(value["b"]?.string == "x\"\\/\né😀\u{FFFD}")
        guard case .object(let members) = value, case .array(let items) = members[0].1 else {
            Issue.record("not an object with an array first: \(value)")
            return
        }
        #expect(items == [.number("1"), .number("-2.5e3"), .bool(true), .bool(false), .null])
        #expect(try parseJSON("12").int == 12)
        #expect(try parseJSON("1.5").int == nil)
    }

    /// Each bad text, and what CPython's `json.loads` says of it (checked with CPython 3.13).
    static let bad: [(String, String)] = [
        (#"{"a" 1}"#, "Expecting ':' delimiter: line 1 column 6 (char 5)"),
        ("[1,]", "Expecting value: line 1 column 4 (char 3)"),
        (#"{"a":1"#, "Expecting ',' delimiter: line 1 column 7 (char 6)"),
        (#""abc"#, "Unterminated string starting at: line 1 column 1 (char 0)"),
        (#"{"a":1}x"#, "Extra data: line 1 column 8 (char 7)"),
        ("{1:2}", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        ("", "Expecting value: line 1 column 1 (char 0)"),
        ("[1 2]", "Expecting ',' delimiter: line 1 column 4 (char 3)"),
        (#"{"a":"\q"}"#, "Invalid \\escape: line 1 column 7 (char 6)"),
        (#"{"é":"x" 1}"#, "Expecting ',' delimiter: line 1 column 10 (char 9)"),
        (#"{"a": tru}"#, "Expecting value: line 1 column 7 (char 6)"),
        ("-", "Expecting value: line 1 column 1 (char 0)"),
        ("\"a\tb\"", "Invalid control character at: line 1 column 3 (char 2)"),
    ]

    @Test("bad JSON gets Python's message", arguments: bad.indices)
    func errors(_ index: Int) {
        let (text, message) = Self.bad[index]
        do {
            _ = try parseJSON(text)
            Issue.record("\(text) parsed")
        } catch {
            #expect(error.description == message, "\(text)")
        }
    }

    @Test("nesting too deep is refused, not a crash")
    func deep() {
        #expect(throws: JSONError.self) { try parseJSON(String(repeating: "[", count: 100_000)) }
    }
}

@Suite("SteppedRunTests")
struct SteppedRunTests {
    @Test("the forking run: a child per request, forked from the serving thread, its first call inside the parent's")
    func forking() throws {
        let run = try SteppedRun(jsonl: try golden("forking.jsonl"))
        #expect(run.lanes.map(\.label) == ["P0/T0", "P0/T1", "P1/T1", "P2/T1"])
        #expect(run.lanes[0].origin == .main)
        #expect(run.lanes[1].origin == .thread(from: 0, at: 7))
        let fork = run.events.firstIndex { $0.function == "ForkingMixIn.process_request" && $0.kind == .call }!
        #expect(run.lanes[2].origin == .fork(from: 1, at: fork))
        let childFirst = run.lanes[2].first
        #expect(run.events[childFirst].function == "BaseServer.finish_request")
        #expect(run.caller[childFirst] == fork, "the child's first call is inside the parent's process_request")
        // Every call has its end, in its own lane.
        for (index, event) in run.events.enumerated() {
            #expect(run.partner[index] >= 0, "\(event.seq) \(event.function) has no pair")
            if run.partner[index] >= 0 { #expect(run.laneOf[run.partner[index]] == run.laneOf[index]) }
        }
        #expect(run.requests.map(\.number) == [1, 2])
    }

    @Test("the threading run: each worker thread started by process_request's lane")
    func threading() throws {
        let run = try SteppedRun(jsonl: try golden("threading.jsonl"))
        #expect(run.lanes.map(\.label) == ["P0/T0", "P0/T1", "P0/T2", "P0/T3"])
        for worker in run.lanes[2...] {
            guard case .thread(let from, let at) = worker.origin else {
                Issue.record("\(worker.label) is not a thread: \(worker.origin)")
                continue
            }
            #expect(from == 1)
            // The serving thread is inside process_request when the worker starts.
            var frame = at
            var stack: [String] = []
            while frame >= 0 {
                stack.append(run.events[frame].function)
                frame = run.caller[frame]
            }
            #expect(stack.contains("ThreadingMixIn.process_request"), "\(stack)")
            #expect(run.caller[worker.first] == -1, "a thread starts with an empty stack")
        }
    }

    @Test("a file that is no trace says which line and why")
    func badFiles() {
        let cases: [(String, String)] = [
            ("", "line 1: no events: the file is empty"),
            ("{\"seq\": 0}\n", "line 1: no \"event\""),
            ("\n\n[1]\n", "line 3: expected a JSON object"),
            (#"{"seq":0,"event":"call","function":"f","process":"P0","thread":"T0"}"# + "\n{\"seq\":1,", "line 2: Expecting property name enclosed in double quotes: line 1 column 10 (char 9)"),
            (#"{"seq":0,"event":"jump","function":"f","process":"P0","thread":"T0"}"#, #"line 1: "event" must be "call", "return" or "raise", not "jump""#),
            (#"{"seq":"0","event":"call","function":"f","process":"P0","thread":"T0"}"#, #"line 1: "seq" must be a whole number or null"#),
        ]
        for (text, message) in cases {
            do {
                _ = try SteppedRun(jsonl: text)
                Issue.record("\(text) was read")
            } catch {
                #expect(error.description == message)
            }
        }
    }

    @Test("the least a line needs: no self, no Swift, no depth")
    func minimal() throws {
        let run = try SteppedRun(jsonl: #"{"seq":5,"event":"call","function":"BaseServer.serve_forever","process":"P0","thread":"T0"}"#)
        #expect(run.events[0].selfClass == "BaseServer")
        #expect(run.events[0].swiftFile == nil)
        #expect(run.index(ofSeq: 5) == 0)
        #expect(run.index(ofSeq: 0) == nil)
    }
}

@Suite("SwiftSourceTests")
struct SwiftSourceTests {
    @Test("every probe of every golden run maps to the declaration of its function (or stays at its call site)",
          arguments: ["sync", "threading", "forking", "udp", "unix", "reject", "error", "timeout"])
    func locations(_ name: String) throws {
        let run = try SteppedRun(jsonl: try golden("\(name).jsonl"))
        let lines = portSources.files[0].lines
        for event in run.events {
            let location = try #require(portSources.location(fileID: event.swiftFile!, probe: event.swiftLine!))
            let header = lines[location.line - 1]
            if location.isCallSite {
                #expect(header.contains("dispatched(\"\(event.method)\""), "\(event.function): \(header)")
                continue
            }
            let base = String(event.swift.prefix { $0 != "(" })
            #expect(isFunctionHeader(header), "\(event.function) → \(location.line): \(header)")
            #expect(header.contains(base == "init" ? "init(" : "func \(base)("), "\(event.function) (\(event.swift)) → \(location.line): \(header)")
            #expect(location.line < location.probe && location.probe <= location.end)
        }
    }

    @Test("callers, from the port's call sites")
    func callers() {
        let callers = portSources.callers
        #expect(callers["BaseServer.finish_request"] == [
            "BaseServer.process_request", "ForkingMixIn.process_request", "ThreadingMixIn.process_request_thread",
        ])
        #expect(callers["_Threads.reap"] == ["_Threads.append"])
        #expect(callers["_Threads.pop_all"] == ["_Threads.join"])
        #expect(callers["BaseRequestHandler.__init__"] == ["BaseServer.finish_request"])
        #expect(callers["BaseServer.__init__"] == ["TCPServer.__init__"])
        #expect(callers["_Threads.append"] == ["ThreadingMixIn.process_request"])
        #expect(callers["TCPServer.server_close"]?.contains("ThreadingMixIn.server_close") == true)
        #expect(callers["TCPServer.server_close"]?.contains("BaseServer.__exit__") == true)
        #expect(callers["BaseServer.serve_forever"] == nil, "a user calls serve_forever")
    }

    @Test("every tagged declaration: its name, its line in Python, its extent")
    func declarations() {
        let declarations = portSources.declarations
        #expect(declarations.count > 150)
        let serveForever = declarations.first { $0.pythonName == "BaseServer.serve_forever" }
        #expect(serveForever?.pythonLine == 218)
        #expect(serveForever?.swiftName == "serveForever")
        #expect(serveForever?.enclosingType == "BaseServer")
        let baseServer = declarations.first { $0.pythonName == "BaseServer" }
        #expect(baseServer?.isType == true)
        #expect(baseServer.map { $0.shownEnd == $0.line } == true)
        for declaration in declarations {
            #expect(declaration.docStart < declaration.line && declaration.line <= declaration.end, "\(declaration.pythonName)")
        }
    }

    @Test("the end of a declaration: braces in strings, interpolations and comments do not count")
    func ends() {
        let lines = [
            "func a() {",
            #"    let s = "}\(f("{"))}" // }"#,
            "    /* { */",
            #"    let t = """"#,
            "    }",
            #"    """"#,
            "}",
            "func b()",
        ]
        #expect(declarationEnd(lines, from: 1) == 7)
        #expect(declarationEnd(lines, from: 8) == 8)
    }
}

@Suite("ReadingSiteTests")
struct ReadingSiteTests {
    func site(_ jsonl: String, python: PythonSource = PythonSource(text: nil, origin: "none here")) throws -> ReadingSite {
        ReadingSite(
            run: try SteppedRun(jsonl: jsonl), title: "a <test> run", swift: portSources, python: python,
            scenarios: [ReadingScenario(name: "default", summary: "the notes' example", arguments: "", functions: ["BaseServer.serve_forever"])])
    }

    @Test("the same inputs make byte-identical pages")
    func deterministic() throws {
        let first = try site(try golden("threading.jsonl")).files
        let second = try site(try golden("threading.jsonl")).files
        #expect(first.map(\.name) == ["index.html", "source.html"])
        #expect(first.map(\.contents) == second.map(\.contents))
    }

    @Test("what a client sent cannot become markup or a terminal escape")
    func escaping() throws {
        let hostile = #"request=b'</script><img src=x onerror=alert(1)>\u001b[31m<!--'"#
        let jsonl = #"{"seq":0,"event":"call","function":"BaseServer.verify_request","self":"TCPServer\u202e","process":"P0","thread":"T0","detail":"\#(hostile)"}"#
        let page = try site(jsonl).files[0].contents
        let data = try #require(page.components(separatedBy: "<script id=\"trace-data\" type=\"application/json\">").last?
            .components(separatedBy: "</script>").first)
        #expect(!data.contains("<"), "the data holds no markup")
        #expect(data.contains(#"\\x1b[31m"#), "the escape character is shown as Python writes it")
        #expect(data.contains(#"TCPServer\\u202e"#), "a direction mark is shown, not obeyed")
        #expect(!page.contains("<img"))
        #expect(html("<a href='x'>&\"") == "&lt;a href=&#39;x&#39;&gt;&amp;&quot;")
        #expect(page.contains("<title>Stepper: a &lt;test&gt; run</title>"))
    }

    @Test("the pages link only to themselves and each other, and allow nothing else to load")
    func selfContained() throws {
        for page in try site(try golden("forking.jsonl")).files.map(\.contents) {
            #expect(page.contains("Content-Security-Policy\" content=\"default-src 'none'"))
            for attribute in ["src=\"", "href=\""] {
                for piece in page.components(separatedBy: attribute).dropFirst() {
                    let target = String(piece.prefix { $0 != "\"" })
                    #expect(target.hasPrefix("#") || target.hasPrefix("index.html#") || target.hasPrefix("source.html")
                        || target == "index.html", "\(attribute)\(target)")
                }
            }
            #expect(!page.contains("://"), "no address of another place")
        }
    }

    @Test("the stepper's data: one entry per event, Swift lines at their declarations")
    func stepperData() throws {
        let site = try site(try golden("sync.jsonl"))
        let page = site.files[0].contents
        let data = try #require(page.components(separatedBy: "<script id=\"trace-data\" type=\"application/json\">").last?
            .components(separatedBy: "</script>").first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any])
        let seq = try #require(object["seq"] as? [Int])
        #expect(seq == Array(0..<40))
        let strings = try #require(object["strings"] as? [String])
        let swText = try #require(object["swText"] as? [Int])
        let getRequest = site.run.events.firstIndex { $0.function == "TCPServer.get_request" }!
        #expect(strings[swText[getRequest]] == "SocketServer/SocketServer.swift:639")
        let handle = site.run.events.firstIndex { $0.function == "MyTCPHandler.handle" }!
        #expect(strings[swText[handle]] == "SocketServer/SocketServer.swift:\(site.run.events[handle].swiftLine!)", "a call site stays")
    }

    @Test("without CPython's file the source view shows the Swift column alone, with the Python lines")
    func swiftOnly() throws {
        let page = try site(try golden("sync.jsonl")).files[1].contents
        #expect(page.contains("swift-only"))
        #expect(page.contains("Lib/socketserver.py:218"))
        #expect(!page.contains("id=\"py-L1\""))
    }

    @Test("with CPython's file, every Python line appears once, beside its Swift")
    func aligned() throws {
        let lines = (1...800).map { "# line \($0)" }.joined(separator: "\n")
        let page = try site(try golden("sync.jsonl"), python: PythonSource(text: lines, origin: "a stand-in")).files[1].contents
        for number in [1, 218, 500, 800] {
            #expect(page.components(separatedBy: "id=\"py-L\(number)\"").count == 2, "line \(number)")
        }
        #expect(page.contains("id=\"fn-BaseServer.serve_forever\""))
        #expect(page.contains("href=\"#mro-ThreadingTCPServer\"") || page.contains("id=\"mro-ThreadingTCPServer\""))
    }
}

@Suite("MROStepTests")
struct MROStepTests {
    @Test("ThreadingTCPServer.process_request: ThreadingMixIn's, which hides BaseServer's")
    func mixin() {
        let step = MROStep(selfClass: "ThreadingTCPServer", method: "process_request", definingClass: "ThreadingMixIn")
        #expect(step.rows.map(\.className) == ["ThreadingTCPServer", "ThreadingMixIn", "TCPServer", "BaseServer", "object"])
        #expect(step.rows.filter(\.ran).map(\.className) == ["ThreadingMixIn"])
        #expect(step.rows.filter(\.defines).map(\.className) == ["ThreadingMixIn", "BaseServer"])
        #expect(step.note.contains("ThreadingMixIn is the first class") && step.note.contains("hides the version of BaseServer"))
    }

    @Test("a class of the traced program")
    func userClass() {
        let own = MROStep(selfClass: "MyTCPHandler", method: "handle", definingClass: "MyTCPHandler")
        #expect(own.rows == [MROStep.Row(className: "MyTCPHandler", defines: true, ran: true)])
        let inherited = MROStep(selfClass: "MyTCPHandler", method: "setup", definingClass: "BaseRequestHandler")
        #expect(inherited.rows.first?.className == "MyTCPHandler")
        #expect(inherited.rows.filter(\.ran).map(\.className) == ["BaseRequestHandler"])
    }
}
