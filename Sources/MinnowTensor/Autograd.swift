/// A node of the define-by-run autodiff graph.
///
/// Leaves (parameters, `requiringGrad()` tensors) accumulate their gradient in `grad`.
/// An op node keeps its inputs' nodes and a pullback that maps the gradient of its output
/// to gradients of its inputs; `backward()` frees both once they have been used.
public final class GradNode: @unchecked Sendable {
    /// The op that made this node ("leaf" for leaves); shown in error messages.
    public let op: String
    /// Shape of the tensor this node belongs to.
    public let shape: [Int]
    var inputs: [GradNode?]
    var pullback: ((Tensor) -> [Tensor?])?
    /// The accumulated gradient (kept for leaves after `backward()`; freed for op nodes).
    public internal(set) var grad: Tensor?
    let isLeaf: Bool

    init(leafWithShape shape: [Int]) {
        op = "leaf"
        self.shape = shape
        inputs = []
        isLeaf = true
    }

    init(op: String, shape: [Int], inputs: [GradNode?], pullback: @escaping (Tensor) -> [Tensor?]) {
        self.op = op
        self.shape = shape
        self.inputs = inputs
        self.pullback = pullback
        isLeaf = false
    }

    func accumulate(_ gradient: Tensor) {
        require(gradient.shape == shape,
                     "backward: gradient of shape \(gradient.shape) for a tensor of shape \(shape) (op \(op))")
        if let existing = grad {
            grad = existing.adding(gradient)
        } else {
            grad = gradient
        }
    }
}

/// Whether ops record the autodiff graph on this thread (or task).
public enum GradMode {
    @TaskLocal static var isEnabled = true

    /// True when ops record the graph.
    public static var enabled: Bool { isEnabled }
}

/// Runs `body` without recording the autodiff graph: for evaluation, teacher forward passes,
/// and optimizer updates. Tensors made inside do not require gradients.
public func withoutGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$isEnabled.withValue(false, operation: body)
}

extension Tensor {
    /// Whether this tensor is part of the autodiff graph.
    public var requiresGrad: Bool { node != nil }

    /// The same values as a new graph leaf whose gradient `backward()` accumulates in `grad`.
    public func requiringGrad() -> Tensor {
        var leaf = self
        leaf.node = GradNode(leafWithShape: shape)
        return leaf
    }

    /// The same values, cut off from the graph.
    public func detached() -> Tensor {
        var copy = self
        copy.node = nil
        return copy
    }

    /// The gradient accumulated by `backward()` (leaves only; nil before any backward pass).
    public var grad: Tensor? { node?.grad }

    /// Replaces a leaf's accumulated gradient (gradient clipping, restoring state).
    public func setGrad(_ gradient: Tensor?) {
        guard let node, node.isLeaf else {
            fatalError("setGrad: only leaves hold gradients (tensor of shape \(shape) is \(node?.op ?? "not in the graph"))")
        }
        if let gradient {
            require(gradient.shape == shape, "setGrad: gradient shape \(gradient.shape) differs from tensor shape \(shape)")
        }
        node.grad = gradient?.detached()
    }

    /// Clears the accumulated gradient of a leaf.
    public func zeroGrad() {
        node?.grad = nil
    }

    /// The op that produced this tensor ("leaf", or nil outside the graph).
    public var gradOp: String? { node?.op }

    /// Records an op: returns `value` attached to a new graph node when grad mode is on and some
    /// input requires a gradient. `pullback` maps the output gradient to one gradient per input
    /// (nil for inputs that need none); it runs with grad mode off.
    public static func record(
        _ op: String, _ value: Tensor, inputs: [Tensor], pullback: @escaping (Tensor) -> [Tensor?]
    ) -> Tensor {
        guard GradMode.isEnabled, inputs.contains(where: { $0.node != nil }) else { return value }
        var output = value
        output.node = GradNode(op: op, shape: value.shape, inputs: inputs.map(\.node), pullback: pullback)
        return output
    }

    /// Reverse-mode differentiation from this one-element tensor (a loss): accumulates
    /// d(self)/d(leaf) into every leaf's `grad`, then frees the graph's intermediates.
    public func backward() {
        require(count == 1,
                     "backward() needs a scalar (one-element) tensor; got shape \(shape). Use backward(seed:) for a non-scalar output.")
        backward(seed: Tensor(shape: shape, repeating: 1))
    }

    /// Reverse-mode differentiation with an explicit output gradient `seed` (same shape as self).
    public func backward(seed: Tensor) {
        guard let root = node else {
            fatalError("backward(): tensor of shape \(shape) does not require a gradient (no input required one, or it was made under withoutGrad)")
        }
        require(seed.shape == shape, "backward(seed:): seed shape \(seed.shape) differs from tensor shape \(shape)")
        require(root.isLeaf || root.pullback != nil,
                     "backward(): the graph behind this \(root.op) was already freed by an earlier backward()")
        withoutGrad {
            root.accumulate(seed.detached())
            for current in GradNode.reverseTopologicalOrder(from: root) {
                guard let pullback = current.pullback else { continue }
                if let gradient = current.grad {
                    let inputGrads = pullback(gradient)
                    for (input, inputGrad) in zip(current.inputs, inputGrads) {
                        if let input, let inputGrad { input.accumulate(inputGrad) }
                    }
                }
                current.grad = nil
                current.pullback = nil
                current.inputs = []
            }
        }
    }
}

extension GradNode {
    /// Op nodes reachable from `root`, each after every node that uses it (iterative DFS).
    static func reverseTopologicalOrder(from root: GradNode) -> [GradNode] {
        var order: [GradNode] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(GradNode, Int)] = [(root, 0)]
        visited.insert(ObjectIdentifier(root))
        while let (node, next) = stack.popLast() {
            if next < node.inputs.count {
                stack.append((node, next + 1))
                if let child = node.inputs[next], !child.isLeaf, visited.insert(ObjectIdentifier(child)).inserted {
                    stack.append((child, 0))
                }
            } else {
                order.append(node)
            }
        }
        return order.reversed()
    }
}
