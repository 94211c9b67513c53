import Foundation
import MinnowData

/// The data set a run trains on, written as `--dataset` takes it and as manifests store it:
///
/// - `fashion-mnist`, `cifar10`: the built-in data sets, in their standard folders (or `--data-dir`);
/// - `arrays:PATH`: images and labels as arrays, a folder of `.npy` files or an HDF5 file (`ArrayDataset`);
/// - `images:DIR`: a folder of PNG and JPEG images, one subfolder per class (`ImageFolder`).
///
/// The built-in data sets have their published normalization; the others are normalized with the
/// mean and standard deviation of their training split, computed when a run starts and stored in
/// its manifest and checkpoints. Paths are kept as written (relative ones stay relative).
public struct DatasetChoice: RawRepresentable, Codable, Sendable, Hashable, CustomStringConvertible {
    /// Where the images come from.
    public enum Source: Sendable, Hashable {
        case fashionMNIST
        case cifar10
        case arrays(path: String)
        case imageFolder(path: String)
    }

    /// Where the images come from.
    public let source: Source

    /// Fashion-MNIST (Debian's `dataset-fashion-mnist`).
    public static let fashionMNIST = DatasetChoice(source: .fashionMNIST)
    /// CIFAR-10, binary version.
    public static let cifar10 = DatasetChoice(source: .cifar10)
    /// The built-in data sets.
    public static let presets = [fashionMNIST, cifar10]
    /// How `--dataset` values are written, for help and errors.
    public static let syntax = "fashion-mnist, cifar10, arrays:PATH (a folder of .npy files or an HDF5 file) or images:DIR (a folder per class)"

    public init(source: Source) { self.source = source }

    /// Parses `fashion-mnist`, `cifar10`, `arrays:PATH` or `images:DIR`; nil for anything else.
    public init?(rawValue: String) {
        switch rawValue {
        case "fashion-mnist": source = .fashionMNIST
        case "cifar10": source = .cifar10
        case let text where text.hasPrefix("arrays:") && text.count > 7: source = .arrays(path: String(text.dropFirst(7)))
        case let text where text.hasPrefix("images:") && text.count > 7: source = .imageFolder(path: String(text.dropFirst(7)))
        default: return nil
        }
    }

    /// The form `init(rawValue:)` parses.
    public var rawValue: String {
        switch source {
        case .fashionMNIST: "fashion-mnist"
        case .cifar10: "cifar10"
        case .arrays(let path): "arrays:" + path
        case .imageFolder(let path): "images:" + path
        }
    }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let choice = DatasetChoice(rawValue: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown data set '\(text)': expected \(Self.syntax)")
        }
        self = choice
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// Loads both splits from `directory` (built-in data sets only; default: the standard location).
    public func load(directory: URL? = nil) throws(DatasetError) -> (train: Dataset, test: Dataset) {
        (try load(.train, directory: directory), try load(.test, directory: directory))
    }

    /// Loads one split. `directory` moves a built-in data set; the others name their own location,
    /// and a directory given with them is an error.
    public func load(_ split: Split, directory: URL? = nil) throws(DatasetError) -> Dataset {
        switch source {
        case .fashionMNIST: return try FashionMNIST.load(split: split, directory: directory)
        case .cifar10: return try CIFAR10.load(split: split, directory: directory)
        case .arrays(let path):
            guard directory == nil else { throw .directoryNotApplicable(dataset: rawValue) }
            return try ArrayDataset.load(split: split, from: URL(fileURLWithPath: path), name: "\(rawValue)/\(split.rawValue)")
        case .imageFolder(let path):
            guard directory == nil else { throw .directoryNotApplicable(dataset: rawValue) }
            return try ImageFolder.load(split: split, root: URL(fileURLWithPath: path), name: "\(rawValue)/\(split.rawValue)")
        }
    }

    /// The published normalization of a built-in data set; nil for the others, whose
    /// normalization is measured on their training split (`normalization(train:)`).
    public var publishedNormalization: Normalization? {
        switch source {
        case .fashionMNIST: FashionMNIST.normalization
        case .cifar10: CIFAR10.normalization
        case .arrays, .imageFolder: nil
        }
    }

    /// The normalization of this data set, whose training split is `train`.
    public func normalization(train: Dataset) -> Normalization {
        publishedNormalization ?? .measured(on: train)
    }

    /// The normalization of this data set, reading its training split only when it must be measured.
    public func normalization(directory: URL? = nil) throws(DatasetError) -> Normalization {
        if let publishedNormalization { return publishedNormalization }
        return .measured(on: try load(.train, directory: directory))
    }

    /// The class names of a built-in data set or the ones listed with arrays or folders; nil
    /// when the arrays list none.
    public func classNames() throws(DatasetError) -> [String]? {
        switch source {
        case .fashionMNIST: FashionMNIST.classNames
        case .cifar10: CIFAR10.classNames
        case .arrays(let path): try ArrayDataset.classNames(at: URL(fileURLWithPath: path))
        case .imageFolder(let path): try ImageFolder.classNames(root: URL(fileURLWithPath: path))
        }
    }

    /// Whether this is a built-in data set (which `--data-dir` may move).
    public var isBuiltIn: Bool { imageShape != nil }

    /// Image shape `[height, width, channels]` of a built-in data set; nil for the others.
    public var imageShape: [Int]? {
        switch source {
        case .fashionMNIST: [28, 28, 1]
        case .cifar10: [32, 32, 3]
        case .arrays, .imageFolder: nil
        }
    }
}
