// AVX2 and AVX-VNNI: depthwise convolutions on eight channels at a time.
#include "Levels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include "AVX2Common.h"

/// The tap kernel: every tap's eight codes widened to int32 and multiplied (vpmulld), any geometry
/// and weights.
__attribute__((target("avx2")))
static void depthwise_taps8(const mnw_depthwise *a) {
    const mnw_conv_geometry *g = a->geometry;
    int c = g->channels, taps = g->kernel_height * g->kernel_width, padded = (c + 15) / 16 * 16;
    int padded_width = padded_extent(g->output_width, g->stride_width, g->kernel_width, g->dilation_width);
    pad_input_portable(a->input, g, (int8_t)a->zero_point, 0, a->padded);
    const size_t *offsets = a->tap_offsets;
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
__attribute__((always_inline, target("avx2")))
static inline __m256i column_quads8(const int8_t *top, size_t row_bytes) {
    __m128i r0 = _mm_loadl_epi64((const __m128i *)top), r1 = _mm_loadl_epi64((const __m128i *)(top + row_bytes));
    __m128i r2 = _mm_loadl_epi64((const __m128i *)(top + 2 * row_bytes));
    __m128i pairs = _mm_unpacklo_epi8(r0, r1), thirds = _mm_unpacklo_epi8(r2, _mm_setzero_si128());
    return _mm256_set_m128i(_mm_unpackhi_epi16(pairs, thirds), _mm_unpacklo_epi16(pairs, thirds));
}

/// The AVX-512 column kernel (`depthwise_columns` in depthwise_avx512.c) on 8 channels: a 3 x 3
/// depthwise convolution, stride S of 1 or 2, on the unsigned padded copy, three products of a
/// column's dwords with the kernel column's weights per output pixel (`DOT3(bias, q0, q1, q2)`);
/// the weights and base of `mnw_depthwise_columns_prepare`. A macro: the AVX-VNNI and the AVX2
/// versions differ in that one expression, and a VNNI intrinsic may not be inlined into a function
/// compiled without VNNI.
#define MNW_DEPTHWISE_COLUMNS8(a, S, DOT3)                                                                                         \
    const mnw_conv_geometry *g = (a)->geometry;                                                                                   \
    int c = g->channels, output_height = g->output_height, output_width = g->output_width;                                        \
    size_t padded_width = (size_t)padded_extent(output_width, S, 3, 1), row_bytes = padded_width * c;                            \
    pad_input_portable((a)->input, g, (int8_t)(a)->zero_point, 0x80, (a)->padded);                                                \
    const int8_t *padded = (a)->padded, *weights = (a)->column_weights;                                                           \
    const int64_t *requant = (a)->requant;                                                                                        \
    __m256i zero_point = _mm256_set1_epi32((a)->output_zero_point);                                                               \
    __m128i minimum = _mm_set1_epi8((char)(a)->minimum), maximum = _mm_set1_epi8((char)(a)->maximum);                             \
    int rounded = (a)->requant_form == MNW_REQUANT_ROUNDED;                                                                       \
    for (int base = 0; base < c; base += 8) {                                                                                     \
        const int8_t *w = weights + (size_t)(base / 16) * 192 + 32 * ((base / 8) % 2);                                            \
        __m256i w0 = _mm256_loadu_si256((const __m256i *)w), w1 = _mm256_loadu_si256((const __m256i *)(w + 64));                  \
        __m256i w2 = _mm256_loadu_si256((const __m256i *)(w + 128));                                                              \
        __m256i bias = _mm256_loadu_si256((const __m256i *)((a)->unsigned_base + base));                                          \
        const int64_t *block = requant + (size_t)(base / 16) * MNW_REQUANT_BLOCK;                                                 \
        int half = (base / 8) % 2, count = c - base;                                                                              \
        int8_t *out = (a)->output + base;                                                                                         \
        for (int y = 0; y < output_height; y++) {                                                                                 \
            const int8_t *top = padded + (size_t)y * S * row_bytes + base;                                                        \
            __m256i q0 = column_quads8(top, row_bytes), q1 = q0, q2;                                                              \
            if (S == 1) q1 = column_quads8(top + c, row_bytes);                                                                   \
            for (int x = 0; x < output_width; x++, out += c) {                                                                    \
                const int8_t *column = top + (size_t)x * S * c;                                                                   \
                if (S == 2) q1 = column_quads8(column + c, row_bytes);                                                            \
                q2 = column_quads8(column + 2 * c, row_bytes);                                                                    \
                requant_store8(out, count, DOT3(bias, q0, q1, q2), block, half, zero_point, minimum, maximum, rounded);          \
                if (S == 1) q0 = q1, q1 = q2;                                                                                     \
                else q0 = q2;                                                                                                     \
            }                                                                                                                     \
        }                                                                                                                         \
    }

#define MNW_DOT3_VNNI(bias, q0, q1, q2) \
    _mm256_dpbusd_avx_epi32(_mm256_dpbusd_avx_epi32(_mm256_dpbusd_avx_epi32(bias, q0, w0), q1, w1), q2, w2)

__attribute__((always_inline, target("avx2,avxvnni")))
static inline void depthwise_columns8(const mnw_depthwise *a, const int S) { MNW_DEPTHWISE_COLUMNS8(a, S, MNW_DOT3_VNNI) }

/// A column's three codes times the kernel column's weights without VNNI, for weights in [-64, 63]:
/// vpmaddubsw adds (row 0, row 1) and (row 2, 0) products into int16 (at most 2 x 255 x 64 = 32640
/// in magnitude: exact), vpmaddwd by ones adds the two.
__attribute__((always_inline, target("avx2")))
static inline __m256i dot_bytes(__m256i q, __m256i w) { return _mm256_madd_epi16(_mm256_maddubs_epi16(q, w), _mm256_set1_epi16(1)); }

#define MNW_DOT3_BYTES(bias, q0, q1, q2) \
    _mm256_add_epi32(_mm256_add_epi32(bias, dot_bytes(q0, w0)), _mm256_add_epi32(dot_bytes(q1, w1), dot_bytes(q2, w2)))

__attribute__((always_inline, target("avx2")))
static inline void depthwise_columns8_bytes(const mnw_depthwise *a, const int S) { MNW_DEPTHWISE_COLUMNS8(a, S, MNW_DOT3_BYTES) }

__attribute__((target("avx2,avxvnni"))) static void columns8_1(const mnw_depthwise *a) { depthwise_columns8(a, 1); }
__attribute__((target("avx2,avxvnni"))) static void columns8_2(const mnw_depthwise *a) { depthwise_columns8(a, 2); }

__attribute__((target("avx2,avxvnni")))
void mnw_depthwise_avxvnni(const mnw_depthwise *a) { (a->geometry->stride_width == 1 ? columns8_1 : columns8_2)(a); }
__attribute__((target("avx2"))) static void columns8_bytes_1(const mnw_depthwise *a) { depthwise_columns8_bytes(a, 1); }
__attribute__((target("avx2"))) static void columns8_bytes_2(const mnw_depthwise *a) { depthwise_columns8_bytes(a, 2); }

/// The column kernel on bytes where the preparation asked for it (3 x 3, stride 1 or 2, weights
/// in [-64, 63]), else the tap kernel.
__attribute__((target("avx2")))
void mnw_depthwise_avx2(const mnw_depthwise *a) {
    if (!a->columns) depthwise_taps8(a);
    else (a->geometry->stride_width == 1 ? columns8_bytes_1 : columns8_bytes_2)(a);
}
#endif
