// Swift-only: the C constants Python's `socket`, `selectors` and `io` modules re-export.
import Glibc

// MARK: - Address families

/// IPv4 address family.
///
/// Python: socket.AF_INET (Lib/socket.py)
public let AF_INET: CInt = CInt(Glibc.AF_INET)
/// IPv6 address family.
///
/// Python: socket.AF_INET6 (Lib/socket.py)
public let AF_INET6: CInt = CInt(Glibc.AF_INET6)
/// Unix-domain address family.
///
/// Python: socket.AF_UNIX (Lib/socket.py)
public let AF_UNIX: CInt = CInt(Glibc.AF_UNIX)
/// Unspecified address family.
///
/// Python: socket.AF_UNSPEC (Lib/socket.py)
public let AF_UNSPEC: CInt = CInt(Glibc.AF_UNSPEC)

// MARK: - Socket types

/// Stream (TCP) socket type.
///
/// Python: socket.SOCK_STREAM (Lib/socket.py)
public let SOCK_STREAM: CInt = CInt(Glibc.SOCK_STREAM.rawValue)
/// Datagram (UDP) socket type.
///
/// Python: socket.SOCK_DGRAM (Lib/socket.py)
public let SOCK_DGRAM: CInt = CInt(Glibc.SOCK_DGRAM.rawValue)

// MARK: - Socket options

/// The socket-level option level.
///
/// Python: socket.SOL_SOCKET (Lib/socket.py)
public let SOL_SOCKET: CInt = CInt(Glibc.SOL_SOCKET)
/// Allow `bind` to reuse a local address in TIME_WAIT.
///
/// Python: socket.SO_REUSEADDR (Lib/socket.py)
public let SO_REUSEADDR: CInt = CInt(Glibc.SO_REUSEADDR)
/// Allow several sockets to bind the same address and port (Linux ≥ 3.9).
///
/// Python: socket.SO_REUSEPORT (Lib/socket.py)
public let SO_REUSEPORT: CInt = CInt(Glibc.SO_REUSEPORT)
/// Receive buffer size.
///
/// Python: socket.SO_RCVBUF (Lib/socket.py)
public let SO_RCVBUF: CInt = CInt(Glibc.SO_RCVBUF)
/// Send buffer size.
///
/// Python: socket.SO_SNDBUF (Lib/socket.py)
public let SO_SNDBUF: CInt = CInt(Glibc.SO_SNDBUF)
/// The socket type, read-only.
///
/// Python: socket.SO_TYPE (Lib/socket.py)
public let SO_TYPE: CInt = CInt(Glibc.SO_TYPE)
/// The TCP protocol level.
///
/// Python: socket.IPPROTO_TCP (Lib/socket.py)
public let IPPROTO_TCP: CInt = CInt(Glibc.IPPROTO_TCP)
/// Disable Nagle's algorithm.
///
/// Python: socket.TCP_NODELAY (Lib/socket.py)
public let TCP_NODELAY: CInt = CInt(Glibc.TCP_NODELAY)

// MARK: - shutdown(2)

/// Shut down the receiving side.
///
/// Python: socket.SHUT_RD (Lib/socket.py)
public let SHUT_RD: CInt = CInt(Glibc.SHUT_RD)
/// Shut down the sending side (sends FIN).
///
/// Python: socket.SHUT_WR (Lib/socket.py)
public let SHUT_WR: CInt = CInt(Glibc.SHUT_WR)
/// Shut down both sides.
///
/// Python: socket.SHUT_RDWR (Lib/socket.py)
public let SHUT_RDWR: CInt = CInt(Glibc.SHUT_RDWR)

// MARK: - selectors and io

/// The "readable" event bit of a selector registration.
///
/// Python: selectors.EVENT_READ (Lib/selectors.py)
public let EVENT_READ: Int = 1 << 0
/// The "writable" event bit of a selector registration.
///
/// Python: selectors.EVENT_WRITE (Lib/selectors.py)
public let EVENT_WRITE: Int = 1 << 1
/// The default size of the buffer of a buffered socket file: 8192.
///
/// Python: io.DEFAULT_BUFFER_SIZE (Lib/io.py)
public let DEFAULT_BUFFER_SIZE: Int = 8 * 1024
