// Fast kernels of the int8 runtime. Each SIMD function carries its own target attribute, so the
// file builds for a generic x86-64 CPU and the caller picks a kernel after `mnw_cpu_has_*`.
#include "RuntimeKernels.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

int mnw_cpu_has_avx512vnni(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")
        && __builtin_cpu_supports("avx512vnni");
}
#else
int mnw_cpu_has_avx512vnni(void) { return 0; }
#endif

size_t mnw_vnni_packed_size(int k, int n) { return (size_t)((n + 15) / 16) * (size_t)((k + 3) / 4) * 64; }

void mnw_vnni_pack(const int8_t *weight, int k, int n, int8_t *packed) {
    int blocks = (n + 15) / 16, groups = (k + 3) / 4;
    memset(packed, 0, mnw_vnni_packed_size(k, n));
    for (int b = 0; b < blocks; b++)
        for (int g = 0; g < groups; g++)
            for (int j = 0; j < 16; j++)
                for (int t = 0; t < 4; t++) {
                    int row = 4 * g + t, column = 16 * b + j;
                    if (row < k && column < n) packed[((size_t)(b * groups + g) * 16 + j) * 4 + t] = weight[(size_t)row * n + column];
                }
}

void mnw_vnni_base(const int8_t *weight, int k, int n, const int32_t *bias, int32_t zero_point, int32_t *base) {
    int padded = (n + 15) / 16 * 16;
    for (int j = 0; j < padded; j++) {
        int32_t sum = 0;
        if (j < n)
            for (int row = 0; row < k; row++) sum += weight[(size_t)row * n + j];
        base[j] = (j < n && bias ? bias[j] : 0) - (128 + zero_point) * sum;
    }
}

void mnw_depthwise_base(const int8_t *filter, int taps, int channels, const int32_t *bias, int32_t zero_point, int32_t *base) {
    int padded = (channels + 15) / 16 * 16;
    for (int c = 0; c < padded; c++) {
        int32_t sum = 0;
        if (c < channels)
            for (int t = 0; t < taps; t++) sum += filter[(size_t)t * channels + c];
        base[c] = (c < channels && bias ? bias[c] : 0) - zero_point * sum;
    }
}

void mnw_widen_filter(const int8_t *filter, int taps, int channels, int32_t *widened) {
    int padded = (channels + 15) / 16 * 16;
    for (int t = 0; t < taps; t++)
        for (int c = 0; c < padded; c++) widened[(size_t)t * padded + c] = c < channels ? filter[(size_t)t * channels + c] : 0;
}

size_t mnw_requant_table_size(int count) { return (size_t)((count + 15) / 16) * 48 * sizeof(int64_t); }

void mnw_requant_prepare(const int32_t *multipliers, const int32_t *shifts, int count, int64_t *table) {
    int blocks = (count + 15) / 16;
    memset(table, 0, mnw_requant_table_size(count));
    for (int b = 0; b < blocks; b++) {
        int64_t *block = table + (size_t)b * 48;
        for (int lane = 0; lane < 16 && 16 * b + lane < count; lane++) {
            int channel = 16 * b + lane, half = lane & 1, slot = lane >> 1;
            int64_t total = 31 - (int64_t)shifts[channel];  // 1...62: the validator keeps shifts in -31...30
            block[8 * half + slot] = (int64_t)(uint32_t)multipliers[channel];
            block[16 + 8 * half + slot] = total;
            block[32 + 8 * half + slot] = (int64_t)1 << (total - 1);
        }
        // Unused lanes: multiplier 0, shift 1 (a valid shift; their results are never stored).
        for (int lane = count - 16 * b; lane < 16; lane++) {
            int half = lane & 1, slot = lane >> 1;
            block[16 + 8 * half + slot] = 1;
            block[32 + 8 * half + slot] = 1;
        }
    }
}

