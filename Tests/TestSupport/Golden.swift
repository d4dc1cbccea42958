// The expected texts kept as data files: each test target's Golden folder, beside its test
// files (Tests/TARGET/Golden, excluded from the target in Package.swift).
import Processes
import Testing

/// The text of `name` in the Golden folder beside `file` (by default the calling test file);
/// nil, recorded as an issue, when it cannot be read.
public func goldenText(
    _ name: String, beside file: StaticString = #filePath, sourceLocation: SourceLocation = #_sourceLocation
) -> String? {
    let folder = "\(file)".split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
    let path = folder + "/Golden/" + name
    guard let text = readSmallFile(path) else {
        Issue.record("cannot read the golden file \(path)", sourceLocation: sourceLocation)
        return nil
    }
    return text
}
