#ifndef MINNOW_NEON_COMMON_H
#define MINNOW_NEON_COMMON_H

// AArch64 NEON helpers shared by the NEON kernel files: QuantMath's requantization on four lanes
// (a second implementation of its arithmetic, exact in every form), narrowing, partial loads.

#include "RuntimeKernels.h"
#include "KernelsCommon.h"

#include <arm_neon.h>
#include <string.h>

#define MNW_NEON_INLINE static inline __attribute__((always_inline))

/// Four lanes of a requantization table block (lanes 4q ..< 4q + 4; the NEON part of the layout
/// `MNW_REQUANT_BLOCK` describes): multipliers, `31 - total` (the shift of the short form) and
/// `-total` as two int64 pairs (the general form).
typedef struct {
    int32x4_t multiplier, high_shift;
    int64x2_t low_total, high_total;
} neon_table4;

MNW_NEON_INLINE neon_table4 neon_table4_load(const int64_t *block, int quarter) {
    neon_table4 t = {vld1q_s32((const int32_t *)(block + 64) + 4 * quarter), vld1q_s32((const int32_t *)(block + 72) + 4 * quarter),
                     vld1q_s64(block + 80 + 4 * quarter), vld1q_s64(block + 82 + 4 * quarter)};
    return t;
}

/// `x * multiplier * 2^(shift - 31)` rounded half up in one rounding, saturated to int32:
/// QuantMath's `multiplyByQuantizedMultiplier` on four lanes.
/// - `general` 0 (every lane's total shift t at least 32, the table's form at least
///   `MNW_REQUANT_HIGH`): `sqdmulh` gives floor(x m / 2^31) (it saturates only for two int32
///   minimums; multipliers are at least 0), and `srshl` by `31 - t` adds 2^(t - 32) and shifts
///   right by t - 31 in exact arithmetic: with x m = 2^31 a + r (0 <= r < 2^31), floor((a +
///   2^(t-32)) / 2^(t-31)) equals floor((x m + 2^(t-1)) / 2^t), since a + 2^(t-32) is whole and
///   r / 2^31 below 1. The result is within 2^30: no saturation needed.
/// - `general` 1 (any total 1...62): the 64-bit products (`smull`), `srshl` by `-t` (rounding
///   constant added in exact arithmetic), narrowed with saturation (`sqxtn`).
MNW_NEON_INLINE int32x4_t neon_multiply4(int32x4_t x, neon_table4 t, const int general) {
    if (!general) return vrshlq_s32(vqdmulhq_s32(x, t.multiplier), t.high_shift);
    int64x2_t low = vrshlq_s64(vmull_s32(vget_low_s32(x), vget_low_s32(t.multiplier)), t.low_total);
    int64x2_t high = vrshlq_s64(vmull_high_s32(x, t.multiplier), t.high_total);
    return vcombine_s32(vqmovn_s64(low), vqmovn_s64(high));
}

/// QuantMath's `requantize` before the clamp: the scaled value plus the zero point, saturating
/// (a sum beyond int32 clamps to the same code as QuantMath's 64-bit sum, since the clamp bounds
/// are int8 codes).
MNW_NEON_INLINE int32x4_t neon_requant4(int32x4_t x, neon_table4 t, int32x4_t zero_point, const int general) {
    return vqaddq_s32(neon_multiply4(x, t, general), zero_point);
}

/// Sixteen int32 lanes narrowed with saturation to codes and clamped to [minimum, maximum].
MNW_NEON_INLINE int8x16_t neon_narrow16(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d, int8x16_t minimum, int8x16_t maximum) {
    int16x8_t low = vqmovn_high_s32(vqmovn_s32(a), b), high = vqmovn_high_s32(vqmovn_s32(c), d);
    return vminq_s8(vmaxq_s8(vqmovn_high_s16(vqmovn_s16(low), high), minimum), maximum);
}

/// The four quarters of a table block, loaded once for every row or pixel that uses them.
MNW_NEON_INLINE void neon_table16_load(const int64_t *block, neon_table4 t[4]) {
    t[0] = neon_table4_load(block, 0), t[1] = neon_table4_load(block, 1), t[2] = neon_table4_load(block, 2), t[3] = neon_table4_load(block, 3);
}

/// Requantizes sixteen accumulators (the channels of a table block, `neon_table16_load`) and
/// stores `count` codes.
MNW_NEON_INLINE void neon_requant_store16(int8_t *destination, int count, const int32x4_t x[4], const neon_table4 t[4], int32x4_t zero_point,
                                          int8x16_t minimum, int8x16_t maximum, const int general) {
    // Written out: GCC at -O2 loops over arrays of vectors through memory.
    int8x16_t codes = neon_narrow16(neon_requant4(x[0], t[0], zero_point, general), neon_requant4(x[1], t[1], zero_point, general),
                                    neon_requant4(x[2], t[2], zero_point, general), neon_requant4(x[3], t[3], zero_point, general), minimum,
                                    maximum);
    if (count >= 16) {
        vst1q_s8(destination, codes);
    } else {
        int8_t lanes[16];
        vst1q_s8(lanes, codes);
        memcpy(destination, lanes, (size_t)count);
    }
}

/// Sixteen codes from `source` (only `count` of them when fewer remain, the rest `fill`).
MNW_NEON_INLINE int8x16_t neon_load16(const int8_t *source, int count, int8_t fill) {
    if (count >= 16) return vld1q_s8(source);
    int8_t lanes[16];
    memset(lanes, fill, sizeof lanes);
    memcpy(lanes, source, (size_t)count);
    return vld1q_s8(lanes);
}

/// Stores the first `count` of sixteen codes.
MNW_NEON_INLINE void neon_store16(int8_t *destination, int count, int8x16_t codes) {
    if (count >= 16) {
        vst1q_s8(destination, codes);
        return;
    }
    int8_t lanes[16];
    vst1q_s8(lanes, codes);
    memcpy(destination, lanes, (size_t)count);
}

/// Sixteen codes widened to four int32 vectors, each less `zero_point` and shifted left by `shift`.
MNW_NEON_INLINE void neon_widen16(int8x16_t codes, int32x4_t zero_point, int32x4_t shift, int32x4_t out[4]) {
    int16x8_t low = vmovl_s8(vget_low_s8(codes)), high = vmovl_high_s8(codes);
    out[0] = vshlq_s32(vsubq_s32(vmovl_s16(vget_low_s16(low)), zero_point), shift);
    out[1] = vshlq_s32(vsubq_s32(vmovl_high_s16(low), zero_point), shift);
    out[2] = vshlq_s32(vsubq_s32(vmovl_s16(vget_low_s16(high)), zero_point), shift);
    out[3] = vshlq_s32(vsubq_s32(vmovl_high_s16(high), zero_point), shift);
}

#endif
