import CRuntimeKernels
import QuantMath

/// Which kernels an interpreter runs.
public enum KernelChoice: Sendable {
    /// The fastest this CPU supports (checked at run time): on x86-64 AVX-512 VNNI, else AVX2 with
    /// AVX-VNNI, else AVX2; on AArch64 NEON with the int8 matrix multiply, else with the dot
    /// product, else NEON; else the reference kernels.
    case fastest
    /// The AVX2 kernels with AVX-VNNI GEMMs (256-bit `vpdpbusd`) where the CPU has AVX-VNNI, else
    /// as `avx2`. (For tests and comparisons; `fastest` picks it by itself.)
    case avxVNNI
    /// The AVX2 kernels where they apply (convolutions and fully connected layers whose
    /// requantization has a short form), the reference kernels elsewhere; the reference kernels
    /// alone on a CPU without AVX2. (For tests and comparisons; `fastest` picks it by itself.)
    case avx2
    /// AArch64's NEON kernels with `smmla` GEMMs where the CPU has the int8 matrix multiply
    /// (FEAT_I8MM), else as `neonDot`. (For tests and comparisons; `fastest` picks it by itself.)
    case neonI8MM
    /// AArch64's NEON kernels with `sdot` GEMMs where the CPU has the dot product, else as `neon`.
    /// (For tests and comparisons; `fastest` picks it by itself.)
    case neonDot
    /// AArch64's NEON kernels with the plain NEON GEMM (`smull`, `sadalp`); the reference kernels
    /// alone off AArch64.
    case neon
    /// The portable scalar reference kernels only.
    case reference

    /// The SIMD path `fastest` takes on this CPU: "avx512-vnni", "avx-vnni", "avx2", "neon-i8mm",
    /// "neon-dot", "neon" or "reference".
    public static var detected: String { KernelChoice.fastest.level }

    /// The level this choice runs on this CPU (what a report names: `neon-dot` asked for on x86
    /// runs, and says, "reference").
    public var level: String { kernels.map { String(cString: $0.pointee.name) } ?? "reference" }

    /// The kernel table this choice runs on this CPU (`mnw_kernels_for`), or nil for the reference
    /// kernels alone.
    var kernels: UnsafePointer<mnw_kernels>? {
        let levels: [Int32] = switch self {
        case .fastest: [Int32(MNW_LEVEL_AVX512_VNNI), Int32(MNW_LEVEL_AVX_VNNI), Int32(MNW_LEVEL_AVX2), Int32(MNW_LEVEL_NEON_I8MM),
                        Int32(MNW_LEVEL_NEON_DOT), Int32(MNW_LEVEL_NEON)]
        case .avxVNNI: [Int32(MNW_LEVEL_AVX_VNNI), Int32(MNW_LEVEL_AVX2)]
        case .avx2: [Int32(MNW_LEVEL_AVX2)]
        case .neonI8MM: [Int32(MNW_LEVEL_NEON_I8MM), Int32(MNW_LEVEL_NEON_DOT), Int32(MNW_LEVEL_NEON)]
        case .neonDot: [Int32(MNW_LEVEL_NEON_DOT), Int32(MNW_LEVEL_NEON)]
        case .neon: [Int32(MNW_LEVEL_NEON)]
        case .reference: []
        }
        return levels.lazy.compactMap { mnw_kernels_for($0) }.first
    }
}

/// Runs a `RuntimeModel` one image at a time in integer arithmetic, with every activation in one
/// arena (the caller's, or one allocated here once). Each operator is prepared when the
/// interpreter is made (`Operators/`: requantization tables, packed or unpacked weights, pointers
/// into the arena and the weights) on the fastest kernels the chosen level has for it, else on
/// the reference ones; `invoke` allocates nothing.
public final class Interpreter {
    public let model: RuntimeModel
    private let arena: UnsafeMutableRawBufferPointer
    private let ownsArena: Bool
    /// The memory the prepared kernels use (owned until the interpreter goes).
    private let preparation: OperatorPreparation
    private var steps: [PreparedKernel] = []
    /// The level of fast kernels that runs ("avx512-vnni", "avx-vnni", "avx2", "neon-i8mm", "neon-dot", "neon"),
    /// or "reference".
    public let kernelLevel: String

    /// An interpreter for `model` using `arena` (at least `model.arenaSize` bytes, 16-byte
    /// aligned, kept alive by the caller), or an arena of its own when none is given.
    public init(model: RuntimeModel, arena: UnsafeMutableRawBufferPointer? = nil, kernels: KernelChoice = .fastest) throws(ModelFormatError) {
        self.model = model
        if let arena {
            guard arena.count >= model.arenaSize else { throw .arenaTooSmall(needed: model.arenaSize, given: arena.count) }
            guard Int(bitPattern: arena.baseAddress) % ModelFormat.alignment == 0 else {
                throw .misaligned("the arena does not start at a multiple of \(ModelFormat.alignment)")
            }
            (self.arena, ownsArena) = (arena, false)
        } else {
            (self.arena, ownsArena) = (.allocate(byteCount: max(model.arenaSize, 1), alignment: ModelFormat.alignment), true)
        }
        let table = kernels.kernels
        kernelLevel = kernels.level
        preparation = OperatorPreparation(model: model, arena: self.arena, kernels: table)
        steps = model.operations.map { $0.prepare(preparation) }
        preparation.shareScratch()
    }

    deinit {
        if ownsArena { arena.deallocate() }
    }

    /// The input tensor's codes (write the image here, quantized with `inputParameters`).
    public var input: UnsafeMutableBufferPointer<Int8> { preparation.codes(model.input) }
    /// The output tensor's codes after `invoke`.
    public var output: UnsafeBufferPointer<Int8> { UnsafeBufferPointer(preparation.codes(model.output)) }
    public var inputParameters: QuantizationParameters { model.tensors[model.input].parameters }
    public var outputParameters: QuantizationParameters { model.tensors[model.output].parameters }

    /// Quantizes `image` (normalized float values, as many as the input has) into `input` with
    /// `inputParameters`.
    public func setInput(_ image: some Collection<Float>) {
        let codes = input, quantizer = inputParameters.quantizer
        for (i, value) in zip(codes.indices, image) { codes[i] = Int8(quantizer.quantize(value)) }
    }

    /// Quantizes an image of 8-bit pixels (HWC, as many as the input has elements) with the
    /// normalization the file stores (`ModelMetadata.normalized`) and the input's parameters.
    /// Returns false, writing nothing, when the file stores no normalization (formats before
    /// version 4, or an exporter that had none). Allocates nothing.
    public func setInput(pixels: UnsafeBufferPointer<UInt8>) -> Bool {
        let metadata = model.metadata, channels = model.tensors[model.input].shape.last ?? 1
        guard metadata.hasNormalization else { return false }
        let codes = input, quantizer = inputParameters.quantizer
        for i in 0..<min(codes.count, pixels.count) {
            codes[i] = Int8(quantizer.quantize(metadata.normalized(pixel: pixels[i], channel: i % channels)))
        }
        return true
    }

    /// Runs every operator on the codes in `input`.
    public func invoke() {
        for step in steps { step() }
    }

    /// Runs operator `index` alone (a profiler times the operators one by one, in order, on the
    /// codes the ones before them left in the arena).
    public func invoke(operator index: Int) {
        steps[index]()
    }

    /// The index of the largest output code (the predicted class; the first on ties).
    public var argmax: Int {
        let codes = output
        var best = 0
        for i in 1..<codes.count where codes[i] > codes[best] { best = i }
        return best
    }
}
