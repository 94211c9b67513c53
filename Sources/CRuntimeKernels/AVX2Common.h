#ifndef MINNOW_AVX2_COMMON_H
#define MINNOW_AVX2_COMMON_H

// AVX2 helpers shared by the AVX2 and AVX-VNNI kernel files: the short exact requantization
// forms on eight lanes, partial loads.

#include "RuntimeKernels.h"
#include "KernelsCommon.h"

#include <immintrin.h>
#include <string.h>

#define MNW_AVX2_INLINE static inline __attribute__((always_inline, target("avx2")))

/// QuantMath's requantization of eight lanes (channels 8h ..< 8h + 8 of a table block) in a
/// short form, stored as `count` codes: with `rounded` (the table's form is
/// `MNW_REQUANT_ROUNDED`) the rounded form (see `requant_store_rounded` in AVX512Common.h: the
/// high halves of the products, one add of rounding and zero point, one shift), else the high
/// form (total shifts at least 32; `requant_store_high`).
MNW_AVX2_INLINE void requant_store8(int8_t *destination, int count, __m256i x, const int64_t *block, int half, __m256i zero_point,
                                    __m128i minimum, __m128i maximum, int rounded) {
    const int64_t *b = block + 4 * half;
    const int32_t *shifts = (const int32_t *)(block + 48) + 8 * half, *constants = (const int32_t *)(block + 56) + 8 * half;
    __m256i q;
    if (rounded) {
        __m256i even = _mm256_mul_epi32(x, _mm256_loadu_si256((const __m256i *)b));
        __m256i odd = _mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_loadu_si256((const __m256i *)(b + 8)));
        q = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
        q = _mm256_srav_epi32(_mm256_add_epi32(q, _mm256_loadu_si256((const __m256i *)constants)), _mm256_loadu_si256((const __m256i *)shifts));
    } else {
        __m256i even = _mm256_add_epi64(_mm256_mul_epi32(x, _mm256_loadu_si256((const __m256i *)b)), _mm256_loadu_si256((const __m256i *)(b + 32)));
        __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_loadu_si256((const __m256i *)(b + 8))),
                                       _mm256_loadu_si256((const __m256i *)(b + 40)));
        q = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
        q = _mm256_add_epi32(_mm256_srav_epi32(q, _mm256_loadu_si256((const __m256i *)shifts)), zero_point);
    }
    __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
    __m128i codes = _mm_min_epi8(_mm_max_epi8(_mm_packs_epi16(words, words), minimum), maximum);
    if (count >= 8) {
        _mm_storel_epi64((__m128i *)destination, codes);
    } else {
        int8_t lanes[16];
        _mm_storeu_si128((__m128i *)lanes, codes);
        memcpy(destination, lanes, (size_t)count);
    }
}

/// `count` codes made unsigned (`^ 0x80`), 32 at a time. (A plain loop over `a->input[i]` stays
/// scalar: its byte stores may alias the argument struct, so every bound is reloaded; it took a
/// third of the AVX2 GEMM's time on the student.)
MNW_AVX2_INLINE void flip_codes(const int8_t *source, size_t count, uint8_t *destination) {
    __m256i flips = _mm256_set1_epi8((char)0x80);
    size_t i = 0;
    for (; i + 32 <= count; i += 32)
        _mm256_storeu_si256((__m256i *)(destination + i), _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(source + i)), flips));
    for (; i < count; i++) destination[i] = (uint8_t)(source[i] ^ 0x80);
}

/// Eight codes from `source` (only `count` of them when fewer remain, the rest 0).
MNW_AVX2_INLINE __m128i load8(const int8_t *source, int count) {
    if (count >= 8) return _mm_loadl_epi64((const __m128i *)source);
    int8_t lanes[8] = {0};
    memcpy(lanes, source, (size_t)count);
    return _mm_loadl_epi64((const __m128i *)lanes);
}

/// `x * multiplier * 2^(shift - 31)` in the short form (total shift at least 32) on eight lanes
/// of a one-channel table (all lanes alike).
MNW_AVX2_INLINE __m256i multiply8(__m256i x, const int64_t *block) {
    __m256i even = _mm256_add_epi64(_mm256_mul_epi32(x, _mm256_loadu_si256((const __m256i *)block)), _mm256_loadu_si256((const __m256i *)(block + 32)));
    __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_loadu_si256((const __m256i *)(block + 8))),
                                   _mm256_loadu_si256((const __m256i *)(block + 40)));
    __m256i q = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
    return _mm256_srav_epi32(q, _mm256_loadu_si256((const __m256i *)(block + 48)));
}

/// A one-channel table (all lanes alike) held in registers: its multiplier, its even-lane 64-bit
/// addend (rounding half of the high form), its int32 constant (rounded form) and its shift
/// (total - 32). Loaded once per kernel call, where a loop over `multiply8` reloads the table
/// after each byte store (which may alias it).
typedef struct {
    __m256i multiplier, addend, constant;
    __m128i shift;
} uniform_table8;

MNW_AVX2_INLINE uniform_table8 uniform_table8_load(const int64_t *block) {
    uniform_table8 t = {_mm256_loadu_si256((const __m256i *)block), _mm256_loadu_si256((const __m256i *)(block + 32)),
                        _mm256_set1_epi32(((const int32_t *)(block + 56))[0]), _mm_cvtsi32_si128(((const int32_t *)(block + 48))[0])};
    return t;
}

/// `multiply8` with a table in registers.
MNW_AVX2_INLINE __m256i uniform_multiply8(__m256i x, uniform_table8 t) {
    __m256i even = _mm256_add_epi64(_mm256_mul_epi32(x, t.multiplier), t.addend);
    __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), t.multiplier), t.addend);
    return _mm256_sra_epi32(_mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA), t.shift);
}

/// `requant_store8`'s arithmetic with a table in registers, before the narrowing: eight int32
/// codes (zero point added, not yet saturated).
MNW_AVX2_INLINE __m256i uniform_requant8(__m256i x, uniform_table8 t, __m256i zero_point, int rounded) {
    if (rounded) {
        __m256i even = _mm256_mul_epi32(x, t.multiplier), odd = _mm256_mul_epi32(_mm256_srli_epi64(x, 32), t.multiplier);
        __m256i q = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
        return _mm256_sra_epi32(_mm256_add_epi32(q, t.constant), t.shift);
    }
    return _mm256_add_epi32(uniform_multiply8(x, t), zero_point);
}

#endif
