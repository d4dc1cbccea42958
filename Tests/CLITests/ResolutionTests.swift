// The `mro` command and the diagrams say which class's version of each method runs; the
// tracer sees which one really ran. For every concrete server class they must agree, so that a
// diagram or an MRO table that lies fails here.
import Foundation
import TestSupport
import Testing
import Diagrams
import Tracing

@Suite("ResolutionTests")
struct ResolutionTests {
    static let servers = ClassModel.classNames.filter {
        $0.hasSuffix("Server") && $0 != "BaseServer"
    }

    @Test("every traced call runs the version ClassModel.resolve names", .timeLimit(.minutes(3)), arguments: servers)
    func tracedCallsMatchTheModel(_ server: String) throws {
        let datagram = server.contains("UDP") || server.contains("Datagram")
        let result = try runTool([
            "run", "--server", server, "--handler", datagram ? "datagram" : "stream", "--requests", "1",
            "--format", "jsonl", "--real-clock",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        var stacks: [String: [String]] = [:]  // lane → methods of the open frames
        var checked = 0
        for line in result.stdout.split(separator: "\n") {
            let event = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let lane = "\(event["process"] as? String ?? "")/\(event["thread"] as? String ?? "")"
            let function = event["function"] as? String ?? ""
            let method = String(function.split(separator: ".").last ?? "")
            guard event["event"] as? String == "call" else {
                if stacks[lane]?.isEmpty == false { stacks[lane]!.removeLast() }
                continue
            }
            defer { stacks[lane, default: []].append(method) }
            // A call of the same method right inside itself is a `super` call (the mixins'
            // server_close): it runs the next class's version on purpose.
            if stacks[lane]?.last == method { continue }
            let receiver = event["self"] as? String ?? ""
            guard ClassModel.pyClass(named: receiver) != nil,
                let expected = ClassModel.resolve(method: method, in: receiver)
            else { continue }  // a handler or helper of the scenario, not a modelled class
            let ran = String(function.split(separator: ".").dropLast().joined(separator: "."))
            #expect(ran == expected, "\(receiver).\(method): the trace ran \(ran)'s version, the model says \(expected)")
            checked += 1
        }
        #expect(checked >= 15, "only \(checked) calls were checked for \(server)")
    }
}