#if defined(__x86_64__)
#define MNW_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define MNW_INLINE static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512vl,avx512vnni")))

MNW_INLINE __mmask16 mask16(int remaining) { return remaining >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << remaining) - 1); }

MNW_INLINE __mmask64 mask64(int remaining) { return remaining >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << remaining) - 1); }

/// The clamp of a requantization relative to the output zero point: QuantMath saturates the
/// scaled value to int32, adds the zero point and clamps to [minimum, maximum]; clamping the 64-bit
/// scaled value to [minimum - zp, maximum - zp] and adding zp after is the same (both clamps are
/// monotone and the second interval lies within int32).
typedef struct {
    __m512i low, high, zero_point;
} requant_clamp;

MNW_INLINE requant_clamp make_clamp(int32_t zero_point, int32_t minimum, int32_t maximum) {
    requant_clamp c = {_mm512_set1_epi64((int64_t)minimum - zero_point), _mm512_set1_epi64((int64_t)maximum - zero_point),
                       _mm512_set1_epi32(zero_point)};
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

MNW_AVX512
void mnw_requantize_avx512(const int32_t *accumulators, int count, const int64_t *table, int32_t zero_point, int32_t minimum,
                           int32_t maximum, int8_t *output) {
    requant_clamp c = make_clamp(zero_point, minimum, maximum);
    for (int i = 0; i < count; i += 16) {
        __mmask16 mask = mask16(count - i);
        __m512i y = requant16(_mm512_maskz_loadu_epi32(mask, accumulators + i), table + (size_t)(i / 16) * 48, c);
        _mm_mask_storeu_epi8(output + i, mask, _mm512_cvtepi32_epi8(y));
    }
}

// MARK: GEMM rows (1x1 and k x k convolutions, fully connected)

/// `count` codes made unsigned (x ^ 0x80) into `destination`, 64 at a time.
MNW_INLINE void copy_unsigned(const int8_t *source, int count, uint8_t *destination) {
    __m512i sign = _mm512_set1_epi8((char)0x80);
    for (int i = 0; i < count; i += 64) {
        __mmask64 mask = mask64(count - i);
        _mm512_mask_storeu_epi8(destination + i, mask, _mm512_xor_si512(_mm512_maskz_loadu_epi8(mask, source + i), sign));
    }
}

MNW_INLINE void fill_unsigned(uint8_t value, int count, uint8_t *destination) {
    __m512i v = _mm512_set1_epi8((char)value);
    for (int i = 0; i < count; i += 64) _mm512_mask_storeu_epi8(destination + i, mask64(count - i), v);
}

/// The unsigned inputs of output row `row` into `destination`: the input's row, or for a k x k
/// convolution its patch (HWC order, padding = the input zero point).
MNW_INLINE void gather_row(const mnw_gemm *a, int row, uint8_t *destination) {
    const mnw_conv_geometry *g = a->convolution;
    if (!g) {
        copy_unsigned(a->input + (size_t)row * a->k, a->k, destination);
        return;
    }
    int y = row / g->output_width, x = row % g->output_width, c = g->channels;
    uint8_t padding = (uint8_t)(a->zero_point ^ 0x80);
    for (int ky = 0; ky < g->kernel_height; ky++) {
        int iy = y * g->stride_height - g->padding_height + ky * g->dilation_height;
        for (int kx = 0; kx < g->kernel_width; kx++) {
            int ix = x * g->stride_width - g->padding_width + kx * g->dilation_width;
            uint8_t *to = destination + (size_t)(ky * g->kernel_width + kx) * c;
            if (iy < 0 || iy >= g->height || ix < 0 || ix >= g->width) {
                fill_unsigned(padding, c, to);
            } else {
                copy_unsigned(a->input + ((size_t)iy * g->width + ix) * c, c, to);
            }
        }
    }
}

/// Rows `row0 ..< row0 + valid` (of a tile of R rows whose inputs are in `quads`, `groups` words
/// a row) times output blocks `b0 ..< b0 + NB`, requantized and stored. R and NB are constants
/// at each call site, so the accumulators stay in registers.
MNW_INLINE void gemm_tile(const mnw_gemm *a, const uint32_t *quads, int groups, int row0, int valid, int b0, const int R, const int NB) {
    __m512i acc[8][4];
    for (int r = 0; r < R; r++)
        for (int j = 0; j < NB; j++) acc[r][j] = _mm512_setzero_si512();
    const int8_t *w = a->packed + (size_t)b0 * groups * 64;
    for (int g = 0; g < groups; g++) {
        __m512i weights[4];
        for (int j = 0; j < NB; j++) weights[j] = _mm512_loadu_si512(w + ((size_t)j * groups + g) * 64);
        for (int r = 0; r < R; r++) {
            __m512i q = _mm512_set1_epi32((int)quads[(size_t)r * groups + g]);
            for (int j = 0; j < NB; j++) acc[r][j] = _mm512_dpbusd_epi32(acc[r][j], q, weights[j]);
        }
    }
    requant_clamp c = make_clamp(a->output_zero_point, a->minimum, a->maximum);
    for (int j = 0; j < NB; j++) {
        int b = b0 + j;
        __mmask16 mask = mask16(a->n - 16 * b);
        __m512i base = _mm512_loadu_si512(a->base + 16 * b);
        const int64_t *table = a->requant + (size_t)b * 48;
        for (int r = 0; r < R; r++) {
            if (r >= valid) break;
            __m512i y = requant16(_mm512_add_epi32(acc[r][j], base), table, c);
            _mm_mask_storeu_epi8(a->output + (size_t)(row0 + r) * a->n + 16 * b, mask, _mm512_cvtepi32_epi8(y));
        }
    }
}

MNW_AVX512 static void tile_8x1(const mnw_gemm *a, const uint32_t *q, int groups, int row0, int valid, int b0) {
    gemm_tile(a, q, groups, row0, valid, b0, 8, 1);
}
MNW_AVX512 static void tile_8x2(const mnw_gemm *a, const uint32_t *q, int groups, int row0, int valid, int b0) {
    gemm_tile(a, q, groups, row0, valid, b0, 8, 2);
}
MNW_AVX512 static void tile_4x1(const mnw_gemm *a, const uint32_t *q, int groups, int row0, int valid, int b0) {
    gemm_tile(a, q, groups, row0, valid, b0, 4, 1);
}
MNW_AVX512 static void tile_4x2(const mnw_gemm *a, const uint32_t *q, int groups, int row0, int valid, int b0) {
    gemm_tile(a, q, groups, row0, valid, b0, 4, 2);
}
MNW_AVX512 static void tile_4x3(const mnw_gemm *a, const uint32_t *q, int groups, int row0, int valid, int b0) {
    gemm_tile(a, q, groups, row0, valid, b0, 4, 3);
}
MNW_AVX512 static void tile_4x4(const mnw_gemm *a, const uint32_t *q, int groups, int row0, int valid, int b0) {
    gemm_tile(a, q, groups, row0, valid, b0, 4, 4);
}
MNW_AVX512 static void tile_1x4(const mnw_gemm *a, const uint32_t *q, int groups, int row0, int valid, int b0) {
    gemm_tile(a, q, groups, row0, valid, b0, 1, 4);
}
MNW_AVX512 static void tile_1x1(const mnw_gemm *a, const uint32_t *q, int groups, int row0, int valid, int b0) {
    gemm_tile(a, q, groups, row0, valid, b0, 1, 1);
}

MNW_AVX512
void mnw_gemm_vnni(const mnw_gemm *a) {
    int groups = (a->k + 3) / 4, blocks = (a->n + 15) / 16;
    // Tiles of 8 rows x up to 2 output blocks for narrow layers, 4 rows x up to 4 blocks for wide
    // ones, one row x 4 blocks for a single row (fully connected).
    int tile_rows = a->rows == 1 ? 1 : blocks <= 2 ? 8 : 4;
    uint8_t *bytes = (uint8_t *)a->quads;
    for (int row0 = 0; row0 < a->rows; row0 += tile_rows) {
        int valid = a->rows - row0 < tile_rows ? a->rows - row0 : tile_rows;
        for (int r = 0; r < valid; r++) gather_row(a, row0 + r, bytes + (size_t)r * groups * 4);
        if (tile_rows == 8) {
            if (blocks == 2) tile_8x2(a, a->quads, groups, row0, valid, 0);
            else tile_8x1(a, a->quads, groups, row0, valid, 0);
            continue;
        }
        for (int b0 = 0; b0 < blocks; b0 += 4) {
            int nb = blocks - b0 < 4 ? blocks - b0 : 4;
            if (tile_rows == 1) {
                if (nb == 4) tile_1x4(a, a->quads, groups, row0, valid, b0);
                else for (int j = 0; j < nb; j++) tile_1x1(a, a->quads, groups, row0, valid, b0 + j);
            } else if (nb == 4) tile_4x4(a, a->quads, groups, row0, valid, b0);
            else if (nb == 3) tile_4x3(a, a->quads, groups, row0, valid, b0);
            else if (nb == 2) tile_4x2(a, a->quads, groups, row0, valid, b0);
            else tile_4x1(a, a->quads, groups, row0, valid, b0);
        }
    }
}

// MARK: depthwise convolution

/// One output pixel of a depthwise convolution: sixteen channels at a time, each tap's codes
/// times its int32 weights, the requantization fused into the store. `taps` is a constant where
/// the kernel size is known (3 x 3), so the tap loop unrolls.
MNW_INLINE void depthwise_pixel(const mnw_depthwise *a, const int8_t *const *sources, int c, int padded, const int taps, int8_t *out,
                                requant_clamp clamp) {
    for (int base = 0; base < c; base += 16) {
        __mmask16 mask = mask16(c - base);
        __m512i sum = _mm512_loadu_si512(a->base + base);
        const int32_t *w = a->filter + base;
        for (int t = 0; t < taps; t++) {
            __m512i codes = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, sources[t] + base));
            sum = _mm512_add_epi32(sum, _mm512_mullo_epi32(codes, _mm512_loadu_si512(w + (size_t)t * padded)));
        }
        _mm_mask_storeu_epi8(out + base, mask, _mm512_cvtepi32_epi8(requant16(sum, a->requant + (size_t)(base / 16) * 48, clamp)));
    }
}

