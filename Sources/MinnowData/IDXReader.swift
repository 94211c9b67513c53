import Foundation

/// An n-dimensional array of unsigned bytes, as stored in an IDX file, in row-major order.
public struct IDXArray: Sendable, Equatable {
    /// The extent of each dimension (for MNIST images: count, rows, columns).
    public let shape: [Int]
    /// The elements in row-major order; `bytes.count` is the product of `shape`.
    public let bytes: [UInt8]
}

/// Reads IDX files, the format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/).
///
/// Layout: the magic `00 00 <type> <rank>`, then `rank` big-endian UInt32 extents, then the
/// elements in row-major order. Only type 0x08 (unsigned byte) is supported, which is what
/// these data sets use. Files may be raw or gzip-compressed (detected from the content).
/// Every malformed file is reported as a `DatasetError` naming the file and the problem.
public enum IDXReader {
    /// The IDX type code of unsigned bytes.
    public static let unsignedByteType: UInt8 = 0x08

    /// Reads and validates `url`; when `rank` is given, the file must have that many dimensions.
    public static func read(_ url: URL, rank: Int? = nil) throws(DatasetError) -> IDXArray {
        try decode(FileBytes.read(url), path: url.path, rank: rank)
    }

    /// Decodes the (already inflated) contents of an IDX file; `path` names it in errors.
    public static func decode(_ data: [UInt8], path: String, rank: Int? = nil) throws(DatasetError) -> IDXArray {
        if data.count >= 2 && (data[0] != 0 || data[1] != 0) {
            throw .badMagic(path: path, found: Array(data.prefix(4)))
        }
        guard data.count >= 4 else { throw .truncatedHeader(path: path, headerBytes: 4, fileBytes: data.count) }
        guard data[2] == unsignedByteType else { throw .unsupportedDataType(path: path, code: data[2]) }
        let fileRank = Int(data[3])
        if let rank, rank != fileRank { throw .rankMismatch(path: path, expected: rank, found: fileRank) }
        let headerBytes = 4 + 4 * fileRank
        guard data.count >= headerBytes else {
            throw .truncatedHeader(path: path, headerBytes: headerBytes, fileBytes: data.count)
        }
        let shape = (0..<fileRank).map { axis in
            data[(4 + 4 * axis)..<(8 + 4 * axis)].reduce(0) { $0 << 8 | Int($1) }
        }
        // Saturate instead of overflowing: such a header is reported as truncated.
        let expected = shape.reduce(1) { product, extent in
            let (result, overflow) = product.multipliedReportingOverflow(by: extent)
            return overflow ? Int.max : result
        }
        let actual = data.count - headerBytes
        if actual < expected {
            throw .truncatedPayload(path: path, shape: shape, expectedBytes: expected, actualBytes: actual)
        }
        if actual > expected {
            throw .trailingBytes(path: path, shape: shape, expectedBytes: expected, actualBytes: actual)
        }
        return IDXArray(shape: shape, bytes: Array(data[headerBytes...]))
    }
}
