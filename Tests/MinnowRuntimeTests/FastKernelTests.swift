import CRuntimeKernels
import MinnowRuntime
import MinnowTensor
import QuantMath
import XCTest

/// The SIMD kernels equal the reference arithmetic bit for bit. On a CPU without AVX-512 VNNI
/// there are no AVX-512 kernels to compare: the runtime must then say it runs the AVX2 (or the
/// reference) ones (`hasVNNI` is false and the tests check that instead; nothing is skipped; the
/// AVX2 kernels are still compared through `RuntimeExportTests`).
final class FastKernelTests: XCTestCase {
    /// Whether the fast kernels can run here; without them, checks that the runtime falls back.
    func hasVNNI() -> Bool {
        guard mnw_cpu_has_avx512vnni() == 1 else {
            XCTAssertEqual(KernelChoice.detected, mnw_cpu_has_avxvnni() == 1 ? "avx-vnni" : mnw_cpu_has_avx2() == 1 ? "avx2" : "reference",
                           "without AVX-512 VNNI the runtime runs the AVX2 kernels (with AVX-VNNI where the CPU has it), or the reference ones")
            return false
        }
        XCTAssertEqual(KernelChoice.detected, "avx512-vnni")
        return true
    }

    /// Vector requantization equals QuantMath's `requantize` on random and extreme accumulators,
    /// multipliers (real ratios from 2^-31 to 2^30) and every zero point and clamp kind.
    func testVectorRequantizationEqualsQuantMath() throws {
        guard hasVNNI() else { return }
        var generator = SeededGenerator(seed: 21)
        for trial in 0..<400 {
            let count = 1 + Int(generator.next() % 70)
            var accumulators = (0..<count).map { _ in Int32(truncatingIfNeeded: generator.next()) >> Int32(generator.next() % 31) }
            if trial % 7 == 0 { accumulators[0] = .max; accumulators[count - 1] = .min }
            // Trials 1 and 3 (mod 4): every real multiplier below 1/2 or 1/4, where the shorter
            // forms apply too.
            let multipliers = randomMultipliers(count, &generator, below: trial % 4 == 1 ? 0.5 : trial % 4 == 3 ? 0.25 : nil)
            let zeroPoint = Int32(Int(generator.next() % 256) - 128)
            let (minimum, maximum): (Int32, Int32) = trial % 3 == 0 ? (-128, 127) : (max(zeroPoint, -128), min(zeroPoint + 60, 127))
            var table = [Int64](repeating: 0, count: mnw_requant_table_size(Int32(count)) / 8)
            let shortest = mnw_requant_prepare(multipliers.map(\.multiplier), multipliers.map(\.shift), Int32(count), zeroPoint, &table)
            let expectedForm = multipliers.allSatisfy { (-21 ... -2).contains($0.shift) } ? MNW_REQUANT_ROUNDED
                : multipliers.allSatisfy { $0.shift <= -1 } ? MNW_REQUANT_HIGH : MNW_REQUANT_GENERAL
            XCTAssertEqual(shortest, Int32(expectedForm), "trial \(trial)")
            let expected = zip(accumulators, multipliers).map {
                Int8(requantize($0, multiplier: $1, outputZeroPoint: zeroPoint, minimum: minimum, maximum: maximum))
            }
            for form in 0...shortest {
                var output = [Int8](repeating: 0, count: count)
                mnw_requantize_avx512(accumulators, Int32(count), table, form, zeroPoint, minimum, maximum, &output)
                XCTAssertEqual(output, expected, "trial \(trial), form \(form)")
            }
        }
    }

