import MinnowKernels
import MinnowTensor
import QuantMath

/// Why quantization parameters cannot be given.
public enum QuantizationError: Error, Equatable, CustomStringConvertible {
    /// An observer asked for parameters before it saw any value (calibration with zero images).
    case noObservations(String)
    /// A layer (module path) has no quantized form; the detail says which op.
    case unsupportedLayer(String, String)
    /// A quantization scheme Minnow does not support (a bit width, an averaging constant, a layer path).
    case invalidScheme(String)
    /// A quantization state (a loaded buffer) no training could have written.
    case invalidState(String)

    public var description: String {
        switch self {
        case .noObservations(let what): "quantization: \(what) has observed no values (calibrate on at least one image)"
        case let .unsupportedLayer(path, detail): "quantization: layer '\(path.isEmpty ? "(model)" : path)': \(detail)"
        case .invalidScheme(let detail): "quantization scheme: \(detail)"
        case .invalidState(let detail): "quantization state: \(detail)"
        }
    }
}

/// Watches the values a tensor takes and chooses quantization parameters for it (PyTorch's
/// observers; Krishnamoorthi 2018, section 3).
public protocol Observer {
    /// Takes the values of one batch into account.
    mutating func observe(_ values: Tensor)
    /// The range the observer settled on: `(minimum, maximum)`.
    func range() throws(QuantizationError) -> (minimum: Float, maximum: Float)
}

extension Observer {
    /// Parameters for the observed range: asymmetric (activations) or symmetric (weights).
    public func parameters(type: QuantizedType = .int8, symmetric: Bool = false) throws(QuantizationError) -> QuantizationParameters {
        let (minimum, maximum) = try range()
        return symmetric ? .symmetric(minimum: minimum, maximum: maximum, type: type)
            : .asymmetric(minimum: minimum, maximum: maximum, type: type)
    }
}

/// The smallest and largest value seen: PyTorch's `MinMaxObserver`. NaN values are ignored.
public struct MinMaxObserver: Observer, Sendable {
    public private(set) var minimum = Float.infinity, maximum = -Float.infinity

    public init() {}

    public mutating func observe(_ values: Tensor) {
        let (low, high) = values.withUnsafePointer { FakeQuantKernels.range($0, count: values.count) }
        (minimum, maximum) = (Swift.min(minimum, low), Swift.max(maximum, high))
    }

    public func range() throws(QuantizationError) -> (minimum: Float, maximum: Float) {
        guard minimum <= maximum else { throw .noObservations("a min/max observer") }
        return (minimum, maximum)
    }
}

/// The smallest and largest value of each index of `axis` (per-channel weights: axis 3 of an HWIO
/// filter): PyTorch's `PerChannelMinMaxObserver`. NaN values are ignored.
public struct PerChannelMinMaxObserver: Sendable {
    public let axis: Int
    public private(set) var minimums: [Float] = [], maximums: [Float] = []

    public init(axis: Int) { self.axis = axis }

    public mutating func observe(_ values: Tensor) {
        let axis = axis < 0 ? axis + values.rank : axis
        let extent = values.shape[axis], inner = values.shape[(axis + 1)...].reduce(1, *)
        if minimums.count != extent {
            (minimums, maximums) = (Array(repeating: .infinity, count: extent), Array(repeating: -.infinity, count: extent))
        }
        for (index, value) in values.scalars.enumerated() where !value.isNaN {
            let channel = (index / inner) % extent
            minimums[channel] = Swift.min(minimums[channel], value)
            maximums[channel] = Swift.max(maximums[channel], value)
        }
    }

    /// Parameters per channel (symmetric by default, as weights are).
    public func parameters(type: QuantizedType = .int8, symmetric: Bool = true) throws(QuantizationError) -> [QuantizationParameters] {
        guard !minimums.isEmpty, zip(minimums, maximums).allSatisfy({ $0 <= $1 }) else {
            throw .noObservations("a per-channel min/max observer")
        }
        return zip(minimums, maximums).map { low, high in
            symmetric ? .symmetric(minimum: low, maximum: high, type: type) : .asymmetric(minimum: low, maximum: high, type: type)
        }
    }
}

