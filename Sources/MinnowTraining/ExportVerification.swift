import MinnowData
import MinnowNN
import MinnowQuantization
import MinnowRuntime
import MinnowTensor

/// What an exported model did in the runtime on test images, against the training side: the
/// correctness gate of an export (`minnow export` runs it; so can any Swift caller).
public struct ExportVerification: Sendable, Equatable {
    /// Images run.
    public let images: Int
    /// Images whose runtime output codes equal the integer evaluation's, code for code.
    public let equalOutputs: Int
    /// Images whose runtime prediction equals the float model's.
    public let agreementWithFloat: Int
    /// Images the runtime classified correctly.
    public let correct: Int
    /// The kernel level that ran ("avx512-vnni", "avx-vnni", "avx2" or "reference").
    public let kernelLevel: String

    /// Every image's output codes equal the integer evaluation's.
    public var isBitExact: Bool { equalOutputs == images }

    /// Runs `bytes` (a `.mnw` file exported from `integer`) on `batches` with `kernels`, comparing
    /// each image's output codes with `integer`'s and its prediction with `float`'s and the label.
    /// Throws the loader's error when the file does not load.
    public static func verify(_ bytes: [UInt8], integer: IntegerModel, float: any Layer, batches: some Sequence<Batch>,
                              kernels: KernelChoice = .fastest) throws -> ExportVerification {
        var (images, same, agree, correct) = (0, 0, 0, 0)
        let level: String = try bytes.withUnsafeBytes { raw in
            let interpreter = try Interpreter(model: try RuntimeModel(bytes: raw), kernels: kernels)
            float.eval()
            for batch in batches {
                let count = batch.images.shape[0]
                let expected = integer.codes(batch.images)[integer.graph.output]!
                let predictions = withoutGrad { float(batch.images) }.argmaxRows()
                let size = batch.images.count / count, values = batch.images.scalars, classes = expected.count / count
                for n in 0..<count {
                    interpreter.setInput(values[(n * size)..<((n + 1) * size)])
                    interpreter.invoke()
                    if Array(interpreter.output) == Array(expected[(n * classes)..<((n + 1) * classes)]) { same += 1 }
                    if interpreter.argmax == predictions[n] { agree += 1 }
                    if interpreter.argmax == batch.labels[n] { correct += 1 }
                    images += 1
                }
            }
            return interpreter.kernelLevel
        }
        return ExportVerification(images: images, equalOutputs: same, agreementWithFloat: agree, correct: correct, kernelLevel: level)
    }
}

extension Tensor {
    /// The index of the largest value of each row of a `[N, C]` tensor (the first on ties).
    public func argmaxRows() -> [Int] {
        let columns = shape[1], values = scalars
        return (0..<shape[0]).map { row in
            var best = 0
            for c in 1..<columns where values[row * columns + c] > values[row * columns + best] { best = c }
            return best
        }
    }
}
