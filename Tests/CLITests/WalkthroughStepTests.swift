// The Walkthrough's links into the stepper cannot drift either. A chapter marks the moment it
// discusses with
//
//   <!-- step: BaseServer.serve_forever -->          (or `... return` for the moment it returns)
//
// and the line right under the marker is generated: a link to `site/index.html#step=N`, where
// N is the `seq` of the first call (or return) of that function in the JSON Lines of the
// default run (`socketserver-trace run --format jsonl`), the recording that
// `socketserver-trace html --output Walkthrough/site` steps through. The site itself is made by
// the reader and not committed. `UPDATE_WALKTHROUGH=1` rewrites these lines with the others.
import Foundation
import Testing

extension Walkthrough {
    /// The folder the Walkthrough's stepper links point into (made by the reader).
    static let siteFolder = "site/"

    /// `FUNCTION` or `FUNCTION return`: the generated line under a step marker.
    static func stepLine(_ argument: String, events: [[String: Any]]) throws -> String {
        let words = argument.split(separator: " ").map(String.init)
        guard words.count == 1 || (words.count == 2 && words[1] == "return") else {
            throw WalkthroughError("expected `FUNCTION` or `FUNCTION return`")
        }
        let kind = words.count == 2 ? "return" : "call"
        guard let event = events.first(where: { $0["function"] as? String == words[0] && $0["event"] as? String == kind }),
            let seq = event["seq"] as? Int
        else {
            throw WalkthroughError("the default run has no \(kind) of \(words[0])")
        }
        let what = kind == "call" ? "is called" : "returns"
        return "▶ In the stepper: [step \(seq), \(words[0]) \(what)](\(siteFolder)index.html#step=\(seq))"
    }

    /// `<!-- step: ARGUMENT -->` on a line of its own, its argument.
    static func stepMarker(_ line: String) -> String? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("<!-- step:"), trimmed.hasSuffix("-->") else { return nil }
        return trimmed.dropFirst("<!-- step:".count).dropLast(3).trimmingCharacters(in: .whitespaces)
    }
}

extension WalkthroughTests {
    @Test("every stepper link is the step its marker names, in the default run", .timeLimit(.minutes(3)))
    func stepLinks() throws {
        let run = try runTool(["run", "--format", "jsonl"])
        #expect(run.status == 0, "\(run.stderr)")
        let events = try run.stdout.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
        }
        var seen = 0
        for file in try Walkthrough.files() {
            var lines = try Walkthrough.lines(of: file)
            var changed = false
            var index = 0
            while index < lines.count {
                defer { index += 1 }
                guard let argument = Walkthrough.stepMarker(lines[index]) else { continue }
                seen += 1
                let place = "Walkthrough/\(file.lastPathComponent):\(index + 1) <!-- step: \(argument) -->"
                let expected: String
                do {
                    expected = try Walkthrough.stepLine(argument, events: events)
                } catch {
                    Issue.record("\(place): \(error)")
                    continue
                }
                let next = index + 1 < lines.count ? lines[index + 1] : nil
                let isGenerated = next?.hasPrefix("▶ In the stepper: ") == true
                if Walkthrough.updating {
                    if !isGenerated {
                        lines.insert(expected, at: index + 1)
                        changed = true
                    } else if next != expected {
                        lines[index + 1] = expected
                        changed = true
                    }
                } else if next != expected {
                    Issue.record("\(place): the line under the marker differs:\n  in the file: \(next ?? "(nothing)")\n  regenerated: \(expected)")
                }
            }
            if changed { try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8) }
        }
        #expect(seen >= 6, "each chapter links a moment of the default run")
    }
}
