import Foundation
import MinnowRuntime
import QuantMath
import XCTest

/// Valid but extreme model files, built by hand (the classes byte fuzzing rarely reaches): each
/// either is refused by the loader with a typed error naming the operator, or loads and runs on
/// every kernel level this CPU has with the reference kernels' output, without trapping.
final class HostileModelTests: XCTestCase {
    static let unit = QuantizationParameters(scale: 1, zeroPoint: 0)
    static let activation = QuantizationParameters(scale: 0.05, zeroPoint: -3)

    /// A model of one convolution: input [h, w, cin], filter [kh, kw, cin / groups, cout].
    func convolution(input shape: [Int], kernel: Extent, outputs: Int, groups: Int = 1, stride: Extent = Extent(1, 1), padding: Extent,
                     dilation: Extent) throws -> [UInt8] {
        var writer = ModelWriter()
        let input = writer.addActivation(shape: shape, parameters: Self.activation)
        let taps = kernel.height * kernel.width * (shape[2] / groups) * outputs
        let filter = writer.addConstant(type: .int8, shape: [kernel.height, kernel.width, shape[2] / groups, outputs], parameters: Self.unit,
                                        bytes: (0..<taps).map { UInt8(truncatingIfNeeded: $0 * 37 % 251) })
        let bias = writer.addConstant((0..<outputs).map { Int32($0 * 3 - 7) })
        let m = FixedPointMultiplier(0.001)
        let multipliers = writer.addConstant(Array(repeating: m.multiplier, count: outputs)), shifts = writer.addConstant(Array(repeating: m.shift, count: outputs))
        func extent(_ size: Int, _ k: Int, _ s: Int, _ p: Int, _ d: Int) -> Int { (size + 2 * p - d * (k - 1) - 1) / s + 1 }
        let out = [extent(shape[0], kernel.height, stride.height, padding.height, dilation.height),
                   extent(shape[1], kernel.width, stride.width, padding.width, dilation.width), outputs]
        let output = writer.addActivation(shape: out.map { max($0, 1) }, parameters: QuantizationParameters(scale: 0.1, zeroPoint: 5))
        writer.addOperator(.convolution(Convolution(input: input, filter: filter, bias: bias, multipliers: multipliers, shifts: shifts, output: output,
                                                    stride: stride, padding: padding, dilation: dilation, groups: groups,
                                                    clamp: CodeRange(minimum: -128, maximum: 127))))
        return try writer.serialize(input: input, output: output, multiplyAccumulates: 0).bytes
    }

    /// A model of one max pooling of an input [h, w, c].
    func maxPool(input shape: [Int], kernel: Extent, stride: Extent, padding: Extent) throws -> [UInt8] {
        var writer = ModelWriter()
        let input = writer.addActivation(shape: shape, parameters: Self.activation)
        let out = [(shape[0] + 2 * padding.height - kernel.height) / stride.height + 1, (shape[1] + 2 * padding.width - kernel.width) / stride.width + 1, shape[2]]
        let output = writer.addActivation(shape: out, parameters: Self.activation)
        writer.addOperator(.maxPool(MaxPool(input: input, output: output, kernel: kernel, stride: stride, padding: padding)))
        return try writer.serialize(input: input, output: output, multiplyAccumulates: 0).bytes
    }

    /// The output codes of `bytes` run on `kernels` with a fixed input.
    func run(_ bytes: [UInt8], kernels: KernelChoice) throws -> [Int8] {
        try bytes.withUnsafeBytes { raw in
            let interpreter = try Interpreter(model: try RuntimeModel(bytes: raw), kernels: kernels)
            for i in interpreter.input.indices { interpreter.input[i] = Int8(truncatingIfNeeded: i * 13 % 255) }
            interpreter.invoke()
            return Array(interpreter.output)
        }
    }

