import Foundation
import MinnowTensor

/// Random training-time transforms, applied per image with a seeded generator. All off by default.
///
/// The order follows torchvision's usual CIFAR recipe: pad with black (byte 0, normalized like
/// any pixel) and crop back to the original size at a random offset, then flip left-right.
public struct Augmentation: Sendable, Equatable {
    /// Pixels of zero padding on each side before a random crop to the original size; 0 = no crop.
    public var cropPadding: Int
    /// Mirror each image left-right with probability 1/2.
    public var horizontalFlip: Bool
    /// Random erasing (Zhong et al. 2020, as torchvision's `RandomErasing` with its defaults):
    /// with this probability, a rectangle of 2-33% of the image's area and aspect ratio 0.3-3.3
    /// (log-uniform) is set to 0 after normalization (the data set's mean), up to 10 draws.
    public var erasingProbability: Double

    /// Augmentation with the given transforms (none by default).
    public init(cropPadding: Int = 0, horizontalFlip: Bool = false, erasingProbability: Double = 0) {
        require(cropPadding >= 0, "Augmentation: cropPadding must be >= 0, got \(cropPadding)")
        require((0...1).contains(erasingProbability), "Augmentation: erasingProbability must be in [0, 1], got \(erasingProbability)")
        self.cropPadding = cropPadding
        self.horizontalFlip = horizontalFlip
        self.erasingProbability = erasingProbability
    }

    /// True when no transform is enabled.
    public var isIdentity: Bool { cropPadding == 0 && !horizontalFlip && erasingProbability == 0 }
}

/// One mini-batch: normalized NHWC images and their labels.
public struct Batch: Sendable {
    /// The images, `[batch, height, width, channels]`, normalized.
    public let images: Tensor
    /// The class of each image.
    public let labels: [Int]
    /// The position of each image in the data set.
    public let indices: [Int]

    /// A batch of `images` (`[batch, height, width, channels]`) with their labels and data-set positions.
    public init(images: Tensor, labels: [Int], indices: [Int]) {
        require(images.shape.first == labels.count && labels.count == indices.count,
                "Batch: \(images.shape.first ?? 0) images, \(labels.count) labels and \(indices.count) indices must match")
        self.images = images
        self.labels = labels
        self.indices = indices
    }
}

/// Turns data set bytes into normalized (and optionally augmented) `Float` batches.
struct BatchAssembler: Sendable {
    let dataset: Dataset
    let augmentation: Augmentation
    /// `table[c * 256 + v]`: the normalized value of byte `v` in channel `c`.
    private let table: [Float]

    init(dataset: Dataset, normalization: Normalization, augmentation: Augmentation) {
        require(normalization.mean.count == dataset.imageShape[2],
                "\(dataset.name): normalization has \(normalization.mean.count) channels, images have \(dataset.imageShape[2])")
        self.dataset = dataset
        self.augmentation = augmentation
        self.table = normalization.lookupTable()
    }

    /// The batch of the images at `indices`; `generator` drives the augmentation (nil: none).
    func batch(indices: [Int], generator: SeededGenerator?) -> Batch {
        Batch(images: images(indices: indices, generator: generator),
              labels: indices.map { dataset.labels[$0] }, indices: indices)
    }

    /// The rectangle random erasing sets to zero in one image, or nil (not this time, or no draw of
    /// 10 fitted), drawn as torchvision's `RandomErasing` draws it.
    static func erasedBox(height: Int, width: Int, probability: Double, generator: inout SeededGenerator)
        -> (top: Int, left: Int, height: Int, width: Int)? {
        func unit() -> Double { Double(generator.next() >> 11) * 0x1p-53 }
        guard unit() < probability else { return nil }
        let area = Double(height * width)
        for _ in 0..<10 {
            let target = area * (0.02 + 0.31 * unit())
            let ratio = exp(log(0.3) + (log(3.3) - log(0.3)) * unit())
            let h = Int((target * ratio).squareRoot().rounded()), w = Int((target / ratio).squareRoot().rounded())
            guard h > 0, w > 0, h < height, w < width else { continue }
            let top = Shuffle.uniform(below: height - h + 1, generator: &generator)
            let left = Shuffle.uniform(below: width - w + 1, generator: &generator)
            return (top, left, h, w)
        }
        return nil
    }

    /// The images at `indices` as one NHWC tensor.
    func images(indices: [Int], generator: SeededGenerator?) -> Tensor {
        let (height, width, channels) = (dataset.imageShape[0], dataset.imageShape[1], dataset.imageShape[2])
        let imageBytes = dataset.imageBytes
        let padding = generator == nil ? 0 : augmentation.cropPadding
        var generator = generator
        return Tensor(shape: [indices.count, height, width, channels]) { output in
            dataset.pixels.withUnsafeBufferPointer { pixels in
                table.withUnsafeBufferPointer { table in
                    for (slot, index) in indices.enumerated() {
                        // Offsets of the crop window in the padded image, and the flip.
                        var (top, left, flip) = (padding, padding, false)
                        if generator != nil {
                            if padding > 0 {
                                top = Shuffle.uniform(below: 2 * padding + 1, generator: &generator!)
                                left = Shuffle.uniform(below: 2 * padding + 1, generator: &generator!)
                            }
                            if augmentation.horizontalFlip { flip = generator!.next() & 1 == 1 }
                        }
                        let source = pixels.baseAddress! + index * imageBytes
                        let target = output + slot * imageBytes
                        for y in 0..<height {
                            let sourceY = y + top - padding
                            for x in 0..<width {
                                let sourceX = (flip ? width - 1 - x : x) + left - padding
                                let inside = sourceY >= 0 && sourceY < height && sourceX >= 0 && sourceX < width
                                let from = (sourceY * width + sourceX) * channels
                                let to = (y * width + x) * channels
                                for c in 0..<channels {
                                    target[to + c] = table[c * 256 + (inside ? Int(source[from + c]) : 0)]
                                }
                            }
                        }
                        // Drawn after the crop and flip, and only when enabled, so that runs
                        // without erasing keep their random streams.
                        if generator != nil, augmentation.erasingProbability > 0,
                           let box = Self.erasedBox(height: height, width: width, probability: augmentation.erasingProbability, generator: &generator!) {
                            for y in box.top..<(box.top + box.height) {
                                (target + (y * width + box.left) * channels).update(repeating: 0, count: box.width * channels)
                            }
                        }
                    }
                }
            }
        }
    }
}
