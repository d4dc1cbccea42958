// Swift-only: source.html, Lib/socketserver.py beside the Swift port. Each row is one stretch
// of the Python file, from a line some Swift declaration names in its `Python:` tag to the
// next such line, beside every Swift declaration that names it; a row says where its
// functions are defined, who calls them, which built-in scenarios run them and where the
// stepper's run first calls them. The MRO table of every class and the scenarios follow.
import Diagrams

extension ReadingSite {
    /// The page.
    func sourcePage() -> String {
        let declarations = swift.declarations
        let files = Array(Set(declarations.map(\.fileID))).sorted()
        let pythonLines = Array(Set(declarations.map(\.pythonLine))).sorted()
        var firstCall: [String: Int] = [:]
        for (index, event) in run.events.enumerated() where event.kind == .call && firstCall[event.function] == nil {
            firstCall[event.function] = index
        }
        var page = pageHead(title: "Lib/socketserver.py beside the Swift port", style: Assets.style + Self.sourceStyle)
        page += """
            <body class="source-page\(python.isPresent ? "" : " swift-only")">
            <a class="skip" href="#rows">Skip to the code</a>
            <header class="top">
            <h1>Lib/socketserver.py beside the Swift port</h1>
            <nav><a href="index.html">The stepper: \(html(title))</a> · <a href="#mro">MRO tables</a> · <a href="#scenarios">Scenarios</a></nav>
            </header>
            <section class="intro">
            <p>CPython's <code>Lib/socketserver.py</code> (\(html(python.origin))) and, beside it (below it on a narrow screen), the Swift port, where every declaration's doc comment ends with <code>Python: NAME (Lib/socketserver.py:LINE)</code>. Each row is the Python from one such line to the next, beside the Swift declarations that name it. Under each name: where it is defined, which functions call it (from the port's call sites), the built-in scenarios it runs in (from their traces), and the stepper's first call of it.</p>
            \(python.isPresent ? "" : "<p class=\"missing\">CPython 3.13's Lib/socketserver.py was not found when this page was made: the Swift column is shown alone, with the Python line numbers.</p>")
            <p>Classes: \(classIndex(declarations))</p>
            </section>
            <main id="rows">

            """
        if python.isPresent, let first = pythonLines.first, first > 1 {
            page += row(names: [], python: 1...(first - 1), declarations: [], files: files, firstCall: firstCall)
        }
        for (position, line) in pythonLines.enumerated() {
            let next = position + 1 < pythonLines.count ? pythonLines[position + 1] : python.lines.count + 1
            let here = declarations.filter { $0.pythonLine == line }
            var names: [String] = []
            for declaration in here where !names.contains(declaration.pythonName) { names.append(declaration.pythonName) }
            let range: ClosedRange<Int>? = python.isPresent && line <= python.lines.count ? line...max(line, next - 1) : nil
            page += row(names: names, python: range, declarations: here, files: files, firstCall: firstCall, line: line)
        }
        page += "</main>\n" + mroSection() + scenarioSection() + "</body>\n</html>\n"
        return page
    }

    /// Links to the row of each class, in the order of the file.
    private func classIndex(_ declarations: [TaggedDeclaration]) -> String {
        var seen: Set<String> = []
        return declarations.filter { $0.isType && !$0.pythonName.contains(".") && seen.insert($0.pythonName).inserted }
            .sorted { $0.pythonLine < $1.pythonLine }
            .map { "<a href=\"#\(anchor("fn", $0.pythonName))\">\(html($0.pythonName))</a>" }
            .joined(separator: ", ")
    }

