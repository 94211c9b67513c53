import Foundation
import MinnowData
import XCTest

final class CIFAR10Tests: XCTestCase {
    /// A CIFAR record whose pixel (channel c, row y, column x) is `(c * 100 + y * 3 + x + image) % 256`.
    private func record(label: UInt8, image: Int) -> [UInt8] {
        var bytes = [label]
        for c in 0..<3 {
            for y in 0..<32 {
                for x in 0..<32 { bytes.append(UInt8((c * 100 + y * 3 + x + image) % 256)) }
            }
        }
        return bytes
    }

    func testRoundTripConvertsToNHWC() throws {
        let directory = try TestDirectory()
        let url = try directory.write("data_batch_1.bin", record(label: 3, image: 0) + record(label: 9, image: 1))
        let (pixels, labels) = try CIFAR10Reader.read(url)
        XCTAssertEqual(labels, [3, 9])
        XCTAssertEqual(pixels.count, 2 * 32 * 32 * 3)
        for (image, y, x, c) in [(0, 0, 0, 0), (0, 5, 7, 2), (1, 31, 31, 1), (1, 10, 0, 0)] {
            let nhwc = ((image * 32 + y) * 32 + x) * 3 + c
            XCTAssertEqual(Int(pixels[nhwc]), (c * 100 + y * 3 + x + image) % 256, "image \(image) y \(y) x \(x) c \(c)")
        }
    }

    func testLoadSplitFromDirectory() throws {
        let directory = try TestDirectory()
        for batch in 1...5 {
            // The last file is gzip-compressed: the reader detects it from the content.
            try directory.write("data_batch_\(batch).bin", record(label: UInt8(batch), image: batch), gzip: batch == 5)
        }
        let train = try CIFAR10.load(split: .train, directory: directory.url)
        XCTAssertEqual(train.labels, [1, 2, 3, 4, 5])
        XCTAssertEqual(train.imageShape, [32, 32, 3])
        XCTAssertEqual(train.classCount, 10)

        let error = datasetError { try CIFAR10.load(split: .test, directory: directory.url) }
        XCTAssertEqual(error, .missingDataset(name: "CIFAR-10", directory: directory.url.path,
                                              missingFiles: ["test_batch.bin"], hint: CIFAR10.installHint))
    }

    func testTruncatedFile() throws {
        let bytes = record(label: 1, image: 0) + Array(record(label: 2, image: 1).prefix(100))
        let error = datasetError { try CIFAR10Reader.decode(bytes, path: "test_batch.bin") }
        XCTAssertEqual(error, .partialRecord(path: "test_batch.bin", fileBytes: 3173, recordBytes: 3073))
        XCTAssertEqual(error?.description,
                       "test_batch.bin: truncated: 3173 bytes is not a whole number of 3073-byte records")
    }

    func testLabelOutOfRange() throws {
        let bytes = record(label: 0, image: 0) + record(label: 4, image: 1) + record(label: 10, image: 2)
        let error = datasetError { try CIFAR10Reader.decode(bytes, path: "data_batch_2.bin") }
        XCTAssertEqual(error, .labelOutOfRange(path: "data_batch_2.bin", index: 2, label: 10, classCount: 10))
        XCTAssertEqual(error?.description, "data_batch_2.bin: label 10 at index 2 is out of range 0..<10")
    }
}
