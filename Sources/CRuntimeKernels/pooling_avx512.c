// AVX-512: max pooling and global average pooling.
#include "Levels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include "AVX512Common.h"

/// The largest of a KH x KW window's codes, 64 channels from `corner` (every tap inside the input).
MNW_INLINE __m512i window_max(const int8_t *corner, size_t row_bytes, int channels, __mmask64 mask, const int KH, const int KW) {
    __m512i best = _mm512_set1_epi8(-128);
    for (int ky = 0; ky < KH; ky++)
        for (int kx = 0; kx < KW; kx++) best = _mm512_max_epi8(best, _mm512_maskz_loadu_epi8(mask, corner + ky * row_bytes + (size_t)kx * channels));
    return best;
}

/// Max pooling: windows inside the input (no padding: every window of the common 2 x 2 and
/// 3 x 3 kernels) without per-tap checks, the kernel size a constant; any other with them.
MNW_INLINE void max_pool(const int8_t *input, int height, int width, int channels, int kernel_height, int kernel_width, int stride_height,
                         int stride_width, int padding_height, int padding_width, int output_height, int output_width, int8_t *output,
                         const int KH, const int KW) {
    size_t row_bytes = (size_t)width * channels;
    for (int y = 0; y < output_height; y++)
        for (int x = 0; x < output_width; x++)
            for (int base = 0; base < channels; base += 64) {
                __mmask64 mask = mask64(channels - base);
                int8_t *out = output + ((size_t)y * output_width + x) * channels + base;
                if (KH) {
                    const int8_t *corner = input + (size_t)y * stride_height * row_bytes + (size_t)x * stride_width * channels + base;
                    _mm512_mask_storeu_epi8(out, mask, window_max(corner, row_bytes, channels, mask, KH, KW));
                    continue;
                }
                __m512i best = _mm512_set1_epi8(-128);
                int top = y * stride_height - padding_height, left = x * stride_width - padding_width, y0, y1, x0, x1;
                window_span(top, kernel_height, height, &y0, &y1);
                window_span(left, kernel_width, width, &x0, &x1);
                for (int ky = y0; ky < y1; ky++)
                    for (int kx = x0; kx < x1; kx++)
                        best = _mm512_max_epi8(best, _mm512_maskz_loadu_epi8(mask, input + (size_t)(top + ky) * row_bytes + (size_t)(left + kx) * channels + base));
                _mm512_mask_storeu_epi8(out, mask, best);
            }
}

MNW_AVX512
static void max_pool_avx512(const int8_t *input, int height, int width, int channels, int kernel_height, int kernel_width, int stride_height,
                         int stride_width, int padding_height, int padding_width, int output_height, int output_width, int8_t *output) {
    // Every window inside the input: no padding and the last window's end within it.
    int inside = padding_height == 0 && padding_width == 0 && (output_height - 1) * stride_height + kernel_height <= height
        && (output_width - 1) * stride_width + kernel_width <= width;
    int square = kernel_height == kernel_width && inside ? kernel_height : 0;
    if (square == 2)
        max_pool(input, height, width, channels, 2, 2, stride_height, stride_width, 0, 0, output_height, output_width, output, 2, 2);
    else if (square == 3)
        max_pool(input, height, width, channels, 3, 3, stride_height, stride_width, 0, 0, output_height, output_width, output, 3, 3);
    else
        max_pool(input, height, width, channels, kernel_height, kernel_width, stride_height, stride_width, padding_height, padding_width,
                 output_height, output_width, output, 0, 0);
}

MNW_AVX512
static void global_average_pool_avx512(int pixels, int channels, const int8_t *input, int32_t zero_point, const int64_t *table,
                                    int32_t output_zero_point, int8_t *output) {
    requant_clamp c = make_clamp(output_zero_point, -128, 127);
    __m512i correction = _mm512_set1_epi32(pixels * zero_point);
    for (int j = 0; j < channels; j += 16) {
        __mmask16 mask = mask16(channels - j);
        __m512i sum = _mm512_setzero_si512();
        for (int p = 0; p < pixels; p++) sum = _mm512_add_epi32(sum, _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, input + (size_t)p * channels + j)));
        store_codes(output + j, mask, (requant16(_mm512_sub_epi32(sum, correction), table, c)));
    }
}

MNW_AVX512
void mnw_max_pool_avx512(const mnw_max_pool *p) {
    max_pool_avx512(p->input, p->height, p->width, p->channels, p->kernel_height, p->kernel_width, p->stride_height, p->stride_width, p->padding_height, p->padding_width, p->output_height, p->output_width, p->output);
}

MNW_AVX512
void mnw_global_average_pool_avx512(const mnw_global_average_pool *p) {
    global_average_pool_avx512(p->pixels, p->channels, p->input, p->zero_point, p->table, p->output_zero_point, p->output);
}

#endif
