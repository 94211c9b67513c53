import Foundation
import MinnowCheckpoint
import MinnowHDF5
import MinnowTensor
import MinnowTestSupport
import XCTest

final class RoundTripTests: HDF5TestCase {
    /// Values whose bits a lossy path would change: signed zero, infinities, NaN payloads, subnormals.
    private let awkwardFloats: [Float] = [
        0, -0.0, 1, -1, .pi, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
        Float(bitPattern: 0x7FC0_1234), Float(bitPattern: 0xFFA0_0001), Float(bitPattern: 0x0001_1170), -Float(bitPattern: 0x0023_6434),
    ]

    private func bits(_ tensor: Tensor) -> [UInt32] { tensor.scalars.map(\.bitPattern) }

    func testTensorsOfSeveralRanksAreBitIdentical() throws {
        var generator = SeededGenerator(seed: 7)
        let tensors: [String: Tensor] = [
            "scalar": Tensor(-0.0),
            "vector": Tensor(shape: [awkwardFloats.count], scalars: awkwardFloats),
            "matrix": Tensor.randomNormal([5, 3], generator: &generator),
            "model/features.0.conv/filter": Tensor.randomNormal([3, 3, 2, 4], generator: &generator),
            "empty": Tensor.zeros([0, 3]),
        ]
        let url = file("tensors.h5")
        let writer = try HDF5File.create(at: url)
        for (path, tensor) in tensors { try writer.write(tensor, to: path) }
        try writer.close()

        let reader = try HDF5File.open(url)
        for (path, tensor) in tensors {
            let loaded = try reader.readTensor(path, expectedShape: tensor.shape)
            XCTAssertEqual(loaded.shape, tensor.shape, path)
            XCTAssertEqual(bits(loaded), bits(tensor), path)
            XCTAssertEqual(try reader.shape(of: path), tensor.shape, path)
        }
    }

    /// int8, uint8 and int32 datasets (quantized weights, zero points, integer biases) round-trip
    /// exactly with their shapes, and are not read as another type.
    func testQuantizedIntegerDatasets() throws {
        let url = file("quantized.h5")
        let weights: [Int8] = (0..<256).map { Int8(truncatingIfNeeded: $0) }
        let codes: [UInt8] = [0, 1, 127, 128, 255, 7]
        let biases: [Int32] = [.min, -1, 0, 1, .max, 123_456]
        do {
            let writer = try HDF5File.create(at: url)
            try writer.write(weights, shape: [4, 4, 4, 4], to: "/quantization/conv/weight_int8")
            try writer.write(codes, shape: [2, 3], to: "/quantization/conv/codes")
            try writer.write(biases, to: "/quantization/conv/bias_int32")
        }
        let reader = try HDF5File.open(url)
        let readWeights = try reader.read("/quantization/conv/weight_int8", as: Int8.self, expectedShape: [4, 4, 4, 4])
        XCTAssertEqual(readWeights.values, weights)
        XCTAssertEqual(try reader.read("/quantization/conv/codes", as: UInt8.self).values, codes)
        XCTAssertEqual(try reader.read("/quantization/conv/bias_int32", as: Int32.self).values, biases)
        XCTAssertThrowsError(try reader.read("/quantization/conv/weight_int8", as: UInt8.self)) { error in
            XCTAssertEqual(error as? HDF5Error, .dtypeMismatch(file: url.path, path: "/quantization/conv/weight_int8",
                                                                    expected: "uint8", found: "int8"))
        }
        XCTAssertThrowsError(try reader.readTensor("/quantization/conv/bias_int32"))
    }