    /// The VNNI GEMM equals the reference fully connected layer for row counts around its tile
    /// heights (1, 4, 8), inputs that are not multiples of 4, outputs around multiples of 16 (one
    /// to five output blocks) and exactly 8 (rows in pairs), every input zero point and a fused
    /// ReLU, in every requantization form the table allows.
    func testGEMMEqualsTheReference() throws {
        vnni = hasVNNI()
        var generator = SeededGenerator(seed: 5)
        for (rows, k, n) in [(1, 1, 1), (1, 256, 10), (3, 5, 5), (4, 16, 16), (8, 8, 48), (9, 17, 33), (13, 64, 48), (7, 336, 56),
                             (12, 57, 80), (17, 24, 144), (2, 40, 257), (70, 12, 16), (45, 20, 64), (19, 16, 8), (25, 12, 8), (7, 4, 8),
                             (22, 8, 80), (10, 8, 32)] {
            let weight = (0..<(k * n)).map { _ in Int8(truncatingIfNeeded: generator.next()) }
            let input = (0..<(rows * k)).map { _ in Int8(truncatingIfNeeded: generator.next()) }
            let bias = (0..<n).map { _ in Int32(truncatingIfNeeded: generator.next()) >> 12 }
            let requantization = Requantization(multipliers: randomMultipliers(n, &generator, below: [1.0, 1.0 / 256, 0.5][rows % 3]), outputZeroPoint: -7,
                                                minimum: rows % 2 == 0 ? -7 : -128, maximum: 127)
            for zeroPoint: Int32 in [-128, -3, 0, 127] {
                var expected = [Int8](repeating: 0, count: rows * n)
                input.withUnsafeBufferPointer { x in
                    weight.withUnsafeBufferPointer { w in
                        bias.withUnsafeBufferPointer { b in
                            expected.withUnsafeMutableBufferPointer { out in
                                ReferenceKernels.fullyConnected(rows: rows, inputs: k, outputs: n, input: x, inputZeroPoint: zeroPoint, weight: w,
                                                                bias: b, requantization: requantization, output: out)
                            }
                        }
                    }
                }
                for (avx2, form) in kernelRuns(requantization) {
                    for avxVNNI in avxVNNIRuns(avx2) {
                        let output = runGEMM(rows: rows, k: k, n: n, input: input, zeroPoint: zeroPoint, weight: weight, bias: bias,
                                             requantization: requantization, convolution: nil, avx2: avx2, form: form, avxVNNI: avxVNNI)
                        XCTAssertEqual(output, expected, "rows \(rows), k \(k), n \(n), zero point \(zeroPoint), AVX2 \(avx2), AVX-VNNI \(avxVNNI), form \(form)")
                    }
                }
            }
        }
    }

