// `socketserver-trace serve`: the notes' server, live (LiveServer.swift), until Ctrl-C.
import Sockets

extension CLI {
    /// What `serve` parses into.
    struct ServeSettings {
        var serverName = "TCPServer"
        var host = "127.0.0.1"
        var port = 9999
        var narrowing = Narrowing()
    }

    static var serveCommand: Command<ServeSettings> {
        Command(
            name: "serve",
            summary: ["the notes' server, live, until Ctrl-C"],
            description: [
                "Serve the notes' MyTCPHandler live and print each request's trace as it completes.",
                "Try `nc 127.0.0.1 9999` in another terminal. Ctrl-C shuts the server down cleanly.",
            ],
            arguments: [
                .choice(
                    "--server", "NAME", serverClasses.filter { $0.type.addressFamily != Sockets.AF_UNIX }.map(\.name),
                    help: ["A TCP or UDP server class (not Unix). Default: TCPServer."]
                ) { $0.serverName = $1 },
                .option("--host", "HOST", help: ["The address to bind. Default: 127.0.0.1 (loopback only)."]) {
                    $0.host = $1
                },
                .number("--port", "PORT", "int", help: ["The port to bind (0 picks a free one). Default: 9999."]) {
                    (settings: inout ServeSettings, port: Int) throws(ArgumentError) in
                    guard (0...65535).contains(port) else { throw ArgumentError("must be 0 to 65535") }
                    settings.port = port
                },
            ] + narrowingArguments(\.narrowing),
            epilog: ["A live trace shows real times, ports, pids and thread names, to match with your client."],
            defaults: ServeSettings(),
            body: {
                try LiveServer(serverName: $0.serverName, host: $0.host, port: $0.port, narrowing: $0.narrowing).run()
            })
    }
}
