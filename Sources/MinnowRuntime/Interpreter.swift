import CRuntimeKernels
import QuantMath

/// Which kernels an interpreter runs.
public enum KernelChoice: Sendable {
    /// The fastest this CPU supports (checked at run time), the reference kernels elsewhere.
    case fastest
    /// The portable scalar reference kernels only.
    case reference

    /// The SIMD path the CPU allows: "avx512-vnni" or "reference".
    public static var detected: String { mnw_cpu_has_avx512vnni() == 1 ? "avx512-vnni" : "reference" }
}

/// Runs a `RuntimeModel` one image at a time in integer arithmetic, with every activation in one
/// arena (the caller's, or one allocated here once). Everything that needs memory is prepared
/// when the interpreter is made (requantization tables, unpacked int4 weights, pointers into the
/// arena and the weights); `invoke` allocates nothing.
public final class Interpreter {
    public let model: RuntimeModel
    private let arena: UnsafeMutableRawBufferPointer
    private let ownsArena: Bool
    private var steps: [PreparedStep] = []
    /// One output pixel's accumulators for every convolution (sized for the widest, rounded up to
    /// 16), owned here.
    private let scratch: UnsafeMutableBufferPointer<Int32>
    /// Whether pointwise convolutions and fully connected layers run the AVX-512 VNNI kernel.
    private let vnni: Bool
    /// Packed weights and column sums of the VNNI kernel, owned here.
    private var packedWeights: [UnsafeMutableRawPointer] = []
    /// One input patch of the widest dense convolution (`mnw_patch_row`), owned here.
    private let patch: UnsafeMutablePointer<Int8>
    /// The geometry of each dense or depthwise convolution on the fast path, owned here.
    private var geometries: [UnsafeMutablePointer<mnw_conv_geometry>] = []
    /// Unpacked int4 weights, owned here.
    private var unpacked: [UnsafeMutableBufferPointer<Int8>] = []

    /// An interpreter for `model` using `arena` (at least `model.arenaSize` bytes, 16-byte
    /// aligned, kept alive by the caller), or an arena of its own when none is given.
    public init(model: RuntimeModel, arena: UnsafeMutableRawBufferPointer? = nil, kernels: KernelChoice = .fastest) throws(ModelFormatError) {
        self.model = model
        vnni = kernels == .fastest && mnw_cpu_has_avx512vnni() == 1
        if let arena {
            guard arena.count >= model.arenaSize else { throw .arenaTooSmall(needed: model.arenaSize, given: arena.count) }
            guard Int(bitPattern: arena.baseAddress) % ModelFormat.alignment == 0 else {
                throw .misaligned("the arena does not start at a multiple of \(ModelFormat.alignment)")
            }
            (self.arena, ownsArena) = (arena, false)
        } else {
            (self.arena, ownsArena) = (.allocate(byteCount: max(model.arenaSize, 1), alignment: ModelFormat.alignment), true)
        }
        let widest = model.operators.compactMap { entry -> Int? in
            switch entry.code {
            case .convolution, .fullyConnected: model.tensors[Int(entry.arguments[1])].shape.last!
            default: nil
            }
        }.max() ?? 1
        scratch = .allocate(capacity: 4 * ((widest + 15) / 16 * 16))
        let widestPatch = model.operators.filter { $0.code == .convolution }.map { entry in
            model.tensors[Int(entry.arguments[1])].shape.prefix(3).reduce(1, *)
        }.max() ?? 1
        patch = .allocate(capacity: 4 * widestPatch)
        for entry in model.operators { steps.append(prepare(entry)) }
    }

    deinit {
        if ownsArena { arena.deallocate() }
        scratch.deallocate()
        for pointer in packedWeights { pointer.deallocate() }
        patch.deallocate()
        for geometry in geometries { geometry.deallocate() }
        for buffer in unpacked { buffer.deallocate() }
    }

