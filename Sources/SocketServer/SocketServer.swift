// Port of CPython Lib/socketserver.py 0.4 (CPython 3.13.0, v3.13.0; byte-identical to 3.12.1).
//
// Read it beside the Python file: the classes come in the same order, each method keeps its
// name in Swift spelling and its statements in Python's order, and every declaration ends its
// doc comment with the `Python:` line naming its original. Each body is wrapped in one probe,
// `traced(...)`, and each call the port makes to a method a user may override goes through
// `dispatched(...)`: that is the trace seam (TraceSeam.swift); with no recorder attached both
// cost one atomic load.
import Sockets
import Synchronization

/// The version of socketserver this port follows.
///
/// Python: __version__ (Lib/socketserver.py:123)
public let __version__ = "0.4"

/// The selector class the servers wait with: poll, which needs no extra file descriptor and one
/// system call per wait, unlike epoll. A program may replace it, as it may the module global.
///
/// Python: _ServerSelector (Lib/socketserver.py:150)
public var _ServerSelector: any BaseSelector.Type { get { serverSelectorClass.withLock { $0 } } set { serverSelectorClass.withLock { $0 = newValue } } }

/// What a server hands its handler: the connected socket of a stream server, or the datagram
/// and the server's socket of a datagram server.
///
/// Swift-only: Python's `request` is duck-typed (a socket, or a `(data, socket)` tuple); an
/// enum gives each shape a case.
public enum Request: Sendable, CustomStringConvertible {
    /// A stream request: the socket `accept()` returned.
    case stream(Socket)
    /// A datagram request: `(data, self.socket)`.
    case datagram([UInt8], Socket)

    /// The connected socket (stream) or the server's socket (datagram).
    public var socket: Socket {
        switch self {
        case .stream(let socket), .datagram(_, let socket): return socket
        }
    }

    /// The datagram's bytes, nil for a stream request (Python's `request[0]`).
    public var data: [UInt8]? {
        if case .datagram(let data, _) = self { return data }
        return nil
    }

    /// The connected socket of a stream request, to call its method `name` on.
    ///
    /// - Throws: `AttributeError("'tuple' object has no attribute '<name>'")` for a datagram
    ///   request: in Python it is a `(data, socket)` tuple, which has no socket methods. The
    ///   server's shared socket is never touched, so no other client's datagram is read.
    ///
    /// Swift-only: Python finds the method, or not, on the request object itself.
    public func socketMethod(_ name: String) throws(AttributeError) -> Socket {
        guard case .stream(let socket) = self else { throw AttributeError(typeName: "tuple", name: name) }
        return socket
    }

    /// `request.recv(bufsize)`, as the notes' handler calls it on a stream request.
    ///
    /// - Throws: `AttributeError` on a datagram request (``socketMethod(_:)``), else the
    ///   socket's `OSError`.
    public func recv(_ bufsize: Int) throws -> [UInt8] { try socketMethod("recv").recv(bufsize) }

    /// `request.sendall(data)`, as the notes' handler calls it on a stream request.
    ///
    /// - Throws: `AttributeError` on a datagram request (``socketMethod(_:)``), else the
    ///   socket's `OSError`.
    public func sendall(_ data: [UInt8]) throws { try socketMethod("sendall").sendall(data) }

    /// Python's repr, short: `<socket fd=5>` or `(b'hello', <socket fd=3>)`.
    public var description: String { traceValue.description }
}

/// The arguments most hooks take, in short text for a trace.
func requestArguments(_ request: Request, _ clientAddress: SocketAddress) -> TraceArguments {
    .of("request", request, "client_address", clientAddress)
}

// MARK: - BaseServer

/// The request loop all servers share; the socket comes with ``TCPServer``.
///
/// A caller makes a server with `init(_:_:)` and either runs ``serveForever(pollInterval:)``
/// until another thread calls ``shutdown()``, or calls ``handleRequest()`` once per request;
/// `fileno()` is the descriptor the selector watches. The hooks a subclass may replace are
/// `serverBind()`, ``serverActivate()``, `getRequest()`, ``handleTimeout()``,
/// ``verifyRequest(_:_:)``, ``serverClose()``, ``processRequest(_:_:)``,
/// ``shutdownRequest(_:)``, ``closeRequest(_:)``, ``serviceActions()`` and
/// ``handleError(_:_:)``; ``finishRequest(_:_:)`` is there for subclasses to call, as each
/// `processRequest` does to run the handler.
///
/// State: the shutdown flag is an atomic and the "is shut down" flag an ``Event``, because
/// ``shutdown()`` runs on another thread than ``serveForever(pollInterval:)`` (Python relies
/// on the GIL). Configuration is written before serving starts and only read afterwards.
///
/// Python: BaseServer (Lib/socketserver.py:155)
open class BaseServer: FileDescriptorConvertible, ContextManager, @unchecked Sendable {
    /// The default timeout of ``handleRequest()``, nil for none. A subclass overrides it.
    ///
    /// Python: BaseServer.timeout (Lib/socketserver.py:201)
    open class var timeout: Double? { nil }

    /// This server's timeout for ``handleRequest()``, from the class's ``timeout`` and
    /// assignable per instance.
    ///
    /// Python: BaseServer.timeout (Lib/socketserver.py:201)
    public var timeout: Double?

    /// The address the server was given, then the bound address (`server_bind` rewrites it).
    ///
    /// Python: BaseServer.server_address (Lib/socketserver.py:205)
    public var serverAddress: SocketAddress

    /// The class instantiated to handle each request.
    ///
    /// Python: BaseServer.RequestHandlerClass (Lib/socketserver.py:206)
    @exclusivity(unchecked) public var requestHandlerClass: BaseRequestHandler.Type  // never accessed in overlap: unchecked

    /// The listening or datagram socket.
    ///
    /// Differs from Python: BaseServer uses `self.socket` without defining it (TCPServer
    /// does); Swift needs it declared where it is used. Set by `TCPServer.init`; while it is
    /// nil, ``handleRequest()`` throws Python's `AttributeError`.
    ///
    /// Python: TCPServer.socket (Lib/socketserver.py:453)
    @exclusivity(unchecked) public var socket: Socket!  // never in overlap either; each check cost 80 instructions a read

    /// Set when serve_forever is not running.
    ///
    /// Python: BaseServer.__is_shut_down (Lib/socketserver.py:207)
    private let _isShutDown = Event()

    /// Set by shutdown() to end the serve_forever loop.
    ///
    /// Python: BaseServer.__shutdown_request (Lib/socketserver.py:208)
    private let _shutdownRequest = Atomic<Bool>(false)

    /// Stores the address and the handler class, and takes ``timeout`` from the class.
    ///
    /// Subclasses add to it rather than replace it: Swift makes every subclass initializer
    /// call `super.init`, which CPython leaves to the subclass.
    ///
    /// Python: BaseServer.__init__ (Lib/socketserver.py:203)
    public init(_ serverAddress: SocketAddress, _ requestHandlerClass: BaseRequestHandler.Type) {
        self.serverAddress = serverAddress
        self.requestHandlerClass = requestHandlerClass
        // Python: self.__is_shut_down = threading.Event(); self.__shutdown_request = False
        // (both are stored properties with those initial values)
        self.timeout = Self.timeout
        // Swift initialises stored properties before `self` may be traced: the probe follows.
        traced("BaseServer.__init__", line: 203, self, .of("server_address", serverAddress)) {}
    }

    /// Does nothing here; ``TCPServer`` overrides it to listen, and its initializer calls it
    /// once the socket is bound.
    ///
    /// Python: BaseServer.server_activate (Lib/socketserver.py:210)
    open func serverActivate() throws {
        traced("BaseServer.server_activate", line: 210, self) {}
    }

    /// Serves requests one after another until another thread calls ``shutdown()``.
    ///
    /// Each turn waits at most `pollInterval` seconds for the listening socket, handles one
    /// request if it is ready, then runs ``serviceActions()``; the shutdown flag is checked
    /// between turns. ``timeout`` plays no part here, and the loop keeps no schedule: work
    /// that must run at set times needs a thread of its own.
    ///
    /// Python: BaseServer.serve_forever (Lib/socketserver.py:218)
    open func serveForever(pollInterval: Double = 0.5) throws {
        try traced("BaseServer.serve_forever", line: 218, self, .of("poll_interval", pollInterval)) {
            _isShutDown.clear()
            defer {  // Python: finally:
                _shutdownRequest.store(false, ordering: .releasing)
                _isShutDown.set()
            }
            // The loop polls, as CPython's does: a shutdown() is seen only at the next wake-up,
            // and an idle server still wakes every poll_interval. CPython's XXX note proposes
            // waking the selector instead, through a second descriptor or a connection to the
            // listening socket.
            let selector = try _ServerSelector.init()
            defer { selector.close() }  // Python: with _ServerSelector() as selector:
            _ = try selector.register(self, EVENT_READ)

            while !_shutdownRequest.load(ordering: .acquiring) {
                let ready = try selector.select(pollInterval)
                // bpo-35017: a shutdown() that came while select() waited ends the loop here,
                // even with a request ready.
                if _shutdownRequest.load(ordering: .acquiring) {
                    break
                }
                if !ready.isEmpty {
                    try dispatched("_handle_request_noblock", self) { try _handleRequestNoblock() }
                }

                try dispatched("service_actions", self) { try serviceActions() }
            }
        }
    }

