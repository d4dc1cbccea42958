// `socketserver-trace mro CLASS`: Python's MRO of a class and which version of each method runs.
import Diagrams
import Sockets

extension CLI {
    /// What `mro` parses into: the report of the class named.
    struct MROSettings {
        var report = ""
    }

    static var mroCommand: Command<MROSettings> {
        Command(
            name: "mro",
            summary: ["Python's MRO and which method version runs"],
            description: [
                "Show CPython's MRO for CLASS, the Swift chain, and which class's version of each",
                "overridable method runs.",
            ],
            arguments: [
                .positional("CLASS", help: ["A class of socketserver.py, e.g. ThreadingTCPServer."]) {
                    (settings: inout MROSettings, name: String) throws(ArgumentError) in
                    guard let report = mroReport(name) else {
                        let names = ClassModel.classNames.joined(separator: ", ")
                        throw ArgumentError("unknown class \(pyStrRepr(name)) (choose from \(names))")
                    }
                    settings.report = report
                }
            ],
            defaults: MROSettings(),
            body: { try write($0.report.hasSuffix("\n") ? $0.report : $0.report + "\n") })
    }
}