MNW_INLINE void depthwise(const mnw_depthwise *a, const int taps) {
    const mnw_conv_geometry *g = a->geometry;
    int c = g->channels, padded = (c + 15) / 16 * 16;
    const int8_t *sources[taps];
    requant_clamp clamp = make_clamp(a->output_zero_point, a->minimum, a->maximum);
    for (int y = 0; y < g->output_height; y++) {
        for (int x = 0; x < g->output_width; x++) {
            // Each tap's input pixel, or a pixel of zero points in the padding (the base already
            // subtracts zero point x filter sum, so padding then contributes nothing).
            for (int ky = 0; ky < g->kernel_height; ky++) {
                int iy = y * g->stride_height - g->padding_height + ky * g->dilation_height;
                for (int kx = 0; kx < g->kernel_width; kx++) {
                    int ix = x * g->stride_width - g->padding_width + kx * g->dilation_width;
                    int inside = iy >= 0 && iy < g->height && ix >= 0 && ix < g->width;
                    sources[ky * g->kernel_width + kx] = inside ? a->input + ((size_t)iy * g->width + ix) * c : a->zero_points;
                }
            }
            depthwise_pixel(a, sources, c, padded, taps, a->output + ((size_t)y * g->output_width + x) * c, clamp);
        }
    }
}

