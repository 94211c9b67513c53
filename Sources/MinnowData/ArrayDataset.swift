import Foundation
import MinnowHDF5

/// A data set given as arrays: `uint8` images `N×H×W×C` (or `N×H×W` for one channel) with integer
/// labels, per split, and an optional list of class names. Two containers hold them:
///
/// - a folder of NumPy files: `train_images.npy`, `train_labels.npy`, `test_images.npy`,
///   `test_labels.npy` and, optionally, `classes.txt` (one name per line, in label order);
/// - one HDF5 file (`.h5`, `.hdf5`) with the datasets `train/images`, `train/labels`,
///   `test/images`, `test/labels` and, optionally, a string dataset `classes` (names separated
///   by newlines).
///
/// The number of classes is the length of the class list, else the largest label of either split
/// plus one. Every rule broken (a missing array, a rank or count that does not fit, a negative or
/// too large label) is an error naming the file.
public enum ArrayDataset {
    /// The arrays of one split as read, before they are checked against each other.
    struct Arrays {
        var shape: [Int]
        var pixels: [UInt8]
        var labels: [Int]
        var imagesPath: String
        var labelsPath: String
    }

    /// Loads `split` of the arrays at `url` (a folder of `.npy` files or an HDF5 file) as a data
    /// set called `name`.
    public static func load(split: Split, from url: URL, name: String) throws(DatasetError) -> Dataset {
        let arrays = try read(split, from: url)
        let names = try classNames(at: url)
        var classCount = names?.count ?? 0
        if names == nil { classCount = try largestLabel(url) + 1 }
        let imageShape = try checkedImageShape(arrays)
        if let index = arrays.labels.firstIndex(where: { !(0..<classCount).contains($0) }) {
            let listed = names == nil ? "" : " (the class list names \(classCount) classes)"
            throw .invalidDataset(path: arrays.labelsPath,
                                  reason: "label \(arrays.labels[index]) at index \(index) is outside 0..<\(classCount)\(listed)")
        }
        return Dataset(name: name, pixels: arrays.pixels, labels: arrays.labels, imageShape: imageShape, classCount: classCount)
    }

    /// The class names listed with the arrays at `url`, nil when there is no list.
    public static func classNames(at url: URL) throws(DatasetError) -> [String]? {
        let text: String
        if isHDF5(url) {
            let file = try open(url)
            guard file.exists("/classes") else { return nil }
            do { text = try file.readString("/classes") } catch { throw .invalidDataset(path: "\(url.path):/classes", reason: error.description) }
        } else {
            let listURL = url.appendingPathComponent("classes.txt")
            guard FileManager.default.fileExists(atPath: listURL.path) else { return nil }
            text = String(decoding: try FileBytes.read(listURL), as: UTF8.self)
        }
        let names = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !names.isEmpty else { throw .invalidDataset(path: url.path, reason: "the class list is empty") }
        return names
    }