    /// The input tensor's codes (write the image here, quantized with `inputParameters`).
    public var input: UnsafeMutableBufferPointer<Int8> { codes(model.input) }
    /// The output tensor's codes after `invoke`.
    public var output: UnsafeBufferPointer<Int8> { UnsafeBufferPointer(codes(model.output)) }
    public var inputParameters: QuantizationParameters { model.tensors[model.input].parameters }
    public var outputParameters: QuantizationParameters { model.tensors[model.output].parameters }

    /// Runs every operator on the codes in `input`.
    public func invoke() {
        for step in steps { step.run() }
    }

    /// The index of the largest output code (the predicted class; the first on ties).
    public var argmax: Int {
        let codes = output
        var best = 0
        for i in 1..<codes.count where codes[i] > codes[best] { best = i }
        return best
    }

    private func codes(_ tensor: Int) -> UnsafeMutableBufferPointer<Int8> {
        let t = model.tensors[tensor]
        return UnsafeMutableRawBufferPointer(rebasing: arena[t.offset..<(t.offset + t.byteLength)]).bindMemory(to: Int8.self)
    }

    private func int8s(_ tensor: Int) -> UnsafeBufferPointer<Int8> {
        let t = model.tensors[tensor]
        if t.type == .int4 {
            let buffer = UnsafeMutableBufferPointer<Int8>.allocate(capacity: t.elementCount)
            _ = buffer.initialize(from: unpackInt4(Array(model.constant(tensor)), count: t.elementCount))
            unpacked.append(buffer)
            return UnsafeBufferPointer(buffer)
        }
        return model.constant(tensor).bindMemory(to: Int8.self)
    }

    private func int32s(_ tensor: Int) -> UnsafeBufferPointer<Int32> { model.constant(tensor).bindMemory(to: Int32.self) }

    private func multiplier(_ m: Int32, _ s: Int32) -> FixedPointMultiplier { FixedPointMultiplier(multiplier: m, shift: s) }

    /// A 1x1 convolution with stride 1, no padding and one group: a matrix product over pixels.
    private func isPointwise(_ entry: OperatorEntry) -> Bool {
        let filter = model.tensors[Int(entry.arguments[1])], a = entry.arguments
        return filter.shape[0] == 1 && filter.shape[1] == 1 && a[6] == 1 && a[7] == 1 && a[8] == 0 && a[9] == 0 && a[12] == 1
    }

    /// A pointwise convolution or fully connected layer on the VNNI kernel: weights packed and
    /// their column sums computed once, here.
    /// The C geometry of a convolution operator (owned here).
    private func geometry(_ entry: OperatorEntry) -> UnsafeMutablePointer<mnw_conv_geometry> {
        let a = entry.arguments
        let x = model.tensors[Int(a[0])].shape, filter = model.tensors[Int(a[1])].shape, out = model.tensors[Int(a[5])].shape
        var g = mnw_conv_geometry()
        (g.height, g.width, g.channels) = (Int32(x[0]), Int32(x[1]), Int32(x[2]))
        (g.kernel_height, g.kernel_width) = (Int32(filter[0]), Int32(filter[1]))
        (g.stride_height, g.stride_width, g.padding_height, g.padding_width) = (a[6], a[7], a[8], a[9])
        (g.dilation_height, g.dilation_width) = (a[10], a[11])
        (g.output_height, g.output_width, g.output_channels) = (Int32(out[0]), Int32(out[1]), Int32(out[2]))
        let pointer = UnsafeMutablePointer<mnw_conv_geometry>.allocate(capacity: 1)
        pointer.initialize(to: g)
        geometries.append(pointer)
        return pointer
    }

