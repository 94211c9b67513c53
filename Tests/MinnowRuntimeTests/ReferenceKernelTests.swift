import MinnowRuntime
import MinnowTensor
import QuantMath
import XCTest

/// The reference integer kernels against references built another way: convolutions against
/// explicit zero-point padding and a plain window sum (bit for bit), stated small cases, and the
/// rescaling kernels against real arithmetic (within one output step).
final class ReferenceKernelTests: XCTestCase {
    var generator = SeededGenerator(seed: 7)

    func randomCodes(_ count: Int, _ range: ClosedRange<Int32> = -128...127) -> [Int8] {
        (0..<count).map { _ in Int8(range.lowerBound + Int32(generator.next() % UInt64(range.upperBound - range.lowerBound + 1))) }
    }

    /// The convolution computed from an input padded with its zero point (so no bounds checks),
    /// window by window: a second, differently indexed implementation.
    func paddedConvolution(_ g: ConvolutionGeometry, input: [Int8], inputZeroPoint: Int32, filter: [Int8], bias: [Int32],
                           requantization: Requantization) -> [Int8] {
        let (paddedHeight, paddedWidth) = (g.height + 2 * g.padding.0, g.width + 2 * g.padding.1)
        var padded = [Int32](repeating: inputZeroPoint, count: g.batch * paddedHeight * paddedWidth * g.inputChannels)
        for n in 0..<g.batch { for y in 0..<g.height { for x in 0..<g.width { for c in 0..<g.inputChannels {
            padded[((n * paddedHeight + y + g.padding.0) * paddedWidth + x + g.padding.1) * g.inputChannels + c] =
                Int32(input[((n * g.height + y) * g.width + x) * g.inputChannels + c])
        } } } }
        let perGroupIn = g.inputChannels / g.groups, perGroupOut = g.outputChannels / g.groups
        var output: [Int8] = []
        for n in 0..<g.batch { for oy in 0..<g.outputHeight { for ox in 0..<g.outputWidth { for oc in 0..<g.outputChannels {
            var sum = Int64(bias[oc])
            for ky in 0..<g.kernelHeight { for kx in 0..<g.kernelWidth { for k in 0..<perGroupIn {
                let y = oy * g.stride.0 + ky * g.dilation.0, x = ox * g.stride.1 + kx * g.dilation.1
                let c = (oc / perGroupOut) * perGroupIn + k
                let value = padded[((n * paddedHeight + y) * paddedWidth + x) * g.inputChannels + c] - inputZeroPoint
                sum += Int64(value) * Int64(filter[((ky * g.kernelWidth + kx) * perGroupIn + k) * g.outputChannels + oc])
            } } }
            output.append(requantization.code(Int32(sum), channel: oc))
        } } } }
        return output
    }