    /// Runs `bytes` on every level and checks each against the reference kernels.
    func expectSameOnEveryLevel(_ bytes: [UInt8], _ what: String, line: UInt = #line) throws {
        let expected = try run(bytes, kernels: .reference)
        for kernels in [KernelChoice.fastest, .avxVNNI, .avx2] {
            XCTAssertEqual(try run(bytes, kernels: kernels), expected, "\(what), \(kernels)", line: line)
        }
    }

    /// Whether `file` loads; a file that does not must be refused with a `ModelFormatError`.
    func loads(_ file: [UInt8], _ what: String, line: UInt = #line) -> Bool {
        do {
            _ = try file.withUnsafeBytes { try RuntimeModel(bytes: $0) }
            return true
        } catch is ModelFormatError {
            return false
        } catch {
            XCTFail("\(what): \(error) is not a ModelFormatError", line: line)
            return false
        }
    }

    func expectRefused(_ bytes: [UInt8], _ detail: String, _ what: String, line: UInt = #line) {
        XCTAssertThrowsError(try bytes.withUnsafeBytes { try RuntimeModel(bytes: $0) }, what, line: line) { error in
            guard case ModelFormatError.invalidOperator(0, let message) = error else { return XCTFail("\(what): \(error)", line: line) }
            XCTAssertTrue(message.contains(detail), "\(what): \(message)", line: line)
        }
    }

    /// A depthwise convolution with a 96 x 96 kernel (9,216 taps, which the AVX2 kernel once kept
    /// on its stack) and a dense one of the same size: they run, equal to the reference.
    func testLargeKernelsRun() throws {
        try expectSameOnEveryLevel(try convolution(input: [96, 96, 16], kernel: Extent(96, 96), outputs: 16, groups: 16, padding: Extent(2, 3),
                                               dilation: Extent(1, 1)), "depthwise 96x96")
        try expectSameOnEveryLevel(try convolution(input: [40, 40, 4], kernel: Extent(40, 40), outputs: 8, padding: Extent(1, 0), dilation: Extent(1, 1)),
                                   "dense 40x40")
    }

    /// Padding up to the dilated kernel's extent minus one runs; more (which once let the padded
    /// copy write past its rows: 1 x 1 convolutions with dilation) is refused.
    func testPaddingIsBoundedByTheKernelExtent() throws {
        for groups in [1, 8] {
            try expectSameOnEveryLevel(try convolution(input: [5, 3, 8], kernel: Extent(3, 3), outputs: 8, groups: groups, padding: Extent(8, 128),
                                                   dilation: Extent(4, 64)), "3x3 dilation 4x64, padding 8x128, groups \(groups)")
            expectRefused(try convolution(input: [4, 4, 8], kernel: Extent(1, 1), outputs: 8, groups: groups, padding: Extent(0, 64), dilation: Extent(1, 64)),
                          "padding", "1x1 with padding 64, groups \(groups)")
            expectRefused(try convolution(input: [4, 4, 8], kernel: Extent(3, 3), outputs: 8, groups: groups, padding: Extent(3, 0), dilation: Extent(1, 1)),
                          "padding", "3x3 with padding 3, groups \(groups)")
        }
    }

    /// A tiny output of a large dilated kernel whose padded input would need ~1 G elements: refused.
    func testPaddedScratchIsBounded() throws {
        expectRefused(try convolution(input: [1, 1, 1], kernel: Extent(600, 600), outputs: 1, padding: Extent(19_168, 19_168), dilation: Extent(64, 64)),
                      "padded input", "600x600 dilation 64")
    }

    /// A pooling window of 2^30 positions (once a run that never ended: its padding was as large)
    /// is refused, since padding may not pass the input; windows up to three times the input run
    /// on every level, the kernels visiting only the positions inside it.
    func testPoolingWindowsAreBounded() throws {
        expectRefused(try maxPool(input: [1, 1, 1], kernel: Extent(1 << 30, 1), stride: Extent(1, 1), padding: Extent(1 << 29, 0)),
                      "pooling geometry", "2^30 window")
        try expectSameOnEveryLevel(try maxPool(input: [4, 3, 40], kernel: Extent(12, 9), stride: Extent(1, 2), padding: Extent(4, 3)), "12x9 window")
        try expectSameOnEveryLevel(try maxPool(input: [64, 48, 8], kernel: Extent(64, 48), stride: Extent(1, 1), padding: Extent(3, 5)), "64x48 window")
    }