    /// Asks ``serveForever(pollInterval:)`` to stop, and returns once its loop has ended.
    ///
    /// Call it from another thread while the loop runs: on the serving thread, or before any
    /// loop has started, it waits forever.
    ///
    /// Python: BaseServer.shutdown (Lib/socketserver.py:247)
    open func shutdown() {
        traced("BaseServer.shutdown", line: 247, self) {
            _shutdownRequest.store(true, ordering: .releasing)
            _isShutDown.wait()
        }
    }

    /// Runs once per turn of ``serveForever(pollInterval:)``; does nothing here.
    ///
    /// A subclass or a mixin overrides it for work the loop should do between requests:
    /// ``ForkingMixIn`` reaps its children there.
    ///
    /// Python: BaseServer.service_actions (Lib/socketserver.py:257)
    open func serviceActions() throws {
        traced("BaseServer.service_actions", line: 257, self) {}
    }

    // Four names for the steps of one request; where one step ends and the next begins is
    // largely convention:
    //
    // - handle_request() drives the rest: it waits with selector.select(), then calls
    //   get_request(), verify_request() and process_request()
    // - get_request() is where stream and datagram servers part (accept() or recvfrom())
    // - process_request() decides where the request runs: on this thread, or in the child
    //   process or the new thread a mixin makes for it
    // - finish_request() creates the handler, and the handler's initializer does all the work

    /// Waits for one request and serves it, or gives up when the timeout runs out.
    ///
    /// The wait lasts at most the smaller of the socket's timeout and ``timeout`` (nil for
    /// either means no limit from it); if it ends with no request, ``handleTimeout()`` runs
    /// instead.
    ///
    /// - Throws: `AttributeError` for `socket` on a server that never set one (a plain
    ///   `BaseServer`), as Python's first line does.
    ///
    /// Python: BaseServer.handle_request (Lib/socketserver.py:276)
    open func handleRequest() throws {
        try traced("BaseServer.handle_request", line: 276, self) {
            // Swift-only: Python reads self.socket, which only TCPServer sets.
            guard let socket else { throw AttributeError(typeName: className(of: self), name: "socket") }
            // The socket's own timeout counts too: before the server had `timeout`, calling
            // settimeout() on its socket was how one bounded this wait.
            var timeout = socket.gettimeout()
            if timeout == nil {
                timeout = self.timeout
            } else if let own = self.timeout {
                timeout = min(timeout!, own)
            }
            var deadline = 0.0
            if let timeout {
                deadline = time() + timeout
            }

            // select() may wake early with nothing ready (EINTR), so the loop waits again for
            // what is left of the deadline, until a request is ready or no time remains.
            let selector = try _ServerSelector.init()
            defer { selector.close() }  // Python: with _ServerSelector() as selector:
            _ = try selector.register(self, EVENT_READ)

            while true {
                if try !selector.select(timeout).isEmpty {
                    return try dispatched("_handle_request_noblock", self) {
                        try _handleRequestNoblock()
                    }
                } else {
                    if timeout != nil {
                        timeout = deadline - time()
                        if timeout! < 0 {
                            return try dispatched("handle_timeout", self) { try handleTimeout() }
                        }
                    }
                }
            }
        }
    }

    /// Serves one request that is already waiting.
    ///
    /// Its callers call it only after the selector has reported the socket readable, so
    /// `getRequest()` should not block. An `OSError` from `getRequest()` ends the call
    /// quietly. A request ``verifyRequest(_:_:)`` refuses is shut down unserved; after an
    /// `Exception` from ``processRequest(_:_:)`` the request is reported to
    /// ``handleError(_:_:)`` and shut down, and after any other error it is shut down and the
    /// error rethrown.
    ///
    /// Python: BaseServer._handle_request_noblock (Lib/socketserver.py:305)
    open func _handleRequestNoblock() throws {
        try traced("BaseServer._handle_request_noblock", line: 305, self) {
            let request: Request
            let clientAddress: SocketAddress
            do {
                (request, clientAddress) = try dispatched("get_request", self) { try getRequest() }
            } catch is OSError {
                return
            }
            let verified = try dispatched("verify_request", self, requestArguments(request, clientAddress)) {
                try verifyRequest(request, clientAddress)
            }
            if verified {
                do {
                    try dispatched("process_request", self, requestArguments(request, clientAddress)) {
                        try processRequest(request, clientAddress)
                    }
                } catch where !(error is any BaseException) {  // Python: except Exception:
                    try sys.handling(error) {
                        try dispatched("handle_error", self, requestArguments(request, clientAddress)) {
                            try handleError(request, clientAddress)
                        }
                    }
                    try dispatched("shutdown_request", self) { try shutdownRequest(request) }
                } catch {  // Python: except: (BaseException)
                    try dispatched("shutdown_request", self) { try shutdownRequest(request) }
                    throw error
                }
            } else {
                try dispatched("shutdown_request", self) { try shutdownRequest(request) }
            }
        }
    }

    /// Runs when ``handleRequest()`` has waited ``timeout`` seconds and no request came.
    ///
    /// Does nothing here; ``ForkingMixIn`` reaps its children.
    ///
    /// Python: BaseServer.handle_timeout (Lib/socketserver.py:328)
    open func handleTimeout() throws {
        traced("BaseServer.handle_timeout", line: 328, self) {}
    }

    /// Decides whether to serve a request; a subclass overrides it to turn clients away.
    ///
    /// - Returns: true to serve the request (always, here); false has it shut down unserved.
    ///
    /// Python: BaseServer.verify_request (Lib/socketserver.py:335)
    open func verifyRequest(_ request: Request, _ clientAddress: SocketAddress) throws -> Bool {
        traced("BaseServer.verify_request", line: 335, self, requestArguments(request, clientAddress)) {
            true
        }
    }

    /// Serves the request on this thread: ``finishRequest(_:_:)``, then
    /// ``shutdownRequest(_:)``.
    ///
    /// ``ForkingMixIn`` and ``ThreadingMixIn`` replace it to serve in a child process or on a
    /// new thread.
    ///
    /// Python: BaseServer.process_request (Lib/socketserver.py:343)
    open func processRequest(_ request: Request, _ clientAddress: SocketAddress) throws {
        // Swift-only: a combined class that forgot its forwarding overrides would silently
        // serve synchronously, since base-class code never reaches a protocol extension's method.
        assert(
            !(self is any ThreadingMixIn || self is any ForkingMixIn),
            "\(type(of: self)) adopts a mixin but does not forward processRequest to it")
        try traced("BaseServer.process_request", line: 343, self, requestArguments(request, clientAddress)) {
            try dispatched("finish_request", self, requestArguments(request, clientAddress)) {
                try finishRequest(request, clientAddress)
            }
            try dispatched("shutdown_request", self) { try shutdownRequest(request) }
        }
    }

    /// Releases what the server holds: nothing here. ``TCPServer`` closes its socket, and the
    /// mixins then wait for their children or threads.
    ///
    /// Python: BaseServer.server_close (Lib/socketserver.py:352)
    open func serverClose() throws {
        traced("BaseServer.server_close", line: 352, self) {}
    }

    /// Serves the request by creating an instance of ``requestHandlerClass``, whose
    /// initializer does the work.
    ///
    /// Python: BaseServer.finish_request (Lib/socketserver.py:360)
    open func finishRequest(_ request: Request, _ clientAddress: SocketAddress) throws {
        try traced("BaseServer.finish_request", line: 360, self, requestArguments(request, clientAddress)) {
            _ = try requestHandlerClass.init(request, clientAddress, self)
        }
    }

    /// Ends one request: here only ``closeRequest(_:)``; ``TCPServer`` first shuts down its
    /// side of the connection.
    ///
    /// Python: BaseServer.shutdown_request (Lib/socketserver.py:364)
    open func shutdownRequest(_ request: Request) throws {
        try traced("BaseServer.shutdown_request", line: 364, self, .of("request", request)) {
            try dispatched("close_request", self) { try closeRequest(request) }
        }
    }

    /// Releases one request: nothing to release here; ``TCPServer`` closes the connection.
    ///
    /// Python: BaseServer.close_request (Lib/socketserver.py:368)
    open func closeRequest(_ request: Request) throws {
        traced("BaseServer.close_request", line: 368, self, .of("request", request)) {}
    }

