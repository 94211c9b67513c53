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

void mnw_column_sums(const int8_t *weight, int k, int n, int32_t *sums) {
    for (int j = 0; j < n; j++) sums[j] = 0;
    for (int row = 0; row < k; row++)
        for (int j = 0; j < n; j++) sums[j] += weight[(size_t)row * n + j];
}

void mnw_patch_row(const int8_t *input, const mnw_conv_geometry *g, int y, int x, int8_t zero_point, int8_t *row) {
    int c = g->channels;
    for (int ky = 0; ky < g->kernel_height; ky++) {
        int iy = y * g->stride_height - g->padding_height + ky * g->dilation_height;
        for (int kx = 0; kx < g->kernel_width; kx++) {
            int ix = x * g->stride_width - g->padding_width + kx * g->dilation_width;
            int8_t *destination = row + (size_t)(ky * g->kernel_width + kx) * c;
            if (iy < 0 || iy >= g->height || ix < 0 || ix >= g->width) {
                memset(destination, (unsigned char)zero_point, (size_t)c);
            } else {
                memcpy(destination, input + ((size_t)iy * g->width + ix) * c, (size_t)c);
            }
        }
    }
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
void mnw_depthwise_avx512(const int8_t *input, const mnw_conv_geometry *g, int32_t zero_point, const int8_t *filter, const int32_t *bias,
                          const int32_t *multipliers, const int32_t *shifts, int32_t output_zero_point, int32_t minimum, int32_t maximum,
                          int8_t *output, int32_t *scratch) {
    int c = g->channels;
    __m512i zp = _mm512_set1_epi32(zero_point);
    for (int y = 0; y < g->output_height; y++) {
        for (int x = 0; x < g->output_width; x++) {
            for (int base = 0; base < c; base += 16) {
                int remaining = c - base;
                __mmask16 mask = remaining >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << remaining) - 1);
                __m512i sum = bias ? _mm512_maskz_loadu_epi32(mask, bias + base) : _mm512_setzero_si512();
                for (int ky = 0; ky < g->kernel_height; ky++) {
                    int iy = y * g->stride_height - g->padding_height + ky * g->dilation_height;
                    if (iy < 0 || iy >= g->height) continue;
                    for (int kx = 0; kx < g->kernel_width; kx++) {
                        int ix = x * g->stride_width - g->padding_width + kx * g->dilation_width;
                        if (ix < 0 || ix >= g->width) continue;
                        __m512i codes = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, input + ((size_t)iy * g->width + ix) * c + base));
                        __m512i weights = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, filter + (size_t)(ky * g->kernel_width + kx) * c + base));
                        sum = _mm512_add_epi32(sum, _mm512_mullo_epi32(_mm512_sub_epi32(codes, zp), weights));
                    }
                }
                _mm512_storeu_si512(scratch + base, sum);
            }
            mnw_requantize_avx512(scratch, c, multipliers, shifts, output_zero_point, minimum, maximum,
                                  output + ((size_t)y * g->output_width + x) * c);
        }
    }
}

/// `row`'s K codes as unsigned bytes (x ^ 0x80), four to a word, in `groups` words; the last
/// word's missing bytes are zero (their weights are zero too).
static inline void unsigned_quads(const int8_t *row, int k, int groups, uint32_t *quads) {
    int whole = k / 4;
    for (int g = 0; g < whole; g++) {
        uint32_t word;
        memcpy(&word, row + 4 * g, 4);
        quads[g] = word ^ 0x80808080u;
    }
    if (whole < groups) {
        uint32_t word = 0;
        for (int t = 0; 4 * whole + t < k; t++) word |= (uint32_t)((uint8_t)(row[4 * whole + t] ^ 0x80)) << (8 * t);
        quads[whole] = word;
    }
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
static inline void store_block(int32_t *accumulators, int stride, int block, int n, __m512i base, __m512i s0, __m512i s1, __m512i s2,
                               __m512i s3) {
    int remaining = n - 16 * block;
    __mmask16 mask = remaining >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << remaining) - 1);
    _mm512_mask_storeu_epi32(accumulators + 16 * block, mask, _mm512_add_epi32(s0, base));
    _mm512_mask_storeu_epi32(accumulators + stride + 16 * block, mask, _mm512_add_epi32(s1, base));
    _mm512_mask_storeu_epi32(accumulators + 2 * stride + 16 * block, mask, _mm512_add_epi32(s2, base));
    _mm512_mask_storeu_epi32(accumulators + 3 * stride + 16 * block, mask, _mm512_add_epi32(s3, base));
}

