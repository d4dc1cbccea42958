// What Linux says about running processes, read from /proc: who they are, whose children,
// in which group, in what state, and what they use.
import Glibc

/// One process, from /proc/PID/stat.
public struct ProcessEntry: Sendable, CustomStringConvertible {
    /// The process id.
    public let pid: pid_t
    /// The state letter (`R` running, `S` sleeping, `D` in the kernel, `Z` zombie, ...).
    public let state: String
    /// The parent's process id.
    public let parent: pid_t
    /// The process group.
    public let group: pid_t
    /// User and system CPU time, its reaped children's included, in seconds.
    public let cpuSeconds: Double

    /// "pid 123 state S"
    public var description: String { "pid \(pid) state \(state)" }

    /// The entry of process `pid`; nil once it is gone.
    public init?(pid: pid_t) {
        // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so the
        // fields are counted from the last ')'.
        guard let stat = readSmallFile("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After comm: state is field 3 of the file, ppid 4, pgrp 5, utime 14 ... cstime 17.
        guard fields.count > 14, let parent = pid_t(fields[1]), let group = pid_t(fields[2]) else { return nil }
        self.pid = pid
        state = String(fields[0])
        self.parent = parent
        self.group = group
        let ticks = fields[11...14].compactMap { Double($0) }.reduce(0, +)
        cpuSeconds = ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// Every process of the system that /proc lists, in order of pid.
public func processTable() -> [ProcessEntry] {
    guard let directory = opendir("/proc") else { return [] }
    defer { closedir(directory) }
    var pids: [pid_t] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if let pid = pid_t(name) { pids.append(pid) }
    }
    return pids.sorted().compactMap { ProcessEntry(pid: $0) }
}

/// The value of the line `name:` of /proc/PID/status, its spacing trimmed ("1234 kB" for
/// `VmRSS`, "0000000000000000" for `SigBlk`); nil if there is none or the process is gone.
public func processStatus(_ pid: pid_t, _ name: String) -> String? {
    guard let status = readSmallFile("/proc/\(pid)/status") else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
        return line.dropFirst(name.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }
    return nil
}

/// A memory figure of /proc/PID/status in kB (`VmRSS`, `VmHWM`, `VmSize`); nil if there is none.
public func processMemoryKB(_ pid: pid_t, _ name: String) -> Int? {
    processStatus(pid, name)?.split(separator: " ").first.flatMap { Int($0) }
}

/// Where in the kernel process `pid` waits (/proc/PID/wchan), "?" if it is gone.
public func waitChannel(_ pid: pid_t) -> String { readSmallFile("/proc/\(pid)/wchan") ?? "?" }

/// The whole of a small file, read to its end (the files of /proc say no size), or nil when
/// it cannot be opened.
public func readSmallFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        if count <= 0 { break }
        bytes += chunk[..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}
