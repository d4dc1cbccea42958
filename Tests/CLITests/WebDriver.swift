// A small WebDriver client for the browser tests: Debian's chromedriver on a loopback port,
// driving a headless Chromium, spoken to in HTTP/1.1 over the project's own Sockets layer.
// Every request has a socket timeout; the driver and every browser process it started are
// killed by pid when the session ends, and by a deadline if a test gets stuck.
import Foundation
import Processes
import Sockets
import TestSupport
import Testing

/// Where Debian's `chromium` and `chromium-driver` put their programs, if they are installed.
enum Browser {
    static let chromium = firstExecutable(["/usr/bin/chromium", "/usr/lib/chromium/chromium", "/usr/bin/chromium-browser"])
    static let driver = firstExecutable(["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"])
    static var available: Bool { chromium != nil && driver != nil }
    static let skipReason =
        "SKIPPED: no headless Chromium here (Debian's chromium and chromium-driver: apt-get install chromium chromium-driver); the browser tests did not run"

    private static func firstExecutable(_ paths: [String]) -> String? {
        paths.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// What went wrong talking to the driver.
struct WebDriverError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One chromedriver and one browser session.
final class WebDriver {
    let port: Int
    private let driver: ChildProcess
    private let profile: TempDir
    private var session = ""
    private let deadline: Deadline

    /// Starts chromedriver and a headless Chromium with a window of `width` × `height` (or, with
    /// `phone`, a phone's screen of that size: a desktop window is never narrower than 500);
    /// both are killed after `seconds` whatever happens.
    init(width: Int = 1280, height: Int = 800, phone: Bool = false, seconds: Double = 240) throws {
        guard let driverPath = Browser.driver, let chromium = Browser.chromium else { throw WebDriverError(Browser.skipReason) }
        profile = try TempDir()
        port = try freeLoopbackPort()
        driver = try ChildProcess([driverPath, "--port=\(port)", "--allowed-ips=127.0.0.1", "--log-level=SEVERE"])
        let profilePath = profile.path
        let driverProcess = driver
        deadline = Deadline(seconds: seconds) {
            // The test's own requests then fail, naming what they waited for.
            FileHandle.standardError.write(Data("browser tests: the browser ran over its \(seconds) s deadline; killed it\n".utf8))
            _ = driverProcess.stop()
            killBrowserProcesses(profile: profilePath)
        }
        do {
            let started = now()
            while true {
                if let status = try? request("GET", "/status", nil, timeout: 2) as? [String: Any], status["ready"] as? Bool == true { break }
                if now() - started > 20 { throw WebDriverError("chromedriver did not get ready in 20 s: \(driver.stderr)") }
                sleep(seconds: 0.1)
            }
            var options: [String: Any] = [
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--user-data-dir=\(profile.path)", "--window-size=\(width),\(height)", "--hide-scrollbars",
                    "--force-device-scale-factor=1", "--no-first-run", "--no-default-browser-check",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-extensions", "--disable-features=Translate,OptimizationHints,MediaRouter",
                ],
            ]
            if phone {
                options["mobileEmulation"] = ["deviceMetrics": ["width": width, "height": height, "pixelRatio": 1]]
            }
            let capabilities: [String: Any] = [
                "capabilities": [
                    "alwaysMatch": [
                        "browserName": "chrome", "goog:chromeOptions": options,
                        "goog:loggingPrefs": ["performance": "ALL"],
                        "timeouts": ["script": 60_000, "pageLoad": 120_000],
                    ] as [String: Any]
                ]
            ]
            let created = try request("POST", "/session", capabilities, timeout: 60) as? [String: Any]
            guard let id = created?["sessionId"] as? String else { throw WebDriverError("no session: \(String(describing: created))") }
            session = id
            _ = try requestedURLs()  // the browser's own first tab
        } catch {
            close()
            throw error
        }
    }

    /// Ends the session, the driver and every browser process, by pid.
    func close() {
        if !session.isEmpty { _ = try? request("DELETE", "/session/\(session)", nil, timeout: 20) }
        session = ""
        _ = driver.stop()
        killBrowserProcesses(profile: profile.path)
        deadline.cancel()
        try? FileManager.default.removeItem(atPath: profile.path)  // the browser's folders, whole
    }

    /// Opens `url` and waits for its load event.
    func open(_ url: String) throws { _ = try command("POST", "url", ["url": url]) }

    /// Sets the window's size.
    func resize(width: Int, height: Int) throws { _ = try command("POST", "window/rect", ["width": width, "height": height]) }

    /// Runs `script` (a function body; `arguments` are its arguments) in the page, its result.
    func run(_ script: String, _ arguments: [Any] = []) throws -> Any? {
        try command("POST", "execute/sync", ["script": script, "args": arguments])
    }

    /// Runs `script` that ends by calling `arguments[arguments.length - 1]` with its result.
    func runAsync(_ script: String, _ arguments: [Any] = []) throws -> Any? {
        try command("POST", "execute/async", ["script": script, "args": arguments])
    }

    /// Presses and releases each key (WebDriver key codes: "\u{E014}" is the right arrow).
    func press(_ keys: [String]) throws {
        let actions = keys.flatMap { [["type": "keyDown", "value": $0], ["type": "keyUp", "value": $0]] }
        _ = try command("POST", "actions", ["actions": [["type": "key", "id": "keyboard", "actions": actions]]])
    }

    /// A PNG of the window.
    func screenshot() throws -> Data {
        guard let text = try command("GET", "screenshot", nil) as? String, let data = Data(base64Encoded: text) else {
            throw WebDriverError("no screenshot")
        }
        return data
    }

    /// What was asked for since the last call (the browser's network log): each address, and
    /// the address of the page that asked.
    func requestedURLs() throws -> [(url: String, page: String)] {
        guard let entries = try command("POST", "se/log", ["type": "performance"]) as? [[String: Any]] else { return [] }
        var urls: [(String, String)] = []
        for entry in entries {
            guard let text = entry["message"] as? String,
                let message = (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])?["message"] as? [String: Any],
                let method = message["method"] as? String, let params = message["params"] as? [String: Any]
            else { continue }
            let page = params["documentURL"] as? String ?? "?"
            if method == "Network.requestWillBeSent", let request = params["request"] as? [String: Any], let url = request["url"] as? String {
                urls.append((url, page))
            } else if method == "Network.webSocketCreated", let url = params["url"] as? String {
                urls.append((url, page))
            }
        }
        return urls
    }