    /// The VNNI GEMM over padded windows (k x k convolutions) and the depthwise kernels equal the
    /// reference convolution: kernel sizes 1-5, strides 1-2, padding, dilation, channel counts off
    /// multiples of 16, every input zero point.
    func testConvolutionKernelsEqualTheReference() throws {
        vnni = hasVNNI()
        var generator = SeededGenerator(seed: 9)
        let shapes: [(height: Int, width: Int, channels: Int, kernel: Int, outputs: Int, stride: Int, padding: Int, dilation: Int)] = [
            (7, 7, 1, 3, 16, 1, 1, 1), (9, 8, 3, 3, 8, 2, 1, 1), (6, 6, 16, 1, 24, 2, 0, 1), (8, 8, 5, 5, 20, 1, 2, 1),
            (10, 9, 4, 3, 17, 1, 2, 2), (5, 5, 40, 3, 48, 2, 1, 1),
        ]
        for (trial, s) in shapes.enumerated() {
            let input = (0..<(s.height * s.width * s.channels)).map { _ in Int8(truncatingIfNeeded: generator.next()) }
            for depthwise in [false, true] {
                let outputs = depthwise ? s.channels * 4 : s.outputs
                let channels = depthwise ? outputs : s.channels
                let image = depthwise ? (0..<(s.height * s.width * channels)).map { _ in Int8(truncatingIfNeeded: generator.next()) } : input
                let g = ConvolutionGeometry(batch: 1, height: s.height, width: s.width, inputChannels: channels, kernelHeight: s.kernel,
                                            kernelWidth: s.kernel, outputChannels: outputs, stride: (s.stride, s.stride),
                                            padding: (s.padding, s.padding), dilation: (s.dilation, s.dilation), groups: depthwise ? channels : 1)
                let filter = (0..<(s.kernel * s.kernel * (depthwise ? 1 : channels) * outputs)).map { _ in Int8(truncatingIfNeeded: generator.next()) }
                let bias = (0..<outputs).map { _ in Int32(truncatingIfNeeded: generator.next()) >> 14 }
                let requantization = Requantization(multipliers: randomMultipliers(outputs, &generator, below: trial % 2 == 0 ? 1.0 / 512 : 1.0), outputZeroPoint: 3,
                                                    minimum: trial % 2 == 0 ? 3 : -128, maximum: trial % 2 == 0 ? 100 : 127)
                for zeroPoint: Int32 in [-128, 5, 127] {
                    var expected = [Int8](repeating: 0, count: g.outputHeight * g.outputWidth * outputs)
                    image.withUnsafeBufferPointer { x in
                        filter.withUnsafeBufferPointer { w in
                            bias.withUnsafeBufferPointer { b in
                                expected.withUnsafeMutableBufferPointer { out in
                                    ReferenceKernels.convolution(g, input: x, inputZeroPoint: zeroPoint, filter: w, bias: b,
                                                                 requantization: requantization, output: out)
                                }
                            }
                        }
                    }
                    var geometry = mnw_conv_geometry()
                    (geometry.height, geometry.width, geometry.channels) = (Int32(g.height), Int32(g.width), Int32(channels))
                    (geometry.kernel_height, geometry.kernel_width) = (Int32(s.kernel), Int32(s.kernel))
                    (geometry.stride_height, geometry.stride_width) = (Int32(s.stride), Int32(s.stride))
                    (geometry.padding_height, geometry.padding_width) = (Int32(s.padding), Int32(s.padding))
                    (geometry.dilation_height, geometry.dilation_width) = (Int32(s.dilation), Int32(s.dilation))
                    (geometry.output_height, geometry.output_width, geometry.output_channels) = (Int32(g.outputHeight), Int32(g.outputWidth), Int32(outputs))
                    if depthwise {
                        // The multiply-add kernel, and the column kernel where it applies (3 x 3,
                        // stride 1 or 2, no dilation, a CPU with VBMI).
                        let columnShape = s.kernel == 3 && s.dilation == 1 && s.stride <= 2
                        for (avx2, form) in kernelRuns(requantization) {
                            // AVX-512: the column kernel needs VBMI; AVX2: AVX-VNNI.
                            let columns = columnShape && (avx2 ? mnw_cpu_has_avxvnni() : mnw_cpu_has_avx512vbmi()) == 1
                            for useColumns in columns ? [false, true] : [false] {
                                let output = runDepthwise(geometry, input: image, zeroPoint: zeroPoint, filter: filter, bias: bias,
                                                          requantization: requantization, columns: useColumns, avx2: avx2, form: form)
                                XCTAssertEqual(output, expected,
                                               "shape \(trial), depthwise, columns \(useColumns), AVX2 \(avx2), form \(form), zero point \(zeroPoint)")
                            }
                        }
                    } else {
                        for (avx2, form) in kernelRuns(requantization) {
                            for avxVNNI in avxVNNIRuns(avx2) {
                                let output = runGEMM(rows: g.outputHeight * g.outputWidth, k: s.kernel * s.kernel * channels, n: outputs, input: image,
                                                     zeroPoint: zeroPoint, weight: filter, bias: bias, requantization: requantization, convolution: geometry,
                                                     avx2: avx2, form: form, avxVNNI: avxVNNI)
                                XCTAssertEqual(output, expected, "shape \(trial), zero point \(zeroPoint), AVX2 \(avx2), AVX-VNNI \(avxVNNI), form \(form)")
                            }
                        }
                    }
                }
            }
        }
    }

