import Foundation

/// Why a data set file could not be read. Every message names the file and the problem.
public enum DatasetError: Error, Equatable, Sendable {
    /// The file does not exist.
    case missingFile(path: String)
    /// A whole data set is absent from `directory`; `hint` says how to install it.
    case missingDataset(name: String, directory: String, missingFiles: [String], hint: String)
    /// The file exists but could not be opened or read.
    case unreadable(path: String, reason: String)
    /// The file starts with 1f 8b but is not a valid gzip stream (corrupt or cut short).
    case corruptGzip(path: String, reason: String)
    /// An IDX file whose first two bytes are not zero.
    case badMagic(path: String, found: [UInt8])
    /// An IDX element type other than 0x08 (unsigned byte).
    case unsupportedDataType(path: String, code: UInt8)
    /// An IDX file with a different number of dimensions than the caller expects.
    case rankMismatch(path: String, expected: Int, found: Int)
    /// Fewer bytes than the header needs.
    case truncatedHeader(path: String, headerBytes: Int, fileBytes: Int)
    /// Fewer payload bytes than the dimensions say.
    case truncatedPayload(path: String, shape: [Int], expectedBytes: Int, actualBytes: Int)
    /// More payload bytes than the dimensions say.
    case trailingBytes(path: String, shape: [Int], expectedBytes: Int, actualBytes: Int)
    /// A file of fixed-size records whose size is not a multiple of the record size.
    case partialRecord(path: String, fileBytes: Int, recordBytes: Int)
    /// A label outside `0..<classCount`; `index` is the sample's position in the file.
    case labelOutOfRange(path: String, index: Int, label: Int, classCount: Int)
    /// An image file whose header gives no images, or images with no pixels (an extent of 0).
    case noImages(path: String, shape: [Int])
    /// An image file and a label file that disagree on the number of samples.
    case countMismatch(imagesPath: String, images: Int, labelsPath: String, labels: Int)
    /// A `.npy` array file that cannot be read as the array it should hold.
    case invalidArray(path: String, reason: String)
    /// A data set given as arrays or as an image folder whose content breaks a rule (a missing
    /// split, images of another size, a class with no images, labels that do not fit).
    case invalidDataset(path: String, reason: String)
    /// An image file that libpng or libjpeg-turbo cannot decode.
    case undecodableImage(path: String, reason: String)
    /// `--data-dir` given with a data set that names its own location (`arrays:`, `images:`).
    case directoryNotApplicable(dataset: String)
}

extension DatasetError: CustomStringConvertible, LocalizedError {
    public var description: String {
        switch self {
        case .missingFile(let path):
            return "\(path): no such file"
        case .missingDataset(let name, let directory, let missing, let hint):
            return "\(name) not found in \(directory) (missing \(missing.joined(separator: ", "))): \(hint)"
        case .unreadable(let path, let reason):
            return "\(path): cannot read: \(reason)"
        case .corruptGzip(let path, let reason):
            return "\(path): corrupt gzip data: \(reason)"
        case .badMagic(let path, let found):
            let hex = found.map { String(format: "%02x", $0) }.joined(separator: " ")
            return "\(path): bad magic: expected an IDX header 00 00 <type> <rank>, found \(hex)"
        case .unsupportedDataType(let path, let code):
            return "\(path): unsupported IDX data type 0x\(String(format: "%02x", code)) (only 0x08, unsigned byte, is supported)"
        case .rankMismatch(let path, let expected, let found):
            return "\(path): expected \(expected) dimensions, header has \(found)"
        case .truncatedHeader(let path, let headerBytes, let fileBytes):
            return "\(path): truncated: the header needs \(headerBytes) bytes, file has \(fileBytes)"
        case .truncatedPayload(let path, let shape, let expected, let actual):
            return "\(path): truncated: header says \(Self.dims(shape)) = \(expected) bytes, file has \(actual) after the header"
        case .trailingBytes(let path, let shape, let expected, let actual):
            return "\(path): trailing garbage: header says \(Self.dims(shape)) = \(expected) bytes, file has \(actual) after the header"
        case .partialRecord(let path, let fileBytes, let recordBytes):
            return "\(path): truncated: \(fileBytes) bytes is not a whole number of \(recordBytes)-byte records"
        case .labelOutOfRange(let path, let index, let label, let classCount):
            return "\(path): label \(label) at index \(index) is out of range 0..<\(classCount)"
        case .noImages(let path, let shape):
            return "\(path): header says \(Self.dims(shape)): no images, or images of no pixels"
        case .countMismatch(let imagesPath, let images, let labelsPath, let labels):
            return "\(imagesPath) has \(images) images but \(labelsPath) has \(labels) labels"
        case .invalidArray(let path, let reason):
            return "\(path): not a readable .npy array: \(reason)"
        case .invalidDataset(let path, let reason):
            return "\(path): \(reason)"
        case .undecodableImage(let path, let reason):
            return "\(path): cannot decode the image: \(reason)"
        case .directoryNotApplicable(let dataset):
            return "--data-dir does not apply to \(dataset), which names its own location"
        }
    }

    public var errorDescription: String? { description }

    private static func dims(_ shape: [Int]) -> String {
        shape.map(String.init).joined(separator: "x")
    }
}