    private func pointwise(rows: Int, inputs: Int, outputs: Int, entry: OperatorEntry, clamp: (Int32, Int32),
                           geometry: UnsafeMutablePointer<mnw_conv_geometry>? = nil) -> PreparedStep {
        let t = entry.arguments.map(Int.init)
        let weights = int8s(t[1])
        let packed = UnsafeMutableRawPointer.allocate(byteCount: max(mnw_vnni_packed_size(Int32(inputs), Int32(outputs)), 1), alignment: 64)
        let sums = UnsafeMutablePointer<Int32>.allocate(capacity: outputs)
        packedWeights += [packed, UnsafeMutableRawPointer(sums)]
        mnw_vnni_pack(weights.baseAddress, Int32(inputs), Int32(outputs), packed.assumingMemoryBound(to: Int8.self))
        mnw_column_sums(weights.baseAddress, Int32(inputs), Int32(outputs), sums)
        return .pointwise(PointwiseKernel(rows: rows, inputs: inputs, outputs: outputs, input: UnsafeBufferPointer(codes(t[0])),
                                          zeroPoint: model.tensors[t[0]].parameters.zeroPoint, packed: UnsafeRawPointer(packed),
                                          columnSums: UnsafePointer(sums), bias: int32s(t[2]).baseAddress!,
                                          multipliers: int32s(t[3]).baseAddress!, shifts: int32s(t[4]).baseAddress!,
                                          outputZeroPoint: model.tensors[t[5]].parameters.zeroPoint, minimum: clamp.0, maximum: clamp.1,
                                          output: codes(t[5]), scratch: scratch, geometry: geometry, patch: patch))
    }