    /// A concatenation of one tensor 65,536 times loads (in linear time: the loader checks each
    /// input once) and runs on every level.
    func testConcatenationOfManyInputs() throws {
        var writer = ModelWriter()
        let input = writer.addActivation(shape: [1, 1, 2], parameters: Self.activation)
        let count = 65_536
        let output = writer.addActivation(shape: [1, 1, 2 * count], parameters: Self.activation)
        writer.addOperator(.concatenate(Concatenation(output: output, inputs: Array(repeating: .init(tensor: input, rescale: nil), count: count))))
        try expectSameOnEveryLevel(try writer.serialize(input: input, output: output, multiplyAccumulates: 0).bytes, "65,536 inputs")
    }

    /// Parameters under which the kernels' int32 sums could wrap are refused, naming the operator:
    /// a fully connected layer whose bias and weights can pass int32, an add whose rescaled inputs
    /// can, and a global average pooling over too many pixels; the same layers with room to
    /// spare load and run as the reference on every level.
    func testSumsThatCouldWrapAreRefused() throws {
        func fullyConnected(bias: Int32) throws -> [UInt8] {
            var writer = ModelWriter()
            let input = writer.addActivation(shape: [1, 1, 4], parameters: QuantizationParameters(scale: 0.05, zeroPoint: -128))
            let weight = writer.addConstant(type: .int8, shape: [4, 2], parameters: Self.unit, bytes: Array(repeating: 127, count: 8))
            let m = FixedPointMultiplier(1e-9)
            let (b, multipliers, shifts) = (writer.addConstant([bias, 0]), writer.addConstant([m.multiplier, m.multiplier]), writer.addConstant([m.shift, m.shift]))
            let output = writer.addActivation(shape: [2], parameters: Self.activation)
            writer.addOperator(.fullyConnected(FullyConnected(input: input, weight: weight, bias: b, multipliers: multipliers, shifts: shifts, output: output,
                                                              clamp: CodeRange(minimum: -128, maximum: 127))))
            return try writer.serialize(input: input, output: output, multiplyAccumulates: 8).bytes
        }
        // Span 255 (zero point -128) x 4 weights of 127 = 129,540 beside the bias.
        expectRefused(try fullyConnected(bias: Int32.max - 129_539), "output channel 0", "bias + weights past int32")
        try expectSameOnEveryLevel(try fullyConnected(bias: Int32.max - 129_540), "bias + weights at int32's edge")

        func add(_ multiplier: Double) throws -> [UInt8] {
            var writer = ModelWriter()
            let p = QuantizationParameters(scale: 0.05, zeroPoint: -128)
            let x = writer.addActivation(shape: [2, 2, 3], parameters: p), y = writer.addActivation(shape: [2, 2, 3], parameters: p)
            writer.addOperator(.clamp(Clamp(input: x, output: y, clamp: CodeRange(minimum: -128, maximum: 127))))
            let out = writer.addActivation(shape: [2, 2, 3], parameters: Self.activation)
            writer.addOperator(.add(Add(a: x, b: y, output: out, aMultiplier: FixedPointMultiplier(multiplier), bMultiplier: FixedPointMultiplier(multiplier),
                                        outputMultiplier: FixedPointMultiplier(1e-7), clamp: CodeRange(minimum: -128, maximum: 127))))
            return try writer.serialize(input: x, output: out, multiplyAccumulates: 0).bytes
        }
        // 255 · 2^20 · 4 twice is just below 2^31; 255 · 2^20 · 5 twice is not.
        XCTAssertThrowsError(try add(5).withUnsafeBytes { try RuntimeModel(bytes: $0) }) { error in
            guard case ModelFormatError.invalidOperator(1, let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("wrap"), message)
        }
        try expectSameOnEveryLevel(try add(4), "add with input multipliers of 4")

        func pooling(side: Int) throws -> [UInt8] {
            var writer = ModelWriter()
            let input = writer.addActivation(shape: [side, side, 1], parameters: Self.activation)
            let output = writer.addActivation(shape: [1], parameters: Self.activation)
            writer.addOperator(.globalAveragePool(GlobalAveragePool(input: input, output: output, multiplier: FixedPointMultiplier(1e-6))))
            return try writer.serialize(input: input, output: output, multiplyAccumulates: 0).bytes
        }
        // Zero point -3: span 130; 4,096² pixels x 130 > 2^31.
        expectRefused(try pooling(side: 4096), "could wrap", "global average pooling of 4,096² pixels")
        try expectSameOnEveryLevel(try pooling(side: 64), "global average pooling of 64² pixels")
    }

