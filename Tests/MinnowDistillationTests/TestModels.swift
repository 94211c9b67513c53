import Foundation
import MinnowData
import MinnowDistillation
import MinnowModels
import MinnowNN
import MinnowTensor

/// Small models and data for the distillation tests: 8x8 grey images, 4 classes.
enum TestModels {
    static let inputShape = [8, 8, 1]
    static let normalization = Normalization(mean: [0.5], std: [0.25])

    /// MobileNetV2 at width 0.25: features.0-1 are 8x8x8, features.2-3 4x4x8, features.4-11 2x2, features.12 2x2x128.
    static func studentConfig(seed: UInt64 = 0) -> ModelConfig {
        ModelConfig(architecture: .mobilenetV2, width: 0.25, inputShape: inputShape, classes: 4, seed: seed)
    }

    /// ResNet-8 at width 0.25: layers.0 is 8x8x8, layers.1 4x4x16, layers.2 2x2x32.
    static func teacherConfig(seed: UInt64 = 1, classes: Int = 4) -> ModelConfig {
        ModelConfig(architecture: .resnet, width: 0.25, depth: 8, inputShape: inputShape, classes: classes, seed: seed)
    }

    static func teacher(seed: UInt64 = 1, classes: Int = 4) throws -> (model: any Layer, config: ModelConfig) {
        let config = teacherConfig(seed: seed, classes: classes)
        return (try ModelZoo.build(config), config)
    }

    /// Images whose class is the quadrant of a bright square, on noise.
    static func dataset(count: Int, seed: UInt64) -> Dataset {
        var generator = SeededGenerator(seed: seed)
        var pixels = [UInt8](repeating: 0, count: count * 64)
        var labels: [Int] = []
        for n in 0..<count {
            let label = Int(generator.next() % 4)
            labels.append(label)
            for i in 0..<64 { pixels[n * 64 + i] = UInt8(generator.next() % 80) }
            let (top, left) = (label / 2 * 4 + Int(generator.next() % 2), label % 2 * 4 + Int(generator.next() % 2))
            for y in top..<(top + 3) { for x in left..<(left + 3) { pixels[n * 64 + y * 8 + x] = 230 } }
        }
        return Dataset(name: "quadrants", pixels: pixels, labels: labels, imageShape: inputShape, classCount: 4)
    }

    /// A fresh temporary folder.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("minnow-distill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
