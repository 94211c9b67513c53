import Foundation
import MinnowTensor

/// Which part of a data set: the training images or the held-out test images.
public enum Split: String, Sendable, CaseIterable {
    case train
    case test
}

/// Per-channel normalization of pixels scaled to [0, 1]: `(pixel / 255 - mean[c]) / std[c]`.
public struct Normalization: Sendable, Equatable, Codable {
    /// The mean of each channel on the [0, 1] scale.
    public let mean: [Float]
    /// The standard deviation of each channel on the [0, 1] scale.
    public let std: [Float]

    /// Normalization with one mean and standard deviation per channel.
    public init(mean: [Float], std: [Float]) {
        require(mean.count == std.count && !mean.isEmpty,
                "Normalization: \(mean.count) means and \(std.count) standard deviations")
        require(std.allSatisfy { $0 > 0 }, "Normalization: standard deviations must be positive, got \(std)")
        self.mean = mean
        self.std = std
    }

    private enum CodingKeys: String, CodingKey { case mean, std }

    /// Decodes a normalization, refusing what `init(mean:std:)` would trap on.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let mean = try c.decode([Float].self, forKey: .mean), std = try c.decode([Float].self, forKey: .std)
        guard mean.count == std.count, !mean.isEmpty, mean.allSatisfy(\.isFinite), std.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw DecodingError.dataCorruptedError(forKey: .std, in: c,
                debugDescription: "a normalization needs as many means as standard deviations, finite, the deviations positive: got \(mean) and \(std)")
        }
        self.init(mean: mean, std: std)
    }

    /// Pixels scaled to [0, 1] and nothing else.
    public static func unitRange(channels: Int) -> Normalization {
        Normalization(mean: Array(repeating: 0, count: channels), std: Array(repeating: 1, count: channels))
    }

    /// The per-channel mean and (population) standard deviation of `dataset`'s pixels on the
    /// [0, 1] scale: what torchvision users compute for their own data. A channel whose pixels are
    /// all equal gets a standard deviation of 1, so it is only centred.
    public static func measured(on dataset: Dataset) -> Normalization {
        let channels = dataset.imageShape[2]
        var histogram = [Int](repeating: 0, count: channels * 256)
        dataset.pixels.withUnsafeBufferPointer { pixels in
            for (index, value) in pixels.enumerated() { histogram[(index % channels) * 256 + Int(value)] += 1 }
        }
        var mean = [Float](), std = [Float]()
        for c in 0..<channels {
            let counts = histogram[(c * 256)..<((c + 1) * 256)]
            let n = Double(counts.reduce(0, +))
            let sum = counts.enumerated().reduce(0.0) { $0 + Double($1.element) * Double($1.offset) / 255 }
            let squares = counts.enumerated().reduce(0.0) { $0 + Double($1.element) * pow(Double($1.offset) / 255, 2) }
            let m = sum / max(n, 1)
            let deviation = (max(squares / max(n, 1) - m * m, 0)).squareRoot()
            mean.append(Float(m))
            std.append(deviation > 1e-6 ? Float(deviation) : 1)
        }
        return Normalization(mean: mean, std: std)
    }

    /// `table[c * 256 + v]` is the normalized value of byte `v` in channel `c`.
    func lookupTable() -> [Float] {
        (0..<mean.count).flatMap { c in (0..<256).map { v in (Float(v) / 255 - mean[c]) / std[c] } }
    }
}

/// An image classification data set held in memory as bytes: compact (1 byte per pixel)
/// and converted to normalized `Float` tensors one batch at a time.
public struct Dataset: Sendable {
    /// A short name for reports, e.g. "fashion-mnist/train".
    public let name: String
    /// Every image's pixels, NHWC, one byte (0...255) per channel value.
    public let pixels: [UInt8]
    /// The class of each image, in `0..<classCount`.
    public let labels: [Int]
    /// The shape of one image: [height, width, channels].
    public let imageShape: [Int]
    /// The number of classes.
    public let classCount: Int

