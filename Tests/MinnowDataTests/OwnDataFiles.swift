import CPNG
import CTurboJPEG
import Foundation
import MinnowHDF5
import MinnowTestSupport
import XCTest

/// Writers of the files a user's own data set is made of: `.npy` arrays as numpy writes them, PNG
/// through libpng's simplified writer, JPEG through libjpeg-turbo's compressor.
enum OwnDataFiles {
    /// A folder `folder` with `train_*.npy`, `test_*.npy` and, when given, `classes.txt`.
    static func npyFolder(_ folder: URL, train: (pixels: [UInt8], labels: [Int]), test: (pixels: [UInt8], labels: [Int]),
                          imageShape: [Int], classes: [String]?) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (split, data) in [("train", train), ("test", test)] {
            try NPYFixture.write(folder.appendingPathComponent("\(split)_images.npy"), descr: "|u1", shape: [data.labels.count] + imageShape, payload: data.pixels)
            try NPYFixture.write(folder.appendingPathComponent("\(split)_labels.npy"), descr: "<i8", shape: [data.labels.count], payload: NPYFixture.int64Payload(data.labels))
        }
        if let classes { try Data(classes.joined(separator: "\n").utf8).write(to: folder.appendingPathComponent("classes.txt")) }
    }

    /// An HDF5 file with `train/images`, `train/labels` (int64), `test/images`, `test/labels`
    /// (int32) and, when given, `classes`.
    static func hdf5(_ url: URL, train: (pixels: [UInt8], labels: [Int]), test: (pixels: [UInt8], labels: [Int]),
                     imageShape: [Int], classes: [String]?) throws {
        let file = try HDF5File.create(at: url)
        try file.write(train.pixels, shape: [train.labels.count] + imageShape, to: "/train/images")
        try file.write(train.labels.map(Int64.init), to: "/train/labels")
        try file.write(test.pixels, shape: [test.labels.count] + imageShape, to: "/test/images")
        try file.write(test.labels.map(Int32.init), to: "/test/labels")
        if let classes { try file.write(string: classes.joined(separator: "\n"), to: "/classes") }
        try file.close()
    }

    /// A PNG of `width`×`height` pixels with `channels` (1 grey, 3 RGB, 4 RGBA) values each.
    static func png(_ url: URL, width: Int, height: Int, channels: Int, pixels: [UInt8]) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        image.width = png_uint_32(width)
        image.height = png_uint_32(height)
        image.format = [1: 0, 3: png_uint_32(PNG_FORMAT_FLAG_COLOR),
                        4: png_uint_32(PNG_FORMAT_FLAG_COLOR) | png_uint_32(PNG_FORMAT_FLAG_ALPHA)][channels]!
        let written = pixels.withUnsafeBytes { png_image_write_to_file(&image, url.path, 0, $0.baseAddress, 0, nil) }
        XCTAssertNotEqual(written, 0, "libpng could not write \(url.path)")
    }

    /// A JPEG (quality 100, no chroma subsampling) of `width`×`height` pixels, grey or RGB.
    static func jpeg(_ url: URL, width: Int, height: Int, channels: Int, pixels: [UInt8]) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let handle = try XCTUnwrap(tjInitCompress())
        defer { tjDestroy(handle) }
        var output: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let format = Int32((channels == 1 ? TJPF_GRAY : TJPF_RGB).rawValue)
        let subsampling = Int32((channels == 1 ? TJSAMP_GRAY : TJSAMP_444).rawValue)
        let status = pixels.withUnsafeBufferPointer {
            tjCompress2(handle, $0.baseAddress, Int32(width), 0, Int32(height), format, &output, &size, subsampling, 100, 0)
        }
        XCTAssertEqual(status, 0, "libjpeg-turbo could not write \(url.path)")
        defer { tjFree(output) }
        try Data(bytes: try XCTUnwrap(output), count: Int(size)).write(to: url)
    }
}
