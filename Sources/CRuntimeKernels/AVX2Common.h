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

/// `count` codes of `source` with `flip` xored in, 32, then 8 at a time (the rest one by one).
MNW_AVX2_INLINE void copy_codes_avx2(const int8_t *source, size_t count, uint8_t flip, int8_t *destination) {
    __m256i flips = _mm256_set1_epi8((char)flip);
    size_t i = 0;
    for (; i + 32 <= count; i += 32)
        _mm256_storeu_si256((__m256i *)(destination + i), _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(source + i)), flips));
    for (; i + 8 <= count; i += 8)
        _mm_storel_epi64((__m128i *)(destination + i), _mm_xor_si128(_mm_loadl_epi64((const __m128i *)(source + i)), _mm256_castsi256_si128(flips)));
    for (; i < count; i++) destination[i] = (int8_t)(source[i] ^ (int8_t)flip);
}

/// `count` copies of `value`, 32, then 8 at a time (the rest one by one).
MNW_AVX2_INLINE void fill_codes_avx2(int8_t value, size_t count, int8_t *destination) {
    __m256i v = _mm256_set1_epi8(value);
    size_t i = 0;
    for (; i + 32 <= count; i += 32) _mm256_storeu_si256((__m256i *)(destination + i), v);
    for (; i + 8 <= count; i += 8) _mm_storel_epi64((__m128i *)(destination + i), _mm256_castsi256_si128(v));
    for (; i < count; i++) destination[i] = value;
}

/// The padded copy (KernelsCommon.h) with 32- and 8-byte moves: plain loops became calls to
/// memset and byte loops, 0.47 M of the teacher's 12.6 M instructions per inference (callgrind).
MNW_AVX2_INLINE void pad_input_avx2(const int8_t *input, const mnw_conv_geometry *g, int8_t zero_point, uint8_t flip, int8_t *destination) {
    size_t c = (size_t)g->channels;
    int rows = padded_extent(g->output_height, g->stride_height, g->kernel_height, g->dilation_height);
    int padded_width = padded_extent(g->output_width, g->stride_width, g->kernel_width, g->dilation_width);
    int8_t padding = (int8_t)(zero_point ^ (int8_t)flip);
    int left = g->padding_width, inside = g->width < padded_width - left ? g->width : padded_width - left, height = g->height, top = g->padding_height;
    size_t width = (size_t)g->width;
    for (int py = 0; py < rows; py++) {
        int8_t *row = destination + (size_t)py * padded_width * c;
        int iy = py - top;
        if (iy < 0 || iy >= height) {
            fill_codes_avx2(padding, (size_t)padded_width * c, row);
            continue;
        }
        fill_codes_avx2(padding, (size_t)left * c, row);
        copy_codes_avx2(input + (size_t)iy * width * c, (size_t)inside * c, flip, row + (size_t)left * c);
        fill_codes_avx2(padding, (size_t)(padded_width - left - inside) * c, row + (size_t)(left + inside) * c);
    }
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
/// (total - 32). Loaded once per kernel call: a loop that reloads the table after each byte store
/// (which may alias it) spends a third of its instructions on loads.
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
