import CZlib
import Foundation

/// Reads a whole file into memory, inflating it when it is gzip-compressed.
///
/// Compression is detected from the content (the gzip magic 1f 8b), never from the file name.
enum FileBytes {
    /// The largest file (and inflated content) read: far above any data set Minnow reads.
    static let maximumSize = 1 << 32

    /// The bytes of `url`, inflated if the file is gzip.
    static func read(_ url: URL) throws(DatasetError) -> [UInt8] {
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw .missingFile(path: path) }
        guard !isDirectory.boolValue else { throw .unreadable(path: path, reason: "a directory, not a file") }
        let raw = try readRaw(path)
        guard raw.count >= 2, raw[0] == 0x1f, raw[1] == 0x8b else { return raw }
        return try inflate(path, compressedBytes: raw)
    }

    private static func readRaw(_ path: String) throws(DatasetError) -> [UInt8] {
        guard let file = fopen(path, "rb") else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { fclose(file) }
        guard fseeko(file, 0, SEEK_END) == 0 else {
            throw .unreadable(path: path, reason: "not a seekable regular file")
        }
        let size = Int(ftello(file))
        guard size >= 0, size <= maximumSize else {
            throw .unreadable(path: path, reason: "\(size) bytes: not a regular file of at most \(maximumSize >> 30) GiB")
        }
        rewind(file)
        var failure: String?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            count = size == 0 ? 0 : fread(buffer.baseAddress!, 1, size, file)
            if count != size { failure = "read \(count) of \(size) bytes" }
        }
        if let failure { throw .unreadable(path: path, reason: failure) }
        return bytes
    }

    /// Inflates with zlib's gz* interface, which also checks the CRC and length trailer.
    private static func inflate(_ path: String, compressedBytes: [UInt8]) throws(DatasetError) -> [UInt8] {
        guard let file = gzopen(path, "rb") else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { gzclose(file) }
        gzbuffer(file, 1 << 18)
        // The trailer's last 4 bytes hold the inflated size modulo 2^32: a good first capacity,
        // capped by deflate's largest ratio (1032:1) in case the trailer is damaged.
        let n = compressedBytes.count
        let trailerSize = compressedBytes.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
        let sizeHint = min(trailerSize, 1032 * n)
        var output = [UInt8](repeating: 0, count: max(sizeHint, 4 * n) + 1)
        var filled = 0
        while true {
            if filled == output.count {
                guard output.count < maximumSize else { throw .unreadable(path: path, reason: "inflates to more than \(maximumSize >> 30) GiB") }
                output.append(contentsOf: repeatElement(0, count: output.count))
            }
            let request = UInt32(min(output.count - filled, 1 << 30))
            let got = output.withUnsafeMutableBytes { gzread(file, $0.baseAddress! + filled, request) }
            if got < 0 { throw corruption(file, path) }
            if got == 0 { break }
            filled += Int(got)
        }
        var status: Int32 = 0
        gzerror(file, &status)
        // A stream cut short ends quietly with Z_BUF_ERROR ("unexpected end of file").
        if status != Z_OK { throw corruption(file, path) }
        output.removeSubrange(filled...)
        return output
    }

    private static func corruption(_ file: gzFile, _ path: String) -> DatasetError {
        var status: Int32 = 0
        var message = gzerror(file, &status).map { String(cString: $0) } ?? ""
        // zlib prefixes the message with the path, which the error names already.
        if message.hasPrefix(path + ": ") { message.removeFirst(path.count + 2) }
        return .corruptGzip(path: path, reason: message.isEmpty ? "zlib status \(status)" : message)
    }
}