/// bias - (128 + zero point) * column sums, for output block `block`.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
static inline __m512i block_base(const int32_t *bias, const int32_t *column_sums, int block, int n, __m512i correction) {
    int remaining = n - 16 * block;
    __mmask16 mask = remaining >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << remaining) - 1);
    return _mm512_sub_epi32(bias ? _mm512_maskz_loadu_epi32(mask, bias + 16 * block) : _mm512_setzero_si512(),
                            _mm512_mullo_epi32(_mm512_maskz_loadu_epi32(mask, column_sums + 16 * block), correction));
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
void mnw_pointwise_rows4_vnni(const int8_t *const *rows, int k, int32_t zero_point, const int8_t *packed, const int32_t *column_sums,
                              const int32_t *bias, int n, int32_t *accumulators, int stride) {
    int blocks = (n + 15) / 16, groups = (k + 3) / 4;
    uint32_t quads[4][groups];
    for (int r = 0; r < 4; r++) unsigned_quads(rows[r], k, groups, quads[r]);
    __m512i correction = _mm512_set1_epi32(128 + zero_point);
    int b = 0;
    // Two output blocks at a time: each broadcast input word feeds two weight blocks.
    for (; b + 1 < blocks; b += 2) {
        const int8_t *w0 = packed + (size_t)b * groups * 64, *w1 = w0 + (size_t)groups * 64;
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
        for (int g = 0; g < groups; g++) {
            __m512i x = _mm512_loadu_si512(w0 + (size_t)g * 64), y = _mm512_loadu_si512(w1 + (size_t)g * 64);
            __m512i q0 = _mm512_set1_epi32((int)quads[0][g]), q1 = _mm512_set1_epi32((int)quads[1][g]);
            __m512i q2 = _mm512_set1_epi32((int)quads[2][g]), q3 = _mm512_set1_epi32((int)quads[3][g]);
            a0 = _mm512_dpbusd_epi32(a0, q0, x); c0 = _mm512_dpbusd_epi32(c0, q0, y);
            a1 = _mm512_dpbusd_epi32(a1, q1, x); c1 = _mm512_dpbusd_epi32(c1, q1, y);
            a2 = _mm512_dpbusd_epi32(a2, q2, x); c2 = _mm512_dpbusd_epi32(c2, q2, y);
            a3 = _mm512_dpbusd_epi32(a3, q3, x); c3 = _mm512_dpbusd_epi32(c3, q3, y);
        }
        store_block(accumulators, stride, b, n, block_base(bias, column_sums, b, n, correction), a0, a1, a2, a3);
        store_block(accumulators, stride, b + 1, n, block_base(bias, column_sums, b + 1, n, correction), c0, c1, c2, c3);
    }
    if (b < blocks) {
        const int8_t *w = packed + (size_t)b * groups * 64;
        __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
        for (int g = 0; g < groups; g++) {
            __m512i weights = _mm512_loadu_si512(w + (size_t)g * 64);
            s0 = _mm512_dpbusd_epi32(s0, _mm512_set1_epi32((int)quads[0][g]), weights);
            s1 = _mm512_dpbusd_epi32(s1, _mm512_set1_epi32((int)quads[1][g]), weights);
            s2 = _mm512_dpbusd_epi32(s2, _mm512_set1_epi32((int)quads[2][g]), weights);
            s3 = _mm512_dpbusd_epi32(s3, _mm512_set1_epi32((int)quads[3][g]), weights);
        }
        store_block(accumulators, stride, b, n, block_base(bias, column_sums, b, n, correction), s0, s1, s2, s3);
    }
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
void mnw_pointwise_row_vnni(const int8_t *input, int k, int32_t zero_point, const int8_t *packed, const int32_t *column_sums,
                            const int32_t *bias, int n, int32_t *accumulators) {
    int blocks = (n + 15) / 16, groups = (k + 3) / 4;
    // The input as unsigned bytes (x + 128), four at a time; the last group zero padded (its
    // weights are zero, so the padding adds nothing).
    uint32_t quads[groups];
    for (int g = 0; g < groups; g++) {
        uint32_t quad = 0;
        for (int t = 0; t < 4; t++) {
            int index = 4 * g + t;
            uint8_t byte = index < k ? (uint8_t)(input[index] ^ 0x80) : 0;
            quad |= (uint32_t)byte << (8 * t);
        }
        quads[g] = quad;
    }
    int32_t correction = 128 + zero_point;
    for (int b = 0; b < blocks; b++) {
        const int8_t *w = packed + (size_t)b * groups * 64;
        __m512i sum0 = _mm512_setzero_si512(), sum1 = _mm512_setzero_si512();
        int g = 0;
        for (; g + 1 < groups; g += 2) {
            sum0 = _mm512_dpbusd_epi32(sum0, _mm512_set1_epi32((int)quads[g]), _mm512_loadu_si512(w + (size_t)g * 64));
            sum1 = _mm512_dpbusd_epi32(sum1, _mm512_set1_epi32((int)quads[g + 1]), _mm512_loadu_si512(w + (size_t)(g + 1) * 64));
        }
        if (g < groups) sum0 = _mm512_dpbusd_epi32(sum0, _mm512_set1_epi32((int)quads[g]), _mm512_loadu_si512(w + (size_t)g * 64));
        __m512i sum = _mm512_add_epi32(sum0, sum1);
        int remaining = n - 16 * b;
        __mmask16 mask = remaining >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << remaining) - 1);
        __m512i sums = _mm512_maskz_loadu_epi32(mask, column_sums + 16 * b);
        __m512i base = bias ? _mm512_maskz_loadu_epi32(mask, bias + 16 * b) : _mm512_setzero_si512();
        sum = _mm512_add_epi32(_mm512_sub_epi32(sum, _mm512_mullo_epi32(sums, _mm512_set1_epi32(correction))), base);
        _mm512_mask_storeu_epi32(accumulators + 16 * b, mask, sum);
    }
}