    private func prepare(_ entry: OperatorEntry) -> PreparedStep {
        let a = entry.arguments, t = a.map(Int.init)
        switch entry.code {
        case .convolution where vnni && isPointwise(entry):
            let x = model.tensors[t[0]], filter = model.tensors[t[1]]
            return pointwise(rows: x.shape[0] * x.shape[1], inputs: x.shape[2], outputs: filter.shape[3], entry: entry, clamp: (a[13], a[14]))
        case .convolution where vnni && a[12] == 1:
            let filter = model.tensors[t[1]], out = model.tensors[t[5]]
            return pointwise(rows: out.shape[0] * out.shape[1], inputs: filter.shape[0] * filter.shape[1] * filter.shape[2], outputs: filter.shape[3],
                             entry: entry, clamp: (a[13], a[14]), geometry: geometry(entry))
        case .convolution where vnni && model.tensors[t[1]].shape[2] == 1 && a[12] == Int32(model.tensors[t[1]].shape[3]):
            return .depthwise(DepthwiseKernel(geometry: geometry(entry), input: UnsafeBufferPointer(codes(t[0])),
                                              zeroPoint: model.tensors[t[0]].parameters.zeroPoint, filter: int8s(t[1]).baseAddress!,
                                              bias: int32s(t[2]).baseAddress!, multipliers: int32s(t[3]).baseAddress!,
                                              shifts: int32s(t[4]).baseAddress!, outputZeroPoint: model.tensors[t[5]].parameters.zeroPoint,
                                              minimum: a[13], maximum: a[14], output: codes(t[5]), scratch: scratch))
        case .fullyConnected where vnni:
            let weight = model.tensors[t[1]]
            return pointwise(rows: 1, inputs: weight.shape[0], outputs: weight.shape[1], entry: entry, clamp: (a[6], a[7]))
        case .convolution:
            let x = model.tensors[t[0]], filter = model.tensors[t[1]]
            let geometry = ConvolutionGeometry(batch: 1, height: x.shape[0], width: x.shape[1], inputChannels: x.shape[2],
                                               kernelHeight: filter.shape[0], kernelWidth: filter.shape[1], outputChannels: filter.shape[3],
                                               stride: (t[6], t[7]), padding: (t[8], t[9]), dilation: (t[10], t[11]), groups: t[12])
            let requantization = Requantization(multipliers: zip(model.int32s(t[3]), model.int32s(t[4])).map(multiplier),
                                                outputZeroPoint: model.tensors[t[5]].parameters.zeroPoint, minimum: a[13], maximum: a[14])
            return .convolution(geometry, UnsafeBufferPointer(codes(t[0])), x.parameters.zeroPoint, int8s(t[1]), int32s(t[2]), requantization, codes(t[5]),
                                scratch)
        case .fullyConnected:
            let x = model.tensors[t[0]], weight = model.tensors[t[1]]
            let requantization = Requantization(multipliers: zip(model.int32s(t[3]), model.int32s(t[4])).map(multiplier),
                                                outputZeroPoint: model.tensors[t[5]].parameters.zeroPoint, minimum: a[6], maximum: a[7])
            return .fullyConnected(weight.shape[0], weight.shape[1], UnsafeBufferPointer(codes(t[0])), x.parameters.zeroPoint, int8s(t[1]),
                                   int32s(t[2]), requantization, codes(t[5]))
        case .add where vnni:
            let (aZero, bZero) = (model.tensors[t[0]].parameters.zeroPoint, model.tensors[t[1]].parameters.zeroPoint)
            let out = codes(t[2])
            let (x, y) = (UnsafeBufferPointer(codes(t[0])), UnsafeBufferPointer(codes(t[1])))
            let zeroPoint = model.tensors[t[2]].parameters.zeroPoint
            return .fast { mnw_add_avx512(Int32(out.count), x.baseAddress, aZero, a[3], a[4], y.baseAddress, bZero, a[5], a[6],
                                               ReferenceKernels.addLeftShift, a[7], a[8], zeroPoint, a[9], a[10], out.baseAddress) }
        case .add:
            return .add(UnsafeBufferPointer(codes(t[0])), .init(zeroPoint: model.tensors[t[0]].parameters.zeroPoint, multiplier: multiplier(a[3], a[4])),
                        UnsafeBufferPointer(codes(t[1])), .init(zeroPoint: model.tensors[t[1]].parameters.zeroPoint, multiplier: multiplier(a[5], a[6])),
                        multiplier(a[7], a[8]), model.tensors[t[2]].parameters.zeroPoint, a[9], a[10], codes(t[2]))
        case .concatenate:
            let out = model.tensors[t[0]]
            let inputs = (0..<t[1]).map { i in
                ReferenceKernels.ConcatenationInput(codes: UnsafeBufferPointer(codes(t[2 + 4 * i])), channels: model.tensors[t[2 + 4 * i]].shape.last!,
                                                    zeroPoint: model.tensors[t[2 + 4 * i]].parameters.zeroPoint,
                                                    multiplier: a[3 + 4 * i] == 1 ? multiplier(a[4 + 4 * i], a[5 + 4 * i]) : nil)
            }
            return .concatenate(out.elementCount / out.shape.last!, inputs, out.parameters.zeroPoint, codes(t[0]))
        case .maxPool where vnni:
            let x = model.tensors[t[0]].shape, out = model.tensors[t[1]].shape
            let (input, output) = (UnsafeBufferPointer(codes(t[0])), codes(t[1]))
            return .fast { mnw_max_pool_avx512(input.baseAddress, Int32(x[0]), Int32(x[1]), Int32(x[2]), a[2], a[3], a[4], a[5], a[6], a[7],
                                               Int32(out[0]), Int32(out[1]), output.baseAddress) }
        case .maxPool:
            let x = model.tensors[t[0]]
            return .maxPool(x.shape, (t[2], t[3]), (t[4], t[5]), (t[6], t[7]), UnsafeBufferPointer(codes(t[0])), codes(t[1]))
        case .globalAveragePool:
            let x = model.tensors[t[0]]
            return .globalAveragePool(x.shape[0] * x.shape[1], x.shape[2], UnsafeBufferPointer(codes(t[0])), x.parameters.zeroPoint,
                                      multiplier(a[2], a[3]), model.tensors[t[1]].parameters.zeroPoint, codes(t[1]))
        case .clamp:
            return .clamp(UnsafeBufferPointer(codes(t[0])), a[2], a[3], codes(t[1]))
        }
    }
}

