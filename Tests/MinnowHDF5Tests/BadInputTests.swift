import Foundation
import MinnowCheckpoint
import MinnowHDF5
import MinnowTensor
import XCTest

/// Files that are not valid HDF5 give a `HDF5Error`, never a crash or HDF5 output on stderr.
final class BadInputTests: HDF5TestCase {
    private let filter: Tensor = {
        var generator = SeededGenerator(seed: 1)
        return Tensor.randomNormal([3, 3, 4, 8], generator: &generator)
    }()
    private let bias = Tensor.arange(0, 8)
    private let config = "{\"architecture\": \"cnn\"}"

    /// A small valid file with a few datasets; returns its bytes.
    private func validFileBytes() throws -> Data {
        let url = file("valid.h5")
        do {
            let writer = try HDF5File.create(at: url)
            try writer.setAttribute("format_version", Int64(1))
            try writer.write(filter, to: "/model/conv/filter")
            try writer.write(bias, to: "/model/conv/bias")
            try writer.write(string: config, to: "/config")
        }
        return try Data(contentsOf: url)
    }

    /// Opens `url` and reads everything in it: the first error, or nil when all reads succeed.
    /// Tensors that read without error must hold exactly what was written.
    private func readEverything(_ url: URL) -> HDF5Error? {
        do {
            let reader = try HDF5File.open(url)
            _ = try reader.attribute("format_version", as: Int64.self)
            let loadedFilter = try reader.readTensor("/model/conv/filter")
            let loadedBias = try reader.readTensor("/model/conv/bias")
            XCTAssertEqual(loadedFilter.scalars.map(\.bitPattern), filter.scalars.map(\.bitPattern))
            XCTAssertEqual(loadedBias.scalars, bias.scalars)
            _ = try reader.members(of: "/model/conv")
            _ = try reader.readString("/config")
            return nil
        } catch {
            return error
        }
    }

    func testMissingFile() {
        let url = file("missing.h5")
        assertThrows(.exactly(.fileNotFound(file: url.path))) { try HDF5File.open(url) }
    }

    func testEmptyFile() throws {
        let url = file("empty.h5")
        try Data().write(to: url)
        assertThrows(.exactly(.notHDF5(file: url.path))) { try HDF5File.open(url) }
    }

    func testTextFile() throws {
        let url = file("notes.h5")
        try Data(String(repeating: "epoch 1: loss 0.42\n", count: 100).utf8).write(to: url)
        assertThrows(.exactly(.notHDF5(file: url.path))) { try HDF5File.open(url) }
    }

    func testDirectory() {
        assertThrows(.exactly(.notHDF5(file: folder.path))) { try HDF5File.open(folder) }
    }

    func testTruncatedFilesAreReportedAsCorrupt() throws {
        let bytes = try validFileBytes()
        let url = file("truncated.h5")
        for length in [bytes.count - 1, bytes.count - 100, bytes.count / 2, 2100, 800, 100] where length < bytes.count {
            try bytes.prefix(length).write(to: url)
            let error = readEverything(url)
            XCTAssertNotNil(error, "truncated to \(length) of \(bytes.count) bytes, yet read without error")
            if case .corrupt(let name, let detail)? = error {
                XCTAssertEqual(name, url.path)
                XCTAssertTrue(detail.contains("truncated"), "length \(length): \(detail)")
            } else {
                XCTFail("length \(length): expected .corrupt, got \(String(describing: error))")
            }
        }
        // Shorter than the signature: not recognisably HDF5 at all.
        try bytes.prefix(4).write(to: url)
        XCTAssertEqual(readEverything(url), .notHDF5(file: url.path))
    }

    func testSignatureFollowedByGarbage() throws {
        let bytes = try validFileBytes()
        var generator = SeededGenerator(seed: 3)
        var damaged = bytes.prefix(8)
        damaged.append(contentsOf: (8..<bytes.count).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
        let url = file("garbage.h5")
        try damaged.write(to: url)
        XCTAssertNotNil(readEverything(url))
    }

    /// Random damage anywhere: each read either fails with an error or returns the tensors
    /// unchanged (metadata and tensor data carry checksums); never a crash.
    func testDamagedBytesNeverCrashOrChangeTensors() throws {
        let bytes = try validFileBytes()
        let url = file("damaged.h5")
        var generator = SeededGenerator(seed: 11)
        var failures = 0
        for _ in 0..<400 {
            var damaged = bytes
            let start = Int(generator.next() % UInt64(bytes.count - 8))
            for index in start..<(start + 1 + Int(generator.next() % 8)) {
                damaged[index] = UInt8(truncatingIfNeeded: generator.next())
            }
            try damaged.write(to: url)
            if readEverything(url) != nil { failures += 1 }
        }
        XCTAssertGreaterThan(failures, 200, "most damage should be detected")
    }
}
