import QuantMath

/// QuantMath's `requantize` as a C function, for the kernel tests that run where XCTest cannot
/// (Tests/CInterface/neon_kernels.c, under QEMU): they compare a kernel set built for another CPU
/// with the arithmetic that defines it, compiled for that CPU. Not part of include/minnow_runtime.h.
@_cdecl("mnw_quantmath_requantize")
public func quantMathRequantize(_ accumulator: Int32, _ multiplier: Int32, _ shift: Int32, _ zeroPoint: Int32, _ minimum: Int32,
                                _ maximum: Int32) -> Int32 {
    requantize(accumulator, multiplier: FixedPointMultiplier(multiplier: multiplier, shift: shift), outputZeroPoint: zeroPoint,
               minimum: minimum, maximum: maximum)
}
