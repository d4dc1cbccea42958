// What the runs measured, summed up: one record per run, one cell per row and concurrency
// (the median of its runs, with min–max), the Markdown tables, the ratio lines and the JSON.
import Glibc
import struct Processes.CPython

/// One run: one server process under one load.
struct RunRecord: Sendable {
    let row: String
    let concurrency: Int
    let round: Int
    /// Requests that succeeded (warm-up requests not counted).
    var ok = 0
    /// Failed requests, warm-up included.
    var errors = ErrorCounts()
    /// Seconds the load took, until the last request ended.
    var elapsed = 0.0
    /// What requests/s is measured over: the requests that ended within the run's duration
    /// and that duration, or (for a count) all of them and `elapsed`. A request stuck in a SYN
    /// retry past the end delays the end of the run, not the rate.
    var windowRequests = 0
    var windowSeconds = 0.0
    /// The server's peak resident memory (VmHWM), in kB.
    var peakMemoryKB: Int?
    /// Latency percentiles of the successful requests, in milliseconds.
    var p50 = 0.0
    var p90 = 0.0
    var p99 = 0.0
    var max = 0.0
    /// Successful requests that took a second or more (a SYN retry, at least).
    var slow = 0
    /// The server's CPU seconds during the load (user + system, reaped children included).
    var cpuSeconds: Double?
    /// Why the run is incomplete, or what went wrong.
    var notes: [String] = []

    var requestsPerSecond: Double { windowSeconds > 0 ? Double(windowRequests) / windowSeconds : 0 }

    /// Server CPU microseconds per successful request.
    var cpuPerRequest: Double? {
        guard let cpuSeconds, ok > 0 else { return nil }
        return cpuSeconds / Double(ok) * 1e6
    }

    /// Fills the percentiles from sorted nanosecond latencies (nearest rank).
    mutating func setLatencies(_ sorted: [UInt64]) {
        func rank(_ fraction: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            let index = Swift.max(0, Int((fraction * Double(sorted.count)).rounded(.up)) - 1)
            return Double(sorted[Swift.min(index, sorted.count - 1)]) / 1e6
        }
        p50 = rank(0.50)
        p90 = rank(0.90)
        p99 = rank(0.99)
        max = Double(sorted.last ?? 0) / 1e6
        slow = sorted.count - (sorted.firstIndex { $0 >= 1_000_000_000 } ?? sorted.count)
    }
}

/// The median and range of some values.
struct Spread: Sendable {
    let median: Double
    let min: Double
    let max: Double

    init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        min = sorted[0]
        max = sorted[sorted.count - 1]
    }
}

/// One row at one concurrency: its runs, summed up.
struct Cell: Sendable {
    let row: String
    let concurrency: Int
    let runs: [RunRecord]

    /// Runs that served anything.
    var served: [RunRecord] { runs.filter { $0.ok > 0 } }
    var requestsPerSecond: Spread? { Spread(served.map(\.requestsPerSecond)) }
    var cpuPerRequest: Spread? { Spread(served.compactMap(\.cpuPerRequest)) }
    var p50: Double? { Spread(served.map(\.p50))?.median }
    var p90: Double? { Spread(served.map(\.p90))?.median }
    var p99: Double? { Spread(served.map(\.p99))?.median }
    var max: Double? { served.map(\.max).max() }
    var ok: Int { runs.reduce(0) { $0 + $1.ok } }
    var slow: Int { runs.reduce(0) { $0 + $1.slow } }
    var errors: ErrorCounts {
        var total = ErrorCounts()
        for run in runs { total.add(run.errors) }
        return total
    }
}

/// A ratio line's numbers.
struct RatioLine: Sendable {
    let title: String
    let concurrency: Int
    let requestsPerSecond: Double?
    let cpuPerRequest: Double?

    var text: String {
        let speed = requestsPerSecond.map { "\(significant($0))× the requests/s" } ?? "no requests/s"
        let cpu = cpuPerRequest.map { "\(significant($0))× the CPU per request" } ?? "no CPU per request"
        return "\(title), c=\(concurrency): \(speed), \(cpu)"
    }
}

/// `value` with three significant digits (at most three decimals): 0.123, 1.23, 12.3, 123.
func significant(_ value: Double) -> String {
    let magnitude = abs(value)
    let digits = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : 3
    return fixed(value, digits)
}

/// `value` with `digits` decimals.
func fixed(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return "-" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = Int((abs(value) * scale).rounded())
    let whole = scaled / Int(scale)
    var text = "\(value < 0 && scaled != 0 ? "-" : "")\(whole)"
    if digits > 0 {
        let fraction = String(scaled % Int(scale))
        text += "." + String(repeating: "0", count: digits - fraction.count) + fraction
    }
    return text
}

