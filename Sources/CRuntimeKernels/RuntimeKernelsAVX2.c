// The AVX2 fast paths (256-bit, no VNNI): for x86-64 CPUs without AVX-512. The GEMM multiplies
// 16-bit pairs (vpmaddwd: exact, unlike the saturating vpmaddubsw), the depthwise kernel int32
// lanes; both requantize with the short exact form, so they serve layers whose requantization
// table has it (`mnw_requant_prepare` returned at least MNW_REQUANT_HIGH); the interpreter runs
// the others, and every other operator, on the reference kernels.
#include "RuntimeKernels.h"
#include "KernelsCommon.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

int mnw_cpu_has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}

int mnw_cpu_has_avxvnni(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("avxvnni");
}

#define MNW_AVX2_INLINE static inline __attribute__((always_inline, target("avx2")))

/// QuantMath's requantization of eight lanes (channels 8h ..< 8h + 8 of a table block) in a
/// short form, stored as `count` codes: with `rounded` (the table's form is
/// `MNW_REQUANT_ROUNDED`) the rounded form (see `requant_store_rounded` in RuntimeKernels.c: the
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

// MARK: GEMM

size_t mnw_gemm_avx2_packed_size(int k, int n, const mnw_conv_geometry *g) {
    return (size_t)((n + 7) / 8) * (size_t)mnw_gemm_groups(k, g) * 64;
}

void mnw_gemm_avx2_pack(const int8_t *vnni_packed, int k, int n, const mnw_conv_geometry *g, int16_t *packed) {
    int groups = mnw_gemm_groups(k, g), blocks8 = (n + 7) / 8;
    for (int b = 0; b < blocks8; b++)
        for (int group = 0; group < groups; group++)
            for (int pair = 0; pair < 2; pair++)
                for (int j = 0; j < 8; j++)
                    for (int t = 0; t < 2; t++) {
                        int column = 8 * (b % 2) + j;
                        int8_t w = vnni_packed[((size_t)((b / 2) * groups + group) * 16 + column) * 4 + 2 * pair + t];
                        packed[(((size_t)b * groups + group) * 2 + pair) * 16 + 2 * j + t] = w;
                    }
}

/// Four rows (unsigned inputs at `rows[r]`, word g at `offsets[g]`) times outputs 8 b0 ..< 8 b0
/// + 8 NB, requantized and stored for the first `valid` rows.
MNW_AVX2_INLINE void gemm_tile8(const mnw_gemm *a, const int16_t *packed, const uint8_t *const *rows, int row0, int valid, int b0,
                                const int NB) {
    __m256i acc[4][2];
    for (int r = 0; r < 4; r++)
        for (int j = 0; j < NB; j++) acc[r][j] = _mm256_setzero_si256();
    // Bytes 0, 1 (then 2, 3) of a word as two int16 in every dword.
    __m256i low = _mm256_setr_epi8(0, -1, 1, -1, 0, -1, 1, -1, 0, -1, 1, -1, 0, -1, 1, -1, 0, -1, 1, -1, 0, -1, 1, -1, 0, -1, 1, -1, 0, -1, 1, -1);
    __m256i high = _mm256_setr_epi8(2, -1, 3, -1, 2, -1, 3, -1, 2, -1, 3, -1, 2, -1, 3, -1, 2, -1, 3, -1, 2, -1, 3, -1, 2, -1, 3, -1, 2, -1, 3, -1);
    int groups = a->groups;
    for (int g = 0; g < groups; g++) {
        __m256i w[2][2];
        for (int j = 0; j < NB; j++)
            for (int pair = 0; pair < 2; pair++)
                w[j][pair] = _mm256_loadu_si256((const __m256i *)(packed + ((((size_t)(b0 + j) * groups + g) * 2 + pair) * 16)));
        int32_t offset = a->offsets[g];
        for (int r = 0; r < 4; r++) {
            int32_t word;
            memcpy(&word, rows[r] + offset, 4);
            __m256i q = _mm256_set1_epi32(word);
            __m256i x01 = _mm256_shuffle_epi8(q, low), x23 = _mm256_shuffle_epi8(q, high);
            for (int j = 0; j < NB; j++)
                acc[r][j] = _mm256_add_epi32(acc[r][j], _mm256_add_epi32(_mm256_madd_epi16(x01, w[j][0]), _mm256_madd_epi16(x23, w[j][1])));
        }
    }
    __m256i zero_point = _mm256_set1_epi32(a->output_zero_point);
    __m128i minimum = _mm_set1_epi8((char)a->minimum), maximum = _mm_set1_epi8((char)a->maximum);
    int rounded = a->requant_form == MNW_REQUANT_ROUNDED;
    for (int j = 0; j < NB; j++) {
        int b = b0 + j, count = a->n - 8 * b;
        __m256i base = _mm256_loadu_si256((const __m256i *)(a->base + 8 * b));
        const int64_t *block = a->requant + (size_t)(b / 2) * MNW_REQUANT_BLOCK;
        for (int r = 0; r < valid; r++)
            requant_store8(a->output + (size_t)(row0 + r) * a->n + 8 * b, count, _mm256_add_epi32(acc[r][j], base), block, b % 2, zero_point,
                           minimum, maximum, rounded);
    }
}

