import RealModule

/// A seedable pseudo-random generator (xoshiro256**, seeded through SplitMix64).
///
/// Every random draw in Minnow (initialization, dropout masks, shuffling, augmentation)
/// takes one of these, so a run with the same seed gives the same numbers.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Codable, Equatable {
    /// The full generator state (for checkpoints).
    public var state: [UInt64]

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) {
        var splitmix = seed
        state = (0..<4).map { _ in
            splitmix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitmix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    public mutating func next() -> UInt64 {
        let result = rotl(state[1] &* 5, 7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = rotl(state[3], 45)
        return result
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1) with 24 random bits.
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Standard normal (Box-Muller).
    public mutating func nextNormal() -> Float {
        let u1 = Swift.max(nextUnitFloat(), 1e-7)
        let u2 = nextUnitFloat()
        return (-2 * Float.log(u1)).squareRoot() * Float.cos(2 * Float.pi * u2)
    }
}

extension Tensor {
    /// Normal samples with `mean` and `standardDeviation`.
    public static func randomNormal(
        _ shape: [Int], mean: Float = 0, standardDeviation: Float = 1, generator: inout SeededGenerator
    ) -> Tensor {
        let n = elementCount(shape)
        var values = [Float](repeating: 0, count: n)
        for i in 0..<n { values[i] = mean + standardDeviation * generator.nextNormal() }
        return Tensor(shape: shape, scalars: values)
    }

    /// Uniform samples in `[low, high)`.
    public static func randomUniform(
        _ shape: [Int], low: Float = 0, high: Float = 1, generator: inout SeededGenerator
    ) -> Tensor {
        let n = elementCount(shape)
        var values = [Float](repeating: 0, count: n)
        for i in 0..<n { values[i] = low + (high - low) * generator.nextUnitFloat() }
        return Tensor(shape: shape, scalars: values)
    }
}