/// An operator with its pointers and tables ready.
private enum PreparedStep {
    case convolution(ConvolutionGeometry, UnsafeBufferPointer<Int8>, Int32, UnsafeBufferPointer<Int8>, UnsafeBufferPointer<Int32>, Requantization,
                     UnsafeMutableBufferPointer<Int8>, UnsafeMutableBufferPointer<Int32>)
    case fullyConnected(Int, Int, UnsafeBufferPointer<Int8>, Int32, UnsafeBufferPointer<Int8>, UnsafeBufferPointer<Int32>, Requantization,
                        UnsafeMutableBufferPointer<Int8>)
    case add(UnsafeBufferPointer<Int8>, ReferenceKernels.AddInput, UnsafeBufferPointer<Int8>, ReferenceKernels.AddInput, FixedPointMultiplier,
             Int32, Int32, Int32, UnsafeMutableBufferPointer<Int8>)
    case concatenate(Int, [ReferenceKernels.ConcatenationInput], Int32, UnsafeMutableBufferPointer<Int8>)
    case maxPool([Int], (Int, Int), (Int, Int), (Int, Int), UnsafeBufferPointer<Int8>, UnsafeMutableBufferPointer<Int8>)
    case globalAveragePool(Int, Int, UnsafeBufferPointer<Int8>, Int32, FixedPointMultiplier, Int32, UnsafeMutableBufferPointer<Int8>)
    case clamp(UnsafeBufferPointer<Int8>, Int32, Int32, UnsafeMutableBufferPointer<Int8>)
    case pointwise(PointwiseKernel)
    case depthwise(DepthwiseKernel)
    /// A fast kernel with its arguments bound (a closure made once, at preparation).
    case fast(() -> Void)

    func run() {
        switch self {
        case let .fast(kernel):
            kernel()
        case let .pointwise(kernel):
            kernel.run()
        case let .depthwise(kernel):
            kernel.run()
        case let .convolution(geometry, input, zeroPoint, filter, bias, requantization, output, scratch):
            ReferenceKernels.convolution(geometry, input: input, inputZeroPoint: zeroPoint, filter: filter, bias: bias,
                                         requantization: requantization, output: output, scratch: scratch)
        case let .fullyConnected(inputs, outputs, input, zeroPoint, weight, bias, requantization, output):
            ReferenceKernels.fullyConnected(rows: 1, inputs: inputs, outputs: outputs, input: input, inputZeroPoint: zeroPoint, weight: weight,
                                            bias: bias, requantization: requantization, output: output)
        case let .add(a, aInput, b, bInput, multiplier, zeroPoint, minimum, maximum, output):
            ReferenceKernels.add(count: output.count, a: a, aInput, b: b, bInput, outputMultiplier: multiplier, outputZeroPoint: zeroPoint,
                                 minimum: minimum, maximum: maximum, output: output)
        case let .concatenate(pixels, inputs, zeroPoint, output):
            ReferenceKernels.concatenateChannels(pixels: pixels, inputs: inputs, outputZeroPoint: zeroPoint, output: output)
        case let .maxPool(shape, kernel, stride, padding, input, output):
            ReferenceKernels.maxPool(batch: 1, height: shape[0], width: shape[1], channels: shape[2], kernel: kernel, stride: stride,
                                     padding: padding, input: input, output: output)
        case let .globalAveragePool(pixels, channels, input, zeroPoint, multiplier, outputZeroPoint, output):
            ReferenceKernels.globalAveragePool(batch: 1, pixels: pixels, channels: channels, input: input, inputZeroPoint: zeroPoint,
                                               multiplier: multiplier, outputZeroPoint: outputZeroPoint, output: output)
        case let .clamp(input, minimum, maximum, output):
            for i in 0..<output.count { output[i] = Int8(min(max(Int32(input[i]), minimum), maximum)) }
        }
    }
}