/// The 64-bit requantization of the even 32-bit lanes of `x` (multipliers and shifts likewise in
/// the even lanes), saturated to int32, in 64-bit lanes.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
static inline __m512i requantize_even(__m512i x, __m512i multipliers, __m512i shifts) {
    __m512i product = _mm512_mul_epi32(x, multipliers);
    __m512i total = _mm512_sub_epi64(_mm512_set1_epi64(31), _mm512_srai_epi64(_mm512_slli_epi64(shifts, 32), 32));
    __m512i half = _mm512_sllv_epi64(_mm512_set1_epi64(1), _mm512_sub_epi64(total, _mm512_set1_epi64(1)));
    __m512i rounded = _mm512_srav_epi64(_mm512_add_epi64(product, half), total);
    return _mm512_max_epi64(_mm512_min_epi64(rounded, _mm512_set1_epi64(2147483647LL)), _mm512_set1_epi64(-2147483648LL));
}

/// `x * multiplier * 2^(shift - 31)`, single rounding, saturated to int32, on sixteen lanes (the
/// vector form of QuantMath's `multiplyByQuantizedMultiplier`).
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
static inline __m512i multiply16(__m512i x, __m512i multipliers, __m512i shifts) {
    __m512i even = requantize_even(x, multipliers, shifts);
    __m512i odd = requantize_even(_mm512_srli_epi64(x, 32), _mm512_srli_epi64(multipliers, 32), _mm512_srli_epi64(shifts, 32));
    return _mm512_mask_blend_epi32((__mmask16)0xAAAA, even, _mm512_slli_epi64(odd, 32));
}