    /// Max pooling (kernels 2 and 3, strides 1 and 2, with and without padding, channel counts
    /// around 64) and concatenation (inputs copied or rescaled, 3 to 70 channels) equal the
    /// reference kernels, AVX-512 and AVX2.
    func testPoolingAndConcatenationEqualTheReference() throws {
        vnni = hasVNNI()
        var generator = SeededGenerator(seed: 17)
        let hasAVX2 = mnw_cpu_has_avx2() == 1
        for (height, width, channels, kernel, stride, padding) in [(8, 8, 32, 2, 2, 0), (9, 7, 70, 3, 2, 0), (9, 9, 5, 3, 2, 1), (6, 5, 64, 2, 1, 0),
                                                                    (7, 7, 16, 3, 1, 1), (5, 8, 3, 3, 2, 0)] {
            let input = (0..<(height * width * channels)).map { _ in Int8(truncatingIfNeeded: generator.next()) }
            let (outHeight, outWidth) = ((height + 2 * padding - kernel) / stride + 1, (width + 2 * padding - kernel) / stride + 1)
            var expected = [Int8](repeating: 0, count: outHeight * outWidth * channels)
            input.withUnsafeBufferPointer { x in
                expected.withUnsafeMutableBufferPointer { y in
                    ReferenceKernels.maxPool(batch: 1, height: height, width: width, channels: channels, kernel: (kernel, kernel), stride: (stride, stride),
                                             padding: (padding, padding), input: x, output: y)
                }
            }
            for avx2 in (vnni ? [false] : []) + (hasAVX2 ? [true] : []) {
                var output = [Int8](repeating: 0, count: expected.count)
                let pool = avx2 ? mnw_max_pool_avx2 : mnw_max_pool_avx512
                pool(input, Int32(height), Int32(width), Int32(channels), Int32(kernel), Int32(kernel), Int32(stride), Int32(stride), Int32(padding),
                     Int32(padding), Int32(outHeight), Int32(outWidth), &output)
                XCTAssertEqual(output, expected, "max pool \(height)x\(width)x\(channels), kernel \(kernel), stride \(stride), padding \(padding), AVX2 \(avx2)")
            }
        }
        let pixels = 11, multiplier = FixedPointMultiplier(0.7)
        var table = [Int64](repeating: 0, count: mnw_requant_table_size(16) / 8)
        _ = mnw_requant_prepare([Int32](repeating: multiplier.multiplier, count: 16), [Int32](repeating: multiplier.shift, count: 16), 16, 3, &table)
        for channels in [[32, 32], [3, 70, 16], [64, 5]] {
            // The inputs in memory of their own (the kernels take pointers to them).
            let buffers = channels.map { c in UnsafeMutableBufferPointer<Int8>.allocate(capacity: pixels * c) }
            defer { for buffer in buffers { buffer.deallocate() } }
            for buffer in buffers { for i in buffer.indices { buffer[i] = Int8(truncatingIfNeeded: generator.next()) } }
            let zeroPoints: [Int32] = channels.indices.map { Int32($0 * 9 - 5) }
            for rescaled in [false, true] {
                let inputs = channels.indices.map { i in
                    ReferenceKernels.ConcatenationInput(codes: UnsafeBufferPointer(buffers[i]), channels: channels[i], zeroPoint: zeroPoints[i],
                                                        multiplier: rescaled && i == 1 ? multiplier : nil)
                }
                var expected = [Int8](repeating: 0, count: pixels * channels.reduce(0, +))
                expected.withUnsafeMutableBufferPointer { ReferenceKernels.concatenateChannels(pixels: pixels, inputs: inputs, outputZeroPoint: 3, output: $0) }
                for avx2 in (vnni ? [false] : []) + (hasAVX2 && !rescaled ? [true] : []) {
                    var output = [Int8](repeating: 0, count: expected.count)
                    table.withUnsafeBufferPointer { rescaling in
                        let c = channels.indices.map { i in
                            mnw_concat_input(codes: buffers[i].baseAddress, channels: Int32(channels[i]), zero_point: zeroPoints[i],
                                             table: rescaled && i == 1 ? rescaling.baseAddress : nil)
                        }
                        if avx2 { mnw_concatenate_copy(Int32(pixels), c, Int32(c.count), &output) }
                        else { mnw_concatenate_avx512(Int32(pixels), c, Int32(c.count), 3, &output) }
                    }
                    XCTAssertEqual(output, expected, "concatenation of \(channels), rescaled \(rescaled), AVX2 \(avx2)")
                }
            }
        }
    }

