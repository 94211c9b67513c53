import Foundation
import MinnowData

/// The data sets a run can train on, with their splits and normalization.
public enum DatasetChoice: String, Codable, Sendable, CaseIterable {
    case fashionMNIST = "fashion-mnist"
    case cifar10

    /// Loads both splits from `directory` (default: the data set's standard location).
    public func load(directory: URL? = nil) throws(DatasetError) -> (train: Dataset, test: Dataset) {
        switch self {
        case .fashionMNIST:
            return (try FashionMNIST.load(split: .train, directory: directory),
                    try FashionMNIST.load(split: .test, directory: directory))
        case .cifar10:
            return (try CIFAR10.load(split: .train, directory: directory),
                    try CIFAR10.load(split: .test, directory: directory))
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
