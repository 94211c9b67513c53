import Foundation
import MinnowData
import XCTest

final class IDXReaderTests: XCTestCase {
    func testRawAndGzipRoundTrip() throws {
        let directory = try TestDirectory()
        let payload = patternBytes(5 * 4 * 3)
        let bytes = idxBytes(shape: [5, 4, 3], payload: payload)
        // The gzip file deliberately has no .gz suffix and the raw one has: content decides.
        let raw = try directory.write("images.gz", bytes)
        let gzip = try directory.write("images-idx3-ubyte", bytes, gzip: true)
        XCTAssertEqual(try directory.read("images-idx3-ubyte").prefix(2), [0x1f, 0x8b])
        for url in [raw, gzip] {
            let array = try IDXReader.read(url, rank: 3)
            XCTAssertEqual(array.shape, [5, 4, 3])
            XCTAssertEqual(array.bytes, payload)
        }
    }

    func testLargeExtentsAndEmptyArrays() throws {
        let directory = try TestDirectory()
        let wide = try directory.write("wide", idxBytes(shape: [300], payload: patternBytes(300)), gzip: true)
        XCTAssertEqual(try IDXReader.read(wide).shape, [300])
        let empty = try directory.write("empty", idxBytes(shape: [0, 28, 28], payload: []))
        let array = try IDXReader.read(empty, rank: 3)
        XCTAssertEqual(array.shape, [0, 28, 28])
        XCTAssertEqual(array.bytes, [])
    }

    func testMissingFile() throws {
        let directory = try TestDirectory()
        let url = directory.url.appendingPathComponent("nope-idx1-ubyte")
        let error = datasetError { try IDXReader.read(url) }
        XCTAssertEqual(error, .missingFile(path: url.path))
        XCTAssertEqual(error?.description, "\(url.path): no such file")
    }

    func testTruncatedPayload() throws {
        let bytes = idxBytes(shape: [3, 2, 2], payload: patternBytes(10))
        let error = datasetError { try IDXReader.decode(bytes, path: "t-idx3-ubyte", rank: 3) }
        XCTAssertEqual(error, .truncatedPayload(path: "t-idx3-ubyte", shape: [3, 2, 2], expectedBytes: 12, actualBytes: 10))
        XCTAssertEqual(error?.description,
                       "t-idx3-ubyte: truncated: header says 3x2x2 = 12 bytes, file has 10 after the header")
    }

    func testTruncatedHeader() throws {
        let bytes = Array(idxBytes(shape: [3, 2, 2], payload: []).prefix(9))
        XCTAssertEqual(datasetError { try IDXReader.decode(bytes, path: "h", rank: 3) },
                       .truncatedHeader(path: "h", headerBytes: 16, fileBytes: 9))
        XCTAssertEqual(datasetError { try IDXReader.decode([0, 0], path: "h") },
                       .truncatedHeader(path: "h", headerBytes: 4, fileBytes: 2))
    }

    func testTrailingGarbage() throws {
        let bytes = idxBytes(shape: [4], payload: patternBytes(6))
        let error = datasetError { try IDXReader.decode(bytes, path: "labels", rank: 1) }
        XCTAssertEqual(error, .trailingBytes(path: "labels", shape: [4], expectedBytes: 4, actualBytes: 6))
        XCTAssertTrue(error?.description.contains("trailing garbage") == true)
    }

    func testBadMagic() throws {
        let bytes = Array("P5\n28 28\n255\n".utf8)
        let error = datasetError { try IDXReader.decode(bytes, path: "image.pgm") }
        XCTAssertEqual(error, .badMagic(path: "image.pgm", found: [0x50, 0x35, 0x0a, 0x32]))
        XCTAssertEqual(error?.description,
                       "image.pgm: bad magic: expected an IDX header 00 00 <type> <rank>, found 50 35 0a 32")
    }

    func testUnsupportedDataType() throws {
        let floats = idxBytes(shape: [2], payload: patternBytes(8), typeCode: 0x0D)
        let error = datasetError { try IDXReader.decode(floats, path: "f") }
        XCTAssertEqual(error, .unsupportedDataType(path: "f", code: 0x0D))
        XCTAssertTrue(error?.description.contains("0x0d") == true)
    }

    func testRankMismatch() throws {
        let bytes = idxBytes(shape: [2, 3], payload: patternBytes(6))
        let error = datasetError { try IDXReader.decode(bytes, path: "r", rank: 3) }
        XCTAssertEqual(error, .rankMismatch(path: "r", expected: 3, found: 2))
        XCTAssertEqual(error?.description, "r: expected 3 dimensions, header has 2")
    }

    func testCorruptGzip() throws {
        let directory = try TestDirectory()
        try directory.write("good.gz", idxBytes(shape: [64, 64], payload: patternBytes(64 * 64)), gzip: true)
        var damaged = try directory.read("good.gz")
        for i in (damaged.count / 2)..<(damaged.count / 2 + 8) { damaged[i] ^= 0x5a }
        let corrupt = try directory.write("corrupt.gz", damaged)
        let cut = try directory.write("cut.gz", Array(damaged.prefix(damaged.count / 2)))
        for url in [corrupt, cut] {
            let error = datasetError { try IDXReader.read(url) }
            guard case .corruptGzip(let path, let reason)? = error else {
                return XCTFail("\(url.lastPathComponent): expected corruptGzip, got \(String(describing: error))")
            }
            XCTAssertEqual(path, url.path)
            XCTAssertFalse(reason.isEmpty)
            XCTAssertFalse(reason.contains(url.path), "the path is named once: \(reason)")
            XCTAssertTrue(error!.description.hasPrefix("\(url.path): corrupt gzip data: "))
        }
    }

    func testErrorsAreLocalized() {
        let error: any Error = DatasetError.missingFile(path: "/x")
        XCTAssertEqual(error.localizedDescription, "/x: no such file")
    }
}
