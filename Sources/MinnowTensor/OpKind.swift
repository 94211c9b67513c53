import QuantMath

/// What a traced op computes: one case per op, string-backed so that graph JSON and checkpoints
/// keep their names, with the facts every pass asks about it in one place. A pass switches over
/// it exhaustively, so a new op is a compile-time gap in every pass that must handle it (or one
/// typed error naming the op where a pass does not support it).
public enum OpKind: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case conv2d
    case depthwiseConv2d = "depthwise_conv2d"
    case linear
    case batchNorm = "batch_norm"
    case relu, relu6
    case leakyRelu = "leaky_relu"
    case hardswish, sigmoid, tanh, silu
    case add, concat
    case maxPool2d = "max_pool2d"
    case avgPool2d = "avg_pool2d"
    case globalAvgPool2d = "global_avg_pool2d"
    case reshape, flatten, dropout, softmax

    public var description: String { rawValue }

    /// Decodes a kind by name; an unknown name is an error that names it (a graph from another
    /// version, or a damaged one).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let kind = OpKind(rawValue: name) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown op kind '\(name)'")
        }
        self = kind
    }

    /// The op of an activation function (nil for the identity, which records no op).
    public init?(_ activation: ActivationFunction) {
        switch activation {
        case .identity: return nil
        case .relu: self = .relu
        case .relu6: self = .relu6
        case .leakyRelu: self = .leakyRelu
        case .hardswish: self = .hardswish
        case .sigmoid: self = .sigmoid
        case .tanh: self = .tanh
        case .silu: self = .silu
        }
    }

    /// The activation function an elementwise activation op applies; nil for every other op.
    public var activation: ActivationFunction? {
        switch self {
        case .relu: .relu
        case .relu6: .relu6
        case .leakyRelu: .leakyRelu
        case .hardswish: .hardswish
        case .sigmoid: .sigmoid
        case .tanh: .tanh
        case .silu: .silu
        case .conv2d, .depthwiseConv2d, .linear, .batchNorm, .add, .concat, .maxPool2d, .avgPool2d, .globalAvgPool2d, .reshape, .flatten,
             .dropout, .softmax:
            nil
        }
    }

    /// A convolution or linear layer: it has weights, multiply-accumulates, and makes channels.
    public var isWeighted: Bool { self == .conv2d || self == .depthwiseConv2d || self == .linear }

    /// How output channels relate to input channels: what structured pruning follows.
    public enum ChannelFlow: Sendable {
        /// Makes a new channel space from its weights (a dense or grouped convolution, a linear layer).
        case produces
        /// Channel c of the output is made from channel c of the input with per-channel parameters
        /// (depthwise convolution, batch norm): pruning removes the same channels from both.
        case perChannel
        /// Channel c of the output depends on channel c of the input alone, without parameters.
        case elementwise
        /// The sum of its inputs, whose channel spaces become one.
        case sum
        /// Its inputs' channels side by side.
        case concatenation
        /// The channels repeated at every position of the flattened feature vector.
        case flatten
        /// Channels do not pass through in a way pruning can follow (a reshape, a softmax).
        case opaque
    }

    public var channelFlow: ChannelFlow {
        switch self {
        case .conv2d, .linear: .produces
        case .depthwiseConv2d, .batchNorm: .perChannel
        case .relu, .relu6, .leakyRelu, .hardswish, .sigmoid, .tanh, .silu, .dropout, .maxPool2d, .avgPool2d, .globalAvgPool2d: .elementwise
        case .add: .sum
        case .concat: .concatenation
        case .flatten: .flatten
        case .reshape, .softmax: .opaque
        }
    }

    /// How the op runs in integer arithmetic (`QuantizationPlan`, `IntegerModel`, the runtime).
    public enum IntegerForm: Sendable {
        /// int8 (or int4) weights, int32 accumulation, requantization; a batch norm after it is
        /// folded in and a clamp activation after it fused.
        case affine
        /// Folded into the convolution or linear layer before it.
        case foldedIntoAffine
        /// A clamp of codes (fused into the layer before it when it can be).
        case clamp
        /// A 256-entry table from input codes to output codes, with output parameters of its own.
        case lookupTable
        /// The rescaled sum of two inputs.
        case add
        /// Inputs rescaled to the output's parameters, side by side.
        case concatenation
        /// The maximum of codes (parameters kept).
        case maxPool
        /// The rescaled mean of codes.
        case globalAveragePool
        /// The same codes under another shape (or unchanged: dropout in evaluation).
        case alias
        /// No integer form.
        case none
    }

    public var integerForm: IntegerForm {
        switch self {
        case .conv2d, .depthwiseConv2d, .linear: .affine
        case .batchNorm: .foldedIntoAffine
        case .relu, .relu6: .clamp
        case .leakyRelu, .hardswish, .sigmoid, .tanh, .silu: .lookupTable
        case .add: .add
        case .concat: .concatenation
        case .maxPool2d: .maxPool
        case .globalAvgPool2d: .globalAveragePool
        case .reshape, .flatten, .dropout: .alias
        case .avgPool2d, .softmax: .none
        }
    }
}