    /// Reports an exception raised while serving a request, after which the server carries
    /// on; a subclass may report it its own way.
    ///
    /// This version writes to standard error a line of dashes, the client's address, the
    /// exception being handled, and a closing line of dashes.
    ///
    /// Differs from Python: Swift keeps no traceback, so where CPython's
    /// `traceback.print_exc()` lists the frames the report has one line saying so
    /// (``traceback/formatException(_:)``, as the default ``PThread/excepthook`` prints); a
    /// trace shows the call path instead.
    ///
    /// Python: BaseServer.handle_error (Lib/socketserver.py:372)
    open func handleError(_ request: Request, _ clientAddress: SocketAddress) throws {
        traced("BaseServer.handle_error", line: 372, self, requestArguments(request, clientAddress)) {
            var report = String(repeating: "-", count: 40) + "\n"
            report += "Exception occurred during processing of request from \(clientAddress.str)\n"
            // Python: import traceback; traceback.print_exc()
            if let exception = sys.exception() {
                report += traceback.formatException(exception)
            } else {
                report += "NoneType: None\n"  // print_exc() outside an except block
            }
            report += String(repeating: "-", count: 40) + "\n"
            sys.writeStderr(report)
        }
    }

    /// Enter the runtime context: returns the server itself.
    ///
    /// Python: BaseServer.__enter__ (Lib/socketserver.py:385)
    open func __enter__() -> Self {
        traced("BaseServer.__enter__", line: 385, self) { () -> Self in self }
    }

    /// Leave the runtime context: close the server.
    ///
    /// Python: BaseServer.__exit__ (Lib/socketserver.py:388)
    open func __exit__() throws {
        try traced("BaseServer.__exit__", line: 388, self) {
            try dispatched("server_close", self) { try serverClose() }
        }
    }

    /// Receives the next request and its client's address, in a way each server class defines;
    /// BaseServer defines none.
    ///
    /// - Throws: `AttributeError` here, as Python does for a server class that defines no
    ///   `get_request`.
    ///
    /// Swift-only: Python's BaseServer has no `get_request` and finds TCPServer's by duck
    /// typing; Swift needs it declared where `_handle_request_noblock` calls it.
    open func getRequest() throws -> (Request, SocketAddress) {
        throw AttributeError(typeName: className(of: self), name: "get_request")
    }

    /// The file descriptor the selector waits on.
    ///
    /// - Throws: `AttributeError` here, as Python does for a server class that defines no
    ///   `fileno`; the selector turns it into `ValueError("Invalid file object: ...")`.
    ///
    /// Swift-only: Python's BaseServer has no `fileno` and finds TCPServer's by duck typing;
    /// Swift needs it declared so that BaseServer can register `self` with a selector.
    open func fileno() throws -> CInt {
        throw AttributeError(typeName: className(of: self), name: "fileno")
    }
}

/// An object usable in a `with` statement.
///
/// Swift-only: Python's context-manager protocol (`__enter__`/`__exit__`).
public protocol ContextManager: AnyObject {
    /// Enter the runtime context.
    func __enter__() -> Self
    /// Leave the runtime context.
    func __exit__() throws
}

extension ContextManager {
    /// `with server as s: body(s)`: enter, run `body`, and exit even when `body` throws; the
    /// body's error propagates after the server is closed, as Python's `with` does.
    ///
    /// Swift-only: Python's `with` statement.
    public func with<R>(_ body: (Self) throws -> R) throws -> R {
        let entered = __enter__()
        let result: R
        do {
            result = try body(entered)
        } catch {
            try __exit__()
            throw error
        }
        try __exit__()
        return result
    }

}

// MARK: - TCPServer

/// A server with a socket of its own, by default TCP over IPv4, serving one request at a
/// time; the other socket servers derive from it.
///
/// Class attributes a subclass may override: ``addressFamily``, ``socketType``,
/// ``requestQueueSize`` (only for stream sockets), ``allowReuseAddress``,
/// ``allowReusePort``; instances may also assign the last three before binding.
///
/// Python: TCPServer (Lib/socketserver.py:392)
open class TCPServer: BaseServer, @unchecked Sendable {
    /// The socket family.
    ///
    /// Python: TCPServer.address_family (Lib/socketserver.py:440)
    open class var addressFamily: CInt { AF_INET }

    /// The socket type.
    ///
    /// Python: TCPServer.socket_type (Lib/socketserver.py:442)
    open class var socketType: CInt { SOCK_STREAM }

    /// The listen backlog.
    ///
    /// Python: TCPServer.request_queue_size (Lib/socketserver.py:444)
    open class var requestQueueSize: Int { 5 }

    /// Whether to set `SO_REUSEADDR` before binding.
    ///
    /// Python: TCPServer.allow_reuse_address (Lib/socketserver.py:446)
    open class var allowReuseAddress: Bool { false }

    /// Whether to set `SO_REUSEPORT` before binding.
    ///
    /// Python: TCPServer.allow_reuse_port (Lib/socketserver.py:448)
    open class var allowReusePort: Bool { false }

    /// This server's backlog, from the class's ``requestQueueSize``.
    ///
    /// Python: TCPServer.request_queue_size (Lib/socketserver.py:444)
    public var requestQueueSize: Int = 5

    /// This server's `SO_REUSEADDR` choice, from the class's ``allowReuseAddress``.
    ///
    /// Python: TCPServer.allow_reuse_address (Lib/socketserver.py:446)
    public var allowReuseAddress = false

    /// This server's `SO_REUSEPORT` choice, from the class's ``allowReusePort``.
    ///
    /// Python: TCPServer.allow_reuse_port (Lib/socketserver.py:448)
    public var allowReusePort = false

    /// Makes the socket and, when `bindAndActivate`, binds it (`serverBind()`) and activates
    /// it (``serverActivate()``); if either step throws, the server is closed (by the most
    /// derived `server_close`) and the error rethrown. Subclasses add to it through
    /// `super.init`.
    ///
    /// Python: TCPServer.__init__ (Lib/socketserver.py:450)
    public required init(
        _ serverAddress: SocketAddress, _ requestHandlerClass: BaseRequestHandler.Type,
        bindAndActivate: Bool = true
    ) throws {
        let frame = InitializerFrame(
            "TCPServer.__init__", line: 450, Self.self,
            .of("server_address", serverAddress, "bind_and_activate", bindAndActivate))
        do {
            super.init(serverAddress, requestHandlerClass)  // Python: BaseServer.__init__(self, ...)
            requestQueueSize = Self.requestQueueSize
            allowReuseAddress = Self.allowReuseAddress
            allowReusePort = Self.allowReusePort
            self.socket = try Socket(Self.addressFamily, Self.socketType)
            if bindAndActivate {
                do {
                    try dispatched("server_bind", self) { try serverBind() }
                    try dispatched("server_activate", self) { try serverActivate() }
                } catch {  // Python: except: self.server_close(); raise
                    try dispatched("server_close", self) { try serverClose() }
                    throw error
                }
            }
        } catch {
            frame.end(raising: error)
            throw error
        }
        frame.end()
    }

    /// Binds the socket to ``BaseServer/serverAddress``, after setting `SO_REUSEADDR` and
    /// `SO_REUSEPORT` where asked, then stores the address the system bound (port 0 becomes
    /// the port it chose). The initializer calls it.
    ///
    /// Python: TCPServer.server_bind (Lib/socketserver.py:463)
    open func serverBind() throws {
        try traced("TCPServer.server_bind", line: 463, self, .of("server_address", serverAddress)) {
            if allowReuseAddress {  // Python also checks hasattr(socket, "SO_REUSEADDR")
                try socket.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
            }
            if allowReusePort {  // Python also checks hasattr(socket, "SO_REUSEPORT")
                try socket.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1)
            }
            try socket.bind(serverAddress)
            serverAddress = try socket.getsockname()
        }
    }

    /// Starts listening, with a backlog of ``requestQueueSize``; the initializer calls it
    /// after `serverBind()`.
    ///
    /// Python: TCPServer.server_activate (Lib/socketserver.py:476)
    open override func serverActivate() throws {
        try traced("TCPServer.server_activate", line: 476, self, .of("request_queue_size", requestQueueSize)) {
            try socket.listen(requestQueueSize)
        }
    }

    /// Closes the server's socket.
    ///
    /// Python: TCPServer.server_close (Lib/socketserver.py:484)
    open override func serverClose() throws {
        try traced("TCPServer.server_close", line: 484, self) {
            try socket.close()
        }
    }

    /// The socket's descriptor, which the selector watches when the server is registered
    /// with it.
    ///
    /// Python: TCPServer.fileno (Lib/socketserver.py:492)
    open override func fileno() throws -> CInt {
        traced("TCPServer.fileno", line: 492, self) {
            socket.fileno()
        }
    }

    /// Accepts a connection: the request is the connected socket, returned with the client's
    /// address.
    ///
    /// Python: TCPServer.get_request (Lib/socketserver.py:500)
    open override func getRequest() throws -> (Request, SocketAddress) {
        try traced("TCPServer.get_request", line: 500, self) {
            let (connection, address) = try socket.accept()
            return (.stream(connection), address)
        }
    }

    /// Shuts down the sending half of the connection, then closes it (``closeRequest(_:)``).
    ///
    /// Python: TCPServer.shutdown_request (Lib/socketserver.py:508)
    open override func shutdownRequest(_ request: Request) throws {
        try traced("TCPServer.shutdown_request", line: 508, self, .of("request", request)) {
            do {
                // close() alone may not end the connection: the descriptor stays open while a
                // makefile() object (in CPython, one the collector has not freed) still uses
                // it. shutdown() tells the client now that the reply is complete.
                try request.socket.shutdown(SHUT_WR)
            } catch {
                // Ignored: on some systems a connection the client already dropped fails
                // with ENOTCONN.
            }
            try dispatched("close_request", self) { try closeRequest(request) }
        }
    }

    /// Closes the connected socket.
    ///
    /// Python: TCPServer.close_request (Lib/socketserver.py:518)
    open override func closeRequest(_ request: Request) throws {
        try traced("TCPServer.close_request", line: 518, self, .of("request", request)) {
            try request.socket.close()
        }
    }
}