__attribute__((target("avx2"))) static void tile8_2(const mnw_gemm *a, const int16_t *p, const uint8_t *const *rows, int row0, int valid, int b0) {
    gemm_tile8(a, p, rows, row0, valid, b0, 2);
}
__attribute__((target("avx2"))) static void tile8_1(const mnw_gemm *a, const int16_t *p, const uint8_t *const *rows, int row0, int valid, int b0) {
    gemm_tile8(a, p, rows, row0, valid, b0, 1);
}

/// A tile of `gemm_rows8`: rows `row0 ..< row0 + valid` times 8-output blocks b0 (and b0 + 1).
typedef void (*tile8_function)(const mnw_gemm *, const int16_t *, const uint8_t *const *, int, int, int);

/// The input copied as unsigned codes (with a convolution's padding), then tiles of R rows over
/// it: `two` for a pair of 8-output blocks, `one` for the last single block.
MNW_AVX2_INLINE void gemm_rows8(const mnw_gemm *a, const int16_t *packed, const int R, tile8_function two, tile8_function one) {
    if (a->convolution) pad_input_portable(a->input, a->convolution, (int8_t)a->zero_point, 0x80, (int8_t *)a->scratch);
    else for (int i = 0; i < a->rows * a->k; i++) a->scratch[i] = (uint8_t)(a->input[i] ^ 0x80);
    gemm_rows layout = gemm_layout(a);
    int blocks8 = (a->n + 7) / 8;
    const uint8_t *rows[6];
    int y = 0, x = 0;
    for (int row0 = 0; row0 < a->rows; row0 += R) {
        int valid = gemm_next_rows(a, layout, row0, R, &y, &x, rows);
        int b0 = 0;
        for (; b0 + 1 < blocks8; b0 += 2) two(a, packed, rows, row0, valid, b0);
        if (b0 < blocks8) one(a, packed, rows, row0, valid, b0);
    }
}

__attribute__((target("avx2")))
void mnw_gemm_avx2(const mnw_gemm *a, const int16_t *packed) { gemm_rows8(a, packed, 4, tile8_2, tile8_1); }

// MARK: GEMM with AVX-VNNI

/// Requantizes and stores a tile's accumulators (`gemm_tile8`'s store, for the AVX-VNNI tiles;
/// fields read once: the byte stores may alias them).
MNW_AVX2_INLINE void store_tile8(const mnw_gemm *a, __m256i acc[][2], int row0, int valid, int b0, const int R, const int NB) {
    int n = a->n;
    int8_t *output = a->output + (size_t)row0 * n;
    const int64_t *requant = a->requant;
    __m256i zero_point = _mm256_set1_epi32(a->output_zero_point);
    __m128i minimum = _mm_set1_epi8((char)a->minimum), maximum = _mm_set1_epi8((char)a->maximum);
    int rounded = a->requant_form == MNW_REQUANT_ROUNDED;
    for (int j = 0; j < NB; j++) {
        int b = b0 + j, count = n - 8 * b;
        const int64_t *block = requant + (size_t)(b / 2) * MNW_REQUANT_BLOCK;
        for (int r = 0; r < R; r++)
            if (r < valid) requant_store8(output + (size_t)r * n + 8 * b, count, acc[r][j], block, b % 2, zero_point, minimum, maximum, rounded);
    }
}

