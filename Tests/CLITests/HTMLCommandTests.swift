// `socketserver-trace html`, run as a reader runs it: the files it writes, the same bytes run
// after run, the stepper's data of two golden scenarios (Golden/*.stepper.json; the pages
// around it also hold the source files, which change on their own), the same stepper from a
// run and from that run's JSON Lines, and clear errors.
import Foundation
import TestSupport
import Testing

/// The contents of `name` in `directory`, or "" when it is not there.
func siteFile(_ directory: TempDir, _ name: String) -> String { readFile(directory.file(name)) }

/// `page` with the page's title (as markup and as JSON) replaced by `TITLE`.
func untitled(_ page: String, _ title: String) -> String {
    page.replacingOccurrences(of: title, with: "TITLE")
}

@Suite("HTMLCommandTests", .serialized)
struct HTMLCommandTests {
    @Test("html writes index.html and source.html, byte-identical run after run", .timeLimit(.minutes(2)),
          arguments: [[String](), ["--server", "ForkingTCPServer", "--requests", "2"]])
    func repeatable(_ options: [String]) throws {
        let first = try TempDir()
        let second = try TempDir()
        defer { first.remove(); second.remove() }
        for directory in [first, second] {
            let result = try runTool(["html"] + options + ["--output", directory.path])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.hasPrefix("wrote \(directory.path)/index.html ("), "\(result.stdout)")
            #expect(directoryEntries(directory.path).sorted() == ["index.html", "source.html"])
        }
        for name in ["index.html", "source.html"] {
            #expect(!siteFile(first, name).isEmpty)
            #expect(siteFile(first, name) == siteFile(second, name), "\(options) \(name) differs between two runs")
        }
        let index = siteFile(first, "index.html")
        #expect(index.contains("<section id=\"current\""))
        #expect(index.contains("socketserver-trace run" + options.map { " " + $0 }.joined()))
    }

    @Test("the stepper's data of golden scenarios, byte for byte", .timeLimit(.minutes(2)), arguments: ["sync", "forking"])
    func stepperData(_ name: String) throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let options = goldenScenarios.first { $0.name == name }!.arguments.dropFirst()
        let result = try runTool(["html"] + options + ["--output", directory.path])
        #expect(result.status == 0, "\(result.stderr)")
        let opening = "<script id=\"trace-data\" type=\"application/json\">"
        let data = try #require(siteFile(directory, "index.html").components(separatedBy: opening).dropFirst().first?
            .components(separatedBy: "</script>").first)
        try checkGolden("\(name).stepper.json", data + "\n")
    }

    @Test("the stepper of a run is the stepper of that run's JSON Lines", .timeLimit(.minutes(2)))
    func sameFromJSONL() throws {
        let options = ["--server", "ThreadingTCPServer", "--requests", "2"]
        let direct = try TempDir()
        let viaFile = try TempDir()
        defer { direct.remove(); viaFile.remove() }
        let jsonl = try runTool(["run"] + options + ["--format", "jsonl", "--output", viaFile.file("trace.jsonl")])
        #expect(jsonl.status == 0, "\(jsonl.stderr)")
        #expect(try runTool(["html"] + options + ["--output", direct.path]).status == 0)
        let fromFile = try runTool(["html", "--input", viaFile.file("trace.jsonl"), "--output", viaFile.path])
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        let runTitle = "socketserver-trace run " + options.joined(separator: " ")
        let fileTitle = "the recording trace.jsonl"
        for name in ["index.html", "source.html"] {
            #expect(untitled(siteFile(direct, name), runTitle) == untitled(siteFile(viaFile, name), fileTitle), "\(name)")
        }
    }

    @Test("bad arguments and bad files get clear messages", .timeLimit(.minutes(2)))
    func errors() throws {
        let directory = try TempDir()
        defer { directory.remove() }
        try expectFailure(["html"], status: 2, saying: "error: the following arguments are required: --output")
        try expectFailure(
            ["html", "--server", "UDPServer", "--input", "x.jsonl", "--output", directory.path], status: 2,
            saying: "error: argument --input: not allowed with argument --server")
        try expectFailure(
            ["html", "--input", directory.file("none.jsonl"), "--output", directory.path], status: 1,
            saying: "argument --input: can't open", "[Errno 2] No such file or directory")
        try "{\"seq\":0,\"event\":\"call\",\"function\":\"f\",\"process\":\"P0\",\"thread\":\"T0\"}\n{\"seq\": 1,,}\n"
            .write(toFile: directory.file("bad.jsonl"), atomically: true, encoding: .utf8)
        try expectFailure(
            ["html", "--input", directory.file("bad.jsonl"), "--output", directory.path], status: 1,
            saying: "bad.jsonl', line 2: Expecting property name enclosed in double quotes: line 1 column 11 (char 10)")
        try "x".write(toFile: directory.file("plain"), atomically: true, encoding: .utf8)
        try expectFailure(["html", "--output", directory.file("plain")], status: 1, saying: "argument --output: can't write into")
        try expectFailure(
            ["html", "--handler", "datagram", "--output", directory.path], status: 2,
            saying: "the datagram handler needs a datagram server")
    }

    @Test("client bytes reach the page escaped, as in the other views", .timeLimit(.minutes(2)))
    func clientBytes() throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let line = #"{"seq":0,"event":"call","function":"BaseServer.verify_request","self":"TCPServer","process":"P0","thread":"T0","request":1,"detail":"request=b'\u001b]0;owned\u0007</script><b>x'"}"#
        try (line + "\n").write(toFile: directory.file("t.jsonl"), atomically: true, encoding: .utf8)
        let result = try runTool(["html", "--input", directory.file("t.jsonl"), "--output", directory.path])
        #expect(result.status == 0, "\(result.stderr)")
        let page = siteFile(directory, "index.html")
        #expect(page.contains(#"request=b'\\x1b]0;owned\\x07\u003c/script\u003e\u003cb\u003ex'"#), "escaped as the tree view escapes it")
        #expect(!page.contains("\u{1B}") && !page.contains("<b>x"))
    }
}
