// Swift-only: the Python builtin exceptions the port raises or catches.

/// Marker for Python's `BaseException`-but-not-`Exception` family (`SystemExit`,
/// `KeyboardInterrupt`): `except Exception` becomes `catch where !(error is any BaseException)`.
///
/// Python: builtins.BaseException
public protocol BaseException: Error {}

/// Swift-only: an error that knows the Python class name to show in tracebacks
/// (``pythonExceptionLine(_:)``); other errors show their Swift type name.
public protocol PythonClassNamed: Error {
    /// The Python class name, e.g. "ValueError", "io.UnsupportedOperation".
    var pythonClassName: String { get }
}

/// Raised to leave the program with an exit status.
///
/// Python: builtins.SystemExit
public struct SystemExit: BaseException, CustomStringConvertible {
    /// The exit status.
    public var code: Int32
    /// An exit request with status `code`.
    ///
    /// Python: SystemExit(code)
    public init(_ code: Int32 = 0) { self.code = code }
    /// `str()` of the exception: the code.
    public var description: String { "\(code)" }
}

/// Raised when the user presses Ctrl-C.
///
/// Python: builtins.KeyboardInterrupt
public struct KeyboardInterrupt: BaseException, CustomStringConvertible {
    /// A keyboard interrupt.
    public init() {}
    /// `str()` of the exception: empty.
    public var description: String { "" }
}

/// An argument has the right type but a wrong value.
///
/// Python: builtins.ValueError
public struct ValueError: Error, Equatable, CustomStringConvertible {
    /// The message, `str()` of the exception.
    public var message: String
    /// An error with `m` as its message.
    public init(_ m: String) { self.message = m }
    /// `str()` of the exception.
    public var description: String { message }
}

/// An argument or operand has the wrong type.
///
/// Python: builtins.TypeError
public struct TypeError: Error, Equatable, CustomStringConvertible {
    /// The message, `str()` of the exception.
    public var message: String
    /// An error with `m` as its message.
    public init(_ m: String) { self.message = m }
    /// `str()` of the exception.
    public var description: String { message }
}

/// An object has no attribute of the name asked for.
///
/// The port throws it where Python's duck typing fails: a method or attribute that the
/// object's class does not define (a plain `BaseServer`'s `socket`, a datagram request's
/// `recv`).
///
/// Python: builtins.AttributeError
public struct AttributeError: Error, Equatable, CustomStringConvertible {
    /// The message, `str()` of the exception.
    public var message: String
    /// An error with `m` as its message.
    public init(_ m: String) { self.message = m }
    /// The error Python raises when an object of the class named `typeName` has no attribute
    /// `name`: "'tuple' object has no attribute 'recv'".
    public init(typeName: String, name: String) {
        self.message = "'\(typeName)' object has no attribute '\(name)'"
    }
    /// `str()` of the exception.
    public var description: String { message }
}

/// An error that fits no other category.
///
/// Python: builtins.RuntimeError
public struct RuntimeError: Error, Equatable, CustomStringConvertible {
    /// The message, `str()` of the exception.
    public var message: String
    /// An error with `m` as its message.
    public init(_ m: String) { self.message = m }
    /// `str()` of the exception.
    public var description: String { message }
}

/// A mapping key was not found, or (selectors) a file object is already registered.
///
/// Python: builtins.KeyError
public struct KeyError: Error, Equatable, CustomStringConvertible, PythonClassNamed {
    /// The key or message (Python's `args[0]`).
    public var message: String
    /// An error for key or message `m`.
    public init(_ m: String) { self.message = m }
    /// `str()` of the exception: Python shows the repr of its argument, quoted.
    public var description: String { pyStrRepr(message) }
    /// "KeyError".
    public var pythonClassName: String { "KeyError" }
}

/// The operation is not supported by this file object.
///
/// Python: io.UnsupportedOperation (Lib/io.py)
public struct UnsupportedOperation: Error, Equatable, CustomStringConvertible, PythonClassNamed {
    /// The message, `str()` of the exception.
    public var message: String
    /// An error with `m` as its message.
    public init(_ m: String) { self.message = m }
    /// `str()` of the exception.
    public var description: String { message }
    /// "io.UnsupportedOperation", as a traceback prints it.
    public var pythonClassName: String { "io.UnsupportedOperation" }
}

/// The last line of a Python traceback for `error`: "ValueError: boom", the Python class
/// name, ": " and `str()`; just the class name when `str()` is empty ("KeyboardInterrupt").
///
/// ``OSError`` and other ``PythonClassNamed`` errors use their `pythonClassName`; any other
/// error its Swift type name.
///
/// Python: traceback.format_exception_only (Lib/traceback.py)
public func pythonExceptionLine(_ error: any Error) -> String {
    let name: String
    if let named = error as? any PythonClassNamed {
        name = named.pythonClassName
    } else {
        name = String(describing: type(of: error))
    }
    let text = String(describing: error)
    return text.isEmpty ? name : "\(name): \(text)"
}
