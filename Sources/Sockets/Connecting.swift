// A client's connect with its timeout, the socket closed when it fails: what the tool's
// experiments and the tests do before every request they send.

extension Socket {
    /// Sets `timeout`, then connects to `address`; when either fails, closes the socket before
    /// throwing, so that a caller who gets the error has no descriptor left to close.
    ///
    /// One attempt of `socket.create_connection`, for an address already resolved and a socket
    /// the caller made.
    ///
    /// - Throws: ``ValueError`` for a bad timeout, else ``OSError`` from the connect.
    ///
    /// Python: socket.create_connection (Lib/socket.py)
    public func connectOrClose(_ address: SocketAddress, timeout: Double?) throws {
        do {
            try settimeout(timeout)
            try connect(address)
        } catch {
            try? close()
            throw error
        }
    }
}