    func testConvolutionMatchesThePaddedReferenceBitForBit() {
        let cases: [ConvolutionGeometry] = [
            ConvolutionGeometry(batch: 2, height: 7, width: 6, inputChannels: 3, kernelHeight: 3, kernelWidth: 3, outputChannels: 5,
                                padding: (1, 1)),
            ConvolutionGeometry(batch: 1, height: 9, width: 9, inputChannels: 4, kernelHeight: 3, kernelWidth: 3, outputChannels: 6,
                                stride: (2, 2), padding: (1, 1)),
            ConvolutionGeometry(batch: 1, height: 8, width: 8, inputChannels: 6, kernelHeight: 3, kernelWidth: 3, outputChannels: 6,
                                padding: (1, 1), groups: 6),  // depthwise
            ConvolutionGeometry(batch: 2, height: 5, width: 5, inputChannels: 4, kernelHeight: 1, kernelWidth: 1, outputChannels: 8),
            ConvolutionGeometry(batch: 1, height: 9, width: 8, inputChannels: 4, kernelHeight: 3, kernelWidth: 2, outputChannels: 6,
                                stride: (2, 1), padding: (2, 1), dilation: (2, 1), groups: 2),
        ]
        for g in cases {
            let input = randomCodes(g.batch * g.height * g.width * g.inputChannels)
            let filter = randomCodes(g.kernelHeight * g.kernelWidth * (g.inputChannels / g.groups) * g.outputChannels, -127...127)
            let bias = (0..<g.outputChannels).map { _ in Int32(truncatingIfNeeded: generator.next() % 20_001) - 10_000 }
            let requantization = Requantization(
                multipliers: (0..<g.outputChannels).map { _ in FixedPointMultiplier(0.0005 + Double(generator.next() % 1000) / 1e6) },
                outputZeroPoint: -7, minimum: -128, maximum: 100)
            var output = [Int8](repeating: 0, count: g.batch * g.outputHeight * g.outputWidth * g.outputChannels)
            input.withUnsafeBufferPointer { x in filter.withUnsafeBufferPointer { w in bias.withUnsafeBufferPointer { b in
                output.withUnsafeMutableBufferPointer { y in
                    ReferenceKernels.convolution(g, input: x, inputZeroPoint: 11, filter: w, bias: b, requantization: requantization, output: y)
                }
            } } }
            XCTAssertEqual(output, paddedConvolution(g, input: input, inputZeroPoint: 11, filter: filter, bias: bias, requantization: requantization),
                           "groups \(g.groups), stride \(g.stride), dilation \(g.dilation)")
            XCTAssertTrue(output.contains(100) || output.contains(-128) || Set(output).count > 10, "the outputs exercise the range")
        }
    }

    /// A case small enough to do by hand: a 2x2 input, a 2x2 filter, no padding, multiplier 1/2.
    func testConvolutionStatedCase() {
        let g = ConvolutionGeometry(batch: 1, height: 2, width: 2, inputChannels: 1, kernelHeight: 2, kernelWidth: 2, outputChannels: 1)
        let input: [Int8] = [3, 5, 7, 9], filter: [Int8] = [1, -1, 2, 1], bias: [Int32] = [4]
        // (3-1)*1 + (5-1)*(-1) + (7-1)*2 + (9-1)*1 + 4 = 2 - 4 + 12 + 8 + 4 = 22; 22 * 0.5 = 11; + zero point 3 = 14
        var output: [Int8] = [0]
        input.withUnsafeBufferPointer { x in filter.withUnsafeBufferPointer { w in bias.withUnsafeBufferPointer { b in
            output.withUnsafeMutableBufferPointer { y in
                ReferenceKernels.convolution(g, input: x, inputZeroPoint: 1, filter: w, bias: b,
                                             requantization: Requantization(multipliers: [FixedPointMultiplier(0.5)], outputZeroPoint: 3), output: y)
            }
        } } }
        XCTAssertEqual(output, [14])
    }

    /// A fully connected layer is a 1x1 convolution over rows.
    func testFullyConnectedEqualsAOneByOneConvolution() {
        let (rows, inputs, outputs) = (3, 20, 7)
        let input = randomCodes(rows * inputs), weight = randomCodes(inputs * outputs, -127...127)
        let bias = (0..<outputs).map { Int32($0 * 300 - 1000) }
        let requantization = Requantization(multipliers: [FixedPointMultiplier(0.0123)], outputZeroPoint: 5)
        var fullyConnected = [Int8](repeating: 0, count: rows * outputs), convolution = fullyConnected
        input.withUnsafeBufferPointer { x in weight.withUnsafeBufferPointer { w in bias.withUnsafeBufferPointer { b in
            fullyConnected.withUnsafeMutableBufferPointer { y in
                ReferenceKernels.fullyConnected(rows: rows, inputs: inputs, outputs: outputs, input: x, inputZeroPoint: -3, weight: w, bias: b,
                                                requantization: requantization, output: y)
            }
            convolution.withUnsafeMutableBufferPointer { y in
                ReferenceKernels.convolution(ConvolutionGeometry(batch: rows, height: 1, width: 1, inputChannels: inputs, kernelHeight: 1,
                                                                 kernelWidth: 1, outputChannels: outputs),
                                             input: x, inputZeroPoint: -3, filter: w, bias: b, requantization: requantization, output: y)
            }
        } } }
        XCTAssertEqual(fullyConnected, convolution)
    }