    /// One row: the names and what is known of them, the Python lines, the Swift declarations.
    private func row(
        names: [String], python range: ClosedRange<Int>?, declarations: [TaggedDeclaration], files: [String],
        firstCall: [String: Int], line: Int? = nil
    ) -> String {
        var out = "<section class=\"row\">\n<div class=\"names\">"
        if names.isEmpty { out += "<h2>The module's head</h2><p class=\"facts\">No Swift declaration names these lines.</p>" }
        for name in names {
            out += "<h2 id=\"\(anchor("fn", name))\">\(html(name))</h2>\n<p class=\"facts\">"
            var facts: [String] = []
            if let line { facts.append("defined at <a href=\"#py-L\(line)\">Lib/socketserver.py:\(line)</a>") }
            let swiftPlaces = declarations.filter { $0.pythonName == name }.map { declaration in
                let prefix = "sw\(files.firstIndex(of: declaration.fileID) ?? 0)"
                let where_ = declaration.enclosingType.map { " in \($0)" } ?? ""
                return "<a href=\"#\(prefix)-L\(declaration.line)\">\(html(shortFile(declaration.fileID))):\(declaration.line)</a>\(html(where_))"
            }
            facts.append("Swift: " + swiftPlaces.joined(separator: ", "))
            let className = name.split(separator: ".").first.map(String.init) ?? name
            let isFunction = declarations.contains { $0.pythonName == name && !$0.isType && isFunctionHeader(swift.file($0.fileID)?.lines[$0.line - 1] ?? "") }
            if isFunction {
                let callers = swift.callers[name] ?? []
                facts.append("called by: " + (callers.isEmpty ? "no function of the file (a user, or the tool, calls it)"
                    : callers.map { "<a href=\"#\(anchor("fn", $0))\">\(html($0))</a>" }.joined(separator: ", ")))
                let runsIn = scenarios.filter { $0.functions.contains(name) }
                facts.append("runs in: " + (runsIn.isEmpty ? "none of the built-in scenarios"
                    : runsIn.map { "<a href=\"#\(anchor("scenario", $0.name))\">\(html($0.name))</a>" }.joined(separator: ", ")))
                if let index = firstCall[name] {
                    facts.append("<a href=\"index.html#step=\(run.events[index].seq)\">first called at step \(run.events[index].seq) of the stepper's run</a>")
                } else {
                    facts.append("not called in the stepper's run")
                }
            }
            if ClassModel.pyClass(named: className)?.line != nil {
                facts.append("<a href=\"#\(anchor("mro", className))\">\(html(className))'s MRO</a>")
            }
            out += facts.joined(separator: " · ") + "</p>\n"
        }
        out += "</div>\n<div class=\"pair\">\n"
        if python.isPresent {
            out += "<div class=\"code py\" aria-label=\"Python\">\n"
            if let range { out += sourceLines(python.lines, prefix: "py", shown: range) }
            out += "</div>\n"
        }
        out += "<div class=\"code sw\" aria-label=\"Swift\">\n"
        for declaration in declarations.sorted(by: { ($0.fileID, $0.docStart) < ($1.fileID, $1.docStart) }) {
            guard let file = swift.file(declaration.fileID) else { continue }
            let prefix = "sw\(files.firstIndex(of: declaration.fileID) ?? 0)"
            out += "<div class=\"decl\"><p class=\"decl-file\">\(html(declaration.fileID))</p>\n"
            out += sourceLines(file.lines, prefix: prefix, shown: declaration.docStart...declaration.shownEnd)
            out += "</div>\n"
        }
        if declarations.isEmpty { out += "<p class=\"facts\">(no Swift counterpart)</p>\n" }
        out += "</div>\n</div>\n</section>\n"
        return out
    }

    /// `SocketServer.swift` for `SocketServer/SocketServer.swift`.
    private func shortFile(_ fileID: String) -> String {
        String(fileID.split(separator: "/").last ?? Substring(fileID))
    }