    /// A model asking for more work per inference than `ModelFormat.maximumWork` is refused.
    func testWorkIsBounded() throws {
        expectRefused(try convolution(input: [1024, 1024, 1], kernel: Extent(64, 64), outputs: 16, padding: Extent(0, 0), dilation: Extent(1, 1)),
                      "operations per inference", "64x64 over 1024x1024")
    }

    /// Every recipe the structure-aware fuzzer found crashing (scripts/fuzz.sh structure writes
    /// them to Tests/Fuzz/structure-crashes/; each crashed the kernels before this round of
    /// bounds) builds a model that is refused or runs on every level as the reference does.
    func testEveryStructureFuzzerFindingIsHandled() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz/structure-crashes")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { !$0.hasPrefix(".") }.sorted()
        XCTAssertFalse(names.isEmpty, "no committed findings in \(folder.path)")
        for name in names {
            let file = ModelRecipe.model([UInt8](try Data(contentsOf: folder.appendingPathComponent(name))))
            guard loads(file, name) else { continue }
            try expectSameOnEveryLevel(file, name)
        }
    }

    /// Every input the field fuzzer found crashing (scripts/fuzz.sh fields writes them to
    /// Tests/Fuzz/field-crashes/) rewrites the same corpus model's fields again; the file is
    /// refused or runs on every level as the reference does. Without findings, a fixed sweep of
    /// single-field mutations stands in, so the test always compares something.
    func testEveryFieldFuzzerFindingIsHandled() throws {
        let fuzz = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz")
        let corpus = try FileManager.default.contentsOfDirectory(atPath: fuzz.appendingPathComponent("corpus").path).sorted()
            .map { [UInt8](try Data(contentsOf: fuzz.appendingPathComponent("corpus/" + $0))) }.filter { $0.count > 64 && $0[4] == 3 }
        XCTAssertFalse(corpus.isEmpty)
        let findings = try FileManager.default.contentsOfDirectory(atPath: fuzz.appendingPathComponent("field-crashes").path)
            .filter { !$0.hasPrefix(".") }.sorted().map { [UInt8](try Data(contentsOf: fuzz.appendingPathComponent("field-crashes/" + $0))) }
        let sweep: [[UInt8]] = (0..<256).map { (i: Int) -> [UInt8] in
            let (field, value) = (UInt8(i), UInt8(i * 7 % 256))
            return [0, 0, field, value, UInt8(i % 2), 1, UInt8(i % 23)]
        }
        var loaded = 0
        for choices in findings + sweep {
            let file = FieldMutation.mutate(corpus[Int(choices.first ?? 0) % corpus.count], choices: Array(choices.dropFirst()))
            guard loads(file, "field mutation \(choices)") else { continue }
            loaded += 1
            try expectSameOnEveryLevel(file, "field mutation \(choices)")
        }
        XCTAssertGreaterThan(loaded, 0, "some mutations load and run")
    }
}