// MARK: - UDPServer

/// A datagram server, by default UDP over IPv4: each datagram is a request, answered on the
/// server's own socket.
///
/// Python: UDPServer (Lib/socketserver.py:523)
open class UDPServer: TCPServer, @unchecked Sendable {
    /// Restated as in Python.
    ///
    /// Python: UDPServer.allow_reuse_address (Lib/socketserver.py:527)
    open override class var allowReuseAddress: Bool { false }

    /// Restated as in Python.
    ///
    /// Python: UDPServer.allow_reuse_port (Lib/socketserver.py:529)
    open override class var allowReusePort: Bool { false }

    /// Datagrams.
    ///
    /// Python: UDPServer.socket_type (Lib/socketserver.py:531)
    open override class var socketType: CInt { SOCK_DGRAM }

    /// The largest datagram read; longer ones are silently truncated.
    ///
    /// Python: UDPServer.max_packet_size (Lib/socketserver.py:533)
    open class var maxPacketSize: Int { 8192 }

    /// This server's largest datagram, from the class's ``maxPacketSize``.
    ///
    /// Python: UDPServer.max_packet_size (Lib/socketserver.py:533)
    public lazy var maxPacketSize: Int = Self.maxPacketSize

    /// Read one datagram: the request is `(data, self.socket)`.
    ///
    /// Python: UDPServer.get_request (Lib/socketserver.py:535)
    open override func getRequest() throws -> (Request, SocketAddress) {
        try traced("UDPServer.get_request", line: 535, self) {
            let (data, clientAddr) = try socket.recvfrom(maxPacketSize)
            return (.datagram(data, socket), clientAddr)
        }
    }

    /// Does nothing: a datagram socket does not listen.
    ///
    /// Python: UDPServer.server_activate (Lib/socketserver.py:539)
    open override func serverActivate() throws {
        traced("UDPServer.server_activate", line: 539, self) {
            // Nothing to do: datagrams arrive without a listen().
        }
    }

    /// Closes the request, with no shutdown first: a datagram has no connection to shut down.
    ///
    /// Python: UDPServer.shutdown_request (Lib/socketserver.py:543)
    open override func shutdownRequest(_ request: Request) throws {
        try traced("UDPServer.shutdown_request", line: 543, self, .of("request", request)) {
            // The socket is the server's own, shared by every request: it stays up.
            try dispatched("close_request", self) { try closeRequest(request) }
        }
    }

    /// Does nothing: the request's socket is the server's, which must stay open.
    ///
    /// Python: UDPServer.close_request (Lib/socketserver.py:547)
    open override func closeRequest(_ request: Request) throws {
        traced("UDPServer.close_request", line: 547, self, .of("request", request)) {
            // Nothing to do: closing the shared socket would end the server.
        }
    }
}

// MARK: - ForkingMixIn

/// Serves each request in a child process forked for it.
///
/// Adopt it and add the forwarding overrides (`collectChildren`, `handleTimeout`,
/// `serviceActions`, `processRequest`, `serverClose`, and `class var timeout`), as
/// ``ForkingTCPServer`` does: Swift has no multiple inheritance, and base-class code reaches
/// only methods of the class's vtable, never a protocol extension's.
///
/// Python: ForkingMixIn (Lib/socketserver.py:552)
public protocol ForkingMixIn: BaseServer {
    /// The mixin's attributes, one object per server.
    var forkingMixIn: ForkingMixInState { get }
    /// Reaps the children that have exited; with `blocking`, waits for every one still
    /// running.
    ///
    /// Python: ForkingMixIn.collect_children (Lib/socketserver.py:561)
    func collectChildren(blocking: Bool) throws
}

/// The attributes ForkingMixIn adds to a server.
///
/// State: written and read by the serving thread, and by ``ForkingMixIn/forkingServerClose(_:)``
/// after serving has stopped.
///
/// Swift-only: Python keeps them on the instance and the class.
public final class ForkingMixInState: @unchecked Sendable {
    /// ForkingMixIn's timeout for handle_request: five minutes.
    ///
    /// Python: ForkingMixIn.timeout (Lib/socketserver.py:555)
    public static let timeout: Double? = 300
    /// The pids of the children not yet reaped; nil until the first fork.
    ///
    /// Python: ForkingMixIn.active_children (Lib/socketserver.py:556)
    public var activeChildren: Set<Int32>? = nil
    /// The most children before service_actions waits for one to exit.
    ///
    /// Python: ForkingMixIn.max_children (Lib/socketserver.py:557)
    public var maxChildren = 40
    /// Whether `server_close` waits for each child still running to exit; when false it
    /// reaps only those that have already ended.
    ///
    /// Python: ForkingMixIn.block_on_close (Lib/socketserver.py:559)
    public var blockOnClose = true

    /// Makes the mixin's attributes with Python's defaults.
    public init() {}
}

extension ForkingMixIn {
    /// The pids of the children not yet reaped; nil until the first fork.
    ///
    /// Python: ForkingMixIn.active_children (Lib/socketserver.py:556)
    public var activeChildren: Set<Int32>? {
        get { forkingMixIn.activeChildren }
        set { forkingMixIn.activeChildren = newValue }
    }
    /// The most children before service_actions waits for one to exit.
    ///
    /// Python: ForkingMixIn.max_children (Lib/socketserver.py:557)
    public var maxChildren: Int {
        get { forkingMixIn.maxChildren }
        set { forkingMixIn.maxChildren = newValue }
    }
    /// Whether `server_close` waits for each child still running to exit; when false it
    /// reaps only those that have already ended.
    ///
    /// Python: ForkingMixIn.block_on_close (Lib/socketserver.py:559)
    public var blockOnClose: Bool {
        get { forkingMixIn.blockOnClose }
        set { forkingMixIn.blockOnClose = newValue }
    }

    /// Reaps the children that have exited; with `blocking`, waits for every one still
    /// running. The mixin's own step, which its `handle_timeout`, `service_actions` and
    /// `server_close` call.
    ///
    /// Python: ForkingMixIn.collect_children (Lib/socketserver.py:561)
    public func forkingCollectChildren(blocking: Bool = false) throws {
        traced("ForkingMixIn.collect_children", line: 561, self, .of("blocking", blocking)) {
            if activeChildren == nil {
                return
            }

            // At or over max_children: wait for any child at all, waitpid(-1), until the count
            // is under the limit again. That costs one system call per child that has ended,
            // where asking after each tracked pid costs one per child; but it may reap a child
            // this server did not fork, so it is kept for when the limit is reached.
            while activeChildren!.count >= maxChildren {
                do {
                    let (pid, _) = try os.waitpid(-1, 0)
                    activeChildren!.remove(pid)
                } catch let error as OSError where error.kind == .childProcess {
                    // ECHILD: this process has no children left, so forget every pid.
                    activeChildren!.removeAll()
                } catch {
                    break
                }
            }

            // Then ask after each tracked pid, waiting only when `blocking`. (Swift sorts the
            // copy: a Set's order is random.)
            for var pid in activeChildren!.sorted() {
                do {
                    let flags = blocking ? 0 : os.WNOHANG
                    (pid, _) = try os.waitpid(pid, flags)
                    // A child still running gives pid 0, which the set does not hold, so the
                    // remove does nothing.
                    activeChildren!.remove(pid)
                } catch let error as OSError where error.kind == .childProcess {
                    // ECHILD: the child was reaped elsewhere; stop tracking it.
                    activeChildren!.remove(pid)
                } catch {
                }
            }
        }
    }

