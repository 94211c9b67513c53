import Foundation
import MinnowData
import MinnowTestSupport
import XCTest

/// A user's own data: arrays (`.npy` folders, HDF5 files) and image folders (PNG, JPEG), read into
/// the same `Dataset` as the built-in sets, and every bad file answered with an error naming it.
final class OwnDataTests: XCTestCase {
    /// `count` images of `shape` with pixels from a fixed formula, and labels cycling over `classes`.
    private func synthetic(_ count: Int, shape: [Int], classes: Int, offset: Int = 0) -> (pixels: [UInt8], labels: [Int]) {
        let bytes = shape.reduce(1, *)
        let pixels = (0..<(count * bytes)).map { UInt8(truncatingIfNeeded: ($0 + offset) * 37 + ($0 / bytes) * 11) }
        return (pixels, (0..<count).map { ($0 + offset) % classes })
    }

    func testArraysFromANumPyFolderKeepPixelsLabelsAndClassNames() throws {
        let directory = try TestDirectory()
        let folder = directory.url.appendingPathComponent("arrays")
        let train = synthetic(12, shape: [5, 4, 3], classes: 3), test = synthetic(6, shape: [5, 4, 3], classes: 3, offset: 1)
        try OwnDataFiles.npyFolder(folder, train: train, test: test, imageShape: [5, 4, 3], classes: ["cat", "dog", "fox"])

        let loaded = try ArrayDataset.load(split: .train, from: folder, name: "mine/train")
        XCTAssertEqual(loaded.pixels, train.pixels)
        XCTAssertEqual(loaded.labels, train.labels)
        XCTAssertEqual(loaded.imageShape, [5, 4, 3])
        XCTAssertEqual(loaded.classCount, 3)
        XCTAssertEqual(try ArrayDataset.load(split: .test, from: folder, name: "mine/test").labels, test.labels)
        XCTAssertEqual(try ArrayDataset.classNames(at: folder), ["cat", "dog", "fox"])
    }

    func testArraysFromAnHDF5FileWithoutClassListCountClassesFromLabels() throws {
        let directory = try TestDirectory()
        let file = directory.url.appendingPathComponent("data.h5")
        let train = synthetic(10, shape: [3, 3], classes: 4), test = synthetic(4, shape: [3, 3], classes: 5, offset: 1)
        try OwnDataFiles.hdf5(file, train: train, test: test, imageShape: [3, 3], classes: nil)

        let loaded = try ArrayDataset.load(split: .train, from: file, name: "h5/train")
        XCTAssertEqual(loaded.imageShape, [3, 3, 1], "N×H×W images have one channel")
        XCTAssertEqual(loaded.pixels, train.pixels)
        XCTAssertEqual(loaded.classCount, 5, "the largest label of either split plus one")
        XCTAssertEqual(try ArrayDataset.load(split: .test, from: file, name: "h5/test").labels, test.labels, "int32 labels")
        XCTAssertNil(try ArrayDataset.classNames(at: file))

        let named = directory.url.appendingPathComponent("named.h5")
        try OwnDataFiles.hdf5(named, train: train, test: test, imageShape: [3, 3], classes: ["a", "b", "c", "d", "e", "f"])
        XCTAssertEqual(try ArrayDataset.load(split: .train, from: named, name: "h5/train").classCount, 6)
    }

