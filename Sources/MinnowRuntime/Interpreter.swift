import CRuntimeKernels
import QuantMath

/// Which kernels an interpreter runs.
public enum KernelChoice: Sendable {
    /// The fastest this CPU supports (checked at run time): AVX-512 VNNI, else AVX2 with AVX-VNNI,
    /// else AVX2, else the reference kernels.
    case fastest
    /// The AVX2 kernels with AVX-VNNI GEMMs (256-bit `vpdpbusd`) where the CPU has AVX-VNNI, else
    /// as `avx2`. (For tests and comparisons; `fastest` picks it by itself.)
    case avxVNNI
    /// The AVX2 kernels where they apply (convolutions and fully connected layers whose
    /// requantization has a short form), the reference kernels elsewhere; the reference kernels
    /// alone on a CPU without AVX2. (For tests and comparisons; `fastest` picks it by itself.)
    case avx2
    /// The portable scalar reference kernels only.
    case reference

    /// The SIMD path `fastest` takes on this CPU: "avx512-vnni", "avx-vnni", "avx2" or
    /// "reference".
    public static var detected: String {
        mnw_cpu_has_avx512vnni() == 1 ? "avx512-vnni" : mnw_cpu_has_avxvnni() == 1 ? "avx-vnni" : mnw_cpu_has_avx2() == 1 ? "avx2" : "reference"
    }
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
    /// One output pixel's accumulators for the reference convolution (sized for the widest),
    /// owned here.
    private let scratch: UnsafeMutableBufferPointer<Int32>
    /// Whether the AVX-512 VNNI kernels run, or else the AVX2 ones (where they apply), and
    /// whether those GEMMs use AVX-VNNI.
    private let vnni: Bool, avx2: Bool, avxVNNI: Bool
    /// What the fast kernels are given (packed weights, per-channel constants, requantization
    /// tables, argument structures), allocated at preparation and owned here.
    private var owned: [UnsafeMutableRawPointer] = []
    /// The GEMMs' and depthwise convolutions' arguments (they share one scratch).
    private var gemmSteps: [UnsafeMutablePointer<mnw_gemm>] = []
    private var depthwiseSteps: [UnsafeMutablePointer<mnw_depthwise>] = []
    /// Unpacked int4 weights, owned here.
    private var unpacked: [UnsafeMutableBufferPointer<Int8>] = []

    /// An interpreter for `model` using `arena` (at least `model.arenaSize` bytes, 16-byte
    /// aligned, kept alive by the caller), or an arena of its own when none is given.
    public init(model: RuntimeModel, arena: UnsafeMutableRawBufferPointer? = nil, kernels: KernelChoice = .fastest) throws(ModelFormatError) {
        self.model = model
        vnni = kernels == .fastest && mnw_cpu_has_avx512vnni() == 1
        avx2 = !vnni && kernels != .reference && mnw_cpu_has_avx2() == 1
        avxVNNI = avx2 && (kernels == .fastest || kernels == .avxVNNI) && mnw_cpu_has_avxvnni() == 1
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
        scratch = .allocate(capacity: widest)
        for entry in model.operators { steps.append(prepare(entry)) }
        // One scratch serves every GEMM's input copy and every depthwise convolution's padded
        // input (the operators run one at a time).
        let scratchBytes = (gemmSteps.map { mnw_gemm_input_size($0.pointee.rows, $0.pointee.k, $0.pointee.convolution) }
            + depthwiseSteps.map { mnw_depthwise_padded_size($0.pointee.geometry) }).max() ?? 1
        let shared = allocate(UInt8.self, count: scratchBytes)
        shared.initialize(repeating: 0, count: scratchBytes)
        for step in gemmSteps { step.pointee.scratch = shared }
        for step in depthwiseSteps { step.pointee.padded = UnsafeMutableRawPointer(shared).assumingMemoryBound(to: Int8.self) }
    }