    /// Reaps the children that have exited, when ``BaseServer/handleRequest()`` has waited
    /// ``BaseServer/timeout`` seconds and no request came.
    ///
    /// A subclass's `handleTimeout` should call it as well as doing its own work.
    ///
    /// Python: ForkingMixIn.handle_timeout (Lib/socketserver.py:596)
    public func forkingHandleTimeout() throws {
        try traced("ForkingMixIn.handle_timeout", line: 596, self) {
            try dispatched("collect_children", self) { try collectChildren(blocking: false) }
        }
    }

    /// Reaps the children that have exited, once per turn of
    /// ``BaseServer/serveForever(pollInterval:)``.
    ///
    /// Python: ForkingMixIn.service_actions (Lib/socketserver.py:603)
    public func forkingServiceActions() throws {
        try traced("ForkingMixIn.service_actions", line: 603, self) {
            try dispatched("collect_children", self) { try collectChildren(blocking: false) }
        }
    }

    /// Forks a child to serve the request.
    ///
    /// The parent records the child's pid, closes its own copy of the request and returns at
    /// once; the child finishes the request, shuts it down and ends with `os._exit`, status 0,
    /// or 1 after any error.
    ///
    /// Python: ForkingMixIn.process_request (Lib/socketserver.py:610)
    public func forkingProcessRequest(_ request: Request, _ clientAddress: SocketAddress) throws {
        try traced("ForkingMixIn.process_request", line: 610, self, requestArguments(request, clientAddress)) {
            let pid = try os.fork()
            if pid != 0 {
                // The parent: track the child, give up our copy of the request.
                if activeChildren == nil {
                    activeChildren = Set()
                }
                activeChildren!.insert(pid)
                try dispatched("close_request", self) { try closeRequest(request) }
                return
            } else {
                // The child: every path ends in os._exit below. Were it to return, a second
                // copy of the server would go on serving in this process.
                var status: Int32 = 1
                do {
                    try dispatched("finish_request", self, requestArguments(request, clientAddress)) {
                        try finishRequest(request, clientAddress)
                    }
                    status = 0
                } catch where !(error is any BaseException) {  // Python: except Exception:
                    try? sys.handling(error) {
                        try dispatched("handle_error", self, requestArguments(request, clientAddress)) {
                            try handleError(request, clientAddress)
                        }
                    }
                } catch {
                    // A BaseException: os._exit in Python's `finally` swallows it.
                }
                // Python: finally: try: self.shutdown_request(request) finally: os._exit(status)
                try? dispatched("shutdown_request", self) { try shutdownRequest(request) }
                os._exit(status)
            }
        }
    }

    /// Close the server, then reap the children (waiting for them if ``blockOnClose``).
    ///
    /// - Parameter superServerClose: the next class's `server_close` (Python's
    ///   `super().server_close()`).
    ///
    /// Python: ForkingMixIn.server_close (Lib/socketserver.py:635)
    public func forkingServerClose(_ superServerClose: () throws -> Void) throws {
        try traced("ForkingMixIn.server_close", line: 635, self) {
            try superServerClose()
            try dispatched("collect_children", self) { try collectChildren(blocking: blockOnClose) }
        }
    }
}

// MARK: - _Threads

/// What ThreadingMixIn keeps its threads in: ``_Threads`` or ``_NoThreads``.
///
/// Swift-only: Python duck-types the two classes.
public protocol _ThreadList: AnyObject, Sendable {
    /// Track a thread before it starts.
    func append(_ thread: PThread)
    /// Join the tracked threads.
    func join() throws
}

/// The non-daemon threads a ThreadingMixIn server has started, for `server_close` to join.
///
/// Each ``append(_:)`` first drops the threads that have ended, so the list does not grow
/// with every request.
///
/// State: the list is guarded by a ``Lock`` (Python's list relies on the GIL).
///
/// Python: _Threads (Lib/socketserver.py:640)
public final class _Threads: _ThreadList {
    private let list = Lock<[PThread]>([])

    /// Makes an empty list.
    public init() {}

    /// The number of tracked threads (Python's `len(self._threads)`).
    public var count: Int { list.withLock { $0.count } }

    /// The tracked threads (Python's `list(self._threads)`).
    public var threads: [PThread] { list.withLock { $0 } }

    /// Reap finished threads, then track `thread` unless it is a daemon.
    ///
    /// Python: _Threads.append (Lib/socketserver.py:644)
    public func append(_ thread: PThread) {
        traced("_Threads.append", line: 644, self, .of("thread", thread)) {
            reap()
            if thread.daemon {
                return
            }
            list.withLock { $0.append(thread) }
        }
    }

    /// Empty the list and return what it held.
    ///
    /// Python: _Threads.pop_all (Lib/socketserver.py:650)
    public func popAll() -> [PThread] {
        traced("_Threads.pop_all", line: 650, self) {
            list.withLock { list in
                defer { list = [] }
                return list
            }
        }
    }

    /// Join every tracked thread.
    ///
    /// Python: _Threads.join (Lib/socketserver.py:654)
    public func join() throws {
        try traced("_Threads.join", line: 654, self) {
            for thread in popAll() {
                try thread.join()
            }
        }
    }

    /// Drop threads that are not alive (finished, or never started).
    ///
    /// Python: _Threads.reap (Lib/socketserver.py:658)
    public func reap() {
        traced("_Threads.reap", line: 658, self) {
            list.withLock { $0.removeAll { !$0.isAlive() } }
        }
    }
}

// MARK: - _NoThreads

/// A stand-in for ``_Threads`` that keeps no thread and joins none: what a server uses while
/// its `block_on_close` is false.
///
/// Python: _NoThreads (Lib/socketserver.py:662)
public final class _NoThreads: _ThreadList {
    /// The one instance ThreadingMixIn's class attribute holds.
    ///
    /// Python: ThreadingMixIn._threads (Lib/socketserver.py:683)
    public static let shared = _NoThreads()

    /// Does nothing.
    ///
    /// Python: _NoThreads.append (Lib/socketserver.py:666)
    public func append(_ thread: PThread) {
        traced("_NoThreads.append", line: 666, self, .of("thread", thread)) {}
    }

    /// Does nothing.
    ///
    /// Python: _NoThreads.join (Lib/socketserver.py:669)
    public func join() {
        traced("_NoThreads.join", line: 669, self) {}
    }
}

// MARK: - ThreadingMixIn

/// Serves each request on a thread started for it.
///
/// Adopt it and add the forwarding overrides (`processRequestThread`, `processRequest`,
/// `serverClose`), as ``ThreadingTCPServer`` does: base-class code reaches only methods of the
/// class's vtable, never a protocol extension's.
///
/// Python: ThreadingMixIn (Lib/socketserver.py:673)
public protocol ThreadingMixIn: BaseServer {
    /// The mixin's attributes, one object per server.
    var threadingMixIn: ThreadingMixInState { get }
    /// What the request's thread runs: finish and shut down the request, as BaseServer's
    /// `processRequest` does, and report an `Exception` to `handleError` here, since one that
    /// left the thread would reach only the thread's excepthook.
    ///
    /// Python: ThreadingMixIn.process_request_thread (Lib/socketserver.py:685)
    func processRequestThread(_ request: Request, _ clientAddress: SocketAddress) throws
}

/// The attributes ThreadingMixIn adds to a server.
///
/// State: written by the serving thread, read by `server_close` after serving has stopped.
///
/// Swift-only: Python keeps them on the instance and the class.
public final class ThreadingMixInState: @unchecked Sendable {
    /// Whether request threads are daemons: the process may exit while they run, and
    /// `server_close` does not join them.
    ///
    /// Python: ThreadingMixIn.daemon_threads (Lib/socketserver.py:678)
    public var daemonThreads = false
    /// Whether `server_close` joins the non-daemon request threads; when false,
    /// `process_request` keeps no list of them.
    ///
    /// Python: ThreadingMixIn.block_on_close (Lib/socketserver.py:680)
    public var blockOnClose = true
    /// The instance's own thread list, once `process_request` has made it (Python's
    /// `vars(self)['_threads']`); nil means the class-level ``_NoThreads``.
    public var ownThreads: _Threads? = nil

    /// Makes the mixin's attributes with Python's defaults.
    public init() {}
}