/// The report of a whole benchmark.
struct Report {
    let settings: Settings
    let header: [String]
    let cells: [Cell]
    let ratios: [RatioLine]
    let notes: [String]

    init(settings: Settings, header: [String], records: [RunRecord], notes: [String]) {
        self.settings = settings
        self.header = header
        var cells: [Cell] = []
        for concurrency in settings.concurrency {
            for row in settings.rows {
                let runs = records.filter { $0.row == row.name && $0.concurrency == concurrency }
                if !runs.isEmpty { cells.append(Cell(row: row.name, concurrency: concurrency, runs: runs)) }
            }
        }
        self.cells = cells
        var ratios: [RatioLine] = []
        for comparison in comparisons {
            for concurrency in comparison.concurrencies ?? settings.concurrency {
                guard let top = cells.first(where: { $0.row == comparison.numerator && $0.concurrency == concurrency }),
                    let bottom = cells.first(where: { $0.row == comparison.denominator && $0.concurrency == concurrency })
                else { continue }
                ratios.append(
                    RatioLine(
                        title: comparison.title, concurrency: concurrency,
                        requestsPerSecond: quotient(top.requestsPerSecond?.median, bottom.requestsPerSecond?.median),
                        cpuPerRequest: quotient(top.cpuPerRequest?.median, bottom.cpuPerRequest?.median)))
            }
        }
        self.ratios = ratios
        // The same note of several rounds of a cell is said once, with its rounds.
        var grouped: [(key: String, rounds: [Int])] = []
        for record in records {
            for note in record.notes {
                let key = "\(record.row), c=\(record.concurrency)|\(note)"
                if let index = grouped.firstIndex(where: { $0.key == key }) {
                    grouped[index].rounds.append(record.round)
                } else {
                    grouped.append((key, [record.round]))
                }
            }
        }
        self.notes =
            notes
            + grouped.map { entry in
                let parts = entry.key.split(separator: "|", maxSplits: 1).map(String.init)
                let rounds = entry.rounds.map(String.init).joined(separator: ", ")
                return "\(parts[0]), round\(entry.rounds.count == 1 ? "" : "s") \(rounds): \(parts[1])"
            }
    }

    /// The failed requests of all runs that did not fail by timing out.
    var failedOtherThanTimeout: Int { cells.reduce(0) { $0 + $1.errors.total - $1.errors[.timeout] } }