    func testIntegerArraysAndScalarAttributes() throws {
        let url = file("numbers.h5")
        let rngState: [UInt64] = [0, 1, .max, 0x9E37_79B9_7F4A_7C15]
        let counters: [Int64] = [.min, -1, 0, .max, 42, 7]
        do {
            let writer = try HDF5File.create(at: url)
            try writer.write(rngState, to: "/training/rng")
            try writer.write(counters, shape: [2, 3], to: "/training/counters")
            try writer.setAttribute("format_version", Int64(1))
            try writer.setAttribute("seed", UInt64.max, at: "/training")
            try writer.setAttribute("learning_rate", Float(0.1), at: "/training")
            try writer.setAttribute("step", Int64(5), at: "/training/rng")
            try writer.setAttribute("step", Int64(6), at: "/training/rng")
        }
        let reader = try HDF5File.open(url)
        XCTAssertEqual(try reader.read("/training/rng", as: UInt64.self).values, rngState)
        let read = try reader.read("training/counters", as: Int64.self, expectedShape: [2, 3])
        XCTAssertEqual(read.shape, [2, 3])
        XCTAssertEqual(read.values, counters)
        XCTAssertEqual(try reader.attribute("format_version", as: Int64.self), 1)
        XCTAssertEqual(try reader.attribute("seed", at: "/training", as: UInt64.self), .max)
        XCTAssertEqual(try reader.attribute("learning_rate", at: "/training", as: Float.self).bitPattern, Float(0.1).bitPattern)
        XCTAssertEqual(try reader.attribute("step", at: "/training/rng", as: Int64.self), 6, "setting again replaces")
        XCTAssertEqual(try reader.attributeNames(at: "/training"), ["learning_rate", "seed"])
        XCTAssertTrue(reader.hasAttribute("seed", at: "/training"))
        XCTAssertFalse(reader.hasAttribute("seed"))
        XCTAssertFalse(reader.hasAttribute("seed", at: "/nowhere"))
    }

    func testStringsAndJSON() throws {
        struct Config: Codable, Equatable { var architecture: String; var width: Float; var inputShape: [Int] }
        let config = Config(architecture: "mobilenet_v2", width: 0.5, inputShape: [28, 28, 1])
        let json = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        let url = file("strings.h5")
        do {
            let writer = try HDF5File.create(at: url)
            try writer.setAttribute("config", json)
            try writer.write(string: json, to: "/config")
            try writer.write(string: "", to: "/empty")
            try writer.setAttribute("command_line", "minnow train --model student_mbv2 — «ünïcödé» 🐟", at: "/config")
        }
        let reader = try HDF5File.open(url)
        XCTAssertEqual(try reader.stringAttribute("config"), json)
        let decoded = try JSONDecoder().decode(Config.self, from: Data(try reader.readString("config").utf8))
        XCTAssertEqual(decoded, config)
        XCTAssertEqual(try reader.readString("/empty"), "")
        XCTAssertEqual(try reader.stringAttribute("command_line", at: "/config"), "minnow train --model student_mbv2 — «ünïcödé» 🐟")
    }

    func testNestedGroupsListingAndExistence() throws {
        let url = file("groups.h5")
        do {
            let writer = try HDF5File.create(at: url)
            try writer.createGroup("model/features.0.conv")
            try writer.createGroup("/model/features.0.conv")
            try writer.write(Tensor.ones([2]), to: "/model/features.0.bn/scale")
            try writer.write(Tensor.ones([2]), to: "/model/features.0.bn/offset")
            try writer.createGroup("/pruning")
            try writer.write(Tensor.zeros([2]), to: "/model/features.0.bn/scale")
        }
        let reader = try HDF5File.open(url)
        XCTAssertEqual(try reader.members(), ["model", "pruning"])
        XCTAssertEqual(try reader.members(of: "/model"), ["features.0.bn", "features.0.conv"])
        XCTAssertEqual(try reader.members(of: "model/features.0.bn/"), ["offset", "scale"])
        XCTAssertEqual(try reader.members(of: "/pruning"), [])
        XCTAssertEqual(reader.kind(of: "/"), .group)
        XCTAssertEqual(reader.kind(of: "/model/features.0.conv"), .group)
        XCTAssertEqual(reader.kind(of: "/model/features.0.bn/scale"), .dataset)
        XCTAssertNil(reader.kind(of: "/model/features.1.bn/scale"))
        XCTAssertFalse(reader.exists("/model/features.0.bn/scale/deeper"))
        XCTAssertEqual(try reader.readTensor("/model/features.0.bn/scale").scalars, [0, 0], "writing again replaces")
    }