    /// The `uint8` images and integer labels of `split`.
    /// With `images` false the images are not read (an empty shape and no pixels): labels alone.
    static func read(_ split: Split, from url: URL, images: Bool = true) throws(DatasetError) -> Arrays {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw .missingDataset(name: "arrays", directory: url.path, missingFiles: [url.lastPathComponent],
                                  hint: "give a folder of train_/test_ images.npy and labels.npy files, or an HDF5 file")
        }
        if isDirectory.boolValue { return try readNPY(split, folder: url, images: images) }
        guard isHDF5(url) else {
            throw .invalidDataset(path: url.path, reason: "neither a folder of .npy files nor an HDF5 file (.h5, .hdf5)")
        }
        return try readHDF5(split, file: url, images: images)
    }

    private static func readNPY(_ split: Split, folder: URL, images readImages: Bool) throws(DatasetError) -> Arrays {
        let imagesURL = folder.appendingPathComponent("\(split.rawValue)_images.npy")
        let labelsURL = folder.appendingPathComponent("\(split.rawValue)_labels.npy")
        let missing = [imagesURL, labelsURL].filter { !FileManager.default.fileExists(atPath: $0.path) }.map(\.lastPathComponent)
        guard missing.isEmpty else {
            throw .missingDataset(name: "arrays", directory: folder.path, missingFiles: missing,
                                  hint: "save them with numpy.save: images uint8 N×H×W×C, labels integers")
        }
        let images: (shape: [Int], values: [UInt8]) = readImages ? try NPY.readBytes(imagesURL) : ([], [])
        let labels = try NPY.readIntegers(labelsURL)
        guard labels.shape.count == 1 else {
            throw .invalidArray(path: labelsURL.path, reason: "labels must have one axis, got shape \(labels.shape)")
        }
        return Arrays(shape: images.shape, pixels: images.values, labels: labels.values,
                      imagesPath: imagesURL.path, labelsPath: labelsURL.path)
    }

    private static func readHDF5(_ split: Split, file url: URL, images readImages: Bool) throws(DatasetError) -> Arrays {
        let file = try open(url)
        let imagesPath = "/\(split.rawValue)/images", labelsPath = "/\(split.rawValue)/labels"
        var images: (shape: [Int], values: [UInt8]) = ([], [])
        do { if readImages { images = try file.read(imagesPath, as: UInt8.self) } } catch {
            throw .invalidDataset(path: "\(url.path):\(imagesPath)", reason: "\(error.description) (images must be uint8 N×H×W×C)")
        }
        let labels = try integers(file, labelsPath, url)
        guard labels.shape.count == 1 else {
            throw .invalidDataset(path: "\(url.path):\(labelsPath)", reason: "labels must have one axis, got shape \(labels.shape)")
        }
        return Arrays(shape: images.shape, pixels: images.values, labels: labels.values,
                      imagesPath: "\(url.path):\(imagesPath)", labelsPath: "\(url.path):\(labelsPath)")
    }

    /// The integer dataset at `path`, of any integer type Minnow's HDF5 layer reads.
    private static func integers(_ file: HDF5File, _ path: String, _ url: URL) throws(DatasetError) -> (shape: [Int], values: [Int]) {
        func attempt<T: HDF5Scalar & BinaryInteger>(_ type: T.Type) throws(HDF5Error) -> (shape: [Int], values: [Int]) {
            let read = try file.read(path, as: T.self)
            return (read.shape, read.values.map { Int(clamping: $0) })
        }
        do { return try attempt(Int64.self) } catch let error {
            guard case .dtypeMismatch = error else { throw .invalidDataset(path: "\(url.path):\(path)", reason: error.description) }
        }
        for type in [Int32.self, UInt8.self, Int8.self, UInt64.self] as [any (HDF5Scalar & BinaryInteger).Type] {
            if let read = try? attempt(type) { return read }
        }
        throw .invalidDataset(path: "\(url.path):\(path)", reason: "labels must be integers (int8, uint8, int32, int64 or uint64)")
    }

    /// Images `N×H×W` or `N×H×W×C` with `N` equal to the labels' count and no extent of zero.
    private static func checkedImageShape(_ arrays: Arrays) throws(DatasetError) -> [Int] {
        let shape = arrays.shape
        guard shape.count == 3 || shape.count == 4 else {
            throw .invalidDataset(path: arrays.imagesPath, reason: "images must be N×H×W or N×H×W×C, got shape \(shape)")
        }
        guard shape.allSatisfy({ $0 > 0 }) else { throw .noImages(path: arrays.imagesPath, shape: shape) }
        guard shape[0] == arrays.labels.count else {
            throw .countMismatch(imagesPath: arrays.imagesPath, images: shape[0], labelsPath: arrays.labelsPath, labels: arrays.labels.count)
        }
        return shape.count == 3 ? [shape[1], shape[2], 1] : Array(shape[1...])
    }

    /// The largest label of either split (labels of a split that is absent count as none).
    private static func largestLabel(_ url: URL) throws(DatasetError) -> Int {
        var largest = 0
        for split in Split.allCases {
            let arrays = try read(split, from: url, images: false)
            if let index = arrays.labels.firstIndex(where: { $0 < 0 }) {
                throw .invalidDataset(path: arrays.labelsPath, reason: "label \(arrays.labels[index]) at index \(index) is negative")
            }
            largest = max(largest, arrays.labels.max() ?? 0)
        }
        return largest
    }

    private static func isHDF5(_ url: URL) -> Bool {
        ["h5", "hdf5"].contains(url.pathExtension.lowercased())
    }

    private static func open(_ url: URL) throws(DatasetError) -> HDF5File {
        do { return try HDF5File.open(url) } catch { throw .unreadable(path: url.path, reason: error.description) }
    }
}