/// An exponential moving average of each batch's minimum and maximum: PyTorch's
/// `MovingAverageMinMaxObserver` (the first batch sets the range; each later one moves it by
/// `averagingConstant` of the way to its own), the usual choice for activations during QAT.
public struct MovingAverageMinMaxObserver: Observer, Sendable {
    public let averagingConstant: Float
    public private(set) var minimum = Float.infinity, maximum = -Float.infinity

    public init(averagingConstant: Float = 0.01) { self.averagingConstant = averagingConstant }

    public mutating func observe(_ values: Tensor) {
        var batch = MinMaxObserver()
        batch.observe(values)
        guard let (low, high) = try? batch.range() else { return }
        if minimum > maximum {
            (minimum, maximum) = (low, high)
        } else {
            minimum += averagingConstant * (low - minimum)
            maximum += averagingConstant * (high - maximum)
        }
    }

    public func range() throws(QuantizationError) -> (minimum: Float, maximum: Float) {
        guard minimum <= maximum else { throw .noObservations("a moving-average min/max observer") }
        return (minimum, maximum)
    }
}

/// A histogram of the values seen, and a range that keeps a central `percentile` of them and clips
/// the tails (Krishnamoorthi 2018; outliers no longer stretch the scale for everyone). The
/// histogram covers `[-bound, bound]` in `bins` equal bins; `bound` is a power of two that doubles
/// (merging bins pairwise) whenever a value falls outside, so memory stays fixed however many
/// values are observed. The range's ends are bin edges: within `2 * bound / bins` of the exact
/// percentiles.
public struct PercentileObserver: Observer, Sendable {
    public let percentile: Double
    public let bins: Int
    public private(set) var bound: Float = 0
    public private(set) var counts: [Int]
    private var seen = 0

    /// `percentile` in (50, 100]: the share of values kept between the range's ends (the rest is
    /// split evenly between the two tails). `bins` must be even and positive.
    public init(percentile: Double = 99.99, bins: Int = 2048) {
        self.percentile = Swift.min(Swift.max(percentile, 50), 100)
        self.bins = Swift.max(2, bins + bins % 2)
        counts = Array(repeating: 0, count: self.bins)
    }

    public mutating func observe(_ values: Tensor) {
        for value in values.scalars where value.isFinite {
            grow(toCover: Swift.abs(value))
            let index = Int(((value + bound) / (2 * bound) * Float(bins)).rounded(.down))
            counts[Swift.min(Swift.max(index, 0), bins - 1)] += 1
            seen += 1
        }
    }

    /// Doubles `bound` until it covers `magnitude`, merging bins pairwise into the central half.
    private mutating func grow(toCover magnitude: Float) {
        if bound == 0 {
            guard magnitude > 0 else { return }
            bound = Float(sign: .plus, exponent: magnitude.exponent + 1, significand: 1)
            return
        }
        while magnitude > bound {
            var merged = Array(repeating: 0, count: bins)
            for pair in 0..<(bins / 2) { merged[bins / 4 + pair] = counts[2 * pair] + counts[2 * pair + 1] }
            counts = merged
            bound *= 2
        }
    }

    public func range() throws(QuantizationError) -> (minimum: Float, maximum: Float) {
        guard seen > 0 else { throw .noObservations("a percentile observer") }
        guard bound > 0 else { return (0, 0) }  // every value was 0
        let tail = Double(seen) * (100 - percentile) / 200
        let width = 2 * bound / Float(bins)
        var cumulative = 0, low = 0
        while low < bins - 1, Double(cumulative + counts[low]) <= tail {
            cumulative += counts[low]
            low += 1
        }
        cumulative = 0
        var high = bins - 1
        while high > low, Double(cumulative + counts[high]) <= tail {
            cumulative += counts[high]
            high -= 1
        }
        return (-bound + Float(low) * width, -bound + Float(high + 1) * width)
    }
}
