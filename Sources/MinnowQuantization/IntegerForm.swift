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
    /// Checks the quantization state a checkpoint loaded (counters, ranges); an error naming the
    /// buffer that no training could have written.
    func checkState() throws
}

extension QuantizedModel: IntegerFormModel {
    public var floatModel: any Layer { model }
    public func integerModel() throws -> IntegerModel { try IntegerModel(quantized: self) }

    public func checkState() throws {
        let steps = trainingSteps.value.scalars[0]
        guard steps >= 0, steps <= Float(1 << 24), steps == steps.rounded() else {
            throw QuantizationError.invalidState("trainingSteps is \(steps), not a step count in 0...2^24")
        }
        for (index, range) in ranges.enumerated() {
            let r = range.value.scalars
            guard r[0] <= r[1] || r[2] == 0, r[2] >= 0, r[2] == r[2].rounded() else {
                throw QuantizationError.invalidState("ranges.\(index) is \(r): not [minimum <= maximum, observed batches]")
            }
        }
    }
}
