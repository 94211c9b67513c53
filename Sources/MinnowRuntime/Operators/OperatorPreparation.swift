import CRuntimeKernels
import QuantMath

/// What operators are prepared with: the model, the arena, the kernel level, and memory owned
/// for the interpreter's life (packed weights, requantization tables, argument structures). Every
/// allocation happens here, at preparation; the kernels it returns allocate nothing.
final class OperatorPreparation {
    let model: RuntimeModel
    let arena: UnsafeMutableRawBufferPointer
    /// The fast kernels of the chosen level, or nil for the reference kernels alone.
    let kernels: UnsafePointer<mnw_kernels>?
    /// One output pixel's accumulators for the reference convolution (sized for the widest layer).
    let accumulators: UnsafeMutableBufferPointer<Int32>
    private var owned: [UnsafeMutableRawPointer] = []
    /// The GEMMs and depthwise convolutions, whose one shared scratch is set after all are prepared
    /// (the operators run one at a time).
    private var gemms: [UnsafeMutablePointer<mnw_gemm>] = []
    private var depthwises: [UnsafeMutablePointer<mnw_depthwise>] = []

    init(model: RuntimeModel, arena: UnsafeMutableRawBufferPointer, kernels: UnsafePointer<mnw_kernels>?) {
        (self.model, self.arena, self.kernels) = (model, arena, kernels)
        let widest = model.operations.map { op -> Int in
            switch op {
            case .convolution(let c): model.tensors[c.output].shape.last!
            case .fullyConnected(let f): model.tensors[f.output].elementCount
            default: 1
            }
        }.max() ?? 1
        accumulators = .allocate(capacity: max(widest, 1))
    }

    deinit {
        accumulators.deallocate()
        for pointer in owned { pointer.deallocate() }
    }

    /// Gives every GEMM and depthwise convolution one zeroed scratch of the largest size they need.
    func shareScratch() {
        let bytes = (gemms.map { mnw_gemm_input_size($0.pointee.rows, $0.pointee.k, $0.pointee.convolution) }
            + depthwises.map { mnw_depthwise_padded_size($0.pointee.geometry) }).max() ?? 1
        let shared = allocate(UInt8.self, count: bytes)
        shared.initialize(repeating: 0, count: bytes)
        for step in gemms { step.pointee.scratch = shared }
        for step in depthwises { step.pointee.padded = UnsafeMutableRawPointer(shared).assumingMemoryBound(to: Int8.self) }
    }

    /// A tensor's parameters.
    func parameters(_ tensor: Int) -> QuantizationParameters { model.tensors[tensor].parameters }

    /// An activation's codes in the arena.
    func codes(_ tensor: Int) -> UnsafeMutableBufferPointer<Int8> {
        let t = model.tensors[tensor]
        return UnsafeMutableRawBufferPointer(rebasing: arena[t.offset..<(t.offset + t.byteLength)]).bindMemory(to: Int8.self)
    }

    /// A constant's int8 codes (int4 ones unpacked into memory owned here).
    func int8s(_ tensor: Int) -> UnsafeBufferPointer<Int8> {
        let t = model.tensors[tensor]
        guard t.type == .int4 else { return model.constant(tensor).bindMemory(to: Int8.self) }
        let buffer = allocate(Int8.self, count: t.elementCount)
        _ = UnsafeMutableBufferPointer(start: buffer, count: t.elementCount).initialize(from: unpackInt4(Array(model.constant(tensor)), count: t.elementCount))
        return UnsafeBufferPointer(start: buffer, count: t.elementCount)
    }

    func int32s(_ tensor: Int) -> UnsafeBufferPointer<Int32> { model.constant(tensor).bindMemory(to: Int32.self) }

    /// Per-channel fixed-point multipliers from a multiplier and a shift tensor.
    func multipliers(_ multipliers: Int, _ shifts: Int) -> [FixedPointMultiplier] {
        zip(model.int32s(multipliers), model.shifts(shifts)).map { FixedPointMultiplier(multiplier: $0, shift: $1) }
    }

    /// `count` values of `T`, 64-byte aligned, owned here.
    func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<T>.stride, alignment: 64)
        owned.append(pointer)
        return pointer.bindMemory(to: T.self, capacity: max(count, 1))
    }

    /// `value` in memory owned here (a C kernel's argument structure).
    func store<T>(_ value: T) -> UnsafeMutablePointer<T> {
        let pointer = allocate(T.self, count: 1)
        pointer.initialize(to: value)
        return pointer
    }

    /// A GEMM's arguments, given the shared scratch later.
    func storeGEMM(_ value: mnw_gemm) -> UnsafeMutablePointer<mnw_gemm> {
        let pointer = store(value)
        gemms.append(pointer)
        return pointer
    }

    /// A depthwise convolution's arguments, given the shared scratch later.
    func storeDepthwise(_ value: mnw_depthwise) -> UnsafeMutablePointer<mnw_depthwise> {
        let pointer = store(value)
        depthwises.append(pointer)
        return pointer
    }

    /// The requantization table of per-channel multipliers and shifts for an output zero point
    /// (`mnw_requant_prepare`), and the shortest form it allows (`MNW_REQUANT_*`).
    func requantizationTable(_ multipliers: [FixedPointMultiplier], zeroPoint: Int32) -> (table: UnsafePointer<Int64>, form: Int32) {
        let table = allocate(Int64.self, count: mnw_requant_table_size(Int32(multipliers.count)) / 8)
        let form = mnw_requant_prepare(multipliers.map { $0.multiplier }, multipliers.map { $0.shift }, Int32(multipliers.count), zeroPoint, table)
        return (UnsafePointer(table), form)
    }

    /// The table of one multiplier in all sixteen lanes (a per-tensor rescaling).
    func requantizationTable(_ multiplier: FixedPointMultiplier, zeroPoint: Int32 = 0) -> (table: UnsafePointer<Int64>, form: Int32) {
        requantizationTable([FixedPointMultiplier](repeating: multiplier, count: 16), zeroPoint: zeroPoint)
    }

    /// Whether the level's kernels run a table of `form` (the AVX2 levels take the short forms only).
    func runs(_ form: Int32) -> Bool { kernels.map { $0.pointee.short_forms_only == 0 || form >= Int32(MNW_REQUANT_HIGH) } ?? false }
}