    /// Every pair of int8 codes: the integer add is within one output step of the real sum.
    func testAddIsWithinOneStepOfTheRealSumForEveryPair() {
        let (aScale, aZero, bScale, bZero, outScale, outZero): (Double, Int32, Double, Int32, Double, Int32) = (0.02, 5, 0.05, -20, 0.06, 3)
        let twiceMax = 2 * max(aScale, bScale)
        let aInput = ReferenceKernels.AddInput(zeroPoint: aZero, multiplier: FixedPointMultiplier(aScale / twiceMax))
        let bInput = ReferenceKernels.AddInput(zeroPoint: bZero, multiplier: FixedPointMultiplier(bScale / twiceMax))
        let outputMultiplier = FixedPointMultiplier(twiceMax / (Double(1 << ReferenceKernels.addLeftShift) * outScale))
        var a: [Int8] = [], b: [Int8] = []
        for x in -128...127 { for y in -128...127 { a.append(Int8(x)); b.append(Int8(y)) } }
        var output = [Int8](repeating: 0, count: a.count)
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in output.withUnsafeMutableBufferPointer { out in
            ReferenceKernels.add(count: pa.count, a: pa, aInput, b: pb, bInput, outputMultiplier: outputMultiplier, outputZeroPoint: outZero,
                                 minimum: -128, maximum: 127, output: out)
        } } }
        var worst = 0.0
        for i in a.indices {
            let real = aScale * Double(Int32(a[i]) - aZero) + bScale * Double(Int32(b[i]) - bZero)
            let exact = min(max(real / outScale + Double(outZero), -128), 127)
            worst = max(worst, abs(Double(output[i]) - exact))
        }
        XCTAssertLessThanOrEqual(worst, 1, "largest distance from the exact real sum, in output steps")
    }

    func testPoolingKernels() {
        // Max pooling, 2x2 windows of a 4x4 map with two channels.
        let input: [Int8] = (0..<32).map { (i: Int) -> Int8 in Int8(i % 2 == 0 ? i - 16 : 15 - i) }
        var pooled = [Int8](repeating: 0, count: 8)
        input.withUnsafeBufferPointer { x in pooled.withUnsafeMutableBufferPointer { y in
            ReferenceKernels.maxPool(batch: 1, height: 4, width: 4, channels: 2, kernel: (2, 2), stride: (2, 2), padding: (0, 0), input: x, output: y)
        } }
        var expected: [Int8] = []
        for oy in 0..<2 { for ox in 0..<2 { for c in 0..<2 {
            var best = Int8.min
            for dy in 0..<2 { for dx in 0..<2 { best = max(best, input[((oy * 2 + dy) * 4 + ox * 2 + dx) * 2 + c]) } }
            expected.append(best)
        } } }
        XCTAssertEqual(pooled, expected)

        // Global average: within one output step of the real mean.
        let codes = randomCodes(2 * 49 * 3)
        var averaged = [Int8](repeating: 0, count: 6)
        let (inScale, outScale): (Double, Double) = (0.1, 0.04)
        codes.withUnsafeBufferPointer { x in averaged.withUnsafeMutableBufferPointer { y in
            ReferenceKernels.globalAveragePool(batch: 2, pixels: 49, channels: 3, input: x, inputZeroPoint: 4,
                                               multiplier: FixedPointMultiplier(inScale / (49 * outScale)), outputZeroPoint: -1, output: y)
        } }
        for n in 0..<2 { for c in 0..<3 {
            var sum = 0.0
            for p in 0..<49 { sum += Double(Int32(codes[(n * 49 + p) * 3 + c]) - 4) }
            let exact: Double = min(max(sum / 49 * inScale / outScale - 1, -128), 127)
            XCTAssertLessThanOrEqual(abs(Double(averaged[n * 3 + c]) - exact), 0.5 + 1e-9)
        } }
    }
}
