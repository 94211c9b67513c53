import Foundation

/// Reads the CIFAR-10 binary format (`data_batch_N.bin`, `test_batch.bin`).
///
/// Each record is 1 label byte followed by a 32x32 colour image stored channel-major (1024 red,
/// 1024 green, 1024 blue bytes, each row-major): 3073 bytes. Images are converted to NHWC.
/// Files may be raw or gzip-compressed (detected from the content).
public enum CIFAR10Reader {
    /// Image side in pixels.
    public static let side = 32
    /// Colour channels.
    public static let channels = 3
    /// Bytes per record: 1 label byte and 3072 pixel bytes.
    public static let recordBytes = 1 + side * side * channels

    /// The images of `url`, NHWC bytes, and their labels.
    public static func read(_ url: URL) throws(DatasetError) -> (pixels: [UInt8], labels: [Int]) {
        try decode(FileBytes.read(url), path: url.path)
    }

    /// Decodes the (already inflated) contents of a CIFAR-10 batch file; `path` names it in errors.
    public static func decode(_ data: [UInt8], path: String) throws(DatasetError) -> (pixels: [UInt8], labels: [Int]) {
        guard data.count % recordBytes == 0 else {
            throw .partialRecord(path: path, fileBytes: data.count, recordBytes: recordBytes)
        }
        let count = data.count / recordBytes
        guard count > 0 else { throw .noImages(path: path, shape: [0, side, side, channels]) }
        let labels = try Dataset.validatedLabels(
            (0..<count).lazy.map { data[$0 * recordBytes] }, classCount: CIFAR10.classCount, path: path)
        let plane = side * side
        let pixels = [UInt8](unsafeUninitializedCapacity: data.count - count) { output, initialized in
            data.withUnsafeBufferPointer { input in
                for record in 0..<count {
                    let source = input.baseAddress! + record * recordBytes + 1
                    let target = output.baseAddress! + record * plane * channels
                    for position in 0..<plane {
                        for channel in 0..<channels {
                            target[position * channels + channel] = source[channel * plane + position]
                        }
                    }
                }
            }
            initialized = data.count - count
        }
        return (pixels, labels)
    }
}

/// CIFAR-10 (Krizhevsky 2009, "Learning Multiple Layers of Features from Tiny Images"):
/// 32x32 colour images of 10 classes; 50,000 for training (5 files) and 10,000 for testing.
public enum CIFAR10: DatasetLocation {
    /// Where Minnow looks when no directory is given and `MINNOW_CIFAR10_DIR` is unset.
    public static let defaultDirectory = URL(fileURLWithPath: "/usr/share/datasets/cifar10")
    /// An environment variable naming another directory; it overrides `defaultDirectory`.
    public static let directoryVariable = "MINNOW_CIFAR10_DIR"
    /// How to get the files, shown when they are missing.
    public static let installHint =
        "extract data_batch_1.bin ... data_batch_5.bin and test_batch.bin from the CIFAR-10 binary version " +
        "(cifar-10-binary.tar.gz) into that directory, or set \(directoryVariable)"
    /// Number of classes.
    public static let classCount = 10
    /// Class names, indexed by label.
    public static let classNames = [
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
    ]
    /// The usual per-channel mean and standard deviation (RGB, [0, 1] scale) of the training set.
    public static let normalization = Normalization(mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616])

    /// The file names of `split`.
    public static func fileNames(_ split: Split) -> [String] {
        split == .train ? (1...5).map { "data_batch_\($0).bin" } : ["test_batch.bin"]
    }

    /// Loads `split` from `directory` (default: `resolvedDirectory()`).
    public static func load(split: Split, directory: URL? = nil) throws(DatasetError) -> Dataset {
        let directory = directory ?? resolvedDirectory()
        let urls = fileNames(split).map { directory.appendingPathComponent($0) }
        let missing = urls.filter { !FileManager.default.fileExists(atPath: $0.path) }.map(\.lastPathComponent)
        guard missing.isEmpty else {
            throw .missingDataset(name: "CIFAR-10", directory: directory.path, missingFiles: missing, hint: installHint)
        }
        var pixels = [UInt8](), labels = [Int]()
        for url in urls {
            let part = try CIFAR10Reader.read(url)
            pixels += part.pixels
            labels += part.labels
        }
        return Dataset(name: "cifar10/\(split.rawValue)", pixels: pixels, labels: labels,
                       imageShape: [CIFAR10Reader.side, CIFAR10Reader.side, CIFAR10Reader.channels],
                       classCount: classCount)
    }
}