    deinit {
        if ownsArena { arena.deallocate() }
        scratch.deallocate()
        for pointer in owned { pointer.deallocate() }
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

    /// Runs operator `index` alone (a profiler times the operators one by one, in order, on the
    /// codes the ones before them left in the arena).
    public func invoke(operator index: Int) {
        steps[index].run()
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

    /// `count` values of `T`, 64-byte aligned, owned here (freed with the interpreter).
    private func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<T>.stride, alignment: 64)
        owned.append(pointer)
        return pointer.bindMemory(to: T.self, capacity: max(count, 1))
    }

    /// `value` in memory owned here (the argument structure of a C kernel).
    private func store<T>(_ value: T) -> UnsafeMutablePointer<T> {
        let pointer = allocate(T.self, count: 1)
        pointer.initialize(to: value)
        return pointer
    }

    /// The requantization table of per-channel multipliers and shifts for an output zero point
    /// (`mnw_requant_prepare`), and the shortest form it allows (`MNW_REQUANT_*`).
    private func requantTable(multipliers: UnsafePointer<Int32>, shifts: UnsafePointer<Int32>, count: Int,
                              zeroPoint: Int32) -> (UnsafePointer<Int64>, Int32) {
        let table = allocate(Int64.self, count: mnw_requant_table_size(Int32(count)) / 8)
        let form = mnw_requant_prepare(multipliers, shifts, Int32(count), zeroPoint, table)
        return (UnsafePointer(table), form)
    }

    /// The table of one multiplier in all sixteen lanes (a per-tensor rescaling), and the shortest
    /// form it allows.
    private func requantTable(multiplier: Int32, shift: Int32, zeroPoint: Int32 = 0) -> (UnsafePointer<Int64>, Int32) {
        let values = [Int32](repeating: multiplier, count: 16), shifts = [Int32](repeating: shift, count: 16)
        return requantTable(multipliers: values, shifts: shifts, count: 16, zeroPoint: zeroPoint)
    }

