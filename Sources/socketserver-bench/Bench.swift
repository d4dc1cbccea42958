// The command line and the driver: parse by hand (no packages; argparse-style usage errors,
// exit 2, as socketserver-trace), then run every cell: start the row's server as a process of
// its own, wait until it listens, warm it up, read its CPU time, run the load, read its CPU
// time again, stop it by its pid. Cells run in alternation (every row once per round), so that
// a slower minute of a shared machine falls on all rows alike.
import Glibc
import Processes
import SocketServer
import Synchronization

import func Sockets.pyStrRepr
import func Sockets.pythonExceptionLine

/// What one benchmark does, after defaults and `--quick`.
struct Settings: Sendable {
    /// Seconds of load per run; nil to send `requests` per run instead.
    var duration: Double? = 2
    var requests = 0
    var rounds = 5
    var concurrency = [1, 8, 64]
    var rows = allRows
    var queueSize = 5
    var timeout = 10.0
    var warmup = 20
    var maxSeconds = 1400.0
    /// nil: find CPython; "" with `noPython`.
    var python: String?
    var noPython = false
    var wrap: [String] = []
    var json: String?
}

/// The pid of the server being measured, for the signal handler (0 when none).
let activeServer = Atomic<Int32>(0)

/// The signal that interrupted the benchmark (0 while none did).
let interruption = Atomic<Int32>(0)

/// SIGINT, SIGTERM or SIGHUP reached the driver: kill the server it runs and everything that
/// server forked (so that requests in flight end at once), and note the signal; the client
/// threads and the driver stop at their next check, the driver removes its temporary folder
/// and dies of the same signal. A second signal ends the driver at once.
func interruptBenchmark(_ signal: CInt) {
    let pid = activeServer.load(ordering: .relaxed)
    if pid > 0 {
        kill(-pid, SIGKILL)
        kill(pid, SIGKILL)
    }
    if interruption.exchange(signal, ordering: .relaxed) != 0 {
        Glibc.signal(signal, SIG_DFL)
        raise(signal)
    }
}

/// Whether a signal asked the benchmark to stop.
var isInterrupted: Bool { interruption.load(ordering: .relaxed) != 0 }

/// The tool's entry point, called by main.swift.
enum Bench {
    static let version = "socketserver-bench 0.4.0 (the port of CPython 3.13 Lib/socketserver.py 0.4, measured)"

    static let usage = """
        usage: socketserver-bench [-h] [--version] [--quick] [--duration S | --requests N] [--rounds N]
                                  [--concurrency N,...] [--servers NAME,...] [--queue-size N]
                                  [--timeout S] [--warmup N] [--max-seconds S]
                                  [--python PATH | --no-python] [--wrap COMMAND] [--json FILE]
        """

    static let help = """
        Measure the port's servers against the same system calls with no framework (the floor)
        and against CPython's socketserver, with 1, 8 and 64 concurrent clients.

        \(usage)

        Each server runs in a process of its own and answers with the notes' handler (recv(1024),
        strip, upper, sendall). A stream request is connect, send a line, read until the server
        closes, close; a datagram request is one datagram and its reply. Every reply is checked.
        Every row runs once per round at each concurrency, in alternation; a cell is the median
        of its rounds, with min–max. Server CPU is user + system time from /proc/PID/stat.
        Prints Markdown tables and ratio lines. Exits 1 if a reply was wrong, a request failed
        other than by timing out, or a server did not serve (timeouts are counted, not failed).

        OPTIONS:
          --quick              A smoke run: 0.25 s per run, one round, concurrency 1 and 8.
          --duration S         Seconds of load per run. Default: 2 (quick: 0.25).
          --requests N         Send N requests per run instead of running for a time.
          --rounds N           Runs per cell, in alternation with the other cells. Default: 5 (quick: 1).
          --concurrency LIST   Client threads, comma-separated. Default: 1,8,64 (quick: 1,8).
          --servers LIST       The rows, comma-separated. Default: all of them:
        \(wrappedNames(indent: 23, width: 100))
          --queue-size N       The listen backlog of the stream servers (request_queue_size). Default: 5.
          --timeout S          Seconds a request may take before it counts as a timeout. Default: 10.
          --warmup N           Requests sent (and checked) before each run, not measured. Default: 20 (quick: 5).
          --max-seconds S      Hard cap on the whole benchmark: no request starts after it. Default: 1400 (quick: 300).
          --python PATH        The CPython of the cpython: rows. Default: `PYENV_VERSION=3.13.0 python3`,
                               else `python3`.
          --no-python          Leave out the cpython: rows.
          --wrap COMMAND       Start each server under COMMAND (split at spaces), e.g. a profiler.
          --json FILE          Also write every run and every cell as JSON to FILE.
          -h, --help           Show this help.
          --version            Show the version.

        Try: socketserver-bench --quick
        """

