import MinnowNN

/// A model that computes in its integer form (`QuantizedModel`): evaluated in integer arithmetic,
/// checkpointed with its integer numbers, pruned and exported through the float model inside.
/// Training, checkpoint and pruning code ask for this protocol, never for a concrete type (as
/// mlx-swift's layers own their quantized form).
public protocol IntegerFormModel: Layer {
    /// The float model inside (whose graph is traced, pruned and exported).
    var floatModel: any Layer { get }
    /// How the model is quantized (saved with its integer numbers).
    var scheme: QuantizationScheme { get }
    /// The integer model of the current parameters and ranges (MinnowRuntime's reference kernels).
    func integerModel() throws -> IntegerModel
}

extension QuantizedModel: IntegerFormModel {
    public var floatModel: any Layer { model }
    public func integerModel() throws -> IntegerModel { try IntegerModel(quantized: self) }
}
