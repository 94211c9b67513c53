import Foundation
import MinnowData
import MinnowTestSupport
import XCTest

final class FashionMNISTTests: XCTestCase {
    /// Writes a Fashion-MNIST-style split of `labels.count` 4x3 images; image i is filled with i.
    @discardableResult
    private func writeSplit(_ prefix: String, labels: [UInt8], imageCount: Int? = nil, gzip: Bool,
                            in directory: TestDirectory) throws -> (images: URL, labels: URL) {
        let count = imageCount ?? labels.count
        let pixels = (0..<count).flatMap { Array(repeating: UInt8($0), count: 12) }
        let suffix = gzip ? ".gz" : ""
        return (try directory.write("\(prefix)-images-idx3-ubyte\(suffix)", idxBytes(shape: [count, 4, 3], payload: pixels), gzip: gzip),
                try directory.write("\(prefix)-labels-idx1-ubyte\(suffix)", idxBytes(shape: [labels.count], payload: labels), gzip: gzip))
    }

    func testLoadsBothSplitsGzipOrRaw() throws {
        let directory = try TestDirectory()
        try writeSplit("train", labels: [0, 9, 3], gzip: true, in: directory)
        try writeSplit("t10k", labels: [5, 5], gzip: false, in: directory)
        let train = try FashionMNIST.load(split: .train, directory: directory.url)
        XCTAssertEqual(train.name, "fashion-mnist/train")
        XCTAssertEqual(train.labels, [0, 9, 3])
        XCTAssertEqual(train.imageShape, [4, 3, 1])
        XCTAssertEqual(Array(train.pixels[12..<24]), Array(repeating: 1, count: 12))
        let test = try FashionMNIST.load(split: .test, directory: directory.url)
        XCTAssertEqual(test.labels, [5, 5])
        XCTAssertEqual(test.classCounts(), [0, 0, 0, 0, 0, 2, 0, 0, 0, 0])
    }

    func testMissingDataSetSaysHowToInstall() throws {
        let directory = try TestDirectory()
        try directory.write("t10k-labels-idx1-ubyte.gz", idxBytes(shape: [0], payload: []), gzip: true)
        let error = datasetError { try FashionMNIST.load(split: .test, directory: directory.url) }
        XCTAssertEqual(error, .missingDataset(name: "Fashion-MNIST", directory: directory.url.path,
                                              missingFiles: ["t10k-images-idx3-ubyte[.gz]"], hint: FashionMNIST.installHint))
        let message = try XCTUnwrap(error?.description)
        XCTAssertTrue(message.contains("apt-get install dataset-fashion-mnist"), message)
        XCTAssertTrue(message.contains("scripts/setup.sh data"), message)
        XCTAssertTrue(message.contains(directory.url.path), message)
    }

    func testEnvironmentVariableOverridesDefaultDirectory() {
        XCTAssertEqual(FashionMNIST.resolvedDirectory(environment: [:]).path, "/usr/share/datasets/fashion-mnist")
        XCTAssertEqual(FashionMNIST.resolvedDirectory(environment: ["MINNOW_FASHION_MNIST_DIR": "/data/fm"]).path, "/data/fm")
        XCTAssertEqual(FashionMNIST.resolvedDirectory(environment: ["MINNOW_FASHION_MNIST_DIR": ""]).path,
                       "/usr/share/datasets/fashion-mnist")
    }

    func testLabelOutOfRangeNamesFileIndexAndLabel() throws {
        let directory = try TestDirectory()
        let (_, labels) = try writeSplit("train", labels: [1, 2, 12, 3], gzip: true, in: directory)
        let error = datasetError { try FashionMNIST.load(split: .train, directory: directory.url) }
        XCTAssertEqual(error, .labelOutOfRange(path: labels.path, index: 2, label: 12, classCount: 10))
        XCTAssertEqual(error?.description, "\(labels.path): label 12 at index 2 is out of range 0..<10")
    }

    func testImageAndLabelCountsMustAgree() throws {
        let directory = try TestDirectory()
        let (images, labels) = try writeSplit("train", labels: [1, 2], imageCount: 3, gzip: false, in: directory)
        XCTAssertEqual(datasetError { try FashionMNIST.load(split: .train, directory: directory.url) },
                       .countMismatch(imagesPath: images.path, images: 3, labelsPath: labels.path, labels: 2))
    }

    func testSubsets() throws {
        let directory = try TestDirectory()
        try writeSplit("train", labels: (0..<20).map { UInt8($0 % 10) }, gzip: true, in: directory)
        let data = try FashionMNIST.load(split: .train, directory: directory.url)
        let first = data.subset(first: 3)
        XCTAssertEqual(first.labels, [0, 1, 2])
        XCTAssertEqual(first.pixels, Array(data.pixels.prefix(36)))
        XCTAssertEqual(data.subset(first: 50).count, 20)

        let random = data.randomSubset(count: 5, seed: 3)
        XCTAssertEqual(random.count, 5)
        XCTAssertEqual(random.labels, data.randomSubset(count: 5, seed: 3).labels)
        // Image i is filled with the byte i, so each image's first byte identifies it.
        let picked = (0..<5).map { Int(random.pixels[$0 * 12]) }
        XCTAssertEqual(Set(picked).count, 5)
        XCTAssertEqual(random.labels, picked.map { $0 % 10 })
        XCTAssertNotEqual(picked, (0..<5).map { Int(data.randomSubset(count: 5, seed: 4).pixels[$0 * 12]) })
    }

    /// The real test split as Debian's dataset-fashion-mnist installs it.
    func testRealFashionMNISTTestSplit() throws {
        let directory = FashionMNIST.defaultDirectory
        try Requirements.require(FileManager.default.fileExists(atPath: directory.path),
                                 "\(directory.path) is missing: \(FashionMNIST.installHint)")
        let test = try FashionMNIST.load(split: .test, directory: directory)
        XCTAssertEqual(test.count, 10_000)
        XCTAssertEqual(test.imageShape, [28, 28, 1])
        XCTAssertEqual(test.pixels.count, 10_000 * 784)
        XCTAssertEqual(test.classCounts(), Array(repeating: 1000, count: 10))
        // The training-set statistics in FashionMNIST.normalization also describe the test split.
        let mean = Double(test.pixels.reduce(0) { $0 + Int($1) }) / Double(test.pixels.count) / 255
        XCTAssertEqual(mean, 0.2860, accuracy: 0.01)
    }

    /// The real 60,000-image training split loads (inflates and validates).
    func testRealFashionMNISTTrainSplit() throws {
        let directory = FashionMNIST.defaultDirectory
        try Requirements.require(FileManager.default.fileExists(atPath: directory.path),
                                 "\(directory.path) is missing: \(FashionMNIST.installHint)")
        let train = try FashionMNIST.load(split: .train, directory: directory)
        XCTAssertEqual(train.count, 60_000)
        XCTAssertEqual(train.classCounts(), Array(repeating: 6000, count: 10))
    }
}