    /// The row names, wrapped for the help.
    static func wrappedNames(indent: Int, width: Int) -> String {
        var lines: [String] = []
        var line = ""
        for row in allRows {
            let piece = row.name + (row.name == allRows.last!.name ? "." : ",")
            if !line.isEmpty && indent + line.count + 1 + piece.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + piece
        }
        lines.append(line)
        return lines.map { String(repeating: " ", count: indent) + $0 }.joined(separator: "\n")
    }

    /// Runs the tool and exits.
    static func main() -> Never {
        let arguments = Array(CommandLine.arguments.dropFirst())
        runTool("socketserver-bench", describe: pythonExceptionLine) {
            if arguments.first == "_serve" {
                try ServeCommand.run(Array(arguments.dropFirst()))
            }
            guard let settings = try parse(arguments) else { return 0 }
            return try run(settings)
        }
    }

    /// Reads flags one by one; each flag's value must follow it.
    struct Flags {
        var items: [String]

        mutating func next() -> String? { items.isEmpty ? nil : items.removeFirst() }

        func fail(_ message: String) -> UsageError { UsageError(message: message, usage: usage) }

        mutating func value(for flag: String) throws -> String {
            guard let value = next(), !value.hasPrefix("--") || value == "-" else {
                throw fail("argument \(flag): expected one argument")
            }
            return value
        }

        mutating func number<T: LosslessStringConvertible & Comparable>(
            for flag: String, _ kind: String, atLeast least: T, above: Bool = false
        ) throws -> T {
            let text = try value(for: flag)
            guard let number = T(text) else { throw fail("argument \(flag): invalid \(kind) value: \(pyStrRepr(text))") }
            guard above ? number > least : number >= least else {
                throw fail("argument \(flag): must be \(above ? "more than" : "at least") \(least)")
            }
            return number
        }
    }

