import MinnowData
import MinnowModels
import MinnowNN
import MinnowQuantization
import MinnowRuntime
import MinnowTensor
import MinnowTraining
import XCTest

/// The export's correctness gate as a library call: an exported model verifies bit-exact on every
/// kernel level; a file whose classifier weights were changed (checksum resealed, so it loads)
/// does not; a damaged file is the loader's error.
final class ExportVerificationTests: XCTestCase {
    func testVerificationPassesAnExportAndCatchesAChangedOne() throws {
        var generator = SeededGenerator(seed: 5)
        let config = ModelConfig(architecture: .cnn, width: 0.25, inputShape: [12, 12, 1], classes: 10)
        let model = try ModelZoo.build(config)
        let quantized = try QuantizedModel(model: model, inputShape: config.inputShape)
        try quantized.calibrate((0..<2).map { _ in Tensor.randomNormal([8, 12, 12, 1], generator: &generator) })
        quantized.eval()
        let integer = try IntegerModel(quantized: quantized)
        let bytes = try integer.exportForRuntime().bytes
        let batches = (0..<3).map { index in
            Batch(images: Tensor.randomNormal([4, 12, 12, 1], generator: &generator), labels: (0..<4).map { ($0 + index) % 10 },
                  indices: Array(0..<4))
        }
        for kernels in [KernelChoice.fastest, .avx2, .reference] {
            let check = try ExportVerification.verify(bytes, integer: integer, float: model, batches: batches, kernels: kernels)
            XCTAssertEqual(check.images, 12)
            XCTAssertTrue(check.isBitExact, "\(kernels): \(check)")
            XCTAssertLessThanOrEqual(check.agreementWithFloat, check.images)
        }
        XCTAssertEqual(try ExportVerification.verify(bytes, integer: integer, float: model, batches: batches, kernels: .reference).kernelLevel, "reference")

        // The classifier's weights shifted by 64 codes each (then resealed): the file still loads,
        // but its outputs differ from the integer evaluation's.
        let runtime = try bytes.withUnsafeBytes { try RuntimeModel(bytes: $0) }
        let classifier = try XCTUnwrap(runtime.operations.compactMap { op -> FullyConnected? in
            if case .fullyConnected(let f) = op { f } else { nil }
        }.last)
        let weight = runtime.tensors[classifier.weight]
        let dataOffset = (0..<4).reduce(0) { $0 | Int(bytes[48 + $1]) << (8 * $1) }
        var changed = bytes
        for i in 0..<weight.byteLength { changed[dataOffset + weight.offset + i] &+= 64 }
        let checksum = changed.withUnsafeBytes { crc32(UnsafeRawBufferPointer(rebasing: $0[ModelFormat.headerSize...])) }
        for i in 0..<4 { changed[16 + i] = UInt8(truncatingIfNeeded: checksum >> (8 * UInt32(i))) }
        let check = try ExportVerification.verify(changed, integer: integer, float: model, batches: batches)
        XCTAssertFalse(check.isBitExact, "\(check)")
        XCTAssertLessThan(check.equalOutputs, check.images)

        var damaged = bytes
        damaged[70] ^= 0xFF
        XCTAssertThrowsError(try ExportVerification.verify(damaged, integer: integer, float: model, batches: batches)) { error in
            XCTAssertNotNil(error as? ModelFormatError, "\(error)")
        }
    }
}