    /// A data set of `labels.count` images of `imageShape` ([H, W, C]) stored NHWC in `pixels`.
    public init(name: String, pixels: [UInt8], labels: [Int], imageShape: [Int], classCount: Int) {
        require(imageShape.count == 3 && imageShape.allSatisfy { $0 > 0 },
                "Dataset \(name): image shape must be [height, width, channels], got \(imageShape)")
        require(pixels.count == labels.count * imageShape.reduce(1, *),
                "Dataset \(name): \(pixels.count) pixel bytes do not hold \(labels.count) images of \(imageShape)")
        require(labels.allSatisfy { (0..<classCount).contains($0) },
                "Dataset \(name): labels must be in 0..<\(classCount)")
        self.name = name
        self.pixels = pixels
        self.labels = labels
        self.imageShape = imageShape
        self.classCount = classCount
    }

    /// The number of images.
    public var count: Int { labels.count }
    /// Bytes per image: height * width * channels.
    public var imageBytes: Int { imageShape.reduce(1, *) }

    /// How many images each class has.
    public func classCounts() -> [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for label in labels { counts[label] += 1 }
        return counts
    }

    /// The images at `indices`, in that order.
    public func subset(indices: [Int]) -> Dataset {
        require(indices.allSatisfy { (0..<count).contains($0) }, "Dataset \(name): subset index out of 0..<\(count)")
        var subsetPixels = [UInt8]()
        subsetPixels.reserveCapacity(indices.count * imageBytes)
        for i in indices { subsetPixels.append(contentsOf: pixels[(i * imageBytes)..<((i + 1) * imageBytes)]) }
        return Dataset(name: name, pixels: subsetPixels, labels: indices.map { labels[$0] },
                       imageShape: imageShape, classCount: classCount)
    }

    /// The first `n` images (all of them when `n >= count`).
    public func subset(first n: Int) -> Dataset {
        subset(indices: Array(0..<min(max(n, 0), count)))
    }

    /// `n` images drawn without replacement, the same ones for the same `seed`.
    public func randomSubset(count n: Int, seed: UInt64) -> Dataset {
        var generator = SeededGenerator(seed: seed)
        return subset(indices: Array(Shuffle.permutation(count, generator: &generator).prefix(max(n, 0))))
    }

    /// Splits off `n` images drawn without replacement (the same ones for the same `seed`) as a
    /// held-out set; the rest keep their order. `n` is clamped to `0...count`.
    public func holdOut(count n: Int, seed: UInt64) -> (rest: Dataset, heldOut: Dataset) {
        var generator = SeededGenerator(seed: seed)
        let order = Shuffle.permutation(count, generator: &generator)
        let heldOut = Array(order.prefix(min(max(n, 0), count)))
        let held = Set(heldOut)
        return (subset(indices: (0..<count).filter { !held.contains($0) }), subset(indices: heldOut))
    }

    /// All images as one NHWC tensor, normalized with `normalization`.
    public func images(normalization: Normalization) -> Tensor {
        BatchAssembler(dataset: self, normalization: normalization, augmentation: Augmentation())
            .images(indices: Array(0..<count), generator: nil)
    }
}

/// Seeded Fisher-Yates shuffles, written out so orders do not depend on the standard library.
enum Shuffle {
    /// A random permutation of `0..<n`.
    static func permutation(_ n: Int, generator: inout SeededGenerator) -> [Int] {
        var order = Array(0..<n)
        for i in stride(from: n - 1, to: 0, by: -1) {
            order.swapAt(i, uniform(below: i + 1, generator: &generator))
        }
        return order
    }

    /// Uniform in `0..<bound` (Lemire's multiply-high; the bias is below 2^-32 for data set sizes).
    static func uniform(below bound: Int, generator: inout SeededGenerator) -> Int {
        Int(UInt64(bound).multipliedFullWidth(by: generator.next()).high)
    }

    /// A seed derived from `seed` and `stream`: independent generators per epoch and per batch.
    static func derive(_ seed: UInt64, _ stream: UInt64) -> UInt64 {
        var z = seed &+ (stream &+ 1) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A data set that lives in a standard folder, which an environment variable can override.
public protocol DatasetLocation {
    /// Where the files are when nothing else is said.
    static var defaultDirectory: URL { get }
    /// The environment variable that names another folder.
    static var directoryVariable: String { get }
}

extension DatasetLocation {
    /// The folder used when none is given: the variable's value if set and not empty, else `defaultDirectory`.
    public static func resolvedDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        guard let custom = environment[directoryVariable], !custom.isEmpty else { return defaultDirectory }
        return URL(fileURLWithPath: custom)
    }
}
