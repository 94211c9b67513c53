import Foundation
import MinnowCheckpoint
import MinnowModels
import MinnowNN
import MinnowTensor
import MinnowTestSupport
import XCTest

/// h5py reads Minnow checkpoints: Tests/Scripts/read_checkpoint.py opens one and dumps every
/// float tensor, which must be exactly what Minnow wrote. Needs python3 with h5py and numpy
/// (scripts/setup.sh installs them; a skip elsewhere, a failure under CI).
final class PythonInteropTests: XCTestCase {
    private static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    private struct Dump: Decodable {
        struct Tensor: Decodable {
            let shape: [Int]
            let layout: String?
            let values: [Double]
        }
        let attributes: [String: AnyValue]
        let config: ModelConfig
        let training: [String: Int]?
        let tensors: [String: Tensor]
    }

    /// A JSON attribute value (strings and integers here).
    private enum AnyValue: Decodable, Equatable {
        case string(String), integer(Int)
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(Int.self) { self = .integer(value) } else { self = .string(try container.decode(String.self)) }
        }
    }

    func testH5pyReadsEveryTensorAsWritten() throws {
        let python = try Requirements.pythonWithH5py()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("minnow-h5py-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        let config = ModelConfig.preset("student_mbv2")!
        let model = try ModelZoo.build(config)
        var generator = SeededGenerator(seed: 7)
        for (_, buffer) in model.namedBuffers() {
            buffer.value = Tensor.randomUniform(buffer.value.shape, low: 0.5, high: 2, generator: &generator)
        }
        let optimizer = SGD(learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4)
        for (path, parameter) in model.namedParameters() {
            optimizer.slots[path] = ["momentum": Tensor.randomNormal(parameter.shape, generator: &generator)]
        }
        let url = folder.appendingPathComponent("last.h5")
        try ModelCheckpoint.save(model, config: config, to: url, optimizer: optimizer,
                                 training: TrainingState(epoch: 2, step: 938, threads: 2), metricsHistoryJSON: "[]")

        let output = folder.appendingPathComponent("dump.json")
        let script = Self.packageRoot.appendingPathComponent("Tests/Scripts/read_checkpoint.py")
        let result = try Subprocess.run(python, [script.path, url.path, output.path])
        XCTAssertTrue(result.succeeded, result.standardError)
        let dump = try JSONDecoder().decode(Dump.self, from: Data(contentsOf: output))

        XCTAssertEqual(dump.attributes["format"], .string("minnow.checkpoint"))
        XCTAssertEqual(dump.attributes["format_version"], .integer(Int(ModelCheckpoint.formatVersion)))
        XCTAssertEqual(dump.config, config)
        XCTAssertEqual(dump.training, ["epoch": 2, "step": 938, "batch": 0, "threads": 2])

        var expected: [String: MinnowTensor.Tensor] = [:]
        func key(_ section: String, _ path: String) -> String {
            guard let dot = path.lastIndex(of: ".") else { return "\(section)/\(path)" }
            return "\(section)/\(path[..<dot])/\(path[path.index(after: dot)...])"
        }
        for (path, parameter) in model.namedParameters() { expected[key("model", path)] = parameter.value }
        for (path, buffer) in model.namedBuffers() { expected[key("buffers", path)] = buffer.value }
        for (path, slots) in optimizer.slots { expected["training/optimizer/\(path)/momentum"] = slots["momentum"] }
        XCTAssertEqual(Set(dump.tensors.keys), Set(expected.keys), "h5py sees exactly the tensors Minnow wrote")
        for (name, tensor) in expected {
            guard let read = dump.tensors[name] else { continue }
            XCTAssertEqual(read.shape, tensor.shape, name)
            XCTAssertEqual(read.layout, [1: "C", 2: "IO", 4: "HWIO"][tensor.rank], name)
            let differing = zip(read.values, tensor.scalars).filter { Float($0).bitPattern != $1.bitPattern }.count
            XCTAssertEqual(read.values.count, tensor.count, name)
            XCTAssertEqual(differing, 0, "\(name): \(differing) values differ")
        }
        XCTAssertEqual(model.parameterCount, 148_186, "the peers' student_mbv2")
    }
}
