#ifndef MINNOW_AVX512_COMMON_H
#define MINNOW_AVX512_COMMON_H

// AVX-512 helpers shared by the AVX-512 kernel files (static inline, each with the target
// attribute): masks, code stores, the exact requantization forms, padded input copies.

#include "RuntimeKernels.h"
#include "KernelsCommon.h"

#include <immintrin.h>
#include <string.h>

#define MNW_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define MNW_INLINE static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512vl,avx512vnni")))

MNW_INLINE __mmask16 mask16(int remaining) { return remaining >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << remaining) - 1); }

MNW_INLINE __mmask64 mask64(int remaining) { return remaining >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << remaining) - 1); }

/// Stores sixteen int32 lanes (already within int8) as codes: narrowed in a register first (the
/// memory form of vpmovdb is slow on AMD's cores), then one masked byte store.
MNW_INLINE void store_codes(int8_t *destination, __mmask16 mask, __m512i values) {
    __m128i codes = _mm512_cvtepi32_epi8(values);
    __asm__("" : "+v"(codes));
    _mm_mask_storeu_epi8(destination, mask, codes);
}

/// The clamp of a requantization relative to the output zero point: QuantMath saturates the
/// scaled value to int32, adds the zero point and clamps to [minimum, maximum]; clamping the 64-bit
/// scaled value to [minimum - zp, maximum - zp] and adding zp after is the same (both clamps are
/// monotone and the second interval lies within int32).
typedef struct {
    __m512i low, high, zero_point;
    __m128i minimum, maximum;
    __m512i minimum64, maximum64;  // the byte bounds in all 64 lanes
    int clamps;  // whether [minimum, maximum] is narrower than int8's range
} requant_clamp;

MNW_INLINE requant_clamp make_clamp(int32_t zero_point, int32_t minimum, int32_t maximum) {
    requant_clamp c = {_mm512_set1_epi64((int64_t)minimum - zero_point), _mm512_set1_epi64((int64_t)maximum - zero_point),
                       _mm512_set1_epi32(zero_point), _mm_set1_epi8((char)minimum), _mm_set1_epi8((char)maximum),
                       _mm512_set1_epi8((char)minimum), _mm512_set1_epi8((char)maximum), minimum > -128 || maximum < 127};
    return c;
}

/// QuantMath's `requantize` on sixteen int32 lanes with one block of a requantization table
/// (`mnw_requant_prepare`): 64-bit products of the even and the odd lanes, the single rounding
/// shift, the clamp, the zero point.
MNW_INLINE __m512i requant16(__m512i x, const int64_t *block, requant_clamp c) {
    __m512i even = _mm512_mul_epi32(x, _mm512_loadu_si512(block));
    __m512i odd = _mm512_mul_epi32(_mm512_srli_epi64(x, 32), _mm512_loadu_si512(block + 8));
    even = _mm512_srav_epi64(_mm512_add_epi64(even, _mm512_loadu_si512(block + 32)), _mm512_loadu_si512(block + 16));
    odd = _mm512_srav_epi64(_mm512_add_epi64(odd, _mm512_loadu_si512(block + 40)), _mm512_loadu_si512(block + 24));
    even = _mm512_max_epi64(_mm512_min_epi64(even, c.high), c.low);
    odd = _mm512_max_epi64(_mm512_min_epi64(odd, c.high), c.low);
    return _mm512_add_epi32(_mm512_mask_blend_epi32((__mmask16)0xAAAA, even, _mm512_slli_epi64(odd, 32)), c.zero_point);
}

