import QuantMath

/// A runtime operator, as TFLite Micro's kernels are: typed arguments that encode to and decode
/// from the file's integer list, validation against the model's tensors (after which its kernels
/// cannot read or write out of bounds), and preparation (packing, tables, pointers: everything but
/// the integer work) into a kernel that `invoke` runs. Each operator is one file in `Operators/`
/// with its reference kernel beside it; `Operator` lists them.
protocol RuntimeOperator: Sendable, Equatable {
    static var code: OperatorCode { get }
    /// Decodes the in-memory arguments (version 1's layout); a wrong count is a `fail` message.
    init(arguments: [Int32]) throws(OperatorArgumentError)
    /// The in-memory arguments.
    var arguments: [Int32] { get }
    /// The positions of the tensors that `arguments` (in memory or in a file's form) reads, then
    /// the one it writes; nothing past the end of `arguments`.
    static func tensorPositions(_ arguments: [Int32]) -> (reads: [Int], writes: [Int])
    /// Checks the operator against the model's tensors and marks its output written.
    func validate(_ context: inout OperatorValidation) throws(ModelFormatError)
    /// The kernel this operator runs: the fastest the interpreter's level has, else the reference.
    func prepare(_ context: OperatorPreparation) -> PreparedKernel
    /// What the operator is (kind, kernel, stride, output shape) and its multiply-accumulates.
    func summary(_ model: RuntimeModel) -> (description: String, multiplyAccumulates: Int)
}

/// An operator's work with every pointer and table bound (made once, at preparation).
typealias PreparedKernel = () -> Void

/// Arguments that do not decode into an operator.
struct OperatorArgumentError: Error {
    var detail: String
}

extension RuntimeOperator {
    /// `arguments` when it has exactly `count` entries.
    static func checked(_ arguments: [Int32], count: Int) throws(OperatorArgumentError) -> [Int] {
        guard arguments.count == count else { throw OperatorArgumentError(detail: "\(arguments.count) arguments, expected \(count)") }
        return arguments.map(Int.init)
    }
}

/// A clamp of output codes: the type's range narrowed by a fused activation.
public struct CodeRange: Sendable, Equatable {
    public var minimum: Int32, maximum: Int32
    public init(minimum: Int32, maximum: Int32) { (self.minimum, self.maximum) = (minimum, maximum) }
}

/// A pair of sizes along the height and the width.
public struct Extent: Sendable, Equatable {
    public var height: Int, width: Int
    public init(_ height: Int, _ width: Int) { (self.height, self.width) = (height, width) }
}

/// Every runtime operator, typed. Its switches are the only place that lists them: a new operator
/// is its file and one line in each (the compiler names any that is missed).
public enum Operator: Sendable, Equatable {
    case convolution(Convolution)
    case fullyConnected(FullyConnected)
    case add(Add)
    case concatenate(Concatenation)
    case maxPool(MaxPool)
    case globalAveragePool(GlobalAveragePool)
    case clamp(Clamp)
    case lookupTable(LookupTable)

    /// Decodes an operator in its in-memory form (`ModelFormatError.invalidOperator` naming
    /// `index` when its arguments do not fit).
    init(_ entry: OperatorEntry, index: Int) throws(ModelFormatError) {
        do {
            switch entry.code {
            case .convolution: self = .convolution(try Convolution(arguments: entry.arguments))
            case .fullyConnected: self = .fullyConnected(try FullyConnected(arguments: entry.arguments))
            case .add: self = .add(try Add(arguments: entry.arguments))
            case .concatenate: self = .concatenate(try Concatenation(arguments: entry.arguments))
            case .maxPool: self = .maxPool(try MaxPool(arguments: entry.arguments))
            case .globalAveragePool: self = .globalAveragePool(try GlobalAveragePool(arguments: entry.arguments))
            case .clamp: self = .clamp(try Clamp(arguments: entry.arguments))
            case .lookupTable: self = .lookupTable(try LookupTable(arguments: entry.arguments))
            }
        } catch {
            throw .invalidOperator(index, "\(entry.code): \(error.detail)")
        }
    }

    /// The positions of the tensors an entry's arguments read and write, in memory or in a file.
    static func tensorPositions(_ entry: OperatorEntry) -> (reads: [Int], writes: [Int]) {
        switch entry.code {
        case .convolution: Convolution.tensorPositions(entry.arguments)
        case .fullyConnected: FullyConnected.tensorPositions(entry.arguments)
        case .add: Add.tensorPositions(entry.arguments)
        case .concatenate: Concatenation.tensorPositions(entry.arguments)
        case .maxPool: MaxPool.tensorPositions(entry.arguments)
        case .globalAveragePool: GlobalAveragePool.tensorPositions(entry.arguments)
        case .clamp: Clamp.tensorPositions(entry.arguments)
        case .lookupTable: LookupTable.tensorPositions(entry.arguments)
        }
    }

    /// The encoded operator (in memory, version 1's layout).
    public var entry: OperatorEntry {
        switch self {
        case .convolution(let o): OperatorEntry(code: Convolution.code, arguments: o.arguments)
        case .fullyConnected(let o): OperatorEntry(code: FullyConnected.code, arguments: o.arguments)
        case .add(let o): OperatorEntry(code: Add.code, arguments: o.arguments)
        case .concatenate(let o): OperatorEntry(code: Concatenation.code, arguments: o.arguments)
        case .maxPool(let o): OperatorEntry(code: MaxPool.code, arguments: o.arguments)
        case .globalAveragePool(let o): OperatorEntry(code: GlobalAveragePool.code, arguments: o.arguments)
        case .clamp(let o): OperatorEntry(code: Clamp.code, arguments: o.arguments)
        case .lookupTable(let o): OperatorEntry(code: LookupTable.code, arguments: o.arguments)
        }
    }

    func validate(_ context: inout OperatorValidation) throws(ModelFormatError) {
        switch self {
        case .convolution(let o): try o.validate(&context)
        case .fullyConnected(let o): try o.validate(&context)
        case .add(let o): try o.validate(&context)
        case .concatenate(let o): try o.validate(&context)
        case .maxPool(let o): try o.validate(&context)
        case .globalAveragePool(let o): try o.validate(&context)
        case .clamp(let o): try o.validate(&context)
        case .lookupTable(let o): try o.validate(&context)
        }
    }

    func prepare(_ context: OperatorPreparation) -> PreparedKernel {
        switch self {
        case .convolution(let o): o.prepare(context)
        case .fullyConnected(let o): o.prepare(context)
        case .add(let o): o.prepare(context)
        case .concatenate(let o): o.prepare(context)
        case .maxPool(let o): o.prepare(context)
        case .globalAveragePool(let o): o.prepare(context)
        case .clamp(let o): o.prepare(context)
        case .lookupTable(let o): o.prepare(context)
        }
    }

    /// What the operator is (kind, kernel, stride, output shape) and its multiply-accumulates.
    public func summary(_ model: RuntimeModel) -> (description: String, multiplyAccumulates: Int) {
        switch self {
        case .convolution(let o): o.summary(model)
        case .fullyConnected(let o): o.summary(model)
        case .add(let o): o.summary(model)
        case .concatenate(let o): o.summary(model)
        case .maxPool(let o): o.summary(model)
        case .globalAveragePool(let o): o.summary(model)
        case .clamp(let o): o.summary(model)
        case .lookupTable(let o): o.summary(model)
        }
    }
}