    /// The settings the arguments ask for; nil when they asked for help or the version.
    static func parse(_ arguments: [String]) throws -> Settings? {
        var flags = Flags(items: arguments)
        var settings = Settings()
        var quick = false
        var duration: Double?
        var requests: Int?
        var rounds: Int?
        var concurrency: [Int]?
        var warmup: Int?
        var maxSeconds: Double?
        while let flag = flags.next() {
            switch flag {
            case "-h", "--help":
                print(help)
                return nil
            case "--version":
                print(version)
                return nil
            case "--quick": quick = true
            case "--duration":
                if requests != nil { throw flags.fail("argument --duration: not allowed with argument --requests") }
                duration = try flags.number(for: flag, "float", atLeast: 0.0, above: true)
            case "--requests":
                if duration != nil { throw flags.fail("argument --requests: not allowed with argument --duration") }
                requests = try flags.number(for: flag, "int", atLeast: 0)
            case "--rounds": rounds = try flags.number(for: flag, "int", atLeast: 1)
            case "--concurrency":
                let text = try flags.value(for: flag)
                let values = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
                guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= 1024 }) else {
                    throw flags.fail("argument --concurrency: expected numbers from 1 to 1024, comma-separated: \(pyStrRepr(text))")
                }
                concurrency = values.map { $0! }
            case "--servers":
                let text = try flags.value(for: flag)
                var chosen: [String] = []
                for name in text.split(separator: ",").map(String.init) {
                    guard allRows.contains(where: { $0.name == name }) else {
                        let names = allRows.map { pyStrRepr($0.name) }.joined(separator: ", ")
                        throw flags.fail("argument --servers: invalid choice: \(pyStrRepr(name)) (choose from \(names))")
                    }
                    chosen.append(name)
                }
                guard !chosen.isEmpty else { throw flags.fail("argument --servers: expected at least one name") }
                settings.rows = allRows.filter { chosen.contains($0.name) }
            case "--queue-size": settings.queueSize = try flags.number(for: flag, "int", atLeast: 0)
            case "--timeout": settings.timeout = try flags.number(for: flag, "float", atLeast: 0.0, above: true)
            case "--warmup": warmup = try flags.number(for: flag, "int", atLeast: 0)
            case "--max-seconds": maxSeconds = try flags.number(for: flag, "float", atLeast: 0.0, above: true)
            case "--python":
                if settings.noPython { throw flags.fail("argument --python: not allowed with argument --no-python") }
                settings.python = try flags.value(for: flag)
            case "--no-python":
                if settings.python != nil { throw flags.fail("argument --no-python: not allowed with argument --python") }
                settings.noPython = true
            case "--wrap":
                settings.wrap = try flags.value(for: flag).split(separator: " ").map(String.init)
                if settings.wrap.isEmpty { throw flags.fail("argument --wrap: expected a command") }
            case "--json": settings.json = try flags.value(for: flag)
            default: throw flags.fail("unrecognized arguments: \(flag)")
            }
        }
        settings.duration = requests == nil ? (duration ?? (quick ? 0.25 : 2)) : nil
        settings.requests = requests ?? 0
        settings.rounds = rounds ?? (quick ? 1 : 5)
        settings.concurrency = concurrency ?? (quick ? [1, 8] : [1, 8, 64])
        settings.warmup = warmup ?? (quick ? 5 : 20)
        settings.maxSeconds = maxSeconds ?? (quick ? 300 : 1400)
        if settings.noPython { settings.rows.removeAll { $0.isCPython } }
        return settings
    }

    /// Runs every cell, prints the report; the exit status: 1 if a reply was wrong, a request
    /// failed other than by timing out (a timeout is what a full listen queue can do to a
    /// client, and the report counts it), a server did not serve, or the hard cap cut the
    /// benchmark short.
    static func run(_ settings: Settings) throws -> Int32 {
        let hardDeadline = monotonic() + settings.maxSeconds
        // Both globals are made before any signal can need them.
        _ = activeServer.load(ordering: .relaxed)
        _ = interruption.load(ordering: .relaxed)
        for signal in [SIGINT, SIGTERM, SIGHUP] { Glibc.signal(signal, interruptBenchmark) }
        let scratch = try makeScratchFolder()
        defer {
            removeFolder(scratch)
            let signal = interruption.load(ordering: .relaxed)
            if signal != 0 {
                Glibc.signal(signal, SIG_DFL)
                raise(signal)
            }
        }

        var settings = settings
        var notes: [String] = []
        var python: CPython?
        if settings.rows.contains(where: \.isCPython) {
            let (found, note) = findCPython(settings.python)
            python = found
            if let note { notes.append(note) }
            if found == nil { settings.rows.removeAll { $0.isCPython } }
        }
        let script = scratch + "/bench_server.py"
        if python != nil { try writeFile(script, cpythonScript) }
        let header = headerLines(settings, python: python)
        sys.writeStderr(header.joined(separator: "\n") + "\n")

        var schedule: [(row: Row, concurrency: Int, round: Int)] = []
        for round in 1...settings.rounds {
            for concurrency in settings.concurrency {
                for row in settings.rows { schedule.append((row, concurrency, round)) }
            }
        }
        var records: [RunRecord] = []
        var skipped = 0
        for (index, cell) in schedule.enumerated() {
            if isInterrupted { return 1 }
            guard monotonic() < hardDeadline else {
                skipped += 1
                continue
            }
            let record = runCell(
                cell.row, concurrency: cell.concurrency, round: cell.round, index: index, settings: settings,
                python: python, script: script, scratch: scratch, hardDeadline: hardDeadline)
            if isInterrupted { return 1 }
            records.append(record)
            let cpu = record.cpuPerRequest.map { "\(significant($0)) µs/req" } ?? "-"
            sys.writeStderr(
                "[\(index + 1)/\(schedule.count)] round \(cell.round) c=\(cell.concurrency) \(cell.row.name): "
                    + "\(fixed(record.requestsPerSecond, 0)) req/s, p99 \(significant(record.p99)) ms, "
                    + "CPU \(cpu), errors \(record.errors.summary)\n")
        }
        if skipped > 0 {
            notes.append("\(skipped) of \(schedule.count) runs not started: the hard cap of \(fixed(settings.maxSeconds, 0)) s was reached")
        }
        let report = Report(settings: settings, header: header, records: records, notes: notes)
        print(report.markdown, terminator: "")
        fflush(nil)
        if let path = settings.json { try writeFile(path, report.json(python: python)) }
        let unserved = records.filter { $0.ok == 0 && (settings.duration != nil || settings.requests > 0) }
        return report.failedOtherThanTimeout > 0 || !unserved.isEmpty || skipped > 0 ? 1 : 0
    }

    /// What the report says first: the machine, the settings, the interpreter.
    static func headerLines(_ settings: Settings, python: CPython?) -> [String] {
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let load = (readSmallFile("/proc/loadavg") ?? "").split(separator: " ").prefix(3).joined(separator: " ")
        let amount = settings.duration.map { "\(significant($0)) s of load" } ?? "\(settings.requests) requests"
        var lines = [
            "# socketserver-bench",
            "",
            "- host: \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) CPUs, Linux \(release), load average \(load) at the start",
            "- each run: \(amount), after \(settings.warmup) warm-up requests; \(settings.rounds) round\(settings.rounds == 1 ? "" : "s") "
                + "(each cell's runs alternate with the other cells'); request_queue_size \(settings.queueSize); "
                + "per-request timeout \(significant(settings.timeout)) s",
            "- req/s: the median over the rounds, with min–max; p50/p90/p99: medians of each run's percentiles; "
                + "max: the largest of all runs; ≥1 s: requests of all runs that took a second or more; CPU µs/req: the server's user + system time per request",
        ]
        if let python { lines.append("- CPython: \(python.executable) (\(python.version))") }
        if !settings.wrap.isEmpty { lines.append("- servers run under: \(settings.wrap.joined(separator: " "))") }
        return lines
    }

    /// One run: start the server, wait until it listens, warm up, measure, stop it.
    static func runCell(
        _ row: Row, concurrency: Int, round: Int, index: Int, settings: Settings, python: CPython?,
        script: String, scratch: String, hardDeadline: Double
    ) -> RunRecord {
        var record = RunRecord(row: row.name, concurrency: concurrency, round: round)
        let path = row.transport == .unix ? "\(scratch)/s\(index).sock" : nil
        let wrapped = !settings.wrap.isEmpty
        // A bound on the server's life even if the driver is killed: the run's own time and
        // then some, or (for a count) what is left of the hard cap.
        let budget =
            settings.duration.map { $0 + Double(settings.warmup) * 0.01 + 3 * settings.timeout + 60 }
            ?? (hardDeadline - monotonic() + 60)
        let lifetime = String(Int(budget + (wrapped ? 600 : 0)))
        var argv = settings.wrap
        if case .cpython(let className) = row.implementation, let python {
            argv += [python.executable, script, className, String(settings.queueSize), lifetime]
        } else {
            argv += [selfPath(), "_serve", row.name, String(settings.queueSize), lifetime]
        }
        if let path { argv.append(path) }
        defer {
            if let path { unlink(path) }
        }
        let server: Subprocess
        do {
            server = try Subprocess(argv)
        } catch {
            record.notes.append("the server did not start: \(error)")
            return record
        }
        activeServer.store(server.pid, ordering: .relaxed)
        defer {
            server.stop(grace: wrapped ? 60 : 2)
            activeServer.store(0, ordering: .relaxed)
        }
        guard let line = server.readLine(timeout: wrapped ? 120 : 20), line.hasPrefix("ready "),
            let port = UInt16(line.dropFirst(6))
        else {
            server.stop(grace: 1)
            record.notes.append("the server did not listen (\(ending(server))): \(firstLines(server.errors))")
            return record
        }
        let target: Target
        switch row.transport {
        case .tcp: target = .tcp(port: port)
        case .udp: target = .udp(port: port)
        case .unix: target = .unix(path: path!)
        }
        if settings.warmup > 0 {
            let warm = runLoad(
                LoadPlan(
                    target: target, concurrency: 1, duration: nil, requests: settings.warmup,
                    timeout: settings.timeout, hardDeadline: hardDeadline, tag: -index - 1))
            record.errors.add(warm.errors)
            if let failure = warm.firstFailure { record.notes.append("warm-up: \(failure)") }
        }
        let before = ProcessEntry(pid: server.pid)?.cpuSeconds
        let load = runLoad(
            LoadPlan(
                target: target, concurrency: concurrency, duration: settings.duration, requests: settings.requests,
                timeout: settings.timeout, hardDeadline: hardDeadline, tag: index))
        // A forking server adds a child's CPU time to its own when it reaps the child, which
        // ForkingMixIn does on the next turns of serve_forever: give it one poll_interval.
        if row.forks { pause(0.6) }
        let after = ProcessEntry(pid: server.pid)?.cpuSeconds
        record.peakMemoryKB = processMemoryKB(server.pid, "VmHWM")
        record.ok = load.ok
        record.errors.add(load.errors)
        record.elapsed = load.elapsed
        record.windowRequests = load.inWindow
        record.windowSeconds = settings.duration ?? load.elapsed
        record.setLatencies(load.latencies)
        if let before, let after { record.cpuSeconds = after - before }
        if let failure = load.firstFailure { record.notes.append(failure) }
        let endedBeforeStop = server.hasExited()
        server.stop(grace: wrapped ? 60 : 2)
        if endedBeforeStop {
            record.notes.append("the server ended during the run (\(ending(server))): \(firstLines(server.errors))")
        } else if server.termination != .signalled(SIGTERM) && !wrapped {
            record.notes.append("the server did not end by SIGTERM (\(ending(server)))")
        }
        let errors = server.errors
        if !errors.isEmpty { record.notes.append("server stderr: \(firstLines(errors))") }
        return record
    }

    /// How `server` ended: "exit status 1", "killed by signal 15", or "running".
    static func ending(_ server: Subprocess) -> String {
        server.termination?.description ?? "running"
    }

    /// The first lines of what a server wrote, on one line.
    static func firstLines(_ text: [UInt8]) -> String {
        let lines = String(decoding: text, as: UTF8.self).split(separator: "\n").prefix(3)
        return lines.isEmpty ? "(nothing on stderr)" : lines.joined(separator: " | ")
    }

    /// This executable's path, to start `_serve` with.
    static func selfPath() -> String {
        var buffer = [CChar](repeating: 0, count: 4097)
        let count = readlink("/proc/self/exe", &buffer, 4096)
        return count > 0 ? String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
    }

    /// A new folder under /tmp for the script and the Unix sockets.
    static func makeScratchFolder() throws -> String {
        var template = Array("/tmp/ssbench-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw FileError(description: "mkdtemp: \(errnoText())")
        }
        return String(cString: made)
    }

    /// Removes the files of `folder` (no subfolders are made) and the folder.
    static func removeFolder(_ folder: String) {
        guard let directory = opendir(folder) else { return }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: &entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { unlink(folder + "/" + name) }
        }
        closedir(directory)
        rmdir(folder)
    }
}