extension ThreadingMixIn {
    /// Whether request threads are daemons: the process may exit while they run, and
    /// `server_close` does not join them.
    ///
    /// Python: ThreadingMixIn.daemon_threads (Lib/socketserver.py:678)
    public var daemonThreads: Bool {
        get { threadingMixIn.daemonThreads }
        set { threadingMixIn.daemonThreads = newValue }
    }
    /// Whether `server_close` joins the non-daemon request threads; when false,
    /// `process_request` keeps no list of them.
    ///
    /// Python: ThreadingMixIn.block_on_close (Lib/socketserver.py:680)
    public var blockOnClose: Bool {
        get { threadingMixIn.blockOnClose }
        set { threadingMixIn.blockOnClose = newValue }
    }
    /// The threads `server_close` joins: this server's own ``_Threads`` once
    /// `process_request` has made it (which it does while ``blockOnClose`` is true), else the
    /// shared ``_NoThreads``.
    ///
    /// Python: ThreadingMixIn._threads (Lib/socketserver.py:683)
    public var _threads: any _ThreadList { threadingMixIn.ownThreads ?? _NoThreads.shared }

    /// What the request's thread runs: finish and shut down the request, as BaseServer's
    /// `processRequest` does, and report an `Exception` to `handleError` here, since one that
    /// left the thread would reach only the thread's excepthook. The request is shut down
    /// whatever happens.
    ///
    /// Python: ThreadingMixIn.process_request_thread (Lib/socketserver.py:685)
    public func threadingProcessRequestThread(_ request: Request, _ clientAddress: SocketAddress) throws {
        try traced("ThreadingMixIn.process_request_thread", line: 685, self, requestArguments(request, clientAddress)) {
            do {  // Python: try: ... finally: self.shutdown_request(request)
                do {
                    try dispatched("finish_request", self, requestArguments(request, clientAddress)) {
                        try finishRequest(request, clientAddress)
                    }
                } catch where !(error is any BaseException) {  // Python: except Exception:
                    try sys.handling(error) {
                        try dispatched("handle_error", self, requestArguments(request, clientAddress)) {
                            try handleError(request, clientAddress)
                        }
                    }
                }
            } catch {
                try dispatched("shutdown_request", self) { try shutdownRequest(request) }
                throw error
            }
            try dispatched("shutdown_request", self) { try shutdownRequest(request) }
        }
    }

    /// Starts a thread that serves the request (``processRequestThread(_:_:)``), and returns
    /// without waiting for it.
    ///
    /// The thread is a daemon when ``daemonThreads`` is true. It is handed to ``_threads``
    /// before it starts, which keeps it for `server_close` to join unless it is a daemon or
    /// ``blockOnClose`` is false.
    ///
    /// Python: ThreadingMixIn.process_request (Lib/socketserver.py:698)
    public func threadingProcessRequest(_ request: Request, _ clientAddress: SocketAddress) throws {
        try traced("ThreadingMixIn.process_request", line: 698, self, requestArguments(request, clientAddress)) {
            if blockOnClose {
                // Python: vars(self).setdefault('_threads', _Threads())
                if threadingMixIn.ownThreads == nil { threadingMixIn.ownThreads = _Threads() }
            }
            let t = PThread(targetName: "process_request_thread") { [self] in
                try dispatched("process_request_thread", self, requestArguments(request, clientAddress)) {
                    try processRequestThread(request, clientAddress)
                }
            }
            t.daemon = daemonThreads
            _threads.append(t)
            try t.start()
        }
    }

    /// Close the server, then join the request threads.
    ///
    /// - Parameter superServerClose: the next class's `server_close` (Python's
    ///   `super().server_close()`).
    ///
    /// Python: ThreadingMixIn.server_close (Lib/socketserver.py:708)
    public func threadingServerClose(_ superServerClose: () throws -> Void) throws {
        try traced("ThreadingMixIn.server_close", line: 708, self) {
            try superServerClose()
            try _threads.join()
        }
    }
}

// MARK: - ForkingUDPServer

/// A UDP server that forks a process per datagram.
///
/// Python: ForkingUDPServer (Lib/socketserver.py:714), `class ForkingUDPServer(ForkingMixIn, UDPServer): pass`
open class ForkingUDPServer: UDPServer, ForkingMixIn, @unchecked Sendable {
    // MARK: ForkingMixIn forwarding (one line per attribute or method the mixin defines)
    /// The mixin's attributes.
    public let forkingMixIn = ForkingMixInState()
    /// Python: ForkingMixIn.timeout (Lib/socketserver.py:555)
    open override class var timeout: Double? { ForkingMixInState.timeout }
    /// Python: ForkingMixIn.collect_children (Lib/socketserver.py:561)
    open func collectChildren(blocking: Bool = false) throws { try forkingCollectChildren(blocking: blocking) }
    /// Python: ForkingMixIn.handle_timeout (Lib/socketserver.py:596)
    open override func handleTimeout() throws { try forkingHandleTimeout() }
    /// Python: ForkingMixIn.service_actions (Lib/socketserver.py:603)
    open override func serviceActions() throws { try forkingServiceActions() }
    /// Python: ForkingMixIn.process_request (Lib/socketserver.py:610)
    open override func processRequest(_ request: Request, _ clientAddress: SocketAddress) throws { try forkingProcessRequest(request, clientAddress) }
    /// Python: ForkingMixIn.server_close (Lib/socketserver.py:635)
    open override func serverClose() throws { try forkingServerClose { try super.serverClose() } }
}

// MARK: - ForkingTCPServer

/// A TCP server that forks a process per connection.
///
/// Python: ForkingTCPServer (Lib/socketserver.py:715), `class ForkingTCPServer(ForkingMixIn, TCPServer): pass`
open class ForkingTCPServer: TCPServer, ForkingMixIn, @unchecked Sendable {
    // MARK: ForkingMixIn forwarding (one line per attribute or method the mixin defines)
    /// The mixin's attributes.
    public let forkingMixIn = ForkingMixInState()
    /// Python: ForkingMixIn.timeout (Lib/socketserver.py:555)
    open override class var timeout: Double? { ForkingMixInState.timeout }
    /// Python: ForkingMixIn.collect_children (Lib/socketserver.py:561)
    open func collectChildren(blocking: Bool = false) throws { try forkingCollectChildren(blocking: blocking) }
    /// Python: ForkingMixIn.handle_timeout (Lib/socketserver.py:596)
    open override func handleTimeout() throws { try forkingHandleTimeout() }
    /// Python: ForkingMixIn.service_actions (Lib/socketserver.py:603)
    open override func serviceActions() throws { try forkingServiceActions() }
    /// Python: ForkingMixIn.process_request (Lib/socketserver.py:610)
    open override func processRequest(_ request: Request, _ clientAddress: SocketAddress) throws { try forkingProcessRequest(request, clientAddress) }
    /// Python: ForkingMixIn.server_close (Lib/socketserver.py:635)
    open override func serverClose() throws { try forkingServerClose { try super.serverClose() } }
}

// MARK: - ThreadingUDPServer

/// A UDP server that starts a thread per datagram.
///
/// Python: ThreadingUDPServer (Lib/socketserver.py:717), `class ThreadingUDPServer(ThreadingMixIn, UDPServer): pass`
open class ThreadingUDPServer: UDPServer, ThreadingMixIn, @unchecked Sendable {
    // MARK: ThreadingMixIn forwarding (one line per attribute or method the mixin defines)
    /// The mixin's attributes.
    public let threadingMixIn = ThreadingMixInState()
    /// Python: ThreadingMixIn.process_request_thread (Lib/socketserver.py:685)
    open func processRequestThread(_ request: Request, _ clientAddress: SocketAddress) throws { try threadingProcessRequestThread(request, clientAddress) }
    /// Python: ThreadingMixIn.process_request (Lib/socketserver.py:698)
    open override func processRequest(_ request: Request, _ clientAddress: SocketAddress) throws { try threadingProcessRequest(request, clientAddress) }
    /// Python: ThreadingMixIn.server_close (Lib/socketserver.py:708)
    open override func serverClose() throws { try threadingServerClose { try super.serverClose() } }
}

// MARK: - ThreadingTCPServer

/// A TCP server that starts a thread per connection.
///
/// Python: ThreadingTCPServer (Lib/socketserver.py:718), `class ThreadingTCPServer(ThreadingMixIn, TCPServer): pass`
open class ThreadingTCPServer: TCPServer, ThreadingMixIn, @unchecked Sendable {
    // MARK: ThreadingMixIn forwarding (one line per attribute or method the mixin defines)
    /// The mixin's attributes.
    public let threadingMixIn = ThreadingMixInState()
    /// Python: ThreadingMixIn.process_request_thread (Lib/socketserver.py:685)
    open func processRequestThread(_ request: Request, _ clientAddress: SocketAddress) throws { try threadingProcessRequestThread(request, clientAddress) }
    /// Python: ThreadingMixIn.process_request (Lib/socketserver.py:698)
    open override func processRequest(_ request: Request, _ clientAddress: SocketAddress) throws { try threadingProcessRequest(request, clientAddress) }
    /// Python: ThreadingMixIn.server_close (Lib/socketserver.py:708)
    open override func serverClose() throws { try threadingServerClose { try super.serverClose() } }
}