    /// Whether a table's form is one the AVX2 kernels run (a short one).
    private func isShort(_ form: Int32) -> Bool { form >= Int32(MNW_REQUANT_HIGH) }

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
        return store(g)
    }

    /// A 1x1 convolution with stride 1, no padding and one group: a matrix product over pixels.
    private func isPointwise(_ entry: OperatorEntry) -> Bool {
        let filter = model.tensors[Int(entry.arguments[1])], a = entry.arguments
        return filter.shape[0] == 1 && filter.shape[1] == 1 && a[6] == 1 && a[7] == 1 && a[8] == 0 && a[9] == 0 && a[12] == 1
    }

    /// A convolution (groups 1) or fully connected layer on the VNNI GEMM (`mnw_gemm_vnni`):
    /// weights packed, the zero-point constant and the requantization table computed once, here
    /// (the scratch after every operator is prepared).
    private func gemm(rows: Int, inputs: Int, outputs: Int, entry: OperatorEntry, clamp: (Int32, Int32),
                      convolution: UnsafeMutablePointer<mnw_conv_geometry>? = nil) -> PreparedStep? {
        let t = entry.arguments.map(Int.init)
        let weights = int8s(t[1]), zeroPoint = model.tensors[t[0]].parameters.zeroPoint
        let groups = Int(mnw_gemm_groups(Int32(inputs), convolution))
        let packed = allocate(Int8.self, count: mnw_gemm_packed_size(Int32(inputs), Int32(outputs), convolution))
        let offsets = allocate(Int32.self, count: groups)
        mnw_gemm_pack(weights.baseAddress, Int32(inputs), Int32(outputs), convolution, packed, offsets)
        let base = allocate(Int32.self, count: (outputs + 15) / 16 * 16)
        mnw_weight_base(weights.baseAddress, Int32(inputs), Int32(outputs), int32s(t[2]).baseAddress, 128 + zeroPoint, base)
        var g = mnw_gemm()
        (g.rows, g.k, g.n, g.input, g.convolution) = (Int32(rows), Int32(inputs), Int32(outputs), UnsafePointer(codes(t[0]).baseAddress), UnsafePointer(convolution))
        (g.zero_point, g.packed, g.offsets, g.groups, g.base) = (zeroPoint, UnsafePointer(packed), UnsafePointer(offsets), Int32(groups), UnsafePointer(base))
        g.output_zero_point = model.tensors[t[5]].parameters.zeroPoint
        (g.requant, g.requant_form) = requantTable(multipliers: int32s(t[3]).baseAddress!, shifts: model.shifts(t[4]), count: outputs,
                                                   zeroPoint: g.output_zero_point)
        (g.minimum, g.maximum, g.output) = (clamp.0, clamp.1, codes(t[5]).baseAddress)
        if avx2 {
            // The AVX2 GEMM requantizes in a short form only (the reference runs the rest).
            guard isShort(g.requant_form) else { return nil }
            if avxVNNI {
                let arguments = store(g)
                gemmSteps.append(arguments)
                return .fast { mnw_gemm_avxvnni(arguments) }
            }
            let packed16 = allocate(Int16.self, count: mnw_gemm_avx2_packed_size(Int32(inputs), Int32(outputs), convolution) / 2)
            mnw_gemm_avx2_pack(packed, Int32(inputs), Int32(outputs), convolution, packed16)
            let arguments = store(g)
            gemmSteps.append(arguments)
            return .fast { mnw_gemm_avx2(arguments, packed16) }
        }
        let arguments = store(g)
        gemmSteps.append(arguments)
        return .fast { mnw_gemm_vnni(arguments) }
    }

    /// A depthwise convolution on the AVX-512 kernel: filter widened to int32, the zero-point
    /// constant and the requantization table made here (the padded-input scratch after every
    /// operator is prepared).
    private func depthwise(_ entry: OperatorEntry) -> PreparedStep? {
        let t = entry.arguments.map(Int.init), a = entry.arguments
        let filter = model.tensors[t[1]], channels = filter.shape[3], taps = filter.shape[0] * filter.shape[1]
        let zeroPoint = model.tensors[t[0]].parameters.zeroPoint, weights = int8s(t[1])
        let padded = (channels + 15) / 16 * 16
        let widened = allocate(Int32.self, count: taps * padded), base = allocate(Int32.self, count: padded)
        mnw_widen_filter(weights.baseAddress, Int32(taps), Int32(channels), widened)
        mnw_weight_base(weights.baseAddress, Int32(taps), Int32(channels), int32s(t[2]).baseAddress, zeroPoint, base)
        var d = mnw_depthwise()
        (d.geometry, d.input, d.zero_point) = (UnsafePointer(geometry(entry)), UnsafePointer(codes(t[0]).baseAddress), zeroPoint)
        (d.filter, d.base) = (UnsafePointer(widened), UnsafePointer(base))
        d.output_zero_point = model.tensors[t[5]].parameters.zeroPoint
        (d.requant, d.requant_form) = requantTable(multipliers: int32s(t[3]).baseAddress!, shifts: model.shifts(t[4]), count: channels,
                                                   zeroPoint: d.output_zero_point)
        (d.minimum, d.maximum, d.output) = (a[13], a[14], codes(t[5]).baseAddress)
        if avx2 { guard isShort(d.requant_form) else { return nil } }
        let g = d.geometry.pointee
        // The column kernel: 3 x 3, stride 1 or 2, no dilation, on AVX-512 with VBMI or on AVX-VNNI.
        let columnShape = g.kernel_height == 3 && g.kernel_width == 3 && g.dilation_height == 1 && g.dilation_width == 1
            && g.stride_height == g.stride_width && (g.stride_width == 1 || g.stride_width == 2)
        if columnShape, (vnni && mnw_cpu_has_avx512vbmi() == 1) || avxVNNI {
            let columns = allocate(Int8.self, count: (channels + 15) / 16 * 192), unsignedBase = allocate(Int32.self, count: padded)
            mnw_depthwise_columns_prepare(weights.baseAddress, Int32(channels), int32s(t[2]).baseAddress, zeroPoint, columns, unsignedBase)
            (d.columns, d.column_weights, d.unsigned_base) = (1, UnsafePointer(columns), UnsafePointer(unsignedBase))
        }
        let arguments = store(d)
        depthwiseSteps.append(arguments)
        if avx2 { return d.columns == 1 ? .fast { mnw_depthwise_avxvnni(arguments) } : .fast { mnw_depthwise_avx2(arguments) } }
        return .fast { mnw_depthwise_avx512(arguments) }
    }

    /// The operator on the fast kernels this CPU allows, or on the reference ones.
    private func prepare(_ entry: OperatorEntry) -> PreparedStep {
        if vnni || avx2, let step = fastStep(entry) { return step }
        return referenceStep(entry)
    }

    /// The operator on the AVX-512 kernels (`vnni`) or the AVX2 ones, nil where they do not apply.
    private func fastStep(_ entry: OperatorEntry) -> PreparedStep? {
        let a = entry.arguments, t = a.map(Int.init)
        switch entry.code {
        case .convolution where isPointwise(entry):
            let x = model.tensors[t[0]], filter = model.tensors[t[1]]
            return gemm(rows: x.shape[0] * x.shape[1], inputs: x.shape[2], outputs: filter.shape[3], entry: entry, clamp: (a[13], a[14]))
        case .convolution where a[12] == 1:
            let filter = model.tensors[t[1]], out = model.tensors[t[5]]
            return gemm(rows: out.shape[0] * out.shape[1], inputs: filter.shape[0] * filter.shape[1] * filter.shape[2], outputs: filter.shape[3],
                        entry: entry, clamp: (a[13], a[14]), convolution: geometry(entry))
        case .convolution where model.tensors[t[1]].shape[2] == 1 && a[12] == Int32(model.tensors[t[1]].shape[3]):
            return depthwise(entry)
        case .fullyConnected:
            let weight = model.tensors[t[1]]
            return gemm(rows: 1, inputs: weight.shape[0], outputs: weight.shape[1], entry: entry, clamp: (a[6], a[7]))
        case .convolution:
            return nil
        case .add:
            var add = mnw_add()
            (add.count, add.a, add.b) = (Int32(model.tensors[t[2]].elementCount), UnsafePointer(codes(t[0]).baseAddress), UnsafePointer(codes(t[1]).baseAddress))
            (add.a_zero_point, add.b_zero_point) = (model.tensors[t[0]].parameters.zeroPoint, model.tensors[t[1]].parameters.zeroPoint)
            // An input whose total shift is 31 or 30 takes one or two more left shifts instead (its
            // codes less the zero point, at most 255 x 2^22, still fit), so that its table gets the
            // shorter form.
            let extra = [a[4], a[6]].map { shift in shift >= 0 && shift <= 1 ? shift + 1 : 0 }
            (add.a_left_shift, add.b_left_shift) = (ReferenceKernels.addLeftShift + extra[0], ReferenceKernels.addLeftShift + extra[1])
            (add.output_zero_point, add.minimum, add.maximum) = (model.tensors[t[2]].parameters.zeroPoint, a[9], a[10])
            let tables = [(a[3], a[4] - extra[0], 0), (a[5], a[6] - extra[1], 0), (a[7], a[8], add.output_zero_point)].map {
                requantTable(multiplier: $0.0, shift: $0.1, zeroPoint: $0.2)
            }
            (add.a_table, add.b_table, add.output_table) = (tables[0].0, tables[1].0, tables[2].0)
            add.form = tables.allSatisfy { isShort($0.1) } ? tables[2].1 : Int32(MNW_REQUANT_GENERAL)
            let (arguments, output) = (store(add), codes(t[2]).baseAddress)
            if avx2 { return isShort(add.form) ? .fast { mnw_add_avx2(arguments, output) } : nil }
            return .fast { mnw_add_avx512(arguments, output) }
        case .concatenate:
            let out = model.tensors[t[0]], count = t[1]
            let inputs = allocate(mnw_concat_input.self, count: count)
            for i in 0..<count {
                let tensor = t[2 + 4 * i], rescaled = a[3 + 4 * i] == 1
                inputs[i] = mnw_concat_input(codes: UnsafePointer(codes(tensor).baseAddress), channels: Int32(model.tensors[tensor].shape.last!),
                                             zero_point: model.tensors[tensor].parameters.zeroPoint,
                                             table: rescaled ? requantTable(multiplier: a[4 + 4 * i], shift: a[5 + 4 * i]).0 : nil)
            }
            let (pixels, zeroPoint, output) = (Int32(out.elementCount / out.shape.last!), out.parameters.zeroPoint, codes(t[0]).baseAddress)
            if avx2 {
                // Copies only; a rescaled input leaves the concatenation to the reference kernel.
                guard (0..<count).allSatisfy({ inputs[$0].table == nil }) else { return nil }
                return .fast { mnw_concatenate_copy(pixels, inputs, Int32(count), output) }
            }
            return .fast { mnw_concatenate_avx512(pixels, inputs, Int32(count), zeroPoint, output) }
        case .maxPool:
            let x = model.tensors[t[0]].shape, out = model.tensors[t[1]].shape
            let (input, output) = (UnsafeBufferPointer(codes(t[0])), codes(t[1]))
            let pool = avx2 ? mnw_max_pool_avx2 : mnw_max_pool_avx512
            return .fast { pool(input.baseAddress, Int32(x[0]), Int32(x[1]), Int32(x[2]), a[2], a[3], a[4], a[5], a[6], a[7],
                                Int32(out[0]), Int32(out[1]), output.baseAddress) }
        case .globalAveragePool:
            let x = model.tensors[t[0]], (table, form) = requantTable(multiplier: a[2], shift: a[3])
            let (pixels, channels, zeroPoint) = (Int32(x.shape[0] * x.shape[1]), Int32(x.shape[2]), x.parameters.zeroPoint)
            let (input, outputZeroPoint, output) = (codes(t[0]).baseAddress, model.tensors[t[1]].parameters.zeroPoint, codes(t[1]).baseAddress)
            if avx2 {
                guard isShort(form) else { return nil }
                return .fast { mnw_global_average_pool_avx2(pixels, channels, input, zeroPoint, table, outputZeroPoint, output) }
            }
            return .fast { mnw_global_average_pool_avx512(pixels, channels, input, zeroPoint, table, outputZeroPoint, output) }
        case .clamp:
            let (input, output) = (codes(t[0]), codes(t[1]))
            let clamp = avx2 ? mnw_clamp_avx2 : mnw_clamp_avx512
            return .fast { clamp(Int32(output.count), input.baseAddress, a[2], a[3], output.baseAddress) }
        }
    }

    /// The operator on the portable reference kernels.
    private func referenceStep(_ entry: OperatorEntry) -> PreparedStep {
        let a = entry.arguments, t = a.map(Int.init)
        switch entry.code {
        case .convolution:
            let x = model.tensors[t[0]], filter = model.tensors[t[1]]
            let geometry = ConvolutionGeometry(batch: 1, height: x.shape[0], width: x.shape[1], inputChannels: x.shape[2],
                                               kernelHeight: filter.shape[0], kernelWidth: filter.shape[1], outputChannels: filter.shape[3],
                                               stride: (t[6], t[7]), padding: (t[8], t[9]), dilation: (t[10], t[11]), groups: t[12])
            let requantization = Requantization(multipliers: zip(model.int32s(t[3]), model.shifts(t[4])).map(multiplier),
                                                outputZeroPoint: model.tensors[t[5]].parameters.zeroPoint, minimum: a[13], maximum: a[14])
            return .convolution(geometry, UnsafeBufferPointer(codes(t[0])), x.parameters.zeroPoint, int8s(t[1]), int32s(t[2]), requantization, codes(t[5]),
                                scratch)
        case .fullyConnected:
            let x = model.tensors[t[0]], weight = model.tensors[t[1]]
            let requantization = Requantization(multipliers: zip(model.int32s(t[3]), model.shifts(t[4])).map(multiplier),
                                                outputZeroPoint: model.tensors[t[5]].parameters.zeroPoint, minimum: a[6], maximum: a[7])
            return .fullyConnected(weight.shape[0], weight.shape[1], UnsafeBufferPointer(codes(t[0])), x.parameters.zeroPoint, int8s(t[1]),
                                   int32s(t[2]), requantization, codes(t[5]))
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
    /// A fast kernel with its arguments bound (a closure made once, at preparation).
    case fast(() -> Void)

    func run() {
        switch self {
        case let .fast(kernel):
            kernel()
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
