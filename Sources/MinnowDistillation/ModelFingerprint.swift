import MinnowData
import MinnowNN
import MinnowTensor

extension Fingerprint {
    /// The fingerprint of a model's weights: its config JSON, then every parameter and buffer with
    /// its path and shape. Two checkpoints with the same weights and architecture (whatever their
    /// optimizer state, metrics or timestamps) give the same fingerprint.
    public static func of(model: Module, configJSON: String) -> Fingerprint {
        var fingerprint = Fingerprint()
        fingerprint.combine(configJSON)
        let tensors = model.namedParameters().map { ($0.path, $0.parameter.value) } + model.namedBuffers().map { ($0.path, $0.buffer.value) }
        for (path, tensor) in tensors {
            fingerprint.combine(path)
            fingerprint.combine(tensor.shape)
            tensor.withUnsafePointer { fingerprint.combine(bytes: UnsafeRawBufferPointer(start: $0, count: tensor.count * 4)) }
        }
        return fingerprint
    }
}