/// QuantMath's `requantize` on sixteen lanes: the zero point and clamp of its 64-bit sum, with the
/// scaled value first clamped to +-512 (keeps the 32-bit sum exact and changes no result: the final
/// range is within int8 and |zero point| <= 128).
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
static inline __m512i requantize16(__m512i x, __m512i multipliers, __m512i shifts, int32_t zero_point, int32_t minimum, int32_t maximum) {
    __m512i scaled = multiply16(x, multipliers, shifts);
    scaled = _mm512_max_epi32(_mm512_min_epi32(scaled, _mm512_set1_epi32(512)), _mm512_set1_epi32(-512));
    __m512i y = _mm512_add_epi32(scaled, _mm512_set1_epi32(zero_point));
    return _mm512_max_epi32(_mm512_min_epi32(y, _mm512_set1_epi32(maximum)), _mm512_set1_epi32(minimum));
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
void mnw_requantize_avx512(const int32_t *accumulators, int count, const int32_t *multipliers, const int32_t *shifts, int32_t zero_point,
                           int32_t minimum, int32_t maximum, int8_t *output) {
    for (int i = 0; i < count; i += 16) {
        int remaining = count - i;
        __mmask16 mask = remaining >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << remaining) - 1);
        __m512i y = requantize16(_mm512_maskz_loadu_epi32(mask, accumulators + i), _mm512_maskz_loadu_epi32(mask, multipliers + i),
                                 _mm512_maskz_loadu_epi32(mask, shifts + i), zero_point, minimum, maximum);
        _mm_mask_storeu_epi8(output + i, mask, _mm512_cvtepi32_epi8(y));
    }
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
void mnw_max_pool_avx512(const int8_t *input, int height, int width, int channels, int kernel_height, int kernel_width, int stride_height,
                         int stride_width, int padding_height, int padding_width, int output_height, int output_width, int8_t *output) {
    for (int y = 0; y < output_height; y++)
        for (int x = 0; x < output_width; x++)
            for (int base = 0; base < channels; base += 64) {
                int remaining = channels - base;
                __mmask64 mask = remaining >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << remaining) - 1);
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

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
void mnw_add_avx512(int count, const int8_t *a, int32_t a_zero_point, int32_t a_multiplier, int32_t a_shift, const int8_t *b,
                    int32_t b_zero_point, int32_t b_multiplier, int32_t b_shift, int32_t left_shift, int32_t output_multiplier,
                    int32_t output_shift, int32_t output_zero_point, int32_t minimum, int32_t maximum, int8_t *output) {
    __m512i am = _mm512_set1_epi32(a_multiplier), as = _mm512_set1_epi32(a_shift), bm = _mm512_set1_epi32(b_multiplier);
    __m512i bs = _mm512_set1_epi32(b_shift), om = _mm512_set1_epi32(output_multiplier), os = _mm512_set1_epi32(output_shift);
    __m512i azp = _mm512_set1_epi32(a_zero_point), bzp = _mm512_set1_epi32(b_zero_point);
    for (int i = 0; i < count; i += 16) {
        int remaining = count - i;
        __mmask16 mask = remaining >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << remaining) - 1);
        __m512i x = _mm512_slli_epi32(_mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, a + i)), azp), (unsigned)left_shift);
        __m512i y = _mm512_slli_epi32(_mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, b + i)), bzp), (unsigned)left_shift);
        __m512i sum = _mm512_add_epi32(multiply16(x, am, as), multiply16(y, bm, bs));
        _mm_mask_storeu_epi8(output + i, mask, _mm512_cvtepi32_epi8(requantize16(sum, om, os, output_zero_point, minimum, maximum)));
    }
}
#else
void mnw_pointwise_rows4_vnni(const int8_t *const *rows, int k, int32_t zero_point, const int8_t *packed, const int32_t *column_sums,
                              const int32_t *bias, int n, int32_t *accumulators, int stride) {
    (void)rows; (void)k; (void)zero_point; (void)packed; (void)column_sums; (void)bias; (void)n; (void)accumulators; (void)stride;
}

void mnw_add_avx512(int count, const int8_t *a, int32_t a_zero_point, int32_t a_multiplier, int32_t a_shift, const int8_t *b,
                    int32_t b_zero_point, int32_t b_multiplier, int32_t b_shift, int32_t left_shift, int32_t output_multiplier,
                    int32_t output_shift, int32_t output_zero_point, int32_t minimum, int32_t maximum, int8_t *output) {
    (void)count; (void)a; (void)a_zero_point; (void)a_multiplier; (void)a_shift; (void)b; (void)b_zero_point; (void)b_multiplier;
    (void)b_shift; (void)left_shift; (void)output_multiplier; (void)output_shift; (void)output_zero_point; (void)minimum; (void)maximum;
    (void)output;
}

void mnw_depthwise_avx512(const int8_t *input, const mnw_conv_geometry *g, int32_t zero_point, const int8_t *filter, const int32_t *bias,
                          const int32_t *multipliers, const int32_t *shifts, int32_t output_zero_point, int32_t minimum, int32_t maximum,
                          int8_t *output, int32_t *scratch) {
    (void)input; (void)g; (void)zero_point; (void)filter; (void)bias; (void)multipliers; (void)shifts; (void)output_zero_point;
    (void)minimum; (void)maximum; (void)output; (void)scratch;
}

void mnw_requantize_avx512(const int32_t *accumulators, int count, const int32_t *multipliers, const int32_t *shifts, int32_t zero_point,
                           int32_t minimum, int32_t maximum, int8_t *output) {
    (void)accumulators; (void)count; (void)multipliers; (void)shifts; (void)zero_point; (void)minimum; (void)maximum; (void)output;
}

void mnw_pointwise_row_vnni(const int8_t *input, int k, int32_t zero_point, const int8_t *packed, const int32_t *column_sums,
                            const int32_t *bias, int n, int32_t *accumulators) {
    (void)input; (void)k; (void)zero_point; (void)packed; (void)column_sums; (void)bias; (void)n; (void)accumulators;
}
#endif