/// `gemm_tile8` with 256-bit `vpdpbusd` (AVX-VNNI: Intel's client cores since Alder Lake, AMD's
/// since Zen 5), on the AVX-512 GEMM's packed weights (a block of 8 outputs is half of one of
/// its 16-output blocks); the accumulators start from the zero-point constants. R rows: 6 x 2
/// blocks keeps 12 accumulators in flight (of 16 ymm registers), enough to cover the latency.
__attribute__((always_inline, target("avx2,avxvnni")))
static inline void gemm_tile8_vnni(const mnw_gemm *a, const uint8_t *const *rows, int row0, int valid, int b0, const int R, const int NB) {
    __m256i acc[6][2];
    for (int j = 0; j < NB; j++) {
        __m256i base = _mm256_loadu_si256((const __m256i *)(a->base + 8 * (b0 + j)));
        for (int r = 0; r < R; r++) acc[r][j] = base;
    }
    int groups = a->groups;
    const int32_t *offsets = a->offsets;
    const int8_t *packed = a->packed;
    for (int g = 0; g < groups; g++) {
        __m256i w[2];
        for (int j = 0; j < NB; j++) {
            int b = b0 + j;
            w[j] = _mm256_loadu_si256((const __m256i *)(packed + ((size_t)(b / 2) * groups + g) * 64 + 32 * (b % 2)));
        }
        int32_t offset = offsets[g];
        for (int r = 0; r < R; r++) {
            int32_t word;
            memcpy(&word, rows[r] + offset, 4);
            __m256i q = _mm256_set1_epi32(word);
            for (int j = 0; j < NB; j++) acc[r][j] = _mm256_dpbusd_avx_epi32(acc[r][j], q, w[j]);
        }
    }
    store_tile8(a, acc, row0, valid, b0, R, NB);
}

__attribute__((target("avx2,avxvnni"))) static void tile8_vnni_2(const mnw_gemm *a, const int16_t *unused, const uint8_t *const *rows, int row0,
                                                                 int valid, int b0) {
    (void)unused;
    gemm_tile8_vnni(a, rows, row0, valid, b0, 6, 2);
}
__attribute__((target("avx2,avxvnni"))) static void tile8_vnni_1(const mnw_gemm *a, const int16_t *unused, const uint8_t *const *rows, int row0,
                                                                 int valid, int b0) {
    (void)unused;
    gemm_tile8_vnni(a, rows, row0, valid, b0, 6, 1);
}

/// (The tiles read the AVX-512 packing, `a->packed`: no 16-bit weights.)
__attribute__((target("avx2,avxvnni")))
void mnw_gemm_avxvnni(const mnw_gemm *a) { gemm_rows8(a, NULL, 6, tile8_vnni_2, tile8_vnni_1); }

// MARK: depthwise convolution

