import CRuntimeKernels
import MinnowRuntime
import MinnowTensor
import MinnowTestSupport
import QuantMath
import XCTest

/// The SIMD kernels of every instruction-set level this CPU has (`mnw_kernels_for`) equal the
/// reference arithmetic bit for bit. Every test compares at least one level: on a CPU with no fast
/// level (not x86-64 with AVX2) they fail through `Requirements.require`, never return early.
final class FastKernelTests: XCTestCase {
    /// The levels this CPU has, fastest first; at least one, or the test fails (CI) or skips.
    func levels() throws -> [mnw_kernels] {
        let found = (0..<Int32(MNW_LEVEL_COUNT)).compactMap { mnw_kernels_for($0)?.pointee }
        try Requirements.require(!found.isEmpty, "this CPU has no fast kernel level (the runtime's SIMD kernels need x86-64 with AVX2)")
        XCTAssertEqual(KernelChoice.detected, String(cString: found[0].name), "fastest runs the first level the CPU has")
        return found
    }

    /// Vector requantization equals QuantMath's `requantize` on random and extreme accumulators,
    /// multipliers (real ratios from 2^-31 to 2^30) and every zero point and clamp kind.
    func testVectorRequantizationEqualsQuantMath() throws {
        let levels = try levels()
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
            for level in levels {
                // Every form up to the shortest (a level of short forms only: the short ones).
                for form in stride(from: level.short_forms_only == 1 ? Int32(MNW_REQUANT_HIGH) : 0, through: shortest, by: 1) {
                    var output = [Int8](repeating: 0, count: count)
                    level.requantize(accumulators, Int32(count), table, form, zeroPoint, minimum, maximum, &output)
                    XCTAssertEqual(output, expected, "trial \(trial), form \(form), \(String(cString: level.name))")
                }
            }
        }
    }

    /// Every level's GEMM equals the reference fully connected layer for row counts around its tile
    /// heights (1, 4, 8), inputs that are not multiples of 4, outputs around multiples of 16 (one
    /// to five output blocks) and exactly 8 (rows in pairs), every input zero point and a fused
    /// ReLU, in every requantization form the table allows; with 8-bit weights, and with 7-bit ones
    /// (AVX2 then multiplies bytes: `bytesPaths`) including the extreme products (inputs 127, weights
    /// -64 and 63).
    func testGEMMEqualsTheReference() throws {
        let levels = try levels()
        var generator = SeededGenerator(seed: 5)
        for (rows, k, n) in [(1, 1, 1), (1, 256, 10), (3, 5, 5), (4, 16, 16), (8, 8, 48), (9, 17, 33), (13, 64, 48), (7, 336, 56),
                             (12, 57, 80), (17, 24, 144), (2, 40, 257), (70, 12, 16), (45, 20, 64), (19, 16, 8), (25, 12, 8), (7, 4, 8),
                             (22, 8, 80), (10, 8, 32)] {
          for sevenBits in [false, true] {
            let weight = randomWeights(k * n, sevenBits: sevenBits, &generator)
            let input = (0..<(rows * k)).map { i in i < k ? 127 : Int8(truncatingIfNeeded: generator.next()) }
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
                for (level, form) in kernelRuns(levels, requantization) {
                    for bytes in bytesPaths(level, weight) {
                        let output = runGEMM(rows: rows, k: k, n: n, input: input, zeroPoint: zeroPoint, weight: weight, bias: bias,
                                             requantization: requantization, convolution: nil, level: level, form: form, bytes: bytes)
                        XCTAssertEqual(output, expected, "rows \(rows), k \(k), n \(n), 7-bit \(sevenBits), bytes \(bytes), zero point \(zeroPoint), \(String(cString: level.name)), form \(form)")
                    }
                }
            }
          }
        }
    }

    /// `count` random weights of 8 bits, or of 7 bits ([-64, 63]) with the extremes -64 and 63 first.
    private func randomWeights(_ count: Int, sevenBits: Bool, _ generator: inout SeededGenerator) -> [Int8] {
        (0..<count).map { i in
            let w = Int8(truncatingIfNeeded: generator.next())
            guard sevenBits else { return w }
            return i % 5 == 0 ? -64 : i % 5 == 1 ? 63 : w >> 1
        }
    }

    /// The GEMM or depthwise paths to run on `level` for `weights`: words (false) on a level whose
    /// byte products need 7-bit weights, and bytes (true) where they are exact (VNNI, or 7 bits).
    private func bytesPaths(_ level: mnw_kernels, _ weights: [Int8]) -> [Bool] {
        let sevenBits = weights.allSatisfy { (-64...63).contains($0) }
        return level.bytes_need_seven_bits == 0 ? [true] : sevenBits ? [false, true] : [false]
    }

    /// The VNNI GEMM over padded windows (k x k convolutions) and the depthwise kernels equal the
    /// reference convolution: kernel sizes 1-5, strides 1-2, padding, dilation, channel counts off
    /// multiples of 16, every input zero point.
    func testConvolutionKernelsEqualTheReference() throws {
        let levels = try levels()
        var generator = SeededGenerator(seed: 9)
        let shapes: [(height: Int, width: Int, channels: Int, kernel: Int, outputs: Int, stride: Int, padding: Int, dilation: Int)] = [
            (7, 7, 1, 3, 16, 1, 1, 1), (9, 8, 3, 3, 8, 2, 1, 1), (6, 6, 16, 1, 24, 2, 0, 1), (8, 8, 5, 5, 20, 1, 2, 1),
            (10, 9, 4, 3, 17, 1, 2, 2), (5, 5, 40, 3, 48, 2, 1, 1),
        ]
        for (trial, s) in shapes.enumerated() {
          for sevenBits in [false, true] {
            let input = (0..<(s.height * s.width * s.channels)).map { _ in Int8(truncatingIfNeeded: generator.next()) }
            for depthwise in [false, true] {
                let outputs = depthwise ? s.channels * 4 : s.outputs
                let channels = depthwise ? outputs : s.channels
                let image = depthwise ? (0..<(s.height * s.width * channels)).map { _ in Int8(truncatingIfNeeded: generator.next()) } : input
                let g = ConvolutionGeometry(batch: 1, height: s.height, width: s.width, inputChannels: channels, kernelHeight: s.kernel,
                                            kernelWidth: s.kernel, outputChannels: outputs, stride: (s.stride, s.stride),
                                            padding: (s.padding, s.padding), dilation: (s.dilation, s.dilation), groups: depthwise ? channels : 1)
                let filter = randomWeights(s.kernel * s.kernel * (depthwise ? 1 : channels) * outputs, sevenBits: sevenBits, &generator)
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
                        // stride 1 or 2, no dilation, a level that has it, weights it multiplies exactly).
                        let columnShape = s.kernel == 3 && s.dilation == 1 && s.stride <= 2
                        for (level, form) in kernelRuns(levels, requantization) {
                            let columns = columnShape && level.depthwise_columns == 1 && bytesPaths(level, filter).contains(true)
                            for useColumns in columns ? [false, true] : [false] {
                                let output = runDepthwise(geometry, input: image, zeroPoint: zeroPoint, filter: filter, bias: bias,
                                                          requantization: requantization, columns: useColumns, level: level, form: form)
                                XCTAssertEqual(output, expected,
                                               "shape \(trial), depthwise, 7-bit \(sevenBits), columns \(useColumns), \(String(cString: level.name)), form \(form), zero point \(zeroPoint)")
                            }
                        }
                    } else {
                        for (level, form) in kernelRuns(levels, requantization) {
                            for bytes in bytesPaths(level, filter) {
                                let output = runGEMM(rows: g.outputHeight * g.outputWidth, k: s.kernel * s.kernel * channels, n: outputs, input: image,
                                                     zeroPoint: zeroPoint, weight: filter, bias: bias, requantization: requantization, convolution: geometry,
                                                     level: level, form: form, bytes: bytes)
                                XCTAssertEqual(output, expected, "shape \(trial), 7-bit \(sevenBits), bytes \(bytes), zero point \(zeroPoint), \(String(cString: level.name)), form \(form)")
                            }
                        }
                    }
                }
            }
          }
        }
    }

    /// Max pooling (kernels 2 and 3, strides 1 and 2, with and without padding, channel counts
    /// around 64) and concatenation (inputs copied or rescaled by real multipliers from 0.3 to 60,
    /// 3 to 70 channels) equal the reference kernels on every level.
    func testPoolingAndConcatenationEqualTheReference() throws {
        let levels = try levels()
        var generator = SeededGenerator(seed: 17)
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
            for level in levels {
                var output = [Int8](repeating: 0, count: expected.count)
                input.withUnsafeBufferPointer { x in
                    output.withUnsafeMutableBufferPointer { y in
                        var pool = mnw_max_pool(input: x.baseAddress, height: Int32(height), width: Int32(width), channels: Int32(channels),
                                                kernel_height: Int32(kernel), kernel_width: Int32(kernel), stride_height: Int32(stride), stride_width: Int32(stride),
                                                padding_height: Int32(padding), padding_width: Int32(padding), output_height: Int32(outHeight),
                                                output_width: Int32(outWidth), output: y.baseAddress)
                        level.max_pool(&pool)
                    }
                }
                XCTAssertEqual(output, expected, "max pool \(height)x\(width)x\(channels), kernel \(kernel), stride \(stride), padding \(padding), \(String(cString: level.name))")
            }
        }
        for (channels, ratio) in [([32, 32], 0.7), ([3, 70, 16], 1.0), ([64, 5], 0.3), ([17, 9], 1.9), ([8, 40], 60.0)] {
            // Real multipliers below 1/2 (a short form as they are), from 1/2 to 2^7 (codes shifted left first).
            let pixels = 11, multiplier = FixedPointMultiplier(ratio)
            var table = [Int64](repeating: 0, count: mnw_requant_table_size(16) / 8), leftShift: Int32 = 0
            let form = mnw_rescale_prepare(multiplier.multiplier, multiplier.shift, 3, &table, &leftShift)
            XCTAssertGreaterThanOrEqual(form, Int32(MNW_REQUANT_HIGH), "\(ratio)")
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
                for level in levels {
                    var output = [Int8](repeating: 0, count: expected.count)
                    table.withUnsafeBufferPointer { rescaling in
                        let c = channels.indices.map { i in
                            mnw_concat_input(codes: buffers[i].baseAddress, channels: Int32(channels[i]), zero_point: zeroPoints[i],
                                             table: rescaled && i == 1 ? rescaling.baseAddress : nil, left_shift: leftShift, form: form)
                        }
                        c.withUnsafeBufferPointer { inputs in
                            output.withUnsafeMutableBufferPointer { y in
                                var concatenation = mnw_concatenate(pixels: Int32(pixels), count: Int32(c.count), inputs: inputs.baseAddress, output_zero_point: 3,
                                                                    output: y.baseAddress)
                                level.concatenate(&concatenation)
                            }
                        }
                    }
                    XCTAssertEqual(output, expected, "concatenation of \(channels), rescaled by \(ratio): \(rescaled), \(String(cString: level.name))")
                }
            }
        }
    }

    /// The residual add on every kernel level equals the reference, for element counts around
    /// multiples of 16 and 64 (the AVX-512 kernel narrows 64 lanes at once) and a fused ReLU.
    func testAddEqualsTheReference() throws {
        var generator = SeededGenerator(seed: 29)
        // Output scales 0.08 and 0.5: the output table's rounded form, and the high form (its real
        // multiplier below 2^-21).
        let shapes = [([3, 7, 5], false), ([4, 4, 4], true), ([1, 1, 17], false), ([5, 8, 5], true), ([2, 3, 10], false)]
        for ((shape, relu), outputScale) in shapes.flatMap({ s in [0.08, 0.5].map { (s, $0) } }) {
            var writer = ModelWriter()
            let p = QuantizationParameters(scale: 0.05, zeroPoint: -7)
            let x = writer.addActivation(shape: shape, parameters: p), y = writer.addActivation(shape: shape, parameters: p)
            writer.addOperator(.clamp(Clamp(input: x, output: y, clamp: CodeRange(minimum: -90, maximum: 100))))
            let out = writer.addActivation(shape: shape, parameters: QuantizationParameters(scale: Float(outputScale), zeroPoint: 3))
            // TFLite's add: inputs scaled by 2^20 and by s / (2 max s); the sum by 2 max s / (2^20 s_out).
            let (input, output) = (FixedPointMultiplier(0.05 / 0.1), FixedPointMultiplier(0.1 / (Double(1 << 20) * outputScale)))
            writer.addOperator(.add(Add(a: x, b: y, output: out, aMultiplier: input, bMultiplier: input, outputMultiplier: output,
                                        clamp: CodeRange(minimum: relu ? 3 : -128, maximum: 127))))
            let bytes = try writer.serialize(input: x, output: out, multiplyAccumulates: 0).bytes
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
            _ = try levels()
            for kernels in [KernelChoice.fastest, .avxVNNI, .avx2] {
                XCTAssertEqual(try codes(kernels), expected, "add of \(shape), ReLU \(relu), output scale \(outputScale), \(kernels)")
            }
        }
    }

    /// The table lookup on every level equals the reference for every code, counts around
    /// multiples of 32 (the AVX2 kernel's width; the tail goes through a copy).
    func testLookupEqualsTheReference() throws {
        let levels = try levels()
        var generator = SeededGenerator(seed: 31)
        let table = (0..<256).map { _ in Int8(truncatingIfNeeded: generator.next()) }
        for count in [1, 31, 32, 33, 256, 300] {
            let input = (0..<count).map { i in i < 256 ? Int8(truncatingIfNeeded: i) : Int8(truncatingIfNeeded: generator.next()) }
            var expected = [Int8](repeating: 0, count: count)
            input.withUnsafeBufferPointer { x in table.withUnsafeBufferPointer { t in expected.withUnsafeMutableBufferPointer { y in
                ReferenceKernels.lookup(input: x, table: t, output: y)
            } } }
            XCTAssertEqual(expected.prefix(min(count, 256)), table.suffix(128).prefix(min(count, 128)) + table.prefix(max(0, min(count, 256) - 128)),
                           "the reference reads entry code + 128")
            for level in levels {
                var output = [Int8](repeating: 0, count: count)
                input.withUnsafeBufferPointer { x in table.withUnsafeBufferPointer { t in output.withUnsafeMutableBufferPointer { y in
                    var lookup = mnw_lookup(count: Int32(count), input: x.baseAddress, table: t.baseAddress, output: y.baseAddress)
                    level.lookup(&lookup)
                } } }
                XCTAssertEqual(output, expected, "\(count) codes, \(String(cString: level.name))")
            }
        }
    }

    /// Each level with each requantization form it runs: every form up to the shortest the table
    /// allows (each shorter form is exact only where it applies; the longer ones everywhere), or
    /// for a level that takes short forms only, the shortest when it is short.
    private func kernelRuns(_ levels: [mnw_kernels], _ requantization: Requantization) -> [(level: mnw_kernels, form: Int32)] {
        let shortest = table(requantization).1
        return levels.flatMap { level -> [(level: mnw_kernels, form: Int32)] in
            level.short_forms_only == 0 ? (0...shortest).map { (level, $0) } : shortest >= MNW_REQUANT_HIGH ? [(level, shortest)] : []
        }
    }

    private func randomMultipliers(_ count: Int, _ generator: inout SeededGenerator, below: Double? = nil) -> [FixedPointMultiplier] {
        (0..<count).map { _ in
            let real = below.map { Double(generator.nextUnitFloat()) * $0 } ?? Double(generator.nextUnitFloat()) * pow(2, Double(Int(generator.next() % 62) - 31))
            return FixedPointMultiplier(real)
        }
    }

    /// The requantization table and the shortest form it allows.
    private func table(_ requantization: Requantization) -> ([Int64], Int32) {
        let count = requantization.multipliers.count
        var table = [Int64](repeating: 0, count: mnw_requant_table_size(Int32(count)) / 8)
        let form = mnw_requant_prepare(requantization.multipliers.map(\.multiplier), requantization.multipliers.map(\.shift), Int32(count),
                                       requantization.outputZeroPoint, &table)
        return (table, form)
    }

    private func runGEMM(rows: Int, k: Int, n: Int, input: [Int8], zeroPoint: Int32, weight: [Int8], bias: [Int32],
                         requantization: Requantization, convolution: mnw_conv_geometry?, level: mnw_kernels, form: Int32, bytes: Bool) -> [Int8] {
        var geometry = convolution ?? mnw_conv_geometry()
        return withUnsafePointer(to: &geometry) { geometryPointer in
            let g = convolution == nil ? nil : geometryPointer
            let groups = Int(mnw_gemm_groups(Int32(k), g))
            var packed = [Int8](repeating: 0, count: mnw_gemm_packed_size(Int32(k), Int32(n), g))
            var offsets = [Int32](repeating: 0, count: groups)
            mnw_gemm_pack(weight, Int32(k), Int32(n), g, &packed, &offsets)
            var words = [Int16](repeating: 0, count: mnw_gemm_words_size(Int32(k), Int32(n), g) / 2)
            if !bytes { mnw_gemm_words_pack(packed, Int32(k), Int32(n), g, &words) }
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
                                        words.withUnsafeBufferPointer { w in
                                            a.packed_words = bytes ? nil : w.baseAddress
                                            level.gemm(&a)
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

    private func runDepthwise(_ geometry: mnw_conv_geometry, input: [Int8], zeroPoint: Int32, filter: [Int8], bias: [Int32],
                              requantization: Requantization, columns: Bool, level: mnw_kernels, form: Int32) -> [Int8] {
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
        var offsets = [Int](repeating: 0, count: taps)
        mnw_depthwise_tap_offsets(&g, &offsets)
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
                                            offsets.withUnsafeBufferPointer { tapOffsets in
                                                a.tap_offsets = tapOffsets.baseAddress
                                                level.depthwise(&a)
                                            }
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