MNW_AVX512 static void depthwise_3x3(const mnw_depthwise *a) { depthwise(a, 9); }

MNW_AVX512 static void depthwise_any(const mnw_depthwise *a) { depthwise(a, a->geometry->kernel_height * a->geometry->kernel_width); }

MNW_AVX512
void mnw_depthwise_avx512(const mnw_depthwise *a) {
    if (a->geometry->kernel_height == 3 && a->geometry->kernel_width == 3) depthwise_3x3(a);
    else depthwise_any(a);
}

// MARK: elementwise and pooling

MNW_AVX512
void mnw_max_pool_avx512(const int8_t *input, int height, int width, int channels, int kernel_height, int kernel_width, int stride_height,
                         int stride_width, int padding_height, int padding_width, int output_height, int output_width, int8_t *output) {
    for (int y = 0; y < output_height; y++)
        for (int x = 0; x < output_width; x++)
            for (int base = 0; base < channels; base += 64) {
                __mmask64 mask = mask64(channels - base);
                __m512i best = _mm512_set1_epi8(-128);
                for (int ky = 0; ky < kernel_height; ky++) {
                    int iy = y * stride_height - padding_height + ky;
                    if (iy < 0 || iy >= height) continue;
                    for (int kx = 0; kx < kernel_width; kx++) {
                        int ix = x * stride_width - padding_width + kx;
                        if (ix < 0 || ix >= width) continue;
                        best = _mm512_max_epi8(best, _mm512_maskz_loadu_epi8(mask, input + ((size_t)iy * width + ix) * channels + base));
                    }
                }
                _mm512_mask_storeu_epi8(output + ((size_t)y * output_width + x) * channels + base, mask, best);
            }
}

