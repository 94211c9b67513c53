import CRuntimeKernels
import MinnowRuntime
import MinnowTensor
import QuantMath
import XCTest

/// The SIMD kernels equal the reference arithmetic bit for bit. On a CPU without AVX-512 VNNI
/// there are no fast kernels to compare: the runtime must then say it runs the reference ones
/// (`hasVNNI` is false and the tests check that instead of the kernels; nothing is skipped).
final class FastKernelTests: XCTestCase {
    /// Whether the fast kernels can run here; without them, checks that the runtime falls back.
    func hasVNNI() -> Bool {
        guard mnw_cpu_has_avx512vnni() == 1 else {
            XCTAssertEqual(KernelChoice.detected, "reference", "without AVX-512 VNNI the runtime runs the reference kernels")
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
            let reals = (0..<count).map { _ in Double(generator.nextUnitFloat()) * pow(2, Double(Int(generator.next() % 62) - 31)) }
            let multipliers = reals.map(FixedPointMultiplier.init)
            let zeroPoint = Int32(Int(generator.next() % 256) - 128)
            let (minimum, maximum): (Int32, Int32) = trial % 3 == 0 ? (-128, 127) : (max(zeroPoint, -128), min(zeroPoint + 60, 127))
            var output = [Int8](repeating: 0, count: count)
            mnw_requantize_avx512(accumulators, Int32(count), multipliers.map(\.multiplier), multipliers.map(\.shift), zeroPoint, minimum, maximum,
                                  &output)
            let expected = zip(accumulators, multipliers).map {
                Int8(requantize($0, multiplier: $1, outputZeroPoint: zeroPoint, minimum: minimum, maximum: maximum))
            }
            XCTAssertEqual(output, expected, "trial \(trial)")
        }
    }

    /// The VNNI row kernel equals the reference fully connected layer for sizes that are not
    /// multiples of 4 (inputs) or 16 (outputs), every input zero point.
    func testPointwiseRowEqualsTheReference() throws {
        guard hasVNNI() else { return }
        var generator = SeededGenerator(seed: 5)
        for (k, n) in [(1, 1), (3, 5), (4, 16), (17, 33), (64, 48), (336, 56), (57, 257)] {
            let weight = (0..<(k * n)).map { _ in Int8(truncatingIfNeeded: generator.next()) }
            let input = (0..<k).map { _ in Int8(truncatingIfNeeded: generator.next()) }
            let bias = (0..<n).map { _ in Int32(truncatingIfNeeded: generator.next()) >> 12 }
            for zeroPoint: Int32 in [-128, -3, 0, 127] {
                var packed = [Int8](repeating: 0, count: mnw_vnni_packed_size(Int32(k), Int32(n)))
                mnw_vnni_pack(weight, Int32(k), Int32(n), &packed)
                var sums = [Int32](repeating: 0, count: n)
                mnw_column_sums(weight, Int32(k), Int32(n), &sums)
                var accumulators = [Int32](repeating: 0, count: (n + 15) / 16 * 16)
                mnw_pointwise_row_vnni(input, Int32(k), zeroPoint, packed, sums, bias, Int32(n), &accumulators)
                func reference(_ row: [Int8]) -> [Int32] {
                    (0..<n).map { j in (0..<k).reduce(bias[j]) { $0 &+ (Int32(row[$1]) - zeroPoint) &* Int32(weight[$1 * n + j]) } }
                }
                XCTAssertEqual(Array(accumulators.prefix(n)), reference(input), "k \(k), n \(n), zero point \(zeroPoint)")
                // Four rows at once (two output blocks at a time where there are two).
                let rows = (0..<4).map { _ in (0..<k).map { _ in Int8(truncatingIfNeeded: generator.next()) } }
                let stride = (n + 15) / 16 * 16
                var four = [Int32](repeating: 0, count: 4 * stride)
                let storage = UnsafeMutablePointer<Int8>.allocate(capacity: 4 * k)
                defer { storage.deallocate() }
                for r in 0..<4 { for i in 0..<k { storage[r * k + i] = rows[r][i] } }
                let pointers: [UnsafePointer<Int8>?] = (0..<4).map { UnsafePointer(storage + $0 * k) }
                mnw_pointwise_rows4_vnni(pointers, Int32(k), zeroPoint, packed, sums, bias, Int32(n), &four, Int32(stride))
                for r in 0..<4 {
                    XCTAssertEqual(Array(four[(r * stride)..<(r * stride + n)]), reference(rows[r]), "four rows: k \(k), n \(n), row \(r)")
                }
            }
        }
    }
}
