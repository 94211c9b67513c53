import MinnowTensor

/// A trainable tensor of a module. Its value is an autodiff leaf: `backward()` accumulates
/// into `grad`, and optimizers update `value` in place (keeping the leaf).
public final class Parameter: @unchecked Sendable {
    /// The current value (a graph leaf).
    public private(set) var value: Tensor

    /// A parameter holding `value`.
    public init(_ value: Tensor) {
        self.value = value.detached().requiringGrad()
    }

    /// The gradient accumulated since the last `zeroGrad()`.
    public var grad: Tensor? { value.grad }

    /// The shape of the value.
    public var shape: [Int] { value.shape }

    /// Replaces the value (for example a loaded checkpoint or a pruned, smaller tensor); the gradient is cleared.
    public func assign(_ newValue: Tensor) {
        value = newValue.detached().requiringGrad()
    }

    /// Writes the value in place (optimizer updates); the gradient is kept.
    public func update(_ body: (UnsafeMutablePointer<Float>, Int) -> Void) {
        let count = value.count
        value.withUnsafeMutablePointer { body($0, count) }
    }

    /// Clears the accumulated gradient.
    public func zeroGrad() { value.zeroGrad() }
}

/// A non-trainable tensor of a module that is saved with it (batch norm running statistics).
public final class Buffer: @unchecked Sendable {
    /// The current value.
    public var value: Tensor

    public init(_ value: Tensor) { self.value = value }
}

/// The base of every layer and model: finds its parameters, buffers and submodules by
/// reflection, under dotted paths such as `features.3.bn.runningMean` (also the checkpoint keys),
/// and switches training and evaluation mode for the whole tree.
open class Module: @unchecked Sendable {
    /// Training mode (batch statistics, dropout active) or evaluation mode.
    public private(set) var isTraining = true

    public init() {}

    /// When true, the elements of this module's array properties are named by their index alone
    /// (`features.3.conv`), as PyTorch names `nn.Sequential` children, rather than `features.layers.3.conv`.
    open var namesArrayElementsByIndex: Bool { false }

    /// Sets training (`true`) or evaluation mode on this module and every submodule.
    public func train(_ on: Bool = true) {
        visitModules { _, module in module.isTraining = on }
    }

    /// Evaluation mode for this module and every submodule.
    public func eval() { train(false) }

    /// Every parameter, with its dotted path, in declaration order.
    public func namedParameters() -> [(path: String, parameter: Parameter)] {
        var result: [(String, Parameter)] = []
        visitMembers { path, member in
            if let parameter = member as? Parameter { result.append((path, parameter)) }
        }
        return result
    }

    /// Every buffer, with its dotted path.
    public func namedBuffers() -> [(path: String, buffer: Buffer)] {
        var result: [(String, Buffer)] = []
        visitMembers { path, member in
            if let buffer = member as? Buffer { result.append((path, buffer)) }
        }
        return result
    }

    /// Every parameter.
    public var parameters: [Parameter] { namedParameters().map(\.parameter) }

    /// Number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    /// Clears every parameter's gradient.
    public func zeroGrad() { parameters.forEach { $0.zeroGrad() } }

    /// The kind shown in model summaries: the type's name unless a layer says otherwise.
    open var summaryKind: String { String(describing: type(of: self)) }

    /// Multiply-accumulates of one forward pass that produced `outputCount` output elements (for
    /// the whole batch), as summaries and the peers count them: convolutions and linear layers
    /// say theirs, every other layer counts 0.
    open func multiplyAccumulates(outputCount: Int) -> Int { 0 }

    /// Calls `body` on this module and every submodule, depth first, with its path ("" for self).
    public func visitModules(_ body: (String, Module) -> Void) {
        body("", self)
        visitMembers { path, member in
            if let module = member as? Module { body(path, module) }
        }
    }

    /// Reflection over stored properties (including superclasses'), recursing into submodules
    /// and arrays of them; calls `body` for every Parameter, Buffer and Module found.
    func visitMembers(prefix: String = "", _ body: (String, Any) -> Void) {
        var mirror: Mirror? = Mirror(reflecting: self)
        var children: [(String, Any)] = []
        while let current = mirror {
            children.insert(contentsOf: current.children.compactMap { child in child.label.map { ($0, child.value) } }, at: 0)
            mirror = current.superclassMirror
        }
        for (label, value) in children {
            if namesArrayElementsByIndex, let array = value as? [Any] {
                for (index, element) in array.enumerated() { Module.visit(element, path: prefix + "\(index)", body) }
            } else {
                Module.visit(value, path: prefix + label, body)
            }
        }
    }

    private static func visit(_ value: Any, path: String, _ body: (String, Any) -> Void) {
        switch value {
        case let parameter as Parameter:
            body(path, parameter)
        case let buffer as Buffer:
            body(path, buffer)
        case let module as Module:
            body(path, module)
            module.visitMembers(prefix: path + ".", body)
        case let array as [Any]:
            for (index, element) in array.enumerated() { visit(element, path: "\(path).\(index)", body) }
        default:
            break
        }
    }
}

/// A module that maps one tensor to one tensor.
///
/// A layer implements `forward`; callers call the layer itself (`layer(x)`), which runs
/// `forward` and lets the observers of forward passes see every layer without the layer doing
/// anything for it: an `OpTracer` attributes the ops to the layer's module path, and a
/// `FeatureRecorder` keeps its output.
public protocol Layer: Module {
    /// The layer's computation. Call the layer rather than this.
    func forward(_ input: Tensor) -> Tensor
}

extension Layer {
    /// Runs `forward(input)`, seen by the active tracer and feature recorder.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        let output: Tensor
        if let tracer = OpTracer.current {
            output = tracer.inScope(tracer.modulePaths[ObjectIdentifier(self)] ?? "\(type(of: self))") { forward(input) }
        } else {
            output = forward(input)
        }
        FeatureRecorder.current?.record(self, output)
        SummaryRecorder.current?.record(self, output: output)
        return output
    }
}
