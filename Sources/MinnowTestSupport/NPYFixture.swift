import Foundation

/// `.npy` files as `numpy.save` writes them (format 1.0), of any element type, for tests of the
/// readers of users' arrays.
public enum NPYFixture {
    /// Writes `payload` (little-endian elements of `descr`, e.g. `|u1`, `<i8`) as an array of `shape`.
    public static func write(_ url: URL, descr: String, shape: [Int], payload: [UInt8]) throws {
        let extents = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(extents)), }"
        header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
        let prefix: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
        try Data(prefix + Array(header.utf8) + payload).write(to: url)
    }

    /// `labels` as the payload of an int64 (`<i8`) array.
    public static func int64Payload(_ labels: [Int]) -> [UInt8] {
        labels.flatMap { label in withUnsafeBytes(of: Int64(label).littleEndian) { Array($0) } }
    }
}