    /// The residual add on every kernel level equals the reference, for element counts around
    /// multiples of 16 and 64 (the AVX-512 kernel narrows 64 lanes at once) and a fused ReLU.
    func testAddEqualsTheReference() throws {
        var generator = SeededGenerator(seed: 29)
        for (shape, relu) in [([3, 7, 5], false), ([4, 4, 4], true), ([1, 1, 17], false), ([5, 8, 5], true), ([2, 3, 10], false)] {
            var writer = ModelWriter()
            let p = QuantizationParameters(scale: 0.05, zeroPoint: -7)
            let x = writer.addActivation(shape: shape, parameters: p), y = writer.addActivation(shape: shape, parameters: p)
            writer.addOperator(.clamp, [x, y, -90, 100])
            let out = writer.addActivation(shape: shape, parameters: QuantizationParameters(scale: 0.08, zeroPoint: 3))
            // TFLite's add: inputs scaled by 2^20 and by s / (2 max s); the sum by 2 max s / (2^20 s_out).
            let (input, output) = (FixedPointMultiplier(0.05 / 0.1), FixedPointMultiplier(0.1 / (Double(1 << 20) * 0.08)))
            writer.addOperator(.add, [x, y, out, input.multiplier, input.shift, input.multiplier, input.shift, output.multiplier, output.shift,
                                      relu ? 3 : -128, 127])
            let bytes = writer.serialize(input: x, output: out, multiplyAccumulates: 0).bytes
            let image = (0..<shape.reduce(1, *)).map { _ in Int8(truncatingIfNeeded: generator.next()) }
            func codes(_ kernels: KernelChoice) throws -> [Int8] {
                try bytes.withUnsafeBytes { raw in
                    let interpreter = try Interpreter(model: try RuntimeModel(bytes: raw), kernels: kernels)
                    for i in image.indices { interpreter.input[i] = image[i] }
                    interpreter.invoke()
                    return Array(interpreter.output)
                }
            }
            let expected = try codes(.reference)
            for kernels in [KernelChoice.fastest, .avxVNNI, .avx2] {
                XCTAssertEqual(try codes(kernels), expected, "add of \(shape), ReLU \(relu), \(kernels)")
            }
        }
    }

    /// Whether this CPU has the AVX-512 kernels (set by the tests that compare kernels).
    private var vnni = false

    /// The kernels to compare (AVX2 or AVX-512) and the requantization form each runs in: the
    /// AVX-512 ones where the CPU has them, in every form up to the shortest the table allows
    /// (each shorter form is exact only where it applies; the longer ones everywhere); the AVX2
    /// ones where the CPU has AVX2 and the table a short form (the only ones they implement).
    private func kernelRuns(_ requantization: Requantization) -> [(avx2: Bool, form: Int32)] {
        let shortest = table(requantization).1
        return (vnni ? (0...shortest).map { (false, $0) } : []) + (mnw_cpu_has_avx2() == 1 && shortest >= MNW_REQUANT_HIGH ? [(true, shortest)] : [])
    }

    private func randomMultipliers(_ count: Int, _ generator: inout SeededGenerator, below: Double? = nil) -> [FixedPointMultiplier] {
        (0..<count).map { _ in
            let real = below.map { Double(generator.nextUnitFloat()) * $0 } ?? Double(generator.nextUnitFloat()) * pow(2, Double(Int(generator.next() % 62) - 31))
            return FixedPointMultiplier(real)
        }
    }

    /// The AVX2 GEMM runs: with 16-bit pairs, and with AVX-VNNI where the CPU has it.
    private func avxVNNIRuns(_ avx2: Bool) -> [Bool] { avx2 && mnw_cpu_has_avxvnni() == 1 ? [false, true] : [false] }

    /// The requantization table and the shortest form it allows.
    private func table(_ requantization: Requantization) -> ([Int64], Int32) {
        let count = requantization.multipliers.count
        var table = [Int64](repeating: 0, count: mnw_requant_table_size(Int32(count)) / 8)
        let form = mnw_requant_prepare(requantization.multipliers.map(\.multiplier), requantization.multipliers.map(\.shift), Int32(count),
                                       requantization.outputZeroPoint, &table)
        return (table, form)
    }

