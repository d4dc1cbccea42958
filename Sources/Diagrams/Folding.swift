// Swift-only: the one rule by which every drawing of calls folds repeats.

/// Folds each run of consecutive siblings of the same shape into the first of the run, at every
/// level, innermost first (so that two subtrees compare after their own repeats are folded).
///
/// Used by the lifecycle diagram (a repeated call drawn once, marked) and by the trace views
/// (`×N` on a call that stands for N identical ones).
///
/// - Parameters:
///   - nodes: the siblings.
///   - children: where a node keeps its children.
///   - sameShape: whether two folded subtrees look the same.
///   - merge: what the first node of a run keeps of a sibling folded into it.
/// - Returns: the siblings, runs folded.
public func foldRuns<Node>(
    _ nodes: [Node], children: WritableKeyPath<Node, [Node]>, sameShape: (Node, Node) -> Bool,
    merge: (inout Node, Node) -> Void
) -> [Node] {
    var result: [Node] = []
    for var node in nodes {
        node[keyPath: children] = foldRuns(
            node[keyPath: children], children: children, sameShape: sameShape, merge: merge)
        if let last = result.last, sameShape(last, node) {
            merge(&result[result.count - 1], node)
        } else {
            result.append(node)
        }
    }
    return result
}
