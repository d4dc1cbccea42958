// Swift-only: why the version of a method that ran is the one that ran. Python looks a method
// up along the MRO of the receiver's class and takes the first class that defines it; the
// stepper shows that walk for the event it is on, from the class model of socketserver.py
// (the model behind `socketserver-trace mro CLASS`).
import Diagrams

/// The lookup of one method for one receiver class.
struct MROStep: Equatable {
    /// One class of the MRO: whether it defines the method, and whether its version ran.
    struct Row: Equatable {
        let className: String
        let defines: Bool
        let ran: Bool
    }

    let rows: [Row]
    /// The walk in words.
    let note: String

    /// The lookup of `method` for a receiver of class `selfClass`, whose version (per the
    /// trace) is `definingClass`'s.
    init(selfClass: String, method: String, definingClass: String) {
        func defines(_ className: String) -> Bool {
            ClassModel.pyClass(named: className)?.method(method) != nil || className == definingClass
        }
        if let mro = ClassModel.mro(of: selfClass) {
            rows = mro.map { Row(className: $0, defines: defines($0), ran: $0 == definingClass) }
            let later = mro.drop { $0 != definingClass }.dropFirst().filter(defines)
            var note: String
            if !mro.contains(definingClass) {
                note = "\(definingClass) is not in \(selfClass)'s MRO: the trace names a version the class model does not know."
            } else if definingClass == selfClass {
                note = "\(selfClass) defines \(method) itself, so its own version runs."
            } else {
                let skipped = mro.prefix { $0 != definingClass }
                note = "\(skipped.joined(separator: ", ")) \(skipped.count == 1 ? "does" : "do") not define \(method); "
                    + "\(definingClass) is the first class of \(selfClass)'s MRO that does, so its version runs."
            }
            if !later.isEmpty {
                note += " It hides the version\(later.count == 1 ? "" : "s") of \(later.joined(separator: ", "))."
            }
            self.note = note
            return
        }
        // A class of the traced program: the model knows only the socketserver.py part.
        if definingClass == selfClass {
            rows = [Row(className: selfClass, defines: true, ran: true)]
            note = "\(selfClass), a class of the traced program (not of socketserver.py), defines \(method) itself, so its own version runs first."
        } else if let mro = ClassModel.mro(of: definingClass) {
            rows = [Row(className: selfClass, defines: false, ran: false)]
                + mro.map { Row(className: $0, defines: defines($0), ran: $0 == definingClass) }
            note = "\(selfClass), a class of the traced program, does not define \(method); along its MRO "
                + "(shown from \(definingClass) on, as socketserver.py defines it) \(definingClass) is the first class that does."
        } else {
            rows = [Row(className: selfClass, defines: false, ran: false), Row(className: definingClass, defines: true, ran: true)]
            note = "\(definingClass)'s version ran for a \(selfClass); neither is a class of socketserver.py."
        }
    }
}