    private func runGEMM(rows: Int, k: Int, n: Int, input: [Int8], zeroPoint: Int32, weight: [Int8], bias: [Int32],
                         requantization: Requantization, convolution: mnw_conv_geometry?, avx2: Bool, form: Int32, avxVNNI: Bool = false) -> [Int8] {
        var geometry = convolution ?? mnw_conv_geometry()
        return withUnsafePointer(to: &geometry) { geometryPointer in
            let g = convolution == nil ? nil : geometryPointer
            let groups = Int(mnw_gemm_groups(Int32(k), g))
            var packed = [Int8](repeating: 0, count: mnw_gemm_packed_size(Int32(k), Int32(n), g))
            var offsets = [Int32](repeating: 0, count: groups)
            mnw_gemm_pack(weight, Int32(k), Int32(n), g, &packed, &offsets)
            var packed16 = [Int16](repeating: 0, count: mnw_gemm_avx2_packed_size(Int32(k), Int32(n), g) / 2)
            if avx2 { mnw_gemm_avx2_pack(packed, Int32(k), Int32(n), g, &packed16) }
            var base = [Int32](repeating: 0, count: (n + 15) / 16 * 16)
            mnw_weight_base(weight, Int32(k), Int32(n), bias, 128 + zeroPoint, &base)
            let requant = table(requantization).0
            var scratch = [UInt8](repeating: 0, count: mnw_gemm_input_size(Int32(rows), Int32(k), g))
            var output = [Int8](repeating: 0, count: rows * n)
            input.withUnsafeBufferPointer { x in
                packed.withUnsafeBufferPointer { p in
                    offsets.withUnsafeBufferPointer { o in
                        base.withUnsafeBufferPointer { b in
                            requant.withUnsafeBufferPointer { r in
                                scratch.withUnsafeMutableBufferPointer { s in
                                    output.withUnsafeMutableBufferPointer { out in
                                        var a = mnw_gemm()
                                        (a.rows, a.k, a.n, a.input, a.convolution) = (Int32(rows), Int32(k), Int32(n), x.baseAddress, g)
                                        (a.zero_point, a.packed, a.offsets, a.groups, a.base) = (zeroPoint, p.baseAddress, o.baseAddress, Int32(groups), b.baseAddress)
                                        (a.requant, a.requant_form) = (r.baseAddress, form)
                                        (a.output_zero_point, a.minimum, a.maximum) = (requantization.outputZeroPoint, requantization.minimum, requantization.maximum)
                                        (a.output, a.scratch) = (out.baseAddress, s.baseAddress)
                                        if avxVNNI { mnw_gemm_avxvnni(&a) } else if avx2 { mnw_gemm_avx2(&a, packed16) } else { mnw_gemm_vnni(&a) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            return output
        }
    }

    private func runDepthwise(_ geometry: mnw_conv_geometry, input: [Int8], zeroPoint: Int32, filter: [Int8], bias: [Int32],
                              requantization: Requantization, columns: Bool, avx2: Bool, form: Int32) -> [Int8] {
        let (channels, taps) = (Int(geometry.channels), Int(geometry.kernel_height * geometry.kernel_width))
        let padded = (channels + 15) / 16 * 16
        var widened = [Int32](repeating: 0, count: taps * padded), base = [Int32](repeating: 0, count: padded)
        mnw_widen_filter(filter, Int32(taps), Int32(channels), &widened)
        mnw_weight_base(filter, Int32(taps), Int32(channels), bias, zeroPoint, &base)
        let requant = table(requantization).0
        var output = [Int8](repeating: 0, count: Int(geometry.output_height * geometry.output_width) * channels)
        var g = geometry
        var padding = [Int8](repeating: 0, count: mnw_depthwise_padded_size(&g))
        var columnWeights = [Int8](repeating: 0, count: (channels + 15) / 16 * 192), unsignedBase = [Int32](repeating: 0, count: padded)
        if columns { mnw_depthwise_columns_prepare(filter, Int32(channels), bias, zeroPoint, &columnWeights, &unsignedBase) }
        input.withUnsafeBufferPointer { x in
            widened.withUnsafeBufferPointer { w in
                base.withUnsafeBufferPointer { b in
                    requant.withUnsafeBufferPointer { r in
                        output.withUnsafeMutableBufferPointer { out in
                            padding.withUnsafeMutableBufferPointer { padded in
                                withUnsafePointer(to: &g) { geometryPointer in
                                    var a = mnw_depthwise()
                                    (a.geometry, a.input, a.zero_point, a.padded) = (geometryPointer, x.baseAddress, zeroPoint, padded.baseAddress)
                                    (a.filter, a.base, a.requant, a.requant_form) = (w.baseAddress, b.baseAddress, r.baseAddress, form)
                                    (a.output_zero_point, a.minimum, a.maximum) = (requantization.outputZeroPoint, requantization.minimum, requantization.maximum)
                                    a.output = out.baseAddress
                                    columnWeights.withUnsafeBufferPointer { cw in
                                        unsignedBase.withUnsafeBufferPointer { ub in
                                            (a.columns, a.column_weights, a.unsigned_base) = (columns ? 1 : 0, cw.baseAddress, ub.baseAddress)
                                            if avx2 { columns ? mnw_depthwise_avxvnni(&a) : mnw_depthwise_avx2(&a) } else { mnw_depthwise_avx512(&a) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return output
    }
}
