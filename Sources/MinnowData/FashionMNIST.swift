import Foundation

extension Dataset {
    /// Loads an MNIST-style pair of IDX files: images `[N, H, W]` and labels `[N]`, raw or gzip.
    ///
    /// Checks both headers, that the counts agree and that every label is in `0..<classCount`.
    public static func loadIDX(
        name: String, images imagesURL: URL, labels labelsURL: URL, classCount: Int
    ) throws(DatasetError) -> Dataset {
        let images = try IDXReader.read(imagesURL, rank: 3)
        guard images.shape.allSatisfy({ $0 > 0 }) else { throw .noImages(path: imagesURL.path, shape: images.shape) }
        let labelArray = try IDXReader.read(labelsURL, rank: 1)
        guard images.shape[0] == labelArray.shape[0] else {
            throw .countMismatch(imagesPath: imagesURL.path, images: images.shape[0],
                                 labelsPath: labelsURL.path, labels: labelArray.shape[0])
        }
        let labels = try validatedLabels(labelArray.bytes, classCount: classCount, path: labelsURL.path)
        return Dataset(name: name, pixels: images.bytes, labels: labels,
                       imageShape: [images.shape[1], images.shape[2], 1], classCount: classCount)
    }

    /// `bytes` as labels, or the first one outside `0..<classCount` as an error.
    static func validatedLabels(
        _ bytes: some Collection<UInt8>, classCount: Int, path: String
    ) throws(DatasetError) -> [Int] {
        let labels = bytes.map(Int.init)
        if let index = labels.firstIndex(where: { $0 >= classCount }) {
            throw .labelOutOfRange(path: path, index: index, label: labels[index], classCount: classCount)
        }
        return labels
    }
}

/// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017, arXiv:1708.07747): 28x28 grayscale images of
/// 10 kinds of clothing; 60,000 for training and 10,000 for testing. MIT licensed (Zalando SE).
public enum FashionMNIST: DatasetLocation {
    /// Where Debian's `dataset-fashion-mnist` package installs the files.
    public static let defaultDirectory = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")
    /// An environment variable naming another directory; it overrides `defaultDirectory`.
    public static let directoryVariable = "MINNOW_FASHION_MNIST_DIR"
    /// How to get the files, shown when they are missing.
    public static let installHint =
        "run scripts/setup.sh data (it does apt-get install dataset-fashion-mnist), or set \(directoryVariable)"
    /// Number of classes.
    public static let classCount = 10
    /// Class names, indexed by label.
    public static let classNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]
    /// The training set's pixel mean and standard deviation on the [0, 1] scale.
    public static let normalization = Normalization(mean: [0.2860], std: [0.3530])

    /// Loads `split` from `directory` (default: `resolvedDirectory()`).
    ///
    /// Files are `train-*` or `t10k-*` `images-idx3-ubyte` / `labels-idx1-ubyte`, each with or
    /// without `.gz`. Missing files throw `DatasetError.missingDataset` with install instructions.
    public static func load(split: Split, directory: URL? = nil) throws(DatasetError) -> Dataset {
        let directory = directory ?? resolvedDirectory()
        let prefix = split == .train ? "train" : "t10k"
        let stems = ["\(prefix)-images-idx3-ubyte", "\(prefix)-labels-idx1-ubyte"]
        let found = stems.map { stem in
            [stem + ".gz", stem].map { directory.appendingPathComponent($0) }
                .first { FileManager.default.fileExists(atPath: $0.path) }
        }
        let missing = zip(stems, found).filter { $0.1 == nil }.map { $0.0 + "[.gz]" }
        guard missing.isEmpty, let images = found[0], let labels = found[1] else {
            throw .missingDataset(name: "Fashion-MNIST", directory: directory.path,
                                  missingFiles: missing, hint: installHint)
        }
        return try Dataset.loadIDX(name: "fashion-mnist/\(split.rawValue)", images: images, labels: labels,
                                   classCount: classCount)
    }
}
