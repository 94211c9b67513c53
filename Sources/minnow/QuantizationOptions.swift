import ArgumentParser
import Foundation
import MinnowDistillation
import MinnowQuantization
import QuantMath

extension QuantizationScheme.Method: ExpressibleByArgument {}

/// The options of `quantize` and `qat` that say how to quantize.
struct QuantizationOptions: ParsableArguments {
    @Option(help: "Training images to calibrate the activation ranges on (a seeded random subset).") var calibrate = 512
    @Option(help: "Weight bits of every layer: 8, 7 (fast on CPUs without VNNI) or 4.") var weightBits = 8
    @Option(help: ArgumentHelp("Weight bits of one layer, as module.path=bits (mixed precision); repeatable.", valueName: "path=bits"))
    var layerBits: [String] = []

    func validate() throws {
        try OptionCheck.within("--calibrate", calibrate, 1...OptionCheck.maximumImages)
        try OptionCheck.check("--weight-bits", weightBits, "8, 7 or 4") { QuantizedType(rawValue: $0) != nil }
        _ = try layerWeightBits()
    }

    /// `--layer-bits` as a dictionary.
    func layerWeightBits() throws -> [String: Int] {
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
struct TeacherOptions: ParsableArguments {
    @Option(help: "A float teacher checkpoint: distill from it while fine-tuning (Hinton KD).") var teacher: String?
    @Option(help: "KD softmax temperature (with --teacher).") var temperature: Float = 4
    @Option(help: "KD weight of the soft-target term, in [0, 1] (with --teacher).") var alpha: Float = 0.9

    func validate() throws {
        try OptionCheck.positive("--temperature", temperature)
        try OptionCheck.fraction("--alpha", alpha, includingUpper: true)
    }

    /// The distillation settings of `--temperature` and `--alpha`.
    var settings: DistillationSettings { DistillationSettings(loss: .kd, temperature: temperature, alpha: alpha) }
}
