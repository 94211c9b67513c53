import Foundation
import MinnowData
import MinnowNN
import MinnowQuantization
import MinnowTensor

/// A quantized model evaluated three ways on the same test batches: its float model (fp32), its
/// fake quantization (float arithmetic on quantized values: what QAT trains), and its integer form
/// (`IntegerModel`, MinnowRuntime's kernels: the accuracy Minnow reports for an int8 model), with
/// the share of images on which the integer model's top-1 class equals the other two's.
public struct QuantizedEvaluation: Sendable {
    public let float: EvaluationResult, fakeQuantized: EvaluationResult, integer: EvaluationResult
    /// Top-1 agreement of the integer model with the fake-quantized and with the float model, in [0, 1].
    public let agreementWithFakeQuantized: Double, agreementWithFloat: Double
    /// The images evaluated.
    public let count: Int

    /// Evaluates `quantized` and its integer form `integer` (`IntegerModel(quantized:)`) on `batches`.
    public init(_ quantized: QuantizedModel, integer: IntegerModel, batches: some Sequence<Batch>, classes: Int) {
        let wasTraining = quantized.isTraining
        quantized.eval()
        defer { quantized.train(wasTraining) }
        var meters = (AccuracyMeter(), AccuracyMeter(), AccuracyMeter())
        var agree = (0, 0), count = 0
        withoutGrad {
            for batch in batches {
                let logits = [quantized.model(batch.images), quantized(batch.images), integer.logits(batch.images)]
                let losses = logits.map { crossEntropy(logits: $0, labels: batch.labels).item }
                meters.0.add(logits: logits[0], labels: batch.labels, meanLoss: losses[0])
                meters.1.add(logits: logits[1], labels: batch.labels, meanLoss: losses[1])
                meters.2.add(logits: logits[2], labels: batch.labels, meanLoss: losses[2])
                let classes = logits.map(Self.top1)
                for (f, (q, i)) in zip(classes[0], zip(classes[1], classes[2])) {
                    agree.0 += i == q ? 1 : 0
                    agree.1 += i == f ? 1 : 0
                }
                count += batch.labels.count
            }
        }
        float = meters.0.result(classes: classes)
        fakeQuantized = meters.1.result(classes: classes)
        self.integer = meters.2.result(classes: classes)
        agreementWithFakeQuantized = Double(agree.0) / Double(max(count, 1))
        agreementWithFloat = Double(agree.1) / Double(max(count, 1))
        self.count = count
    }

    /// The class of the largest logit of each row (the first on ties).
    static func top1(_ logits: Tensor) -> [Int] {
        let classes = logits.shape[1], values = logits.scalars
        return (0..<logits.shape[0]).map { row in
            var best = 0
            for c in 1..<classes where values[row * classes + c] > values[row * classes + best] { best = c }
            return best
        }
    }

    /// One line per number, as the CLI prints them.
    public var summary: String {
        func pct(_ x: Double) -> String { String(format: "%.2f%%", x * 100) }
        return """
            top-1 on \(count) test images: fp32 \(pct(float.top1)), fake-quant \(pct(fakeQuantized.top1)), \
            int8 (integer arithmetic) \(pct(integer.top1))
            integer top-1 agrees with fake-quant on \(String(format: "%.2f%%", agreementWithFakeQuantized * 100)), \
            with fp32 on \(String(format: "%.2f%%", agreementWithFloat * 100)) of the images
            """
    }
}

extension IntegerModel {
    /// The per-layer report as a table: for every rescaling layer its output's scale, zero point,
    /// observed range, SQNR in dB against the float model (`tensors`) and the output codes that
    /// differ by one step from fake quantization of the same layer, on `images`.
    public func reportTable(_ images: Tensor, tensors: [String: Tensor]) throws -> String {
        let agreement = Dictionary(uniqueKeysWithValues: self.agreement(images).map { ($0.output, $0) })
        let reports = try layerReports(images, tensors: tensors)
        let width = max(5, reports.map(\.module.count).max() ?? 0)
        func pad(_ text: String, _ count: Int) -> String { text + String(repeating: " ", count: max(0, count - text.count)) }
        var lines = [pad("layer", width) + "  " + pad("kind", 17) + "     scale    zp  observed range         SQNR dB  codes off by one"]
        for report in reports {
            let step = agreement[report.value]
            lines.append(pad(report.module, width) + "  " + pad(report.kind.rawValue, 17)
                         + String(format: "%10.6f %5d  [%8.3f, %8.3f]  %7.2f  %d of %d", report.parameters.scale, report.parameters.zeroPoint,
                                  report.minimum, report.maximum, report.sqnr, step?.differing ?? 0, step?.count ?? 0))
        }
        let differing = agreement.values.reduce(0) { $0 + $1.differing }, total = agreement.values.reduce(0) { $0 + $1.count }
        let largest = agreement.values.map(\.largest).max() ?? 0
        lines.append("codes off from fake quantization: \(differing) of \(total), largest difference \(largest) step(s)")
        return lines.joined(separator: "\n")
    }
}