/// `x * multiplier * 2^(shift - 31)` with QuantMath's single rounding, saturated to int32, one
/// multiplier for all sixteen lanes (the per-tensor rescaling of an add or a concatenation).
MNW_INLINE __m512i multiply16(__m512i x, const int64_t *block) {
    requant_clamp wide = {_mm512_set1_epi64(INT32_MIN), _mm512_set1_epi64(INT32_MAX), _mm512_setzero_si512()};
    return requant16(x, block, wide);
}

MNW_AVX512
void mnw_add_avx512(const mnw_add *a, int8_t *output) {
    __m512i azp = _mm512_set1_epi32(a->a_zero_point), bzp = _mm512_set1_epi32(a->b_zero_point);
    requant_clamp c = make_clamp(a->output_zero_point, a->minimum, a->maximum);
    for (int i = 0; i < a->count; i += 16) {
        __mmask16 mask = mask16(a->count - i);
        __m512i x = _mm512_slli_epi32(_mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, a->a + i)), azp), (unsigned)a->left_shift);
        __m512i y = _mm512_slli_epi32(_mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, a->b + i)), bzp), (unsigned)a->left_shift);
        __m512i sum = _mm512_add_epi32(multiply16(x, a->a_table), multiply16(y, a->b_table));
        _mm_mask_storeu_epi8(output + i, mask, _mm512_cvtepi32_epi8(requant16(sum, a->output_table, c)));
    }
}
MNW_AVX512
void mnw_concatenate_avx512(int pixels, const mnw_concat_input *inputs, int count, int32_t output_zero_point, int8_t *output) {
    int total = 0;
    for (int i = 0; i < count; i++) total += inputs[i].channels;
    requant_clamp c = make_clamp(output_zero_point, -128, 127);
    for (int pixel = 0; pixel < pixels; pixel++) {
        int8_t *out = output + (size_t)pixel * total;
        for (int i = 0; i < count; i++) {
            const mnw_concat_input *input = inputs + i;
            const int8_t *codes = input->codes + (size_t)pixel * input->channels;
            if (input->table) {
                __m512i zp = _mm512_set1_epi32(input->zero_point);
                for (int j = 0; j < input->channels; j += 16) {
                    __mmask16 mask = mask16(input->channels - j);
                    __m512i x = _mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, codes + j)), zp);
                    _mm_mask_storeu_epi8(out + j, mask, _mm512_cvtepi32_epi8(requant16(x, input->table, c)));
                }
            } else {
                for (int j = 0; j < input->channels; j += 64) {
                    __mmask64 mask = mask64(input->channels - j);
                    _mm512_mask_storeu_epi8(out + j, mask, _mm512_maskz_loadu_epi8(mask, codes + j));
                }
            }
            out += input->channels;
        }
    }
}