    private func command(_ method: String, _ path: String, _ body: Any?) throws -> Any? {
        try request(method, "/session/\(session)/\(path)", body, timeout: 120)
    }

    /// One HTTP exchange with the driver; the response's `value`.
    private func request(_ method: String, _ path: String, _ body: Any?, timeout: Double) throws -> Any? {
        let payload = try body.map { try JSONSerialization.data(withJSONObject: $0) } ?? Data()
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        head += "Content-Type: application/json; charset=utf-8\r\nContent-Length: \(payload.count)\r\n\r\n"
        let socket = try Socket(Sockets.AF_INET, Sockets.SOCK_STREAM)
        defer { try? socket.close() }
        try socket.settimeout(timeout)
        try socket.connect(SocketAddress.inet(host: "127.0.0.1", port: port))
        try socket.sendall(Array(head.utf8) + Array(payload))
        var response: [UInt8] = []
        while true {
            let chunk = try socket.recv(65536)
            if chunk.isEmpty { break }
            response += chunk
            if let length = Self.completeLength(response), response.count >= length { break }
        }
        guard let split = Self.headerEnd(response) else { throw WebDriverError("\(method) \(path): no HTTP response") }
        let status = String(decoding: response[..<split], as: UTF8.self).split(separator: " ").dropFirst().first ?? ""
        let json = try JSONSerialization.jsonObject(with: Data(response[(split + 4)...]), options: [.fragmentsAllowed])
        let value = (json as? [String: Any])?["value"]
        guard status == "200" else {
            let error = (value as? [String: Any])?["message"] as? String ?? "\(String(describing: value))"
            throw WebDriverError("\(method) \(path): HTTP \(status): \(error.prefix(600))")
        }
        return value
    }

    /// Where the headers end (the index of `\r\n\r\n`).
    private static func headerEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4) where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }

    /// The length of the whole response once its headers have come and name a Content-Length.
    private static func completeLength(_ bytes: [UInt8]) -> Int? {
        guard let end = headerEnd(bytes) else { return nil }
        for line in String(decoding: bytes[..<end], as: UTF8.self).split(separator: "\r\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "content-length", let length = Int(parts[1].trimmingCharacters(in: .whitespaces)) {
                return end + 4 + length
            }
        }
        return nil
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
func freeLoopbackPort() throws -> Int {
    let socket = try Socket(Sockets.AF_INET, Sockets.SOCK_STREAM)
    defer { try? socket.close() }
    try socket.bind(SocketAddress.inet(host: "127.0.0.1", port: 0))
    guard case .inet(_, let port) = try socket.getsockname() else { throw WebDriverError("no port") }
    return port
}

/// Kills, by pid, every process whose command line names `profile` (the browser's own folder,
/// which only the processes of this test's browser name).
func killBrowserProcesses(profile: String) {
    for entry in processTable() {
        guard let command = readSmallFile("/proc/\(entry.pid)/cmdline"), command.contains(profile) else { continue }
        kill(entry.pid, SIGKILL)
    }
}

/// Runs `action` after `seconds` unless cancelled first.
final class Deadline: @unchecked Sendable {
    private let cancelled = DispatchSemaphore(value: 0)
    private let thread: Thread

    init(seconds: Double, _ action: @escaping @Sendable () -> Void) {
        let cancelled = cancelled
        thread = Thread {
            if cancelled.wait(timeout: .now() + seconds) == .timedOut { action() }
        }
        thread.start()
    }

    func cancel() { cancelled.signal() }
}