    /// The MRO of every class of socketserver.py, and which class's version of each method
    /// runs (what `socketserver-trace mro CLASS` prints).
    private func mroSection() -> String {
        var out = "<section id=\"mro\" class=\"tables\">\n<h2>MRO tables</h2>\n"
        out += "<p>For each class: Python's MRO, and for each method the class whose version runs (the first class of the MRO that defines it) and the versions it hides. The same as <code>socketserver-trace mro CLASS</code>.</p>\n"
        for cls in ClassModel.classes where cls.line != nil {
            guard let mro = ClassModel.mro(of: cls.name) else { continue }
            out += "<section class=\"mro\" id=\"\(anchor("mro", cls.name))\">\n<h3>\(html(cls.name))</h3>\n"
            out += "<p><code>\(html(cls.classStatement))</code> · <a href=\"#\(anchor("fn", cls.name))\">its row</a></p>\n"
            out += "<p>MRO: \(mro.map(html).joined(separator: " → "))</p>\n"
            let methods = ClassModel.overridableMethods(of: cls.name)
            if !methods.isEmpty {
                out += "<div class=\"table-scroll\"><table><thead><tr><th scope=\"col\">method</th><th scope=\"col\">version that runs</th><th scope=\"col\">hides</th></tr></thead><tbody>\n"
                for method in methods {
                    let qualified = "\(method.definingClass).\(method.name)"
                    let hidden = method.overrides.map { "\(html($0.className)) (line \($0.line))" }.joined(separator: ", ")
                    out += "<tr><td>\(html(method.name))</td><td><a href=\"#\(anchor("fn", qualified))\">\(html(qualified))</a> (line \(method.line))</td><td>\(hidden.isEmpty ? "—" : hidden)</td></tr>\n"
                }
                out += "</tbody></table></div>\n"
            }
            out += "</section>\n"
        }
        return out + "</section>\n"
    }

    /// The built-in scenarios: what each runs and the command that shows it in the stepper.
    private func scenarioSection() -> String {
        var out = "<section id=\"scenarios\" class=\"tables\">\n<h2>Scenarios</h2>\n"
        out += "<p>The built-in scenarios of <code>socketserver-trace run</code> whose traces say, above, which functions run where. Each opens in the stepper with the command beside it.</p>\n<dl>\n"
        for scenario in scenarios {
            let options = scenario.arguments.isEmpty ? "" : " " + scenario.arguments
            out += "<dt id=\"\(anchor("scenario", scenario.name))\">\(html(scenario.name))</dt>\n"
            out += "<dd>\(html(scenario.summary)): \(scenario.functions.count) functions of socketserver.py run. "
            out += "<code>socketserver-trace html\(html(options)) --output DIR</code></dd>\n"
        }
        return out + "</dl>\n</section>\n"
    }

    static let sourceStyle = #"""
        .intro { padding: .3rem 1rem; max-width: 72rem; }
        main#rows { padding: 0 1rem; }
        .row { border-top: 2px solid var(--rule); padding: .4rem 0 .6rem; }
        .names h2 { font-size: 1rem; font-family: var(--mono); margin: .3rem 0 0; overflow-wrap: anywhere; }
        .names h2:target { background: var(--mark); }
        .facts { margin: .1rem 0 .3rem; font-size: .88rem; color: var(--muted); }
        .pair { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: .8rem; }
        .swift-only .pair { grid-template-columns: minmax(0, 1fr); }
        .code { background: var(--panel); border: 1px solid var(--rule); padding: .2rem 0; min-width: 0; }
        .decl + .decl { border-top: 1px dashed var(--rule); }
        .decl-file { margin: 0 .5rem; font-size: .75rem; color: var(--muted); font-family: var(--mono); }
        .tables { padding: .5rem 1rem; border-top: 2px solid var(--rule); }
        .mro { margin-bottom: 1rem; }
        .mro h3 { font-family: var(--mono); margin: .6rem 0 .2rem; }
        .mro:target h3 { background: var(--mark); }
        dt:target { background: var(--mark); }
        dt { font-weight: 700; font-family: var(--mono); margin-top: .4rem; }
        @media (max-width: 760px) { .pair { grid-template-columns: minmax(0, 1fr); } main#rows, .tables, .intro { padding: 0 .5rem; } }
        """#
}