/// A pointwise convolution (or a fully connected layer: one row) on the AVX-512 VNNI kernel: each
/// row's accumulators, then their requantization sixteen at a time (`mnw_requantize_avx512`, the
/// vector form of QuantMath's `requantize`, tested against it).
private struct PointwiseKernel {
    let rows: Int, inputs: Int, outputs: Int
    let input: UnsafeBufferPointer<Int8>, zeroPoint: Int32
    let packed: UnsafeRawPointer, columnSums: UnsafePointer<Int32>, bias: UnsafePointer<Int32>
    let multipliers: UnsafePointer<Int32>, shifts: UnsafePointer<Int32>
    let outputZeroPoint: Int32, minimum: Int32, maximum: Int32
    let output: UnsafeMutableBufferPointer<Int8>
    let scratch: UnsafeMutableBufferPointer<Int32>
    /// For a k x k convolution: its geometry and the patch buffer each output pixel's inputs are gathered into.
    let geometry: UnsafeMutablePointer<mnw_conv_geometry>?
    let patch: UnsafeMutablePointer<Int8>

    func run() {
        let packedWeights = packed.assumingMemoryBound(to: Int8.self)
        let stride = (outputs + 15) / 16 * 16
        var row = 0
        // Four rows at a time (weights loaded once for the four), then one at a time.
        withUnsafeTemporaryAllocation(of: UnsafePointer<Int8>?.self, capacity: 4) { rowInputs in
            while row + 4 <= rows {
                for r in 0..<4 { rowInputs[r] = rowInput(row + r, slot: r) }
                mnw_pointwise_rows4_vnni(UnsafePointer(rowInputs.baseAddress), Int32(inputs), zeroPoint, packedWeights, columnSums, bias, Int32(outputs),
                                         scratch.baseAddress!, Int32(stride))
                for r in 0..<4 { requantize(scratch.baseAddress! + r * stride, row: row + r) }
                row += 4
            }
        }
        while row < rows {
            mnw_pointwise_row_vnni(rowInput(row, slot: 0), Int32(inputs), zeroPoint, packedWeights, columnSums, bias, Int32(outputs),
                                   scratch.baseAddress!)
            requantize(scratch.baseAddress!, row: row)
            row += 1
        }
    }

    /// The inputs of output row `row`: the input's row, or for a k x k convolution its patch,
    /// gathered into patch slot `slot`.
    private func rowInput(_ row: Int, slot: Int) -> UnsafePointer<Int8> {
        guard let geometry else { return input.baseAddress! + row * inputs }
        let width = Int(geometry.pointee.output_width), destination = patch + slot * inputs
        mnw_patch_row(input.baseAddress!, geometry, Int32(row / width), Int32(row % width), Int8(zeroPoint), destination)
        return UnsafePointer(destination)
    }

    private func requantize(_ accumulators: UnsafeMutablePointer<Int32>, row: Int) {
        mnw_requantize_avx512(accumulators, Int32(outputs), multipliers, shifts, outputZeroPoint, minimum, maximum,
                              output.baseAddress! + row * outputs)
    }
}

/// A depthwise convolution on the AVX-512 kernel (`mnw_depthwise_avx512`).
private struct DepthwiseKernel {
    let geometry: UnsafeMutablePointer<mnw_conv_geometry>
    let input: UnsafeBufferPointer<Int8>, zeroPoint: Int32
    let filter: UnsafePointer<Int8>, bias: UnsafePointer<Int32>, multipliers: UnsafePointer<Int32>, shifts: UnsafePointer<Int32>
    let outputZeroPoint: Int32, minimum: Int32, maximum: Int32
    let output: UnsafeMutableBufferPointer<Int8>
    let scratch: UnsafeMutableBufferPointer<Int32>

    func run() {
        mnw_depthwise_avx512(input.baseAddress!, geometry, zeroPoint, filter, bias, multipliers, shifts, outputZeroPoint, minimum, maximum,
                             output.baseAddress!, scratch.baseAddress!)
    }
}
