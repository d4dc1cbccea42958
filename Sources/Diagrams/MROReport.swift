// `socketserver-trace mro CLASS`: CPython's MRO of a class, the Swift shape that stands for
// it, and which class's version of each method runs.

/// The `mro` report of `className`, or nil when the model has no such class (the CLI then
/// lists `ClassModel.classNames`).
///
/// Three parts: the Python MRO (C3, as `type.__mro__`), the Swift chain (superclasses, then
/// the mixin protocol), and a table of every method and class attribute with the class whose
/// version runs and the versions it overrides.
public func mroReport(_ className: String) -> String? {
    guard let cls = ClassModel.pyClass(named: className), let mro = ClassModel.mro(of: className)
    else { return nil }
    var lines: [String] = []
    lines.append(cls.classStatement)
    if let line = cls.line {
        lines.append("Lib/socketserver.py 3.13, line \(line)")
    } else {
        lines.append("module \(cls.module): not defined in socketserver.py")
    }
    if let guardText = cls.guardCondition {
        lines.append("defined only if \(guardText) (true on Linux)")
    }
    lines.append("")
    lines.append("Python MRO (C3, as \(className).__mro__):")
    lines += AsciiDrawing.wrap(mro.joined(separator: " → "), width: 96, indent: "  ")
    if cls.name == "_SocketWriter" || mro.contains("BufferedIOBase") {
        lines.append("  (io and _io: the pure-Python and C halves of each io base class)")
    }
    lines.append("")
    lines.append("Swift:")
    lines += swiftLines(cls)

    let methods = ClassModel.overridableMethods(of: className)
    let attributes = ClassModel.classAttributes(of: className)
    if !methods.isEmpty || !attributes.isEmpty {
        lines.append("")
        lines.append("Which version runs (the first class of the MRO that defines it):")
        var rows: [[String]] = [["method", "runs", "line", "overrides"]]
        rows += methods.map { row($0) }
        if !attributes.isEmpty {
            rows.append(["", "", "", ""])
            rows.append(["class attribute", "", "", ""])
            rows += attributes.map { resolution in
                let value =
                    ClassModel.pyClass(named: resolution.definingClass)?
                    .attribute(resolution.name)?.value ?? "?"
                return row(resolution, label: "\(resolution.name) = \(value)")
            }
        }
        var widths = [0, 0, 0]
        for row in rows {
            for index in widths.indices { widths[index] = max(widths[index], row[index].count) }
        }
        lines += rows.map { row in
            "  "
                + widths.indices.map { AsciiDrawing.pad(row[$0], widths[$0]) }
                .joined(separator: "  ") + "  " + row[3]
        }
    }
    if cls.kind == .builtin
        || mro.contains(where: { ClassModel.pyClass(named: $0)?.kind == .builtin && $0 != "object" }
        )
    {
        lines.append("")
        lines += AsciiDrawing.wrap(
            "Methods of builtin bases (C code: list, io) are not listed: the port traces only"
                + " the functions of socketserver.py.", width: 96)
    }
    return AsciiDrawing.text(lines)
}

/// One table row: name, the class that runs it, its line, the versions it hides.
private func row(_ resolution: MemberResolution, label: String? = nil) -> [String] {
    [
        label ?? resolution.name, resolution.definingClass, "L\(resolution.line)",
        resolution.overrides.map { "\($0.className) L\($0.line)" }.joined(separator: ", "),
    ]
}

/// The Swift part of the report: the declaration, the superclass chain, the protocols.
private func swiftLines(_ cls: PyClass) -> [String] {
    guard let swift = cls.swift, let declaration = cls.swiftDeclaration else {
        return ["  none: the port does not declare \(cls.name)"]
    }
    var lines = [
        "  \(declaration)" + (swift.module == "SocketServer" ? "" : "  (module \(swift.module))")
    ]
    switch swift.declaration {
    case .classProtocol:
        lines += AsciiDrawing.wrap(
            "a class-bound protocol: Swift has no multiple inheritance, so the mixin's methods"
                + " live in a protocol extension, and each mixed server overrides the methods"
                + " the mixin takes over to forward to them.", width: 96, indent: "  ")
    case .openClass, .finalClass:
        let chain = ClassModel.swiftChain(of: cls.name)
        lines.append("  chain: " + chain.joined(separator: " → "))
        for proto in ClassModel.swiftProtocols(of: cls.name) {
            if ClassModel.pyClass(named: proto)?.kind == .mixin {
                lines.append("  + \(proto) (protocol, forwarding overrides)")
            } else {
                lines.append("  + \(proto) (Swift-only protocol)")
            }
        }
        if cls.bases.contains("list") {
            lines.append(
                "  Python's base list has no Swift counterpart: \(cls.name) has no superclass.")
        }
    }
    return lines
}