    func testMismatchesAndMissingObjectsAreNamed() throws {
        let url = file("checks.h5")
        do {
            let writer = try HDF5File.create(at: url)
            try writer.write(Tensor.zeros([3, 3, 1, 8]), to: "/model/conv/filter")
            try writer.write([Int64(1), 2], to: "/training/epochs")
            try writer.setAttribute("format_version", Int64(1))
            XCTAssertThrowsError(try writer.write([Float](repeating: 0, count: 5), shape: [2, 3], to: "/bad"))
            assertThrows(.exactly(.wrongKind(file: url.path, path: "/model", expected: "dataset", found: "group"))) {
                try writer.write(Tensor.zeros([1]), to: "/model")
            }
        }
        let reader = try HDF5File.open(url)
        let path = url.path
        assertThrows(.exactly(.shapeMismatch(file: path, path: "/model/conv/filter", expected: [3, 3, 1, 16], found: [3, 3, 1, 8]))) {
            try reader.readTensor("model/conv/filter", expectedShape: [3, 3, 1, 16])
        }
        assertThrows(.exactly(.missingObject(file: path, path: "/model/conv/bias", expected: "dataset"))) {
            try reader.readTensor("/model/conv/bias")
        }
        assertThrows(.exactly(.missingObject(file: path, path: "/model/fc", expected: "group"))) {
            try reader.members(of: "/model/fc")
        }
        assertThrows(.exactly(.wrongKind(file: path, path: "/model/conv", expected: "dataset", found: "group"))) {
            try reader.readTensor("/model/conv")
        }
        assertThrows(.exactly(.dtypeMismatch(file: path, path: "/training/epochs", expected: "float32", found: "int64"))) {
            try reader.readTensor("/training/epochs")
        }
        assertThrows(.exactly(.dtypeMismatch(file: path, path: "/training/epochs", expected: "string", found: "int64"))) {
            try reader.readString("/training/epochs")
        }
        assertThrows(.exactly(.dtypeMismatch(file: path, path: "/ attribute 'format_version'", expected: "uint64", found: "int64"))) {
            try reader.attribute("format_version", as: UInt64.self)
        }
        assertThrows(.exactly(.missingAttribute(file: path, path: "/model", name: "layout"))) {
            try reader.stringAttribute("layout", at: "model")
        }
        assertThrows(.exactly(.hdf5(file: path, path: "/x", operation: "write", detail: "the file is open read-only"))) {
            try reader.write(Tensor.zeros([1]), to: "/x")
        }
        try reader.close()
        try reader.close()
        assertThrows(.exactly(.io(file: path, operation: "use the file", detail: "it has been closed"))) {
            try reader.readTensor("/model/conv/filter")
        }
        XCTAssertEqual(
            HDF5Error.shapeMismatch(file: "run/last.h5", path: "/model/conv/filter", expected: [3, 3, 1, 16], found: [3, 3, 1, 8]).description,
            "run/last.h5: /model/conv/filter: expected shape [3, 3, 1, 16], found [3, 3, 1, 8]")
    }

    /// `h5dump` (Debian's hdf5-tools), an independent reader, sees the layout and the real shapes.
    func testH5dumpReadsTheFile() throws {
        let h5dump = try Requirements.require(Subprocess.which("h5dump"),
                                              "h5dump is not installed (scripts/setup.sh, or apt-get install hdf5-tools)")
        let url = file("dump.h5")
        do {
            let writer = try HDF5File.create(at: url)
            try writer.setAttribute("format_version", Int64(1))
            try writer.write(Tensor.zeros([3, 3, 1, 16]), to: "/model/features.0.conv/filter")
            try writer.setAttribute("layout", "HWIO", at: "/model/features.0.conv/filter")
            try writer.write([UInt64(1), 2, 3, 4], to: "/training/rng")
        }
        let process = Process()
        let pipe = Pipe()
        process.executableURL = h5dump
        process.arguments = ["-H", url.path]
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, output)
        for expected in ["GROUP \"features.0.conv\"", "DATASET \"filter\"", "H5T_IEEE_F32LE", "( 3, 3, 1, 16 )",
                         "ATTRIBUTE \"layout\"", "ATTRIBUTE \"format_version\"", "H5T_STD_U64LE", "( 4 )"] {
            XCTAssertTrue(output.contains(expected), "h5dump output lacks \(expected):\n\(output)")
        }
    }
}
