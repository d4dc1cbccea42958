// Swift-only: Python's repr() of the values a trace shows.
import Sockets

/// Python's `repr()` of a value the port passes or returns, in short text for a trace.
///
/// Client bytes are escaped and cut (``pyBytesRepr(_:limit:)``), so nothing a client sends
/// reaches a terminal as it is.
///
/// Swift-only: CPython's profiler hands out the objects themselves.
public func pyRepr(_ value: Any) -> String {
    switch value {
    case is Void: return "None"
    case let flag as Bool: return flag ? "True" : "False"
    case let text as String: return pyStrRepr(text)
    case let bytes as [UInt8]: return pyBytesRepr(bytes, limit: traceBytesLimit)
    case let convertible as CustomStringConvertible: return convertible.description
    default: break
    }
    let mirror = Mirror(reflecting: value)
    switch mirror.displayStyle {
    case .optional:
        return mirror.children.first.map { pyRepr($0.value) } ?? "None"
    case .collection, .set:
        return "[" + mirror.children.map { pyRepr($0.value) }.joined(separator: ", ") + "]"
    case .tuple:
        let items = mirror.children.map { pyRepr($0.value) }
        return items.count == 1 ? "(\(items[0]),)" : "(\(items.joined(separator: ", ")))"
    case .class:
        return "<\(className(of: value as AnyObject)) object>"
    default:
        return String(describing: value)
    }
}

/// How many bytes of client data a trace shows before cutting.
public let traceBytesLimit = 32
