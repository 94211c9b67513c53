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

    /// Padding past the dilated kernel's extent minus one (which once let the padded copy write
    /// past its rows: 1 x 1 convolutions with dilation) is refused; up to it runs (`extremeModels`).
    func testPaddingIsBoundedByTheKernelExtent() throws {
        for groups in [1, 8] {
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
    /// on every level, the kernels visiting only the positions inside it (`extremeModels`).
    func testPoolingWindowsAreBounded() throws {
        expectRefused(try maxPool(input: [1, 1, 1], kernel: Extent(1 << 30, 1), stride: Extent(1, 1), padding: Extent(1 << 29, 0)),
                      "pooling geometry", "2^30 window")
    }

    /// A concatenation of one tensor 65,536 times (it loads in linear time: the loader checks each
    /// input once).
    func concatenationOfManyInputs() throws -> [UInt8] {
        var writer = ModelWriter()
        let input = writer.addActivation(shape: [1, 1, 2], parameters: Self.activation)
        let count = 65_536
        let output = writer.addActivation(shape: [1, 1, 2 * count], parameters: Self.activation)
        writer.addOperator(.concatenate(Concatenation(output: output, inputs: Array(repeating: .init(tensor: input, rescale: nil), count: count))))
        return try writer.serialize(input: input, output: output, multiplyAccumulates: 0).bytes
    }

    /// Parameters under which the kernels' int32 sums could wrap are refused, naming the operator:
    /// a fully connected layer whose bias and weights can pass int32, an add whose rescaled inputs
    /// can, and a global average pooling over too many pixels; the same layers with room to spare
    /// load and run as the reference on every level (`extremeModels`).
    func testSumsThatCouldWrapAreRefused() throws {
        // Span 255 (zero point -128) x 4 weights of 127 = 129,540 beside the bias.
        expectRefused(try fullyConnected(bias: Int32.max - 129_539), "output channel 0", "bias + weights past int32")
        // 255 · 2^20 · 4 twice is just below 2^31; 255 · 2^20 · 5 twice is not.
        XCTAssertThrowsError(try add(inputMultiplier: 5).withUnsafeBytes { try RuntimeModel(bytes: $0) }) { error in
            guard case ModelFormatError.invalidOperator(1, let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("wrap"), message)
        }
        // Zero point -3: span 130; 4,096² pixels x 130 > 2^31.
        expectRefused(try globalAveragePool(side: 4096), "could wrap", "global average pooling of 4,096² pixels")
    }

    /// A fully connected layer of 4 inputs (zero point -128) and 2 outputs, all weights 127.
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

    /// A clamp and an add of its input and output, both inputs rescaled by `inputMultiplier`.
    func add(inputMultiplier: Double) throws -> [UInt8] {
        var writer = ModelWriter()
        let p = QuantizationParameters(scale: 0.05, zeroPoint: -128)
        let x = writer.addActivation(shape: [2, 2, 3], parameters: p), y = writer.addActivation(shape: [2, 2, 3], parameters: p)
        writer.addOperator(.clamp(Clamp(input: x, output: y, clamp: CodeRange(minimum: -128, maximum: 127))))
        let out = writer.addActivation(shape: [2, 2, 3], parameters: Self.activation)
        let m = FixedPointMultiplier(inputMultiplier)
        writer.addOperator(.add(Add(a: x, b: y, output: out, aMultiplier: m, bMultiplier: m, outputMultiplier: FixedPointMultiplier(1e-7),
                                    clamp: CodeRange(minimum: -128, maximum: 127))))
        return try writer.serialize(input: x, output: out, multiplyAccumulates: 0).bytes
    }

    /// A global average pooling of a [side, side, 1] input.
    func globalAveragePool(side: Int) throws -> [UInt8] {
        var writer = ModelWriter()
        let input = writer.addActivation(shape: [side, side, 1], parameters: Self.activation)
        let output = writer.addActivation(shape: [1], parameters: Self.activation)
        writer.addOperator(.globalAveragePool(GlobalAveragePool(input: input, output: output, multiplier: FixedPointMultiplier(1e-6))))
        return try writer.serialize(input: input, output: output, multiplyAccumulates: 0).bytes
    }

    /// The extreme models that load, by name: the largest kernels (a 96 x 96 depthwise kernel,
    /// 9,216 taps, which the AVX2 kernel once kept on its stack, and a dense 40 x 40 one), padding
    /// up to the dilated kernel's extent, pooling windows up to three times the input, sums at
    /// int32's edge, a concatenation of 65,536 inputs, and each structure-fuzzer finding that
    /// loads (none at present: every one is refused).
    func extremeModels() throws -> [(name: String, bytes: [UInt8])] {
        var models: [(name: String, bytes: [UInt8])] = [
            ("depthwise-96x96", try convolution(input: [96, 96, 16], kernel: Extent(96, 96), outputs: 16, groups: 16, padding: Extent(2, 3), dilation: Extent(1, 1))),
            ("dense-40x40", try convolution(input: [40, 40, 4], kernel: Extent(40, 40), outputs: 8, padding: Extent(1, 0), dilation: Extent(1, 1))),
            ("max-pool-12x9", try maxPool(input: [4, 3, 40], kernel: Extent(12, 9), stride: Extent(1, 2), padding: Extent(4, 3))),
            ("max-pool-64x48", try maxPool(input: [64, 48, 8], kernel: Extent(64, 48), stride: Extent(1, 1), padding: Extent(3, 5))),
            ("fully-connected-at-int32-edge", try fullyConnected(bias: Int32.max - 129_540)),
            ("add-input-multipliers-4", try add(inputMultiplier: 4)),
            ("global-average-pool-64x64", try globalAveragePool(side: 64)),
            ("concatenation-of-65536-inputs", try concatenationOfManyInputs()),
        ]
        for groups in [1, 8] {
            models.append(("dilation-4x64-padding-8x128-groups-\(groups)",
                           try convolution(input: [5, 3, 8], kernel: Extent(3, 3), outputs: 8, groups: groups, padding: Extent(8, 128), dilation: Extent(4, 64))))
        }
        let folder = Self.repository.appendingPathComponent("Tests/Fuzz/structure-crashes")
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path).filter({ !$0.hasPrefix(".") }).sorted() {
            let file = ModelRecipe.model([UInt8](try Data(contentsOf: folder.appendingPathComponent(name))))
            if loads(file, name) { models.append(("structure-fuzzer-" + name, file)) }
        }
        return models
    }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repository.appendingPathComponent("Tests/Fixtures/extreme-models")

    /// Every extreme model that loads runs on every level of this CPU as the reference kernels do,
    /// and is committed with those codes in Tests/Fixtures/extreme-models/ (NAME.mnw, NAME.codes:
    /// the output for `run`'s fixed input), so that CPUs XCTest does not run on check the same
    /// files (scripts/arm-run.sh --extreme, under QEMU on every NEON level). A builder's change
    /// fails here until the files are written again: `MINNOW_WRITE_FIXTURES=1 swift test --filter
    /// HostileModelTests/testExtremeModelsRunAndAreCommitted`.
    func testExtremeModelsRunAndAreCommitted() throws {
        let write = ProcessInfo.processInfo.environment["MINNOW_WRITE_FIXTURES"] == "1"
        let models = try extremeModels()
        if write { try FileManager.default.createDirectory(at: Self.fixtures, withIntermediateDirectories: true) }
        for (name, bytes) in models {
            try expectSameOnEveryLevel(bytes, name)
            let codes = try run(bytes, kernels: .reference).map { UInt8(bitPattern: $0) }
            let (model, expected) = (Self.fixtures.appendingPathComponent(name + ".mnw"), Self.fixtures.appendingPathComponent(name + ".codes"))
            if write {
                try Data(bytes).write(to: model, options: .atomic)
                try Data(codes).write(to: expected, options: .atomic)
            } else {
                XCTAssertEqual(try? Data(contentsOf: model), Data(bytes), "\(name).mnw differs from its builder: write the fixtures again")
                XCTAssertEqual(try? Data(contentsOf: expected), Data(codes), "\(name).codes differs from the reference kernels' output")
            }
        }
        let committed = try FileManager.default.contentsOfDirectory(atPath: Self.fixtures.path).filter { $0.hasSuffix(".mnw") }
        XCTAssertEqual(Set(committed), Set(models.map { $0.name + ".mnw" }), "files in \(Self.fixtures.path) no builder makes")
    }

    /// A model asking for more work per inference than `ModelFormat.maximumWork` is refused.
    func testWorkIsBounded() throws {
        expectRefused(try convolution(input: [1024, 1024, 1], kernel: Extent(64, 64), outputs: 16, padding: Extent(0, 0), dilation: Extent(1, 1)),
                      "operations per inference", "64x64 over 1024x1024")
    }

    /// Every recipe the structure-aware fuzzer found crashing (scripts/fuzz.sh structure writes
    /// them to Tests/Fuzz/structure-crashes/; each crashed the kernels before this round of
    /// bounds) builds a model that is refused with a `ModelFormatError` or loads (and then runs on
    /// every level as the reference does: `extremeModels`).
    func testEveryStructureFuzzerFindingIsHandled() throws {
        let folder = Self.repository.appendingPathComponent("Tests/Fuzz/structure-crashes")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { !$0.hasPrefix(".") }.sorted()
        XCTAssertFalse(names.isEmpty, "no committed findings in \(folder.path)")
        for name in names {  // those that load run in testExtremeModelsRunAndAreCommitted
            _ = loads(ModelRecipe.model([UInt8](try Data(contentsOf: folder.appendingPathComponent(name)))), name)
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
