import MinnowNN
import MinnowTensor
import QuantMath

/// What a quantized model quantizes and how: saved in its description, so a checkpoint alone
/// says how its numbers were made. Activations are always int8 (asymmetric, per tensor); weights
/// are int8 or int4, symmetric, per output channel.
public struct QuantizationScheme: ForwardCompatible, Equatable, Sendable {
    public static let requiredKeys: Set<String> = []
    /// Where the quantization parameters come from.
    public enum Method: String, Codable, Sendable, CaseIterable {
        /// Observed ranges: moving-average min/max of each activation, the current min/max of each
        /// weight channel (Jacob et al. 2018; PyTorch's and TFLite's QAT).
        case observers
        /// Learned step sizes (LSQ, Esser et al. 2020): every scale is a trained parameter.
        case lsq
    }

    public var method: Method
    /// Weight bit width of every layer not in `layerWeightBits`: 8, 7 or 4.
    public var weightBits: Int
    /// Per-layer weight bit widths by module path (mixed precision).
    public var layerWeightBits: [String: Int]
    /// How far each batch moves an activation's range during training (PyTorch's default 0.01).
    public var averagingConstant: Float
    /// Training steps after which activation ranges stop moving (nil: never).
    public var freezeObserversAfter: Int?
    /// Training steps after which batch norms stop using batch statistics and their running
    /// statistics stop moving (nil: never).
    public var freezeBatchNormAfter: Int?

    public init(method: Method = .observers, weightBits: Int = 8, layerWeightBits: [String: Int] = [:], averagingConstant: Float = 0.01,
                freezeObserversAfter: Int? = nil, freezeBatchNormAfter: Int? = nil) {
        self.method = method
        self.weightBits = weightBits
        self.layerWeightBits = layerWeightBits
        self.averagingConstant = averagingConstant
        self.freezeObserversAfter = freezeObserversAfter
        self.freezeBatchNormAfter = freezeBatchNormAfter
    }

    /// Decodes a scheme; a field missing from an older file takes its default (`init()`'s).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self), d = Self()
        self.init(method: try c.decode(.method, or: d.method), weightBits: try c.decode(.weightBits, or: d.weightBits),
                  layerWeightBits: try c.decode(.layerWeightBits, or: d.layerWeightBits), averagingConstant: try c.decode(.averagingConstant, or: d.averagingConstant),
                  freezeObserversAfter: try c.decode(.freezeObserversAfter, or: d.freezeObserversAfter),
                  freezeBatchNormAfter: try c.decode(.freezeBatchNormAfter, or: d.freezeBatchNormAfter))
    }

    /// The weight format of the layer at `module`.
    public func weightType(of module: String) -> QuantizedType {
        QuantizedType(rawValue: layerWeightBits[module] ?? weightBits) ?? .int8
    }

    /// Checks every field; `modules`, when given, are the model's quantizable layer paths, and
    /// every path of `layerWeightBits` must be one of them.
    public func validate(modules: Set<String>? = nil) throws(QuantizationError) {
        for (path, bits) in [("", weightBits)] + layerWeightBits.sorted(by: { $0.key < $1.key }).map({ ($0.key, $0.value) }) {
            guard QuantizedType(rawValue: bits) != nil else {
                throw .invalidScheme("weight bits must be 8, 7 or 4, got \(bits)\(path.isEmpty ? "" : " for '\(path)'")")
            }
        }
        guard averagingConstant > 0, averagingConstant <= 1 else {
            throw .invalidScheme("the averaging constant must be in (0, 1], got \(averagingConstant)")
        }
        for (name, value) in [("observers", freezeObserversAfter), ("batch norms", freezeBatchNormAfter)] {
            if let value, value < 0 { throw .invalidScheme("the step that freezes \(name) must be at least 0, got \(value)") }
        }
        if let modules {
            for path in layerWeightBits.keys.sorted() where !modules.contains(path) {
                throw .invalidScheme("'\(path)' is not a convolution or linear layer of the model")
            }
        }
    }
}

/// Symmetric per-channel parameters of a weight tensor whose last axis is the output channel
/// (HWIO filters, `[inputs, outputs]` linear weights), from a `PerChannelMinMaxObserver`: each
/// channel's scale maps its largest magnitude to the type's largest code (a channel with no finite
/// value gets the minimum scale). The one function both quantization-aware training and integer
/// lowering quantize weights with.
public func perChannelWeightParameters(_ weights: Tensor, type: QuantizedType) -> [QuantizationParameters] {
    var observer = PerChannelMinMaxObserver(axis: -1)
    observer.observe(weights)
    return zip(observer.minimums, observer.maximums).map { .symmetric(minimum: $0, maximum: $1, type: type) }
}
