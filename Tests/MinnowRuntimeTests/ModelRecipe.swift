// Builds a model file from a byte string of choices: the structure-aware fuzzer's generator
// (scripts/fuzz.sh structure compiles this file into the runtime's module) and the regression
// test's, which rebuilds every committed finding from its bytes.
#if !MINNOW_FUZZ_BUILD
import MinnowRuntime
#endif
import QuantMath

/// A model described by choices read from bytes: 1 to 6 operators of every kind on small
/// activations, their geometry (kernel, stride, dilation, padding, window, input count) drawn
/// around and past the format's limits, their constants random. Most recipes give valid files;
/// the rest must be refused by the loader. Bytes past the end read as zeros.
struct ModelRecipe {
    private let bytes: [UInt8]
    private var position = 0
    private var writer = ModelWriter()
    /// The activations made so far (tensor index and shape).
    private var activations: [(index: Int, shape: [Int])] = []

    /// The model file the recipe `bytes` describes.
    static func model(_ bytes: [UInt8]) -> [UInt8] {
        var recipe = ModelRecipe(bytes: bytes)
        return recipe.build()
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private mutating func byte() -> Int {
        defer { position += 1 }
        return position < bytes.count ? Int(bytes[position]) : 0
    }

    /// A value in `range`, uniform over a byte.
    private mutating func pick(_ range: ClosedRange<Int>) -> Int { range.lowerBound + byte() % (range.count) }

    /// A value near a limit: the bounds of `range`, one past each, one inside it, or (`huge`)
    /// a power of two up to 2^30.
    private mutating func edge(_ range: ClosedRange<Int>, huge: Bool = false) -> Int {
        switch byte() % (huge ? 7 : 6) {
        case 0: range.lowerBound
        case 1: range.upperBound
        case 2: range.upperBound + 1
        case 3: range.lowerBound - 1
        case 6: 1 << pick(6...30)
        default: pick(range)
        }
    }

    /// A padding for a window of `kernel` dilated by `dilation`: none, one, the largest the
    /// format allows ((kernel - 1) * dilation), one more, kernel * dilation, huge, or random.
    private mutating func padding(_ kernel: Int, _ dilation: Int) -> Int {
        let extent = max(0, (kernel - 1) * dilation)
        return [0, 1, extent, extent + 1, kernel * dilation, 1 << pick(6...30), pick(0...max(extent, 1))][byte() % 7]
    }

    private mutating func parameters() -> QuantizationParameters {
        QuantizationParameters(scale: [0.02, 0.1, 1, 1e-6][byte() % 4], zeroPoint: Int32(pick(0...255) - 128))
    }

    private mutating func multiplier() -> FixedPointMultiplier {
        byte() % 8 == 0 ? FixedPointMultiplier(multiplier: Int32(truncatingIfNeeded: pick(0...255) << 24), shift: Int32(pick(0...255) - 128))
            : FixedPointMultiplier([1e-4, 0.003, 0.4, 1.7, 900][byte() % 5])
    }

    private mutating func clamp() -> CodeRange {
        let a = Int32(pick(0...255) - 128), b = Int32(pick(0...255) - 128)
        return byte() % 4 == 0 ? CodeRange(minimum: -128, maximum: 127) : CodeRange(minimum: min(a, b), maximum: max(a, b))
    }

    private mutating func randomBytes(_ count: Int) -> [UInt8] {
        let seed = byte()
        return (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 7 ^ seed &* 31) }
    }

    /// `randomBytes` as int8 codes in [-64, 63].
    private mutating func sevenBitBytes(_ count: Int) -> [UInt8] {
        randomBytes(count).map { UInt8(bitPattern: Int8(bitPattern: $0) >> 1) }
    }

    private mutating func activation() -> (index: Int, shape: [Int]) { activations[byte() % activations.count] }

    private mutating func output(_ shape: [Int]) -> Int {
        // Extents from huge geometry are cut until the activation holds at most 2^24 codes (the
        // file is then refused for its shape): the writer's arena stays within the format.
        var shape = shape.map { min(max($0, 1), 1 << 16) }
        while shape.reduce(1, *) > 1 << 24, let largest = shape.indices.max(by: { shape[$0] < shape[$1] }) { shape[largest] /= 2 }
        let index = writer.addActivation(shape: shape, parameters: parameters())
        activations.append((index, shape))
        return index
    }

    private mutating func build() -> [UInt8] {
        let input = output([pick(1...24), pick(1...24), pick(1...24)])
        for _ in 0..<pick(1...6) {
            switch byte() % 8 {
            case 0: convolution()
            case 1: fullyConnected()
            case 2: add()
            case 3: concatenation()
            case 4: maxPool()
            case 5: globalAveragePool()
            case 6: let x = activation(); writer.addOperator(.clamp(Clamp(input: x.index, output: output(x.shape), clamp: clamp())))
            default:
                let x = activation(), table = writer.addConstant(type: .int8, shape: [256], parameters: parameters(), bytes: randomBytes(256))
                writer.addOperator(.lookupTable(LookupTable(input: x.index, output: output(x.shape), table: table)))
            }
        }
        // A model past the format's limits cannot be written: an empty file, which the loader refuses.
        return (try? writer.serialize(input: input, output: activations.last!.index, multiplyAccumulates: 0))?.bytes ?? []
    }

    /// A random three-dimensional activation, when there is one.
    private mutating func spatialActivation() -> (index: Int, shape: [Int])? {
        let spatial = activations.filter { $0.shape.count == 3 }
        return spatial.isEmpty ? nil : spatial[byte() % spatial.count]
    }

