// The sequence views as a reader sees them: every Mermaid diagram the package writes (the
// golden files, the Walkthrough's blocks, every scenario of `run`, the lifecycle diagram) is
// valid for the checker of Mermaid's grammar in TestSupport, which is itself checked on
// samples Mermaid accepts and rejects; and the diagrams stay small and talk between objects.
import Foundation
import TestSupport
import Testing

/// The arrows of a Mermaid diagram: (sender, receiver) of each message line.
func mermaidArrows(_ text: String) -> [(from: String, to: String)] {
    text.split(separator: "\n").compactMap { line in
        let statement = line.drop { $0 == " " }
        guard let colon = statement.firstIndex(of: ":"), !statement.hasPrefix("Note") else { return nil }
        let head = statement[..<colon]
        guard let arrow = MermaidSequence.arrows.first(where: { head.contains($0) }),
            let range = head.range(of: arrow)
        else { return nil }
        let to = head[range.upperBound...].drop { $0 == "+" || $0 == "-" }
        return (String(head[..<range.lowerBound]), String(to))
    }
}

@Suite("Mermaid checker")
struct MermaidCheckerTests {
    /// Diagrams of the documentation's kinds that Mermaid draws.
    static let valid: [String] = [
        "sequenceDiagram\n    participant A\n    participant B\n    A->>B: Hello\n    B-->>A: Great!\n    A-)B: See you later!\n",
        "sequenceDiagram\n    actor A as Alice\n    participant J as John\n    A->>+J: Hi #59; there\n    J-->>-A: fine #35;1\n",
        "sequenceDiagram\n    box P0 T1 a thread\n        participant S as Server\n    end\n    box transparent Aqua\n        participant C\n    end\n    C-xS: lost\n    S--xC: #101;nd\n",
        "sequenceDiagram\n    participant A\n    participant B\n    loop every minute\n        par a\n            A->>B: x\n        and b\n            B->>A: y\n        end\n    end\n",
        "sequenceDiagram\n    participant A\n    participant B\n    A->>B: x\n    activate B\n    Note right of B: one<br>two\n    Note over A,B: both\n    deactivate B\n",
        "sequenceDiagram\n    %% a comment\n    participant A\n    rect rgb(235, 243, 255)\n    Note over A: 1. phase\n    end\n",
        "sequenceDiagram\n    participant A\n    participant B\n    alt ok\n        A->B: a\n    else not ok\n        A-->B: b\n    end\n    opt maybe\n        A--)B: c\n    end\n",
    ]

    /// Diagrams Mermaid rejects or draws other than meant, each with what the checker says.
    static let invalid: [(text: String, problem: String)] = [
        ("participant A\n", "does not start with sequenceDiagram"),
        ("sequenceDiagram\n    participant A\n    A->>A: a; b\n", "raw ;"),
        ("sequenceDiagram\n    participant A\n    Note right of A: #1 here\n", "raw #"),
        ("sequenceDiagram\n    participant A\n    A->>B: hi\n", "B is not declared"),
        ("sequenceDiagram\n    participant end\n", "bad participant id end"),
        ("sequenceDiagram\n    participant Note\n", "bad participant id Note"),
        ("sequenceDiagram\n    participant A\n    loop x\n", "is not closed"),
        ("sequenceDiagram\n    participant A\n    and x\n", "and outside par"),
        ("sequenceDiagram\n    participant A\n    end\n", "end without a block"),
        ("sequenceDiagram\n    participant A\n    deactivate A\n", "which is not active"),
        ("sequenceDiagram\n    participant A\n    participant B\n    A->>-B: x\n", "which is not active"),
        ("sequenceDiagram\n    box Aqua\n        participant A\n    end\n", "read as a colour"),
        ("sequenceDiagram\n    box P0 x\n        participant A\n        A->>A: x\n    end\n", "participant declarations only"),
        ("sequenceDiagram\n    participant A\n    A->>A:\n", "an empty text"),
        ("sequenceDiagram\n    participant A\n    A->>A: \n", "an empty text"),
        ("sequenceDiagram\n    participant A\n    A=>>A: x\n", "unknown arrow"),
        ("sequenceDiagram\n    participant A\n    A->>A: <socket fd=3>\n", "read as HTML"),
        ("sequenceDiagram\n    participant A\n    Note right of A: the end\n", "the word end"),
        ("sequenceDiagram\n    participant A\n    participant A\n", "declared twice"),
        ("sequenceDiagram\n    participant A\n    A->>A: 100%% done\n", "%%"),
        ("sequenceDiagram\n    participant A\n    A->>A: x", "newline"),
    ]

