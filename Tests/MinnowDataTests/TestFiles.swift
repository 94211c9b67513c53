import CZlib
import Foundation
import MinnowData
import XCTest

/// A temporary directory for synthetic data set files, removed when the test ends.
final class TestDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("minnow-data-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes `bytes` to `name`, gzip-compressed with zlib when `gzip` is true.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8], gzip: Bool = false) throws -> URL {
        let file = url.appendingPathComponent(name)
        if gzip {
            let handle = try XCTUnwrap(gzopen(file.path, "wb"))
            let written = bytes.withUnsafeBytes { gzwrite(handle, $0.baseAddress, UInt32($0.count)) }
            XCTAssertEqual(Int(written), bytes.count)
            XCTAssertEqual(gzclose(handle), Z_OK)
        } else {
            try Data(bytes).write(to: file)
        }
        return file
    }

    /// The raw bytes of `name`.
    func read(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: url.appendingPathComponent(name)))
    }
}

/// An IDX file of unsigned bytes: magic 00 00 08 rank, big-endian extents, then `payload`.
func idxBytes(shape: [Int], payload: [UInt8], typeCode: UInt8 = 0x08) -> [UInt8] {
    var bytes: [UInt8] = [0, 0, typeCode, UInt8(shape.count)]
    for extent in shape {
        bytes += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: extent >> $0) }
    }
    return bytes + payload
}

/// `count` bytes of a deterministic pattern.
func patternBytes(_ count: Int, seed: Int = 7) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed &* 17 &+ ($0 >> 3)) }
}

/// The `DatasetError` that `body` throws; fails the test when it throws nothing or another error.
func datasetError<T>(file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> T) -> DatasetError? {
    do {
        _ = try body()
        XCTFail("expected a DatasetError, nothing was thrown", file: file, line: line)
    } catch let error as DatasetError {
        return error
    } catch {
        XCTFail("expected a DatasetError, got \(error)", file: file, line: line)
    }
    return nil
}