    private mutating func globalAveragePool() {
        guard let x = spatialActivation() else { return }
        writer.addOperator(.globalAveragePool(GlobalAveragePool(input: x.index, output: output([x.shape[2]]), multiplier: multiplier())))
    }

    /// Output extent of a window `kernel` dilated by `dilation` over `size` with `padding`.
    private static func extent(_ size: Int, _ kernel: Int, _ stride: Int, _ padding: Int, _ dilation: Int) -> Int {
        stride <= 0 ? 1 : (size + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1
    }

    private mutating func convolution() {
        guard let x = spatialActivation() else { return }
        let channels = x.shape[2], groups = [1, channels, channels > 1 ? channels / 2 : 1][byte() % 3]
        let outputs = groups == channels && byte() % 2 == 0 ? channels : groups * pick(1...4)
        let (kh, kw) = (edge(1...min(12, x.shape[0] + 2)), edge(1...min(12, x.shape[1] + 2)))
        let (dh, dw) = (edge(1...ModelFormat.maximumDilation, huge: true), edge(1...ModelFormat.maximumDilation))
        let (sh, sw) = (edge(1...ModelFormat.maximumStride, huge: true), edge(1...ModelFormat.maximumStride))
        let (ph, pw) = (padding(kh, dh), padding(kw, dw))
        let groupInputs = channels / max(groups, 1), count = max(kh, 1) * max(kw, 1) * groupInputs * outputs
        // One filter in five is int4, one in five has 7-bit int8 weights (AVX2's byte kernels).
        let kind = byte() % 5, int4 = kind == 0
        let filter = writer.addConstant(type: int4 ? .int4 : .int8, shape: [max(kh, 1), max(kw, 1), groupInputs, outputs], parameters: parameters(),
                                        bytes: int4 ? randomBytes((count + 1) / 2) : kind == 1 ? sevenBitBytes(count) : randomBytes(count))
        let bias = writer.addConstant((0..<outputs).map { Int32($0 * 977 % 2001 - 1000) })
        let m = multiplier()
        let multipliers = writer.addConstant(Array(repeating: m.multiplier, count: outputs)), shifts = writer.addConstant(Array(repeating: m.shift, count: outputs))
        let shape = [Self.extent(x.shape[0], kh, sh, ph, dh), Self.extent(x.shape[1], kw, sw, pw, dw), outputs]
        writer.addOperator(.convolution(Convolution(input: x.index, filter: filter, bias: bias, multipliers: multipliers, shifts: shifts,
                                                    output: output(shape), stride: Extent(sh, sw), padding: Extent(ph, pw),
                                                    dilation: Extent(dh, dw), groups: groups, clamp: clamp())))
    }

    private mutating func fullyConnected() {
        let x = activation(), inputs = x.shape.reduce(1, *), outputs = pick(1...16)
        guard inputs * outputs <= 1 << 16 else { return }
        let weight = writer.addConstant(type: .int8, shape: [inputs, outputs], parameters: parameters(),
                                        bytes: byte() % 3 == 0 ? sevenBitBytes(inputs * outputs) : randomBytes(inputs * outputs))
        let bias = writer.addConstant((0..<outputs).map { Int32($0 * 31 - 40) })
        let m = multiplier()
        let multipliers = writer.addConstant(Array(repeating: m.multiplier, count: outputs)), shifts = writer.addConstant(Array(repeating: m.shift, count: outputs))
        writer.addOperator(.fullyConnected(FullyConnected(input: x.index, weight: weight, bias: bias, multipliers: multipliers, shifts: shifts,
                                                          output: output([outputs]), clamp: clamp())))
    }

    private mutating func add() {
        let x = activation(), same = activations.filter { $0.shape == x.shape }, y = same[byte() % same.count]
        writer.addOperator(.add(Add(a: x.index, b: y.index, output: output(x.shape), aMultiplier: multiplier(), bMultiplier: multiplier(),
                                    outputMultiplier: multiplier(), clamp: clamp())))
    }

    private mutating func concatenation() {
        let x = activation(), same = activations.filter { Array($0.shape.dropLast()) == Array(x.shape.dropLast()) && !$0.shape.isEmpty }
        guard !x.shape.isEmpty else { return }
        let count = [1, 2, 3, 300][byte() % 4]
        let inputs = (0..<count).map { _ in same[byte() % same.count] }
        let parts = inputs.map { Concatenation.Input(tensor: $0.index, rescale: byte() % 2 == 0 ? nil : multiplier()) }
        let channels = inputs.reduce(0) { $0 + $1.shape.last! }
        writer.addOperator(.concatenate(Concatenation(output: output(Array(x.shape.dropLast()) + [channels]), inputs: parts)))
    }

    private mutating func maxPool() {
        guard let x = spatialActivation() else { return }
        let (kh, kw) = (edge(1...x.shape[0] + 2, huge: true), edge(1...x.shape[1] + 2)), (sh, sw) = (edge(1...4, huge: true), pick(1...3))
        let (ph, pw) = (padding(kh, 1), padding(kw, 1))
        let shape = [Self.extent(x.shape[0], kh, sh, ph, 1), Self.extent(x.shape[1], kw, sw, pw, 1), x.shape[2]]
        writer.addOperator(.maxPool(MaxPool(input: x.index, output: output(shape), kernel: Extent(kh, kw), stride: Extent(sh, sw), padding: Extent(ph, pw))))
    }
}
