import ArgumentParser
import Foundation
import MinnowDistillation
import MinnowQuantization
import MinnowRuntime
import MinnowWorkflows
import QuantMath


/// The options of `quantize` and `qat` that say how to quantize.
public struct QuantizationOptions: ParsableArguments {
    public init() {}

    @Option(help: "Training images to calibrate the activation ranges on (a seeded random subset).") public var calibrate = 512
    @Option(help: "Weight bits of every layer: 8, 7 (fast on CPUs without VNNI) or 4.") public var weightBits = 8
    @Option(help: ArgumentHelp("Weight bits of one layer, as module.path=bits (mixed precision); repeatable.", valueName: "path=bits"))
    public var layerBits: [String] = []

    public func validate() throws {
        try OptionCheck.within("--calibrate", calibrate, 1...OptionCheck.maximumImages)
        try OptionCheck.check("--weight-bits", weightBits, "8, 7 or 4") { QuantizedType(rawValue: $0) != nil }
        _ = try layerWeightBits()
    }

    /// `--layer-bits` as a dictionary.
    public func layerWeightBits() throws -> [String: Int] {
        var result: [String: Int] = [:]
        for entry in layerBits {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let bits = Int(parts[1]), QuantizedType(rawValue: bits) != nil, !parts[0].isEmpty else {
                throw ValidationError("--layer-bits must be module.path=8, =7 or =4, got '\(entry)'")
            }
            result[parts[0]] = bits
        }
        return result
    }
}

/// Hinton KD from a float teacher during fine-tuning: the options `qat` and `prune` share.
public struct TeacherOptions: ParsableArguments {
    public init() {}

    @Option(help: "A float teacher checkpoint: distill from it while fine-tuning (Hinton KD).") public var teacher: String?
    @Option(help: "KD softmax temperature (with --teacher).") public var temperature: Float = 4
    @Option(help: "KD weight of the soft-target term, in [0, 1] (with --teacher).") public var alpha: Float = 0.9

    public func validate() throws {
        try OptionCheck.positive("--temperature", temperature)
        try OptionCheck.fraction("--alpha", alpha, includingUpper: true)
    }

    /// The distillation settings of `--temperature` and `--alpha`.
    public var settings: DistillationSettings { DistillationSettings(loss: .kd, temperature: temperature, alpha: alpha) }
}

/// Quantization-aware training (`qat`): how to quantize, the QAT method and when observers and
/// batch norms freeze.
public struct QATOptions: ParsableArguments {
    public init() {}

    @OptionGroup public var quantization: QuantizationOptions
    @Option(help: "observers (moving-average ranges) or lsq (learned step sizes).") public var method: QuantizationScheme.Method = .observers
    @Option(help: "Epochs after which activation ranges stop moving (default: max(1, epochs - 1)).") public var freezeObserversEpoch: Double?
    @Option(help: "Epochs after which batch norms use running statistics (default: max(1, epochs - 1)).") public var freezeBnEpoch: Double?

    public func validate() throws {
        try OptionCheck.nonNegative("--freeze-observers-epoch", freezeObserversEpoch)
        try OptionCheck.nonNegative("--freeze-bn-epoch", freezeBnEpoch)
    }

    /// The QAT scheme of a fine-tuning of `trainImages` images (`QuantizationWorkflow.qatScheme`).
    public func scheme(setup: FineTuningSetup, trainImages: Int) throws -> QuantizationScheme {
        try QuantizationWorkflow.qatScheme(method: method, weightBits: quantization.weightBits, layerWeightBits: try quantization.layerWeightBits(),
                                           freezeObserversEpoch: freezeObserversEpoch, freezeBatchNormEpoch: freezeBnEpoch,
                                           setup: setup, trainImages: trainImages)
    }
}

/// `--kernels` of the runtime commands: which kernel level runs a model.
public enum RuntimeKernels: String, ExpressibleByArgument, CaseIterable {
    case fastest
    case avxVNNI = "avx-vnni"
    case avx2
    case neonI8MM = "neon-i8mm"
    case neonDot = "neon-dot"
    case neon, reference

    /// The runtime's choice of this name.
    public var choice: KernelChoice {
        switch self {
        case .fastest: .fastest
        case .avxVNNI: .avxVNNI
        case .avx2: .avx2
        case .neonI8MM: .neonI8MM
        case .neonDot: .neonDot
        case .neon: .neon
        case .reference: .reference
        }
    }
}
