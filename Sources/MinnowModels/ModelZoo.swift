import MinnowNN
import MinnowTensor

/// Everything needed to build a model: the architecture, its size knobs and the input format.
/// Stored with checkpoints (as JSON), so a checkpoint alone rebuilds its model.
public struct ModelConfig: ForwardCompatible, Equatable, Sendable {
    public static let requiredKeys: Set<String> = ["architecture"]
    /// The model families of the zoo.
    public enum Architecture: String, Codable, Sendable, CaseIterable {
        case cnn, resnet, mobilenetV1 = "mobilenet_v1", mobilenetV2 = "mobilenet_v2", squeezenet
    }

    public var architecture: Architecture
    /// Width multiplier applied to every channel count.
    public var width: Float
    /// ResNet depth (`6n + 2`: 8, 14, 20, 32, ...); ignored by the other families.
    public var depth: Int
    /// Dropout rate before the classifier (MobileNets, SqueezeNet).
    public var dropout: Float
    /// Input height, width, channels (NHWC without the batch).
    public var inputShape: [Int]
    public var classes: Int
    /// Seed of the weight initialization.
    public var seed: UInt64

    public init(architecture: Architecture, width: Float = 1, depth: Int = 14, dropout: Float? = nil,
                inputShape: [Int] = [28, 28, 1], classes: Int = 10, seed: UInt64 = 0) {
        self.architecture = architecture
        self.width = width
        self.depth = depth
        self.dropout = dropout ?? (architecture == .squeezenet ? 0.2 : 0.1)
        self.inputShape = inputShape
        self.classes = classes
        self.seed = seed
    }

    /// The named presets that reproduce the reference models of the peers (`shared/peers/models.py`)
    /// layer for layer: `teacher` (ResNet-14, 696,042 parameters), `student_mbv2` (MobileNetV2 at
    /// width 0.5, 148,186), `student_squeeze` (SqueezeNet 1.1 layout, 89,866).
    /// Decodes a config; every field but `architecture` takes its `init` default when an older
    /// file lacks it (the dropout: the architecture's).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = Self(architecture: try c.decode(Architecture.self, forKey: .architecture))
        self.init(architecture: d.architecture, width: try c.decode(.width, or: d.width), depth: try c.decode(.depth, or: d.depth),
                  dropout: try c.decode(.dropout, or: d.dropout), inputShape: try c.decode(.inputShape, or: d.inputShape),
                  classes: try c.decode(.classes, or: d.classes), seed: try c.decode(.seed, or: d.seed))
    }

    public static func preset(_ name: String, classes: Int = 10, inputShape: [Int] = [28, 28, 1], seed: UInt64 = 0) -> ModelConfig? {
        switch name {
        case "teacher":
            ModelConfig(architecture: .resnet, width: 1, depth: 14, inputShape: inputShape, classes: classes, seed: seed)
        case "student_mbv2":
            ModelConfig(architecture: .mobilenetV2, width: 0.5, dropout: 0.1, inputShape: inputShape, classes: classes, seed: seed)
        case "student_squeeze":
            ModelConfig(architecture: .squeezenet, width: 1, dropout: 0.2, inputShape: inputShape, classes: classes, seed: seed)
        default:
            nil
        }
    }

    /// Names accepted by `preset(_:)`.
    public static let presetNames = ["teacher", "student_mbv2", "student_squeeze"]
}

/// Why a model config cannot be built.
public struct ModelConfigError: Error, CustomStringConvertible {
    public let description: String
}

/// Builds models from configs.
public enum ModelZoo {
    /// MobileNetV2 table for 28x28 inputs at width 1 (two stride-2 stages: 28 -> 14 -> 7).
    /// At width 0.5 it is exactly the peers' `student_mbv2`.
    public static let mobileNetV2Settings = [
        InvertedResidualSetting(1, 16, 1, 1), InvertedResidualSetting(6, 32, 2, 2), InvertedResidualSetting(6, 48, 3, 2),
        InvertedResidualSetting(6, 64, 3, 1), InvertedResidualSetting(6, 112, 2, 1),
    ]
    /// MobileNetV1 blocks for small inputs at width 1: (output channels, stride).
    public static let mobileNetV1Blocks: [(channels: Int, stride: Int)] = [
        (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 1), (512, 1),
    ]

    /// Checks `config` and builds its model with freshly initialized weights.
    public static func build(_ config: ModelConfig) throws(ModelConfigError) -> any Layer {
        guard config.inputShape.count == 3, config.inputShape.allSatisfy({ $0 > 0 }) else {
            throw ModelConfigError(description: "model config: inputShape must be [height, width, channels], got \(config.inputShape)")
        }
        guard config.width > 0, config.width <= 8 else {
            throw ModelConfigError(description: "model config: width multiplier must be in (0, 8], got \(config.width)")
        }
        guard config.classes >= 2 else {
            throw ModelConfigError(description: "model config: need at least 2 classes, got \(config.classes)")
        }
        guard config.dropout >= 0, config.dropout < 1 else {
            throw ModelConfigError(description: "model config: dropout must be in [0, 1), got \(config.dropout)")
        }
        var generator = SeededGenerator(seed: config.seed)
        let (height, width, channels) = (config.inputShape[0], config.inputShape[1], config.inputShape[2])
        switch config.architecture {
        case .resnet:
            guard config.depth >= 8, (config.depth - 2) % 6 == 0 else {
                throw ModelConfigError(description: "model config: ResNet depth must be 6n+2 with n >= 1 (8, 14, 20, ...), got \(config.depth)")
            }
            return ResNet(inputChannels: channels, stageChannels: [32, 64, 128].map { makeDivisible(Float($0) * config.width) },
                          blocksPerStage: (config.depth - 2) / 6, classes: config.classes, generator: &generator)
        case .mobilenetV1:
            return MobileNetV1(inputChannels: channels, stemChannels: 32, blocks: mobileNetV1Blocks, width: config.width,
                               dropout: config.dropout, classes: config.classes, generator: &generator)
        case .mobilenetV2:
            return MobileNetV2(inputChannels: channels, stemChannels: 32, settings: mobileNetV2Settings, headChannels: 512,
                               width: config.width, dropout: config.dropout, classes: config.classes, generator: &generator)
        case .squeezenet:
            return SqueezeNet(inputChannels: channels, width: config.width, dropout: config.dropout, classes: config.classes,
                              generator: &generator)
        case .cnn:
            guard height >= 4, width >= 4 else {
                throw ModelConfigError(description: "model config: the cnn needs inputs of at least 4x4, got \(config.inputShape)")
            }
            return SimpleCNN(inputHeight: height, inputWidth: width, inputChannels: channels, width: config.width,
                             classes: config.classes, generator: &generator)
        }
    }
}