    func testBadArraysNameTheirFile() throws {
        let directory = try TestDirectory()
        let folder = directory.url.appendingPathComponent("bad")
        let train = synthetic(6, shape: [2, 2, 1], classes: 3), test = synthetic(3, shape: [2, 2, 1], classes: 3)
        try OwnDataFiles.npyFolder(folder, train: train, test: test, imageShape: [2, 2, 1], classes: ["a", "b"])
        try assertError(ArrayDataset.load(split: .train, from: folder, name: "x"), mentions: ["train_labels.npy", "label 2", "0..<2"])

        try Data("a\nb\nc".utf8).write(to: folder.appendingPathComponent("classes.txt"))
        try NPYFixture.write(folder.appendingPathComponent("train_labels.npy"), descr: "<i8", shape: [5],
                             payload: NPYFixture.int64Payload([0, 1, 2, 0, 1]))
        try assertError(ArrayDataset.load(split: .train, from: folder, name: "x"), mentions: ["train_images.npy", "6 images", "train_labels.npy", "5 labels"])

        try NPYFixture.write(folder.appendingPathComponent("train_images.npy"), descr: "<f4", shape: [1], payload: [0, 0, 0, 0])
        try assertError(ArrayDataset.load(split: .train, from: folder, name: "x"), mentions: ["train_images.npy", "uint8"])

        try FileManager.default.removeItem(at: folder.appendingPathComponent("test_labels.npy"))
        try assertError(ArrayDataset.load(split: .test, from: folder, name: "x"), mentions: ["test_labels.npy", folder.path])

        let text = directory.url.appendingPathComponent("notes.txt")
        try Data("hello".utf8).write(to: text)
        try assertError(ArrayDataset.load(split: .train, from: text, name: "x"), mentions: ["notes.txt", "HDF5"])
    }

    func testImageFolderReadsPNGAndJPEGInClassOrderAndIgnoresOtherFiles() throws {
        let directory = try TestDirectory()
        let root = directory.url
        let grey = (0..<12).map { UInt8($0 * 20) }
        let rgb = (0..<36).map { UInt8(255 - $0 * 7) }
        let rgba = (0..<48).map { UInt8($0 * 5) }
        // Classes "b" and "a": labels follow the sorted names, whatever order they were made in.
        try OwnDataFiles.png(root.appendingPathComponent("train/b/1.png"), width: 4, height: 3, channels: 1, pixels: grey)
        try OwnDataFiles.png(root.appendingPathComponent("train/a/x/2.PNG"), width: 4, height: 3, channels: 3, pixels: rgb)
        try OwnDataFiles.png(root.appendingPathComponent("train/a/3.png"), width: 4, height: 3, channels: 4, pixels: rgba)
        try Data("not an image".utf8).write(to: root.appendingPathComponent("train/a/README.txt"))
        try Data([1, 2, 3]).write(to: root.appendingPathComponent("train/a/.hidden.png"))
        try OwnDataFiles.jpeg(root.appendingPathComponent("test/b/4.jpg"), width: 4, height: 3, channels: 1, pixels: grey)

        let train = try ImageFolder.load(split: .train, root: root, name: "folder/train")
        XCTAssertEqual(try ImageFolder.classNames(root: root), ["a", "b"])
        XCTAssertEqual(train.imageShape, [3, 4, 3], "a colour training image makes every image RGB")
        XCTAssertEqual(train.labels, [0, 0, 1], "a/3.png, a/x/2.PNG, then b/1.png")
        XCTAssertEqual(Array(train.pixels[0..<36]), (0..<12).flatMap { Array(rgba[($0 * 4)..<($0 * 4 + 3)]) }, "alpha dropped, not composited")
        XCTAssertEqual(Array(train.pixels[36..<72]), rgb)
        XCTAssertEqual(Array(train.pixels[72...]), grey.flatMap { [$0, $0, $0] }, "grey repeated into RGB")

        let test = try ImageFolder.load(split: .test, root: root, name: "folder/test")
        XCTAssertEqual(test.labels, [1])
        let expected = grey.flatMap { [$0, $0, $0] }
        XCTAssertLessThanOrEqual(zip(test.pixels, expected).map { abs(Int($0) - Int($1)) }.max()!, 2, "JPEG quality 100 decodes within 2 levels")
    }

    func testGreyImageFoldersHaveOneChannelAndColourTestImagesBecomeGrey() throws {
        let directory = try TestDirectory()
        let root = directory.url
        try OwnDataFiles.png(root.appendingPathComponent("train/only/1.png"), width: 2, height: 2, channels: 1, pixels: [0, 50, 100, 150])
        try OwnDataFiles.png(root.appendingPathComponent("test/only/1.png"), width: 2, height: 2, channels: 3,
                             pixels: [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30])
        XCTAssertEqual(try ImageFolder.load(split: .train, root: root, name: "t").imageShape, [2, 2, 1])
        // Pillow's convert("L"): (19595 R + 38470 G + 7471 B + 2^15) >> 16.
        XCTAssertEqual(try ImageFolder.load(split: .test, root: root, name: "t").pixels, [76, 150, 29, 18])
    }