/// `requant16` for a table whose total shifts are all at least 32 (`mnw_requant_prepare` returned
/// `MNW_REQUANT_HIGH` or shorter: every real multiplier below 1/2), stored as codes. Then `(p + half) >> k` is the high half
/// of `p + half` shifted right by `k - 32` (floors compose), which fits in int32, so the 64-bit
/// clamps become a saturating narrowing and a byte clamp: the same result with fewer operations.
MNW_INLINE void requant_store_high(int8_t *destination, __mmask16 mask, __m512i x, const int64_t *block, requant_clamp c) {
    __m512i even = _mm512_add_epi64(_mm512_mul_epi32(x, _mm512_loadu_si512(block)), _mm512_loadu_si512(block + 32));
    __m512i odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), _mm512_loadu_si512(block + 8)), _mm512_loadu_si512(block + 40));
    __m512i q = _mm512_mask_blend_epi32((__mmask16)0xAAAA, _mm512_srli_epi64(even, 32), odd);
    q = _mm512_add_epi32(_mm512_srav_epi32(q, _mm512_loadu_si512(block + 48)), c.zero_point);
    _mm_mask_storeu_epi8(destination, mask, _mm_min_epi8(_mm_max_epi8(_mm512_cvtsepi32_epi8(q), c.minimum), c.maximum));
}

/// `requant16` for a table of the rounded form (`MNW_REQUANT_ROUNDED`: total shifts k in
/// 33...52), zero point added, before narrowing. With `h = floor(p / 2^32)` and `s = k - 32`, `(p + 2^(k-1)) >> k`
/// equals `(h + 2^(s-1)) >> s`: the rounding half is a whole multiple of 2^32, so it adds to the
/// high half alone, and the low half cannot move a floor by 2^s. Adding the zero point times
/// 2^s before the shift adds it after; the table holds `2^(s-1) + zp 2^s` per lane (within
/// int32, as |h| < 2^30 and s <= 20). So: two products, one permutation gathering their high
/// halves, one add, one shift, a saturating narrowing, and the byte clamp only when the layer
/// has one (a fused ReLU6 whose range is the output's needs none).
MNW_INLINE __m512i requant_rounded(__m512i x, const int64_t *block) {
    __m512i even = _mm512_mul_epi32(x, _mm512_loadu_si512(block));
    __m512i odd = _mm512_mul_epi32(_mm512_srli_epi64(x, 32), _mm512_loadu_si512(block + 8));
    __m512i highs = _mm512_permutex2var_epi32(even, _mm512_setr_epi32(1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31), odd);
    return _mm512_srav_epi32(_mm512_add_epi32(highs, _mm512_loadu_si512(block + 56)), _mm512_loadu_si512(block + 48));
}

/// `requant_rounded`, narrowed with saturation, clamped and stored.
MNW_INLINE void requant_store_rounded(int8_t *destination, __mmask16 mask, __m512i x, const int64_t *block, requant_clamp c) {
    __m128i codes = _mm512_cvtsepi32_epi8(requant_rounded(x, block));
    if (c.clamps) codes = _mm_min_epi8(_mm_max_epi8(codes, c.minimum), c.maximum);
    _mm_mask_storeu_epi8(destination, mask, codes);
}

/// Four vectors of int32 narrowed with saturation to their 64 codes, in order: two saturating
/// packs to words, one to bytes (saturating twice is saturating once), and one permutation
/// undoing the packs' interleaving of 128-bit lanes: 4 operations where four vpmovsdb take 8.
MNW_INLINE __m512i narrow4(__m512i a, __m512i b, __m512i c, __m512i d) {
    __m512i bytes = _mm512_packs_epi16(_mm512_packs_epi32(a, b), _mm512_packs_epi32(c, d));
    return _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), bytes);
}

/// 64 codes clamped (where the layer has a clamp) and stored under `mask`.
MNW_INLINE void store_codes64(int8_t *destination, __mmask64 mask, __m512i codes, requant_clamp c) {
    if (c.clamps) codes = _mm512_min_epi8(_mm512_max_epi8(codes, c.minimum64), c.maximum64);
    _mm512_mask_storeu_epi8(destination, mask, codes);
}