// MARK: - UnixStreamServer

/// A stream server on a Unix-domain socket (a path on this machine).
///
/// Python: UnixStreamServer (Lib/socketserver.py:722)
open class UnixStreamServer: TCPServer, @unchecked Sendable {
    /// Unix-domain sockets.
    ///
    /// Python: UnixStreamServer.address_family (Lib/socketserver.py:723)
    open override class var addressFamily: CInt { AF_UNIX }
}

// MARK: - UnixDatagramServer

/// A datagram server on a Unix-domain socket.
///
/// Python: UnixDatagramServer (Lib/socketserver.py:725)
open class UnixDatagramServer: UDPServer, @unchecked Sendable {
    /// Unix-domain sockets.
    ///
    /// Python: UnixDatagramServer.address_family (Lib/socketserver.py:726)
    open override class var addressFamily: CInt { AF_UNIX }
}

// MARK: - ThreadingUnixStreamServer

/// A Unix stream server that starts a thread per connection.
///
/// Python: ThreadingUnixStreamServer (Lib/socketserver.py:728), `class ThreadingUnixStreamServer(ThreadingMixIn, UnixStreamServer): pass`
open class ThreadingUnixStreamServer: UnixStreamServer, ThreadingMixIn, @unchecked Sendable {
    // MARK: ThreadingMixIn forwarding (one line per attribute or method the mixin defines)
    /// The mixin's attributes.
    public let threadingMixIn = ThreadingMixInState()
    /// Python: ThreadingMixIn.process_request_thread (Lib/socketserver.py:685)
    open func processRequestThread(_ request: Request, _ clientAddress: SocketAddress) throws { try threadingProcessRequestThread(request, clientAddress) }
    /// Python: ThreadingMixIn.process_request (Lib/socketserver.py:698)
    open override func processRequest(_ request: Request, _ clientAddress: SocketAddress) throws { try threadingProcessRequest(request, clientAddress) }
    /// Python: ThreadingMixIn.server_close (Lib/socketserver.py:708)
    open override func serverClose() throws { try threadingServerClose { try super.serverClose() } }
}

// MARK: - ThreadingUnixDatagramServer

/// A Unix datagram server that starts a thread per datagram.
///
/// Python: ThreadingUnixDatagramServer (Lib/socketserver.py:730), `class ThreadingUnixDatagramServer(ThreadingMixIn, UnixDatagramServer): pass`
open class ThreadingUnixDatagramServer: UnixDatagramServer, ThreadingMixIn, @unchecked Sendable {
    // MARK: ThreadingMixIn forwarding (one line per attribute or method the mixin defines)
    /// The mixin's attributes.
    public let threadingMixIn = ThreadingMixInState()
    /// Python: ThreadingMixIn.process_request_thread (Lib/socketserver.py:685)
    open func processRequestThread(_ request: Request, _ clientAddress: SocketAddress) throws { try threadingProcessRequestThread(request, clientAddress) }
    /// Python: ThreadingMixIn.process_request (Lib/socketserver.py:698)
    open override func processRequest(_ request: Request, _ clientAddress: SocketAddress) throws { try threadingProcessRequest(request, clientAddress) }
    /// Python: ThreadingMixIn.server_close (Lib/socketserver.py:708)
    open override func serverClose() throws { try threadingServerClose { try super.serverClose() } }
}

// MARK: - ForkingUnixStreamServer

/// A Unix stream server that forks a process per connection.
///
/// Python: ForkingUnixStreamServer (Lib/socketserver.py:733), `class ForkingUnixStreamServer(ForkingMixIn, UnixStreamServer): pass`
open class ForkingUnixStreamServer: UnixStreamServer, ForkingMixIn, @unchecked Sendable {
    // MARK: ForkingMixIn forwarding (one line per attribute or method the mixin defines)
    /// The mixin's attributes.
    public let forkingMixIn = ForkingMixInState()
    /// Python: ForkingMixIn.timeout (Lib/socketserver.py:555)
    open override class var timeout: Double? { ForkingMixInState.timeout }
    /// Python: ForkingMixIn.collect_children (Lib/socketserver.py:561)
    open func collectChildren(blocking: Bool = false) throws { try forkingCollectChildren(blocking: blocking) }
    /// Python: ForkingMixIn.handle_timeout (Lib/socketserver.py:596)
    open override func handleTimeout() throws { try forkingHandleTimeout() }
    /// Python: ForkingMixIn.service_actions (Lib/socketserver.py:603)
    open override func serviceActions() throws { try forkingServiceActions() }
    /// Python: ForkingMixIn.process_request (Lib/socketserver.py:610)
    open override func processRequest(_ request: Request, _ clientAddress: SocketAddress) throws { try forkingProcessRequest(request, clientAddress) }
    /// Python: ForkingMixIn.server_close (Lib/socketserver.py:635)
    open override func serverClose() throws { try forkingServerClose { try super.serverClose() } }
}

// MARK: - ForkingUnixDatagramServer

/// A Unix datagram server that forks a process per datagram.
///
/// Python: ForkingUnixDatagramServer (Lib/socketserver.py:735), `class ForkingUnixDatagramServer(ForkingMixIn, UnixDatagramServer): pass`
open class ForkingUnixDatagramServer: UnixDatagramServer, ForkingMixIn, @unchecked Sendable {
    // MARK: ForkingMixIn forwarding (one line per attribute or method the mixin defines)
    /// The mixin's attributes.
    public let forkingMixIn = ForkingMixInState()
    /// Python: ForkingMixIn.timeout (Lib/socketserver.py:555)
    open override class var timeout: Double? { ForkingMixInState.timeout }
    /// Python: ForkingMixIn.collect_children (Lib/socketserver.py:561)
    open func collectChildren(blocking: Bool = false) throws { try forkingCollectChildren(blocking: blocking) }
    /// Python: ForkingMixIn.handle_timeout (Lib/socketserver.py:596)
    open override func handleTimeout() throws { try forkingHandleTimeout() }
    /// Python: ForkingMixIn.service_actions (Lib/socketserver.py:603)
    open override func serviceActions() throws { try forkingServiceActions() }
    /// Python: ForkingMixIn.process_request (Lib/socketserver.py:610)
    open override func processRequest(_ request: Request, _ clientAddress: SocketAddress) throws { try forkingProcessRequest(request, clientAddress) }
    /// Python: ForkingMixIn.server_close (Lib/socketserver.py:635)
    open override func serverClose() throws { try forkingServerClose { try super.serverClose() } }
}

// MARK: - BaseRequestHandler

/// The object made for each request: a service is a subclass that overrides ``handle()``.
///
/// The server creates one handler per request. Its initializer stores ``request``,
/// ``clientAddress`` and ``server`` (through which ``handle()`` reaches whatever the server
/// holds), then runs ``setup()``, ``handle()`` and ``finish()``. A handler lives for one
/// request, so it may keep per-request state in properties of its own; in Swift they need
/// initial values, unless the subclass writes its own `required init`.
///
/// Python: BaseRequestHandler (Lib/socketserver.py:737)
open class BaseRequestHandler {
    /// The request: a connected socket, or a datagram and the server's socket.
    ///
    /// Python: BaseRequestHandler.request (Lib/socketserver.py:756)
    public let request: Request
    /// The client's address.
    ///
    /// Python: BaseRequestHandler.client_address (Lib/socketserver.py:757)
    public let clientAddress: SocketAddress
    /// The server that made this handler.
    ///
    /// Python: BaseRequestHandler.server (Lib/socketserver.py:758)
    public let server: BaseServer

    /// Set the attributes, then setup(), handle() and, even when handle() raises, finish().
    ///
    /// Python: BaseRequestHandler.__init__ (Lib/socketserver.py:755)
    public required init(_ request: Request, _ clientAddress: SocketAddress, _ server: BaseServer) throws {
        self.request = request
        self.clientAddress = clientAddress
        self.server = server
        try traced("BaseRequestHandler.__init__", line: 755, self, requestArguments(request, clientAddress)) {
            try dispatched("setup", self) { try setup() }
            do {
                try dispatched("handle", self) { try handle() }
            } catch {  // Python: finally: self.finish()
                try dispatched("finish", self) { try finish() }
                throw error
            }
            try dispatched("finish", self) { try finish() }
        }
    }

    /// Prepare the request. Does nothing here.
    ///
    /// Python: BaseRequestHandler.setup (Lib/socketserver.py:765)
    open func setup() throws {
        traced("BaseRequestHandler.setup", line: 765, self) {}
    }

    /// Serve the request. Does nothing here: subclasses define it.
    ///
    /// Python: BaseRequestHandler.handle (Lib/socketserver.py:768)
    open func handle() throws {
        traced("BaseRequestHandler.handle", line: 768, self) {}
    }