    func testBadImageFoldersNameTheFileOrFolder() throws {
        let directory = try TestDirectory()
        let root = directory.url
        let pixels = [UInt8](repeating: 9, count: 16)
        try OwnDataFiles.png(root.appendingPathComponent("train/a/1.png"), width: 4, height: 4, channels: 1, pixels: pixels)
        try OwnDataFiles.png(root.appendingPathComponent("train/b/1.png"), width: 4, height: 4, channels: 1, pixels: pixels)
        try OwnDataFiles.png(root.appendingPathComponent("test/a/1.png"), width: 4, height: 4, channels: 1, pixels: pixels)
        XCTAssertEqual(try ImageFolder.load(split: .test, root: root, name: "t").count, 1)

        let wide = root.appendingPathComponent("train/b/2.png")
        try OwnDataFiles.png(wide, width: 2, height: 8, channels: 1, pixels: pixels)
        try assertError(ImageFolder.load(split: .train, root: root, name: "t"), mentions: [wide.path, "2x8", "4x4", "one size"])
        try FileManager.default.removeItem(at: wide)

        let broken = root.appendingPathComponent("train/b/3.png")
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]).write(to: broken)
        try assertError(ImageFolder.load(split: .train, root: root, name: "t"), mentions: [broken.path, "libpng"])
        try Data([0xFF, 0xD8, 0xFF, 0xE0, 1, 2]).write(to: broken)
        try assertError(ImageFolder.load(split: .train, root: root, name: "t"), mentions: [broken.path, "cannot decode"])
        try Data("GIF89a".utf8).write(to: broken)
        try assertError(ImageFolder.load(split: .train, root: root, name: "t"), mentions: [broken.path, "neither a PNG nor a JPEG"])
        try FileManager.default.removeItem(at: broken)

        let empty = root.appendingPathComponent("train/c")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        try assertError(ImageFolder.load(split: .train, root: root, name: "t"), mentions: [empty.path, "empty class"])
        try FileManager.default.removeItem(at: empty)

        let stranger = root.appendingPathComponent("test/z")
        try OwnDataFiles.png(stranger.appendingPathComponent("1.png"), width: 4, height: 4, channels: 1, pixels: pixels)
        try assertError(ImageFolder.load(split: .test, root: root, name: "t"), mentions: [stranger.path, "train/ does not have"])

        try assertError(ImageFolder.load(split: .train, root: root.appendingPathComponent("nowhere"), name: "t"), mentions: ["nowhere", "train/"])
    }

    func testMeasuredNormalizationIsThePerChannelMeanAndPopulationDeviation() {
        // Two pixels of two channels: channel 0 holds 0 and 255, channel 1 holds 51 twice.
        let dataset = Dataset(name: "n", pixels: [0, 51, 255, 51], labels: [0], imageShape: [1, 2, 2], classCount: 1)
        let normalization = Normalization.measured(on: dataset)
        XCTAssertEqual(normalization.mean[0], 0.5, accuracy: 1e-6)
        XCTAssertEqual(normalization.std[0], 0.5, accuracy: 1e-6)
        XCTAssertEqual(normalization.mean[1], 0.2, accuracy: 1e-6)
        XCTAssertEqual(normalization.std[1], 1, "a constant channel is only centred")
    }

    private func assertError<T>(_ expression: @autoclosure () throws -> T, mentions parts: [String],
                                file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertThrowsError(try expression(), file: file, line: line) { error in
            let message = "\(error)"
            for part in parts { XCTAssertTrue(message.contains(part), "\(message) does not mention \(part)", file: file, line: line) }
        }
    }
}