__attribute__((target("avx2")))
void mnw_depthwise_avx2(const mnw_depthwise *a) {
    const mnw_conv_geometry *g = a->geometry;
    int c = g->channels, taps = g->kernel_height * g->kernel_width, padded = (c + 15) / 16 * 16;
    int padded_width = padded_extent(g->output_width, g->stride_width, g->kernel_width, g->dilation_width);
    pad_input_portable(a->input, g, (int8_t)a->zero_point, 0, a->padded);
    size_t offsets[taps];
    padded_tap_offsets(g, offsets);
    __m256i zero_point = _mm256_set1_epi32(a->output_zero_point);
    __m128i minimum = _mm_set1_epi8((char)a->minimum), maximum = _mm_set1_epi8((char)a->maximum);
    int rounded = a->requant_form == MNW_REQUANT_ROUNDED;
    size_t row_step = (size_t)g->stride_height * padded_width * c, column_step = (size_t)g->stride_width * c;
    // Fields read once: the output stores are char stores, which may alias them.
    int output_height = g->output_height, output_width = g->output_width;
    const int8_t *input = a->padded;
    const int32_t *filter = a->filter;
    const int64_t *requant = a->requant;
    for (int base = 0; base < c; base += 8) {
        __m256i bias = _mm256_loadu_si256((const __m256i *)(a->base + base));
        const int64_t *block = requant + (size_t)(base / 16) * MNW_REQUANT_BLOCK;
        int half = (base / 8) % 2, count = c - base;
        int8_t *out = a->output + base;
        for (int y = 0; y < output_height; y++) {
            const int8_t *window = input + (size_t)y * row_step + base;
            for (int x = 0; x < output_width; x++, window += column_step, out += c) {
                __m256i sum = bias;
                for (int t = 0; t < taps; t++) {
                    __m256i codes = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(window + offsets[t])));
                    sum = _mm256_add_epi32(sum, _mm256_mullo_epi32(codes, _mm256_loadu_si256((const __m256i *)(filter + (size_t)t * padded + base))));
                }
                requant_store8(out, count, sum, block, half, zero_point, minimum, maximum, rounded);
            }
        }
    }
}
/// Three kernel rows of one input column, eight channels, as `vpdpbusd` wants them: dword c holds
/// the column's three codes of channel c and a zero (byte unpacks: AVX2 has no `vpermb`). Reads 8
/// codes a row; the padded copy has slack past its end.
__attribute__((always_inline, target("avx2,avxvnni")))
static inline __m256i column_quads8(const int8_t *top, size_t row_bytes) {
    __m128i r0 = _mm_loadl_epi64((const __m128i *)top), r1 = _mm_loadl_epi64((const __m128i *)(top + row_bytes));
    __m128i r2 = _mm_loadl_epi64((const __m128i *)(top + 2 * row_bytes));
    __m128i pairs = _mm_unpacklo_epi8(r0, r1), thirds = _mm_unpacklo_epi8(r2, _mm_setzero_si128());
    return _mm256_set_m128i(_mm_unpackhi_epi16(pairs, thirds), _mm_unpacklo_epi16(pairs, thirds));
}

/// The AVX-512 column kernel (`depthwise_columns` in RuntimeKernels.c) on 8 channels with AVX-VNNI:
/// a 3 x 3 depthwise convolution, stride S of 1 or 2, on the unsigned padded copy, three 256-bit
/// `vpdpbusd` per output pixel; the weights and base of `mnw_depthwise_columns_prepare`.
__attribute__((always_inline, target("avx2,avxvnni")))
static inline void depthwise_columns8(const mnw_depthwise *a, const int S) {
    const mnw_conv_geometry *g = a->geometry;
    int c = g->channels, output_height = g->output_height, output_width = g->output_width;
    size_t padded_width = (size_t)padded_extent(output_width, S, 3, 1), row_bytes = padded_width * c;
    pad_input_portable(a->input, g, (int8_t)a->zero_point, 0x80, a->padded);
    const int8_t *padded = a->padded, *weights = a->column_weights;
    const int64_t *requant = a->requant;
    __m256i zero_point = _mm256_set1_epi32(a->output_zero_point);
    __m128i minimum = _mm_set1_epi8((char)a->minimum), maximum = _mm_set1_epi8((char)a->maximum);
    int rounded = a->requant_form == MNW_REQUANT_ROUNDED;
    for (int base = 0; base < c; base += 8) {
        const int8_t *w = weights + (size_t)(base / 16) * 192 + 32 * ((base / 8) % 2);
        __m256i w0 = _mm256_loadu_si256((const __m256i *)w), w1 = _mm256_loadu_si256((const __m256i *)(w + 64));
        __m256i w2 = _mm256_loadu_si256((const __m256i *)(w + 128));
        __m256i bias = _mm256_loadu_si256((const __m256i *)(a->unsigned_base + base));
        const int64_t *block = requant + (size_t)(base / 16) * MNW_REQUANT_BLOCK;
        int half = (base / 8) % 2, count = c - base;
        int8_t *out = a->output + base;
        for (int y = 0; y < output_height; y++) {
            const int8_t *top = padded + (size_t)y * S * row_bytes + base;
            __m256i q0 = column_quads8(top, row_bytes), q1 = q0, q2;
            if (S == 1) q1 = column_quads8(top + c, row_bytes);
            for (int x = 0; x < output_width; x++, out += c) {
                const int8_t *column = top + (size_t)x * S * c;
                if (S == 2) q1 = column_quads8(column + c, row_bytes);
                q2 = column_quads8(column + 2 * c, row_bytes);
                __m256i sum = _mm256_dpbusd_avx_epi32(_mm256_dpbusd_avx_epi32(_mm256_dpbusd_avx_epi32(bias, q0, w0), q1, w1), q2, w2);
                requant_store8(out, count, sum, block, half, zero_point, minimum, maximum, rounded);
                if (S == 1) q0 = q1, q1 = q2;
                else q0 = q2;
            }
        }
    }
}

