import Foundation
import MinnowTensor

/// NumPy `.npy` files, to exchange arrays with Python (`numpy.load`, `numpy.save`): `minnow
/// predict` reads its images and writes its logits in this format, and data sets given as arrays
/// are `uint8` images with integer labels.
///
/// Reads format versions 1 to 3 in C order: little-endian float32 (`<f4`) or float64 (`<f8`,
/// converted) as tensors, `uint8` as bytes, and integers of any width as labels; writes version
/// 1.0 float32. Other element types are refused with the reason, never guessed.
public enum NPY {
    fileprivate static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// The array in the `.npy` file at `url`, as a float32 tensor of its shape.
    public static func read(_ url: URL) throws(DatasetError) -> Tensor {
        let array = try NPYArray(url)
        guard array.descr == "<f4" || array.descr == "<f8" else {
            throw array.failure("element type '\(array.descr)'; float32 ('<f4') or float64 ('<f8') is needed")
        }
        return Tensor(shape: array.shape) { out in
            for i in 0..<array.count { out[i] = Float(array.float(at: i)) }
        }
    }

    /// The array of unsigned bytes (`uint8`, descr `|u1`) in the `.npy` file at `url`: images.
    public static func readBytes(_ url: URL) throws(DatasetError) -> (shape: [Int], values: [UInt8]) {
        let array = try NPYArray(url)
        guard array.descr == "|u1" else {
            throw array.failure("element type '\(array.descr)'; uint8 ('|u1') is needed (numpy: images.astype(numpy.uint8))")
        }
        return (array.shape, Array(array.bytes[array.dataStart...]))
    }

    /// The array of integers (any signed or unsigned width, little-endian) in the `.npy` file at
    /// `url`: labels.
    public static func readIntegers(_ url: URL) throws(DatasetError) -> (shape: [Int], values: [Int]) {
        let array = try NPYArray(url)
        guard NPYArray.integerTypes.contains(array.descr) else {
            throw array.failure("element type '\(array.descr)'; an integer type (int8 to int64, uint8 to uint64) is needed")
        }
        var values = [Int]()
        values.reserveCapacity(array.count)
        for i in 0..<array.count {
            guard let value = array.integer(at: i) else {
                throw array.failure("value at index \(i) does not fit a 64-bit signed integer")
            }
            values.append(value)
        }
        return (array.shape, values)
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
    fileprivate static func value(of key: String, in header: String) -> String? {
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

/// A parsed `.npy` file: its element type, shape and where its data start, all checked against
/// the file's size.
struct NPYArray {
    static let integerTypes: Set<String> = ["|u1", "|i1", "<u2", "<i2", "<u4", "<i4", "<u8", "<i8"]

    let path: String
    let bytes: [UInt8]
    let descr: String
    let shape: [Int]
    let count: Int
    let elementSize: Int
    let dataStart: Int

    init(_ url: URL) throws(DatasetError) {
        path = url.path
        bytes = try FileBytes.read(url)
        func fail(_ reason: String) -> DatasetError { .invalidArray(path: url.path, reason: reason) }
        guard bytes.count >= 10, Array(bytes[0..<6]) == NPY.magic else { throw fail("no .npy signature (\\x93NUMPY)") }
        let major = bytes[6]
        guard (1...3).contains(major) else { throw fail("format version \(major) (this Minnow reads 1 to 3)") }
        let lengthBytes = major == 1 ? 2 : 4
        guard bytes.count >= 8 + lengthBytes else { throw fail("truncated header") }
        let headerLength = bytes[8..<(8 + lengthBytes)].reversed().reduce(0) { $0 << 8 | Int($1) }
        dataStart = 8 + lengthBytes + headerLength
        guard bytes.count >= dataStart else { throw fail("truncated header: it needs \(dataStart) bytes, the file has \(bytes.count)") }
        let header = String(decoding: bytes[(8 + lengthBytes)..<dataStart], as: UTF8.self)
        guard let descr = NPY.value(of: "descr", in: header)?.trimmingCharacters(in: CharacterSet(charactersIn: "'\"")),
              let order = NPY.value(of: "fortran_order", in: header), let shapeText = NPY.value(of: "shape", in: header) else {
            throw fail("header without descr, fortran_order and shape: \(header)")
        }
        guard order == "False" else { throw fail("Fortran-ordered array (save a C-ordered one: numpy.ascontiguousarray)") }
        let extents = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "()")).split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { Int($0) }
        guard extents.allSatisfy({ ($0 ?? -1) >= 0 }) else { throw fail("bad shape \(shapeText)") }
        shape = extents.map { $0! }
        self.descr = descr == "<u1" || descr == "u1" ? "|u1" : descr == "<i1" || descr == "i1" ? "|i1" : descr
        switch self.descr {
        case "<f4", "<u4", "<i4": elementSize = 4
        case "<f8", "<u8", "<i8": elementSize = 8
        case "<u2", "<i2": elementSize = 2
        case "|u1", "|i1": elementSize = 1
        default: throw fail("element type '\(descr)' (Minnow reads little-endian floats and integers)")
        }
        let dataBytes = bytes.count - dataStart
        // A damaged header's extents may overflow when multiplied: that is a mismatch too.
        let count = shape.reduce(1 as Int?) { product, extent in
            product.flatMap { $0.multipliedReportingOverflow(by: extent) }.flatMap { $0.overflow ? nil : $0.partialValue }
        }
        guard let count, count <= dataBytes, count * elementSize == dataBytes else {
            throw fail("shape \(shape) of '\(descr)' does not match the \(dataBytes) data bytes of the file")
        }
        self.count = count
    }

    func failure(_ reason: String) -> DatasetError { .invalidArray(path: path, reason: reason) }

    /// Element `i` of a float array.
    func float(at i: Int) -> Double {
        bytes.withUnsafeBytes { raw in
            elementSize == 4
                ? Double(Float(bitPattern: raw.loadUnaligned(fromByteOffset: dataStart + 4 * i, as: UInt32.self).littleEndian))
                : Double(bitPattern: raw.loadUnaligned(fromByteOffset: dataStart + 8 * i, as: UInt64.self).littleEndian)
        }
    }

    /// Element `i` of an integer array; nil for a uint64 above `Int.max`.
    func integer(at i: Int) -> Int? {
        bytes.withUnsafeBytes { raw in
            let offset = dataStart + elementSize * i
            switch descr {
            case "|u1": return Int(raw[offset])
            case "|i1": return Int(Int8(bitPattern: raw[offset]))
            case "<u2": return Int(raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self).littleEndian)
            case "<i2": return Int(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int16.self)))
            case "<u4": return Int(raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian)
            case "<i4": return Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
            case "<u8": return Int(exactly: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self).littleEndian)
            default: return Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: Int64.self)))
            }
        }
    }
}
