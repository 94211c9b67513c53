// AVX2: max pooling and global average pooling.
#include "Levels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include "AVX2Common.h"

__attribute__((target("avx2")))
static void max_pool_avx2(const int8_t *input, int height, int width, int channels, int kernel_height, int kernel_width, int stride_height,
                       int stride_width, int padding_height, int padding_width, int output_height, int output_width, int8_t *output) {
    for (int y = 0; y < output_height; y++)
        for (int x = 0; x < output_width; x++)
            for (int base = 0; base < channels; base += 32) {
                int count = channels - base < 32 ? channels - base : 32;
                __m256i best = _mm256_set1_epi8(-128);
                int top = y * stride_height - padding_height, left = x * stride_width - padding_width, y0, y1, x0, x1;
                window_span(top, kernel_height, height, &y0, &y1);
                window_span(left, kernel_width, width, &x0, &x1);
                for (int ky = y0; ky < y1; ky++) {
                    for (int kx = x0; kx < x1; kx++) {
                        int8_t lanes[32];
                        const int8_t *from = input + ((size_t)(top + ky) * width + (left + kx)) * channels + base;
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
static void global_average_pool_avx2(int pixels, int channels, const int8_t *input, int32_t zero_point, const int64_t *table,
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
void mnw_max_pool_avx2(const mnw_max_pool *p) {
    max_pool_avx2(p->input, p->height, p->width, p->channels, p->kernel_height, p->kernel_width, p->stride_height, p->stride_width, p->padding_height, p->padding_width, p->output_height, p->output_width, p->output);
}

__attribute__((target("avx2")))
void mnw_global_average_pool_avx2(const mnw_global_average_pool *p) {
    global_average_pool_avx2(p->pixels, p->channels, p->input, p->zero_point, p->table, p->output_zero_point, p->output);
}

#endif