__attribute__((target("avx2,avxvnni"))) static void columns8_1(const mnw_depthwise *a) { depthwise_columns8(a, 1); }
__attribute__((target("avx2,avxvnni"))) static void columns8_2(const mnw_depthwise *a) { depthwise_columns8(a, 2); }

__attribute__((target("avx2,avxvnni")))
void mnw_depthwise_avxvnni(const mnw_depthwise *a) { (a->geometry->stride_width == 1 ? columns8_1 : columns8_2)(a); }

// MARK: elementwise and pooling

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

__attribute__((target("avx2")))
void mnw_add_avx2(const mnw_add *a, int8_t *output) {
    __m256i azp = _mm256_set1_epi32(a->a_zero_point), bzp = _mm256_set1_epi32(a->b_zero_point), zero_point = _mm256_set1_epi32(a->output_zero_point);
    __m128i minimum = _mm_set1_epi8((char)a->minimum), maximum = _mm_set1_epi8((char)a->maximum);
    int rounded = a->form == MNW_REQUANT_ROUNDED;
    __m128i a_shift = _mm_cvtsi32_si128(a->a_left_shift), b_shift = _mm_cvtsi32_si128(a->b_left_shift);
    for (int i = 0; i < a->count; i += 8) {
        int count = a->count - i;
        __m256i x = _mm256_sll_epi32(_mm256_sub_epi32(_mm256_cvtepi8_epi32(load8(a->a + i, count)), azp), a_shift);
        __m256i y = _mm256_sll_epi32(_mm256_sub_epi32(_mm256_cvtepi8_epi32(load8(a->b + i, count)), bzp), b_shift);
        __m256i sum = _mm256_add_epi32(multiply8(x, a->a_table), multiply8(y, a->b_table));
        requant_store8(output + i, count, sum, a->output_table, 0, zero_point, minimum, maximum, rounded);
    }
}

__attribute__((target("avx2")))
void mnw_max_pool_avx2(const int8_t *input, int height, int width, int channels, int kernel_height, int kernel_width, int stride_height,
                       int stride_width, int padding_height, int padding_width, int output_height, int output_width, int8_t *output) {
    for (int y = 0; y < output_height; y++)
        for (int x = 0; x < output_width; x++)
            for (int base = 0; base < channels; base += 32) {
                int count = channels - base < 32 ? channels - base : 32;
                __m256i best = _mm256_set1_epi8(-128);
                for (int ky = 0; ky < kernel_height; ky++) {
                    int iy = y * stride_height - padding_height + ky;
                    if (iy < 0 || iy >= height) continue;
                    for (int kx = 0; kx < kernel_width; kx++) {
                        int ix = x * stride_width - padding_width + kx;
                        if (ix < 0 || ix >= width) continue;
                        int8_t lanes[32];
                        const int8_t *from = input + ((size_t)iy * width + ix) * channels + base;
                        if (count < 32) {
                            memset(lanes, -128, sizeof lanes);
                            memcpy(lanes, from, (size_t)count);
                            from = lanes;
                        }
                        best = _mm256_max_epi8(best, _mm256_loadu_si256((const __m256i *)from));
                    }
                }
                int8_t result[32];
                _mm256_storeu_si256((__m256i *)result, best);
                memcpy(output + ((size_t)y * output_width + x) * channels + base, result, (size_t)count);
            }
}

