import Foundation
import MinnowData

/// The data sets a run can train on, with their splits and normalization.
public enum DatasetChoice: String, Codable, Sendable, CaseIterable {
    case fashionMNIST = "fashion-mnist"
    case cifar10

    /// Loads both splits from `directory` (default: the data set's standard location).
    public func load(directory: URL? = nil) throws(DatasetError) -> (train: Dataset, test: Dataset) {
        (try load(.train, directory: directory), try load(.test, directory: directory))
    }

    /// Loads one split from `directory` (default: the data set's standard location); the other
    /// split's files are not read.
    public func load(_ split: Split, directory: URL? = nil) throws(DatasetError) -> Dataset {
        switch self {
        case .fashionMNIST: try FashionMNIST.load(split: split, directory: directory)
        case .cifar10: try CIFAR10.load(split: split, directory: directory)
        }
    }

    /// Per-channel mean and standard deviation of the training set.
    public var normalization: Normalization {
        switch self {
        case .fashionMNIST: FashionMNIST.normalization
        case .cifar10: CIFAR10.normalization
        }
    }

    /// Image shape `[height, width, channels]`.
    public var imageShape: [Int] {
        switch self {
        case .fashionMNIST: [28, 28, 1]
        case .cifar10: [32, 32, 3]
        }
    }
}