/// Requantizes sixteen accumulators with one table block and stores their codes in `form` (a
/// constant where it is called).
MNW_INLINE void requant_store(int8_t *destination, __mmask16 mask, __m512i x, const int64_t *block, requant_clamp c, const int form) {
    if (form == MNW_REQUANT_ROUNDED) requant_store_rounded(destination, mask, x, block, c);
    else if (form == MNW_REQUANT_HIGH) requant_store_high(destination, mask, x, block, c);
    else store_codes(destination, mask, requant16(x, block, c));
}


/// `count` codes copied, each `^ flip` (0x80 makes them unsigned; 0 copies), 64 at a time.
MNW_INLINE void copy_codes(const int8_t *source, int count, uint8_t flip, int8_t *destination) {
    __m512i flips = _mm512_set1_epi8((char)flip);
    for (int i = 0; i < count; i += 64) {
        __mmask64 mask = mask64(count - i);
        _mm512_mask_storeu_epi8(destination + i, mask, _mm512_xor_si512(_mm512_maskz_loadu_epi8(mask, source + i), flips));
    }
}

MNW_INLINE void fill_codes(int8_t value, int count, int8_t *destination) {
    __m512i v = _mm512_set1_epi8(value);
    for (int i = 0; i < count; i += 64) _mm512_mask_storeu_epi8(destination + i, mask64(count - i), v);
}

/// `pad_input_portable` (KernelsCommon.h) with 64-byte masked moves: with the plain loops instead
/// the student's inference took 1.7x as long (measured; its depthwise layers copy their input).
MNW_INLINE void pad_input(const int8_t *input, const mnw_conv_geometry *g, int8_t zero_point, uint8_t flip, int8_t *destination) {
    int c = g->channels, rows = padded_extent(g->output_height, g->stride_height, g->kernel_height, g->dilation_height);
    int padded_width = padded_extent(g->output_width, g->stride_width, g->kernel_width, g->dilation_width);
    int8_t padding = (int8_t)(zero_point ^ (int8_t)flip);
    int left = g->padding_width, inside = g->width < padded_width - left ? g->width : padded_width - left;
    for (int py = 0; py < rows; py++) {
        int8_t *row = destination + (size_t)py * padded_width * c;
        int iy = py - g->padding_height;
        if (iy < 0 || iy >= g->height) {
            fill_codes(padding, padded_width * c, row);
            continue;
        }
        fill_codes(padding, left * c, row);
        copy_codes(input + (size_t)iy * g->width * c, inside * c, flip, row + (size_t)left * c);
        fill_codes(padding, (padded_width - left - inside) * c, row + (size_t)(left + inside) * c);
    }
}

/// `x * multiplier * 2^(shift - 31)` with QuantMath's single rounding, saturated to int32, one
/// multiplier for all sixteen lanes (the per-tensor rescaling of an add or a concatenation).
MNW_INLINE __m512i multiply16(__m512i x, const int64_t *block) {
    requant_clamp wide = {_mm512_set1_epi64(INT32_MIN), _mm512_set1_epi64(INT32_MAX), _mm512_setzero_si512(), _mm_setzero_si128(),
                          _mm_setzero_si128()};
    return requant16(x, block, wide);
}

/// `multiply16` for a table whose total shifts are at least 32 (see `requant_store_high`): the
/// result fits in int32 without saturating.
MNW_INLINE __m512i multiply16_high(__m512i x, const int64_t *block) {
    __m512i even = _mm512_add_epi64(_mm512_mul_epi32(x, _mm512_loadu_si512(block)), _mm512_loadu_si512(block + 32));
    __m512i odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), _mm512_loadu_si512(block + 8)), _mm512_loadu_si512(block + 40));
    __m512i q = _mm512_mask_blend_epi32((__mmask16)0xAAAA, _mm512_srli_epi64(even, 32), odd);
    return _mm512_srav_epi32(q, _mm512_loadu_si512(block + 48));
}

#endif