MNW_AVX512
void mnw_global_average_pool_avx512(int pixels, int channels, const int8_t *input, int32_t zero_point, const int64_t *table,
                                    int32_t output_zero_point, int8_t *output) {
    requant_clamp c = make_clamp(output_zero_point, -128, 127);
    __m512i correction = _mm512_set1_epi32(pixels * zero_point);
    for (int j = 0; j < channels; j += 16) {
        __mmask16 mask = mask16(channels - j);
        __m512i sum = _mm512_setzero_si512();
        for (int p = 0; p < pixels; p++) sum = _mm512_add_epi32(sum, _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, input + (size_t)p * channels + j)));
        _mm_mask_storeu_epi8(output + j, mask, _mm512_cvtepi32_epi8(requant16(_mm512_sub_epi32(sum, correction), table, c)));
    }
}

MNW_AVX512
void mnw_clamp_avx512(int count, const int8_t *input, int32_t minimum, int32_t maximum, int8_t *output) {
    __m512i low = _mm512_set1_epi8((char)minimum), high = _mm512_set1_epi8((char)maximum);
    for (int i = 0; i < count; i += 64) {
        __mmask64 mask = mask64(count - i);
        _mm512_mask_storeu_epi8(output + i, mask, _mm512_min_epi8(_mm512_max_epi8(_mm512_maskz_loadu_epi8(mask, input + i), low), high));
    }
}

#else
void mnw_requantize_avx512(const int32_t *accumulators, int count, const int64_t *table, int32_t zero_point, int32_t minimum,
                           int32_t maximum, int8_t *output) {
    (void)accumulators; (void)count; (void)table; (void)zero_point; (void)minimum; (void)maximum; (void)output;
}
void mnw_gemm_vnni(const mnw_gemm *a) { (void)a; }
void mnw_depthwise_avx512(const mnw_depthwise *a) { (void)a; }
void mnw_max_pool_avx512(const int8_t *input, int height, int width, int channels, int kernel_height, int kernel_width, int stride_height,
                         int stride_width, int padding_height, int padding_width, int output_height, int output_width, int8_t *output) {
    (void)input; (void)height; (void)width; (void)channels; (void)kernel_height; (void)kernel_width; (void)stride_height;
    (void)stride_width; (void)padding_height; (void)padding_width; (void)output_height; (void)output_width; (void)output;
}
void mnw_add_avx512(const mnw_add *a, int8_t *output) { (void)a; (void)output; }
void mnw_concatenate_avx512(int pixels, const mnw_concat_input *inputs, int count, int32_t output_zero_point, int8_t *output) {
    (void)pixels; (void)inputs; (void)count; (void)output_zero_point; (void)output;
}
void mnw_global_average_pool_avx512(int pixels, int channels, const int8_t *input, int32_t zero_point, const int64_t *table,
                                    int32_t output_zero_point, int8_t *output) {
    (void)pixels; (void)channels; (void)input; (void)zero_point; (void)table; (void)output_zero_point; (void)output;
}
void mnw_clamp_avx512(int count, const int8_t *input, int32_t minimum, int32_t maximum, int8_t *output) {
    (void)count; (void)input; (void)minimum; (void)maximum; (void)output;
}
#endif