    /// The Markdown report: header, one table per concurrency, the ratios, the notes.
    var markdown: String {
        var lines = header
        for concurrency in settings.concurrency {
            let rows = cells.filter { $0.concurrency == concurrency }
            guard !rows.isEmpty else { continue }
            lines.append("")
            lines.append("### \(concurrency) concurrent client\(concurrency == 1 ? "" : "s")")
            lines.append("")
            lines.append("| server | req/s | min–max | p50 ms | p90 ms | p99 ms | max ms | ≥1 s | CPU µs/req | min–max | errors |")
            lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
            for cell in rows {
                var columns = [cell.row]
                if let speed = cell.requestsPerSecond {
                    columns.append(fixed(speed.median, 0))
                    columns.append(fixed(speed.min, 0) + "–" + fixed(speed.max, 0))
                } else {
                    columns += ["-", "-"]
                }
                for value in [cell.p50, cell.p90, cell.p99, cell.max] {
                    columns.append(value.map(significant) ?? "-")
                }
                columns.append(String(cell.slow))
                if let cpu = cell.cpuPerRequest {
                    columns.append(significant(cpu.median))
                    columns.append(significant(cpu.min) + "–" + significant(cpu.max))
                } else {
                    columns += ["-", "-"]
                }
                columns.append(cell.errors.summary)
                lines.append("| " + columns.joined(separator: " | ") + " |")
            }
        }
        if !ratios.isEmpty {
            lines.append("")
            lines.append("Ratios (medians):")
            lines.append("")
            lines += ratios.map { "- " + $0.text }
        }
        if !notes.isEmpty {
            lines.append("")
            lines.append("Notes:")
            lines.append("")
            lines += notes.map { "- " + $0 }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The JSON report: settings, cells, ratios, notes and every run.
    func json(python: CPython?) -> String {
        func spread(_ value: Spread?) -> String {
            guard let value else { return "null" }
            return "{\"median\": \(number(value.median)), \"min\": \(number(value.min)), \"max\": \(number(value.max))}"
        }
        func errors(_ counts: ErrorCounts) -> String {
            let kinds = FailureKind.allCases.map { "\"\($0.rawValue)\": \(counts[$0])" }
            return "{\"total\": \(counts.total), " + kinds.joined(separator: ", ") + "}"
        }
        var parts: [String] = []
        parts.append(
            "  \"settings\": {\"duration\": \(settings.duration.map(number) ?? "null"), "
                + "\"requests\": \(settings.duration == nil ? String(settings.requests) : "null"), "
                + "\"rounds\": \(settings.rounds), \"concurrency\": [\(settings.concurrency.map(String.init).joined(separator: ", "))], "
                + "\"queue_size\": \(settings.queueSize), \"timeout\": \(number(settings.timeout)), "
                + "\"warmup\": \(settings.warmup), \"max_seconds\": \(number(settings.maxSeconds))}")
        parts.append(
            "  \"python\": "
                + (python.map { "{\"executable\": \(quoted($0.executable)), \"version\": \(quoted($0.version))}" } ?? "null"))
        parts.append("  \"header\": [" + header.map(quoted).joined(separator: ", ") + "]")
        let cellTexts = cells.map { cell in
            "    {\"server\": \(quoted(cell.row)), \"concurrency\": \(cell.concurrency), \"runs\": \(cell.runs.count), "
                + "\"requests\": \(cell.ok), \"requests_per_second\": \(spread(cell.requestsPerSecond)), "
                + "\"latency_ms\": {\"p50\": \(cell.p50.map(number) ?? "null"), \"p90\": \(cell.p90.map(number) ?? "null"), "
                + "\"p99\": \(cell.p99.map(number) ?? "null"), \"max\": \(cell.max.map(number) ?? "null")}, "
                + "\"one_second_or_more\": \(cell.slow), "
                + "\"cpu_us_per_request\": \(spread(cell.cpuPerRequest)), \"errors\": \(errors(cell.errors))}"
        }
        parts.append("  \"cells\": [\n" + cellTexts.joined(separator: ",\n") + "\n  ]")
        let ratioTexts = ratios.map {
            "    {\"title\": \(quoted($0.title)), \"concurrency\": \($0.concurrency), "
                + "\"requests_per_second\": \($0.requestsPerSecond.map(number) ?? "null"), "
                + "\"cpu_per_request\": \($0.cpuPerRequest.map(number) ?? "null")}"
        }
        parts.append("  \"ratios\": [\n" + ratioTexts.joined(separator: ",\n") + "\n  ]")
        parts.append("  \"notes\": [" + notes.map(quoted).joined(separator: ", ") + "]")
        let runTexts = cells.flatMap(\.runs).map { run in
            "    {\"server\": \(quoted(run.row)), \"concurrency\": \(run.concurrency), \"round\": \(run.round), "
                + "\"requests\": \(run.ok), \"seconds\": \(number(run.elapsed)), "
                + "\"window_requests\": \(run.windowRequests), \"window_seconds\": \(number(run.windowSeconds)), "
                + "\"server_peak_rss_kb\": \(run.peakMemoryKB.map(String.init) ?? "null"), "
                + "\"requests_per_second\": \(number(run.requestsPerSecond)), "
                + "\"latency_ms\": {\"p50\": \(number(run.p50)), \"p90\": \(number(run.p90)), "
                + "\"p99\": \(number(run.p99)), \"max\": \(number(run.max))}, \"one_second_or_more\": \(run.slow), "
                + "\"server_cpu_seconds\": \(run.cpuSeconds.map(number) ?? "null"), "
                + "\"cpu_us_per_request\": \(run.cpuPerRequest.map(number) ?? "null"), "
                + "\"errors\": \(errors(run.errors)), \"notes\": [\(run.notes.map(quoted).joined(separator: ", "))]}"
        }
        parts.append("  \"runs\": [\n" + runTexts.joined(separator: ",\n") + "\n  ]")
        return "{\n" + parts.joined(separator: ",\n") + "\n}\n"
    }
}

/// `top / bottom`, when both exist and the bottom is not zero.
func quotient(_ top: Double?, _ bottom: Double?) -> Double? {
    guard let top, let bottom, bottom != 0 else { return nil }
    return top / bottom
}

/// A JSON number (null for what JSON cannot say).
func number(_ value: Double) -> String {
    guard value.isFinite else { return "null" }
    return value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
}

/// A JSON string.
func quoted(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case "\t": result += "\\t"
        case "\r": result += "\\r"
        default:
            if scalar.value < 0x20 {
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
    }
    return result + "\""
}