__attribute__((target("avx2")))
void mnw_global_average_pool_avx2(int pixels, int channels, const int8_t *input, int32_t zero_point, const int64_t *table,
                                  int32_t output_zero_point, int8_t *output) {
    __m256i correction = _mm256_set1_epi32(pixels * zero_point), out_zero_point = _mm256_set1_epi32(output_zero_point);
    __m128i minimum = _mm_set1_epi8(-128), maximum = _mm_set1_epi8(127);
    for (int j = 0; j < channels; j += 8) {
        int count = channels - j < 8 ? channels - j : 8;
        __m256i sum = _mm256_setzero_si256();
        for (int p = 0; p < pixels; p++) sum = _mm256_add_epi32(sum, _mm256_cvtepi8_epi32(load8(input + (size_t)p * channels + j, count)));
        requant_store8(output + j, count, _mm256_sub_epi32(sum, correction), table, 0, out_zero_point, minimum, maximum, 0);
    }
}
__attribute__((target("avx2")))
void mnw_clamp_avx2(int count, const int8_t *input, int32_t minimum, int32_t maximum, int8_t *output) {
    __m256i low = _mm256_set1_epi8((char)minimum), high = _mm256_set1_epi8((char)maximum);
    int i = 0;
    for (; i + 32 <= count; i += 32)
        _mm256_storeu_si256((__m256i *)(output + i), _mm256_min_epi8(_mm256_max_epi8(_mm256_loadu_si256((const __m256i *)(input + i)), low), high));
    for (; i < count; i++) output[i] = (int8_t)(input[i] < minimum ? minimum : input[i] > maximum ? maximum : input[i]);
}
#else
int mnw_cpu_has_avx2(void) { return 0; }
int mnw_cpu_has_avxvnni(void) { return 0; }
void mnw_gemm_avxvnni(const mnw_gemm *a) { (void)a; }
void mnw_depthwise_avxvnni(const mnw_depthwise *a) { (void)a; }
size_t mnw_gemm_avx2_packed_size(int k, int n, const mnw_conv_geometry *g) { (void)k; (void)n; (void)g; return 0; }
void mnw_gemm_avx2_pack(const int8_t *vnni_packed, int k, int n, const mnw_conv_geometry *g, int16_t *packed) {
    (void)vnni_packed; (void)k; (void)n; (void)g; (void)packed;
}
void mnw_gemm_avx2(const mnw_gemm *a, const int16_t *packed) { (void)a; (void)packed; }
void mnw_depthwise_avx2(const mnw_depthwise *a) { (void)a; }
void mnw_add_avx2(const mnw_add *a, int8_t *output) { (void)a; (void)output; }
void mnw_clamp_avx2(int count, const int8_t *input, int32_t minimum, int32_t maximum, int8_t *output) {
    (void)count; (void)input; (void)minimum; (void)maximum; (void)output;
}
void mnw_max_pool_avx2(const int8_t *input, int height, int width, int channels, int kernel_height, int kernel_width, int stride_height,
                       int stride_width, int padding_height, int padding_width, int output_height, int output_width, int8_t *output) {
    (void)input; (void)height; (void)width; (void)channels; (void)kernel_height; (void)kernel_width; (void)stride_height;
    (void)stride_width; (void)padding_height; (void)padding_width; (void)output_height; (void)output_width; (void)output;
}
void mnw_global_average_pool_avx2(int pixels, int channels, const int8_t *input, int32_t zero_point, const int64_t *table,
                                  int32_t output_zero_point, int8_t *output) {
    (void)pixels; (void)channels; (void)input; (void)zero_point; (void)table; (void)output_zero_point; (void)output;
}
#endif

void mnw_concatenate_copy(int pixels, const mnw_concat_input *inputs, int count, int8_t *output) {
    int total = 0;
    for (int i = 0; i < count; i++) total += inputs[i].channels;
    for (int pixel = 0; pixel < pixels; pixel++) {
        int8_t *out = output + (size_t)pixel * total;
        for (int i = 0; i < count; i++) {
            memcpy(out, inputs[i].codes + (size_t)pixel * inputs[i].channels, (size_t)inputs[i].channels);
            out += inputs[i].channels;
        }
    }
}
