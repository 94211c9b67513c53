import Foundation
import MinnowTensor

/// A whole model as data: its layer tree (`LayerDescription`), the images it takes and how they
/// were normalized in training. It rebuilds the model with the same parameter paths and shapes,
/// whatever edits (pruning, folding) the model went through, so a checkpoint that stores it
/// rebuilds its model alone. See docs/models-as-data.md.
///
/// ```swift
/// let description = try ModelDescription(model: model, inputShape: [28, 28, 1], classes: 10)
/// let json = try description.json()
/// let rebuilt = try ModelDescription(json: json).build(registry: .zoo)   // fresh weights, same layout
/// ```
public struct ModelDescription: Codable, Equatable, Sendable {
    /// The version of this JSON layout that this Minnow writes and reads.
    public static let currentVersion = 1

    public var version: Int
    /// The model's layer tree.
    public var layer: LayerDescription
    /// One input image, `[height, width, channels]`.
    public var inputShape: [Int]
    /// Number of classes (the width of the logits).
    public var classes: Int
    /// Per-channel mean and standard deviation of the training inputs on the [0, 1] scale, when known.
    public var normalization: InputNormalization?

    /// The description of `model` as it is now.
    public init(model: any Layer, inputShape: [Int], classes: Int, normalization: InputNormalization? = nil) throws(DescriptionError) {
        version = Self.currentVersion
        layer = try LayerDescription(describing: model)
        self.inputShape = inputShape
        self.classes = classes
        self.normalization = normalization
    }

    /// Decodes a description from its JSON, checking the version.
    /// Bounds on what a description may ask for, checked before anything is allocated: an image
    /// side, an image's elements (4096 x 4096 x 4) and the classes.
    public static let maximumExtent = 1 << 16, maximumInputElements = 1 << 26, maximumClasses = 1 << 20

    public init(json: String) throws(DescriptionError) {
        let decoded: ModelDescription
        do {
            decoded = try JSONDecoder().decode(ModelDescription.self, from: Data(json.utf8))
        } catch {
            throw .invalidSpec(kind: "model", detail: "not a model description: \(error)")
        }
        guard decoded.version >= 1, decoded.version <= Self.currentVersion else {
            throw .invalidSpec(kind: "model", detail: "description version \(decoded.version); this Minnow reads 1...\(Self.currentVersion)")
        }
        self = decoded
    }

    /// The JSON form (sorted keys, so equal descriptions give equal text).
    public func json() throws(DescriptionError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            return String(decoding: try encoder.encode(self), as: UTF8.self)
        } catch {
            throw .invalidSpec(kind: "model", detail: "cannot encode: \(error)")
        }
    }

    /// Builds the model with fresh weights drawn from a generator seeded with `seed`.
    public func build(seed: UInt64 = 0, registry: LayerRegistry) throws(DescriptionError) -> any Layer {
        try requireSpec(inputShape.count == 3 && inputShape.allSatisfy { (1...Self.maximumExtent).contains($0) }
                        && inputShape.reduce(1, *) <= Self.maximumInputElements && (2...Self.maximumClasses).contains(classes), "model",
                        "input shape must be [height, width, channels] of extents in 1...\(Self.maximumExtent) and at most \(Self.maximumInputElements) elements, and classes in 2...\(Self.maximumClasses), got \(inputShape) and \(classes)")
        var generator = SeededGenerator(seed: seed)
        return try registry.build(layer, generator: &generator)
    }
}

/// How the training inputs were normalized: `(pixel / 255 - mean[c]) / std[c]` per channel.
public struct InputNormalization: Codable, Equatable, Sendable {
    public var mean: [Float]
    public var std: [Float]

    public init(mean: [Float], std: [Float]) {
        self.mean = mean
        self.std = std
    }
}