    /// Clean up after the request. Does nothing here.
    ///
    /// Python: BaseRequestHandler.finish (Lib/socketserver.py:771)
    open func finish() throws {
        traced("BaseRequestHandler.finish", line: 771, self) {}
    }
}

// StreamRequestHandler and DatagramRequestHandler give a handler the same two properties
// whatever the server's kind, so that one handle() can serve both:
// - rfile, to read the request from
// - wfile, to write the reply to; finish() flushes or sends it once handle() returns

// MARK: - StreamRequestHandler

/// A handler for stream servers: ``rfile`` and ``wfile`` read from and write to the
/// connection.
///
/// Python: StreamRequestHandler (Lib/socketserver.py:783)
open class StreamRequestHandler: BaseRequestHandler {
    /// Buffering for ``rfile``: -1, the default, buffers with `DEFAULT_BUFFER_SIZE`, since a
    /// large request read a byte at a time would be slow; 0 is unbuffered (one-byte reads for
    /// readline).
    ///
    /// Python: StreamRequestHandler.rbufsize (Lib/socketserver.py:794)
    open class var rbufsize: Int { -1 }
    /// Buffering for ``wfile``: 0, the default, writes straight to the socket through a
    /// ``_SocketWriter``, so that a reply has gone before the handler reads again; any other
    /// value gives a buffered writer that sends on flush.
    ///
    /// Python: StreamRequestHandler.wbufsize (Lib/socketserver.py:795)
    open class var wbufsize: Int { 0 }
    /// Seconds the connection's socket calls may block, set by ``setup()``; nil leaves the
    /// socket as `accept()` made it.
    ///
    /// Python: StreamRequestHandler.timeout (Lib/socketserver.py:798)
    open class var timeout: Double? { nil }
    /// Whether ``setup()`` sets `TCP_NODELAY`, so that writes leave without waiting to fill a
    /// packet. Meant for a buffered ``wfile`` (``wbufsize`` not 0): with the unbuffered default
    /// every write would go out as its own small packet.
    ///
    /// Python: StreamRequestHandler.disable_nagle_algorithm (Lib/socketserver.py:802)
    open class var disableNagleAlgorithm: Bool { false }

    /// The request socket.
    ///
    /// Python: StreamRequestHandler.connection (Lib/socketserver.py:805), set in setup()
    public var connection: Socket!
    /// What the request is read from.
    ///
    /// Python: StreamRequestHandler.rfile (Lib/socketserver.py:811), set in setup()
    public var rfile: IOBase!
    /// What the reply is written to.
    ///
    /// Python: StreamRequestHandler.wfile (Lib/socketserver.py:813), set in setup()
    public var wfile: IOBase!

    /// Make rfile and wfile over the connection.
    ///
    /// - Throws: `AttributeError` on a datagram server, for the first socket method Python
    ///   would call on its `(data, socket)` request; handle() and finish() do not run.
    ///
    /// Python: StreamRequestHandler.setup (Lib/socketserver.py:804)
    open override func setup() throws {
        try traced("StreamRequestHandler.setup", line: 804, self) {
            // Python: self.connection = self.request. On a datagram server that is the
            // (data, socket) tuple, and the first socket method called below raises
            // AttributeError: settimeout, setsockopt or makefile, whichever comes first.
            let first =
                Self.timeout != nil ? "settimeout" : Self.disableNagleAlgorithm ? "setsockopt" : "makefile"
            connection = try request.socketMethod(first)
            if let timeout = Self.timeout {
                try connection.settimeout(timeout)
            }
            if Self.disableNagleAlgorithm {
                try connection.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1)
            }
            rfile = try connection.makefile("rb", buffering: Self.rbufsize)
            if Self.wbufsize == 0 {
                wfile = _SocketWriter(connection)
            } else {
                wfile = try connection.makefile("wb", buffering: Self.wbufsize)
            }
        }
    }

    /// Flush wfile (an error there is ignored), then close wfile and rfile.
    ///
    /// Python: StreamRequestHandler.finish (Lib/socketserver.py:817)
    open override func finish() throws {
        try traced("StreamRequestHandler.finish", line: 817, self) {
            if !wfile.closed {
                do {
                    try wfile.flush()
                } catch is OSError {
                    // Ignored: the flush may be the first call to find the connection gone
                    // (ECONNABORTED, say), and the request is over anyway.
                }
            }
            try wfile.close()
            try rfile.close()
        }
    }
}

// MARK: - _SocketWriter

/// The unbuffered ``StreamRequestHandler/wfile``: a writable BufferedIOBase whose `write`
/// sends all its bytes at once, so there is never anything to flush.
///
/// Python: _SocketWriter (Lib/socketserver.py:828)
open class _SocketWriter: BufferedIOBase, @unchecked Sendable {
    /// The socket written to.
    ///
    /// Python: _SocketWriter._sock (Lib/socketserver.py:834)
    public let _sock: Socket

    /// Wrap `sock`.
    ///
    /// Python: _SocketWriter.__init__ (Lib/socketserver.py:833)
    public init(_ sock: Socket) {
        self._sock = sock
        super.init()
        traced("_SocketWriter.__init__", line: 833, self, .of("sock", TraceValue.socket(fd: sock.fileno()))) {}
    }

    /// Always writable.
    ///
    /// Python: _SocketWriter.writable (Lib/socketserver.py:836)
    open override func writable() -> Bool {
        traced("_SocketWriter.writable", line: 836, self) { true }
    }

    /// Send all of `b` and return its length. No closed check, as in Python.
    ///
    /// Python: _SocketWriter.write (Lib/socketserver.py:839)
    open override func write(_ b: [UInt8]) throws -> Int {
        try traced("_SocketWriter.write", line: 839, self, .of("b", b)) {
            try _sock.sendall(b)
            // Python: with memoryview(b) as view: return view.nbytes
            return b.count
        }
    }

    /// The socket's file number.
    ///
    /// Python: _SocketWriter.fileno (Lib/socketserver.py:844)
    open override func fileno() throws -> CInt {
        traced("_SocketWriter.fileno", line: 844, self) { _sock.fileno() }
    }
}

// MARK: - DatagramRequestHandler

/// A handler for datagram servers: ``rfile`` holds the datagram, and what is written to
/// ``wfile`` goes back to the client as one datagram when ``finish()`` runs.
///
/// Python: DatagramRequestHandler (Lib/socketserver.py:847)
open class DatagramRequestHandler: BaseRequestHandler {
    /// The datagram received.
    ///
    /// Python: DatagramRequestHandler.packet (Lib/socketserver.py:853), set in setup()
    public var packet: [UInt8] = []
    /// The server's socket, to reply on.
    ///
    /// Python: DatagramRequestHandler.socket (Lib/socketserver.py:853), set in setup()
    public var socket: Socket!
    /// The datagram, to read.
    ///
    /// Python: DatagramRequestHandler.rfile (Lib/socketserver.py:854), set in setup()
    public var rfile: BytesIO!
    /// The reply, sent by finish().
    ///
    /// Python: DatagramRequestHandler.wfile (Lib/socketserver.py:855), set in setup()
    public var wfile: BytesIO!

    /// Wrap the datagram in rfile and an empty reply in wfile.
    ///
    /// - Throws: `TypeError("cannot unpack non-iterable socket object")` on a stream server,
    ///   whose request is a socket, not a `(data, socket)` pair; handle() and finish() do not run.
    ///
    /// Python: DatagramRequestHandler.setup (Lib/socketserver.py:851)
    open override func setup() throws {
        try traced("DatagramRequestHandler.setup", line: 851, self) {
            // Python: from io import BytesIO; self.packet, self.socket = self.request
            guard case .datagram(let data, let sock) = request else {
                throw TypeError("cannot unpack non-iterable socket object")
            }
            (packet, socket) = (data, sock)
            rfile = BytesIO(packet)
            wfile = BytesIO()
        }
    }

    /// Send wfile's contents back to the client: always, even empty.
    ///
    /// Python: DatagramRequestHandler.finish (Lib/socketserver.py:857)
    open override func finish() throws {
        try traced("DatagramRequestHandler.finish", line: 857, self) {
            if clientAddress == .unnamed {
                // Python's sendto raises this for the None address of an unbound client.
                throw TypeError("a bytes-like object is required, not 'NoneType'")
            }
            _ = try socket.sendto(wfile.getvalue(), clientAddress)
        }
    }
}

/// Where ``_ServerSelector`` is kept: behind a lock, since a program may set it while servers
/// run in other threads (`socketserver._ServerSelector = selectors.SelectSelector`); each
/// `serve_forever()` and `handle_request()` makes its selector from the class set when it starts.
///
/// Swift-only: CPython's module global needs no lock under the GIL.
private let serverSelectorClass = Lock<any BaseSelector.Type>(PollSelector.self)
