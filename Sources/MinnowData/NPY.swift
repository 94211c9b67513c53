import Foundation
import MinnowTensor

/// NumPy `.npy` files of float arrays, to exchange tensors with Python (`numpy.load`,
/// `numpy.save`): `minnow predict` reads its images and writes its logits in this format.
///
/// Reads format versions 1 to 3 holding little-endian float32 (`<f4`) or float64 (`<f8`,
/// converted) in C order; writes version 1.0 float32. Other element types are refused with the
/// reason, never guessed.
public enum NPY {
    private static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// The array in the `.npy` file at `url`, as a float32 tensor of its shape.
    public static func read(_ url: URL) throws(DatasetError) -> Tensor {
        let path = url.path
        let bytes = try FileBytes.read(url)
        func fail(_ reason: String) -> DatasetError { .invalidArray(path: path, reason: reason) }
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw fail("no .npy signature (\\x93NUMPY)") }
        let major = bytes[6]
        guard (1...3).contains(major) else { throw fail("format version \(major) (this Minnow reads 1 to 3)") }
        let lengthBytes = major == 1 ? 2 : 4
        guard bytes.count >= 8 + lengthBytes else { throw fail("truncated header") }
        let headerLength = bytes[8..<(8 + lengthBytes)].reversed().reduce(0) { $0 << 8 | Int($1) }
        let dataStart = 8 + lengthBytes + headerLength
        guard bytes.count >= dataStart else { throw fail("truncated header: it needs \(dataStart) bytes, the file has \(bytes.count)") }
        let header = String(decoding: bytes[(8 + lengthBytes)..<dataStart], as: UTF8.self)
        guard let descr = value(of: "descr", in: header)?.trimmingCharacters(in: CharacterSet(charactersIn: "'\"")),
              let order = value(of: "fortran_order", in: header), let shapeText = value(of: "shape", in: header) else {
            throw fail("header without descr, fortran_order and shape: \(header)")
        }
        guard order == "False" else { throw fail("Fortran-ordered array (save a C-ordered one: numpy.ascontiguousarray)") }
        let extents = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "()")).split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { Int($0) }
        guard extents.allSatisfy({ ($0 ?? -1) >= 0 }) else { throw fail("bad shape \(shapeText)") }
        let shape = extents.map { $0! }
        let elementSize: Int
        switch descr {
        case "<f4": elementSize = 4
        case "<f8": elementSize = 8
        default: throw fail("element type '\(descr)'; float32 ('<f4') or float64 ('<f8') is needed")
        }
        let dataBytes = bytes.count - dataStart
        // A damaged header's extents may overflow when multiplied: that is a mismatch too.
        let count = shape.reduce(1 as Int?) { product, extent in
            product.flatMap { $0.multipliedReportingOverflow(by: extent) }.flatMap { $0.overflow ? nil : $0.partialValue }
        }
        guard let count, count <= dataBytes, count * elementSize == dataBytes else {
            throw fail("shape \(shape) of '\(descr)' does not match the \(dataBytes) data bytes of the file")
        }
        return bytes.withUnsafeBytes { raw in
            Tensor(shape: shape) { out in
                for i in 0..<count {
                    out[i] = elementSize == 4
                        ? Float(bitPattern: raw.loadUnaligned(fromByteOffset: dataStart + 4 * i, as: UInt32.self).littleEndian)
                        : Float(Double(bitPattern: raw.loadUnaligned(fromByteOffset: dataStart + 8 * i, as: UInt64.self).littleEndian))
                }
            }
        }
    }

    /// Writes `tensor` as a float32 `.npy` file (format 1.0), atomically.
    public static func write(_ tensor: Tensor, to url: URL) throws {
        let shape = tensor.shape.map(String.init).joined(separator: ", ") + (tensor.rank == 1 ? "," : "")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(shape)), }"
        // The data starts at a multiple of 64 bytes; the header ends with a newline.
        header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
        var data = Data(magic + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        data.append(contentsOf: Array(header.utf8))
        for value in tensor.scalars { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        try data.write(to: url, options: .atomic)
    }

    /// The text after `'key':` in a header dict, up to the next top-level comma.
    private static func value(of key: String, in header: String) -> String? {
        guard let start = header.range(of: "'\(key)':")?.upperBound else { return nil }
        var depth = 0, end = header.endIndex
        for index in header[start...].indices {
            let character = header[index]
            if character == "(" { depth += 1 } else if character == ")" { depth -= 1 }
            if depth == 0, character == "," || character == "}" { end = index; break }
        }
        return header[start..<end].trimmingCharacters(in: .whitespaces)
    }
}