    @Test("accepts what Mermaid's documentation draws")
    func acceptsValid() {
        for text in Self.valid {
            #expect(MermaidSequence.problems(text).isEmpty, "\(text)\n\(MermaidSequence.problems(text))")
        }
    }

    @Test("rejects what Mermaid rejects, and what it would draw otherwise than meant")
    func rejectsInvalid() {
        for (text, problem) in Self.invalid {
            let problems = MermaidSequence.problems(text)
            #expect(problems.contains { $0.contains(problem) }, "\(text)\ngot: \(problems)")
        }
    }
}

@Suite("Sequence diagrams", .serialized)
struct SequenceDiagramTests {
    @Test("every Mermaid golden file passes the checker", .timeLimit(.minutes(1)))
    func goldens() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: goldenDirectory.path).filter { $0.hasSuffix(".mmd") }
        #expect(files.count >= 8)
        for file in files {
            let text = try String(contentsOf: goldenDirectory.appendingPathComponent(file), encoding: .utf8)
            #expect(MermaidSequence.problems(text).isEmpty, "\(file): \(MermaidSequence.problems(text))")
        }
    }

    @Test("every Mermaid sequence diagram of the Walkthrough and of diagrams/ passes the checker", .timeLimit(.minutes(1)))
    func documents() throws {
        var files = try Walkthrough.files()
        files.append(packageRoot.appendingPathComponent("diagrams/README.md"))
        var checked = 0
        for file in files {
            let lines = try Walkthrough.lines(of: file)
            var index = 0
            while index < lines.count {
                guard let (fence, language) = Walkthrough.fenceOpening(lines[index]), language == "mermaid",
                    let close = lines[(index + 1)...].firstIndex(of: fence)
                else {
                    index += 1
                    continue
                }
                let block = lines[(index + 1)..<close]
                if block.first == "sequenceDiagram" {
                    let text = block.joined(separator: "\n") + "\n"
                    #expect(MermaidSequence.problems(text).isEmpty, "\(file.lastPathComponent):\(index + 1): \(MermaidSequence.problems(text))")
                    checked += 1
                }
                index = close + 1
            }
        }
        #expect(checked >= 4, "the three diagrams of chapter 3 and the lifecycle")
        let lifecycle = try String(contentsOf: packageRoot.appendingPathComponent("diagrams/lifecycle.mmd"), encoding: .utf8)
        #expect(MermaidSequence.problems(lifecycle).isEmpty, "\(MermaidSequence.problems(lifecycle))")
    }

    @Test("every scenario of run draws a valid diagram, in both modes", .timeLimit(.minutes(4)))
    func everyScenario() throws {
        let scenarios: [[String]] = [
            ["--server", "TCPServer"], ["--server", "UDPServer", "--handler", "datagram"],
            ["--server", "ForkingUDPServer", "--handler", "datagram"], ["--server", "ForkingTCPServer", "--requests", "2"],
            ["--server", "ThreadingUDPServer", "--handler", "datagram"], ["--server", "ThreadingTCPServer", "--requests", "3"],
            ["--server", "UnixStreamServer", "--handler", "stream"], ["--server", "UnixDatagramServer", "--handler", "datagram"],
            ["--server", "ThreadingUnixStreamServer", "--handler", "stream"],
            ["--server", "ThreadingUnixDatagramServer", "--handler", "datagram"],
            ["--server", "ForkingUnixStreamServer", "--handler", "stream"],
            ["--server", "ForkingUnixDatagramServer", "--handler", "datagram"],
            ["--reject"], ["--handler", "error", "--server", "ForkingTCPServer"], ["--handler", "error", "--server", "ThreadingTCPServer"],
            ["--mode", "handle_request", "--requests", "2"], ["--requests", "0", "--mode", "handle_request", "--timeout", "0.1"],
        ]
        for arguments in scenarios {
            for clock in [[], ["--real-clock"]] {
                let result = try runTool(["run"] + arguments + clock + ["--format", "mermaid"])
                #expect(result.status == 0, "\(arguments): \(result.stderr)")
                let problems = MermaidSequence.problems(result.stdout)
                #expect(problems.isEmpty, "\(arguments + clock): \(problems)\n\(result.stdout)")
            }
        }
    }

    @Test("the default run talks between objects: fewer than a quarter of its arrows are self-messages", .timeLimit(.minutes(1)))
    func selfMessages() throws {
        let text = try runTool(["run", "--format", "mermaid"]).stdout
        let arrows = mermaidArrows(text)
        let own = arrows.filter { $0.from == $0.to }
        #expect(arrows.count >= 5, "\(text)")
        #expect(own.count * 4 < arrows.count, "\(own.count) of \(arrows.count) arrows are self-messages")
        // The program builds the server, the client connects, the server makes the handler.
        #expect(arrows.contains { $0.from == "P0_T0_program" && $0.to == "P0_T0_TCPServer" })
        #expect(arrows.contains { $0.from == "client_1" && $0.to == "P0_T1_TCPServer" })
        #expect(arrows.contains { $0.from == "P0_T1_TCPServer" && $0.to == "P0_T1_MyTCPHandler_1" })
    }

    @Test("the default run fits a screen; ThreadingTCPServer with 2 requests stays under 60 lines", .timeLimit(.minutes(1)))
    func sizes() throws {
        for format in ["mermaid", "sequence"] {
            let plain = try runTool(["run", "--format", format]).stdout
            #expect(plain.split(separator: "\n").count <= 40, "\(format):\n\(plain)")
            let threading = try runTool(["run", "--server", "ThreadingTCPServer", "--requests", "2", "--format", format]).stdout
            #expect(threading.split(separator: "\n").count < 60, "\(format):\n\(threading)")
        }
    }

    @Test("threads and forked children are boxes; starts, forks and exits are notes", .timeLimit(.minutes(1)))
    func boxesAndNotes() throws {
        let forking = try runTool(["run", "--server", "ForkingTCPServer", "--format", "mermaid"]).stdout
        #expect(forking.contains("    box P1 T1 forked child of P0\n"))
        #expect(forking.contains("Note over P1_T1_ForkingTCPServer: fork: child P1\n"))
        #expect(forking.contains("P0_T1_ForkingTCPServer-)+P1_T1_ForkingTCPServer: os.fork()\n"))
        #expect(forking.contains("Note over P1_T1_ForkingTCPServer: os._exit(0)\n"))
        let threading = try runTool(["run", "--server", "ThreadingTCPServer", "--format", "mermaid"]).stdout
        #expect(threading.contains("    box P0 T2 Thread-2 (process_request_thread)\n"))
        #expect(threading.contains("Note over P0_T2_ThreadingTCPServer: Thread-2 (process_request_thread) starts\n"))
        #expect(threading.contains("P0_T1_ThreadingTCPServer-)+P0_T2_ThreadingTCPServer: ThreadingMixIn.process_request_thread("))
        #expect(threading.contains("    loop serve_forever: a turn per select()\n"))
        let error = try runTool(["run", "--handler", "error", "--format", "mermaid"]).stdout
        #expect(error.contains("P0_T1_BadHandler_1--xP0_T1_TCPServer: ✗ ValueError: boom\n"), "\(error)")
        let sequence = try runTool(["run", "--server", "ForkingTCPServer", "--format", "sequence"]).stdout
        #expect(sequence.contains("P1 T1 forked child of P0"))
        #expect(sequence.split(separator: "\n").allSatisfy { $0.count <= 120 })
    }
}
