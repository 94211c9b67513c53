/// A value of an op attribute in a traced graph: what a replay needs besides the operands.
public enum OpAttribute: Codable, Equatable, Sendable, CustomStringConvertible {
    case int(Int)
    case ints([Int])
    case float(Float)
    case bool(Bool)

    public var description: String {
        switch self {
        case .int(let value): "\(value)"
        case .ints(let values): "[" + values.map(String.init).joined(separator: ",") + "]"
        case .float(let value): "\(value)"
        case .bool(let value): "\(value)"
        }
    }

    /// The integer, or nil for another kind of attribute.
    public var int: Int? { if case .int(let value) = self { value } else { nil } }
    /// The integers, or nil for another kind of attribute.
    public var ints: [Int]? { if case .ints(let values) = self { values } else { nil } }
    /// The number, or nil for another kind of attribute.
    public var float: Float? { if case .float(let value) = self { value } else { nil } }
    /// The flag, or nil for another kind of attribute.
    public var bool: Bool? { if case .bool(let value) = self { value } else { nil } }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let values = try? container.decode([Int].self) {
            self = .ints(values)
        } else {
            self = .float(try container.decode(Float.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .int(let value): try container.encode(value)
        case .ints(let values): try container.encode(values)
        case .float(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        }
    }
}

/// Where an operand of a traced op comes from: a value of the graph (the input or an earlier op's
/// output), or a named tensor of the model (a parameter or buffer, by its dotted path).
public enum TracedOperand: Codable, Equatable, Sendable {
    case value(Int)
    case tensor(String)
}

/// One op of a traced forward pass, in execution order.
public struct TracedOp: Codable, Equatable, Sendable {
    /// What the op computes (`conv2d`, `depthwise_conv2d`, `linear`, `batch_norm`, `relu`, `add`, ...
    /// in the graph's JSON).
    public var kind: OpKind
    /// The op's arguments besides its operands (stride, padding, axis, ...).
    public var attributes: [String: OpAttribute]
    /// The operands by role (`input`, `filter`, `bias`, `inputs.0`, ...).
    public var operands: [String: TracedOperand]
    /// The id of the value the op produces.
    public var output: Int
    /// The path of the innermost module whose forward pass ran the op ("" for the model itself).
    public var module: String
}

/// Records the ops of forward passes while it is active, for `ModelGraph` (MinnowNN).
///
/// Each traced op of this module calls `OpTracer.trace(_:attributes:operands:_:)`, which runs
/// the op with the tracer suspended (so an op built from other ops records itself once) and then
/// appends it. Operands are told apart by their storage and shape: a registered tensor (the
/// input, a parameter, a buffer) or the output of an earlier op. An operand that is neither was
/// made by an op that does not trace itself; that makes the trace incomplete, and `problems`
/// says where.
public final class OpTracer: @unchecked Sendable {
    /// The tracer of the forward passes running in this task (or thread), if any.
    @TaskLocal public static var current: OpTracer?

    private struct Key: Hashable {
        let storage: ObjectIdentifier
        let shape: [Int]
    }

    private var values: [Key: TracedOperand] = [:]
    /// Every tensor seen, kept alive so that storage identities stay unique during the trace.
    private var retained: [Tensor] = []
    private var scopes: [String] = []
    /// The path of each module (by object identity) that ops are attributed to; set by whoever
    /// starts the trace (`ModelGraph.trace` in MinnowNN).
    public var modulePaths: [ObjectIdentifier: String] = [:]
    /// The ops recorded so far, in execution order.
    public private(set) var ops: [TracedOp] = []
    /// The shape of each value, by id.
    public private(set) var valueShapes: [[Int]] = []
    /// Operands that no registered tensor or recorded op produced (an incomplete trace).
    public private(set) var problems: [String] = []

    public init() {}

    /// Makes `tensor` a value of the graph (the model's input) and returns its id.
    @discardableResult
    public func addInput(_ tensor: Tensor) -> Int {
        newValue(tensor)
    }

    /// Names `tensor` (a parameter or buffer) by `path` when an op reads it.
    public func registerTensor(_ tensor: Tensor, path: String) {
        retained.append(tensor)
        values[Key(storage: ObjectIdentifier(tensor.storage), shape: tensor.shape)] = .tensor(path)
    }

    /// Ops recorded inside `body` belong to the module at `path`.
    public func inScope<R>(_ path: String, _ body: () -> R) -> R {
        scopes.append(path)
        defer { scopes.removeLast() }
        return body()
    }

    /// The value id of `tensor` if the trace knows it as a value of the graph.
    public func valueID(of tensor: Tensor) -> Int? {
        if case .value(let id) = values[Key(storage: ObjectIdentifier(tensor.storage), shape: tensor.shape)] { return id }
        return nil
    }

    /// Runs the op `body` and, when a tracer is active, records it as `kind` with `attributes`
    /// and `operands` (role → tensor; nil entries are left out).
    ///
    /// While tracing, `shapes` (the op's own shape check) runs first: when it fails, the op is not
    /// run (it would stop the process), the failure is kept in `problems`, and the first operand
    /// stands in for the output, so a trace of a model whose layers do not fit together ends with
    /// an error instead of a trap. Without a tracer the op checks its shapes itself, as always.
    public static func trace(_ kind: @autoclosure () -> OpKind, attributes: @autoclosure () -> [String: OpAttribute] = [:],
                             operands: @autoclosure () -> [(String, Tensor?)], shapes: () throws(ShapeError) -> Void = {},
                             _ body: () -> Tensor) -> Tensor {
        guard let tracer = current else { return body() }
        do {
            try shapes()
        } catch {
            let inputs = operands().compactMap(\.1)
            tracer.problems.append("\(kind()) in '\(tracer.scopes.last ?? "")': \(error.description)")
            return inputs.first ?? Tensor.zeros([0])
        }
        let output = $current.withValue(nil, operation: body)
        tracer.record(kind(), attributes(), operands(), output)
        return output
    }

    private func record(_ kind: OpKind, _ attributes: [String: OpAttribute], _ operands: [(String, Tensor?)], _ output: Tensor) {
        var resolved: [String: TracedOperand] = [:]
        for case let (role, tensor?) in operands {
            guard let operand = values[Key(storage: ObjectIdentifier(tensor.storage), shape: tensor.shape)] else {
                problems.append("\(kind) in '\(scopes.last ?? "")': operand \(role) of shape \(tensor.shape) was made by an op that is not traced")
                continue
            }
            resolved[role] = operand
        }
        ops.append(TracedOp(kind: kind, attributes: attributes, operands: resolved, output: newValue(output),
                            module: scopes.last ?? ""))
    }

    private func newValue(_ tensor: Tensor) -> Int {
        retained.append(tensor)
        let id = valueShapes.count
        valueShapes.append(tensor.shape)
        values[Key(storage: ObjectIdentifier(tensor.storage), shape: tensor.shape)] = .value(id)
        return id
    }
}
