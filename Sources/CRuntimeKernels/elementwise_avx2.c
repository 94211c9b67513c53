// AVX2: the residual add, clamp and concatenation.
#include "Levels.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#include "AVX2Common.h"

__attribute__((target("avx2")))
void mnw_add_avx2(const mnw_add *a) {
    int8_t *output = a->output;
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
void mnw_clamp_avx2(const mnw_clamp *c) {
    int count = c->count;
    const int8_t *input = c->input;
    int32_t minimum = c->minimum, maximum = c->maximum;
    int8_t *output = c->output;
    __m256i low = _mm256_set1_epi8((char)minimum), high = _mm256_set1_epi8((char)maximum);
    int i = 0;
    for (; i + 32 <= count; i += 32)
        _mm256_storeu_si256((__m256i *)(output + i), _mm256_min_epi8(_mm256_max_epi8(_mm256_loadu_si256((const __m256i *)(input + i)), low), high));
    for (; i < count; i++) output[i] = (int8_t)(input[i] < minimum ? minimum : input[i] > maximum ? maximum : input[i]);
}
/// One input at a time over every pixel, its fields in locals (the output stores may alias the
/// array); a rescaled input 8 channels at a time in its table's short form.
__attribute__((target("avx2")))
void mnw_concatenate_avx2(const mnw_concatenate *c) {
    int pixels = c->pixels, count = c->count, total = 0;
    const mnw_concat_input *inputs = c->inputs;
    for (int i = 0; i < count; i++) total += inputs[i].channels;
    __m256i zero_point = _mm256_set1_epi32(c->output_zero_point);
    __m128i minimum = _mm_set1_epi8((char)-128), maximum = _mm_set1_epi8((char)127);
    int8_t *column = c->output;
    for (int i = 0; i < count; i++) {
        const mnw_concat_input input = inputs[i];
        if (input.table) {
            __m256i zp = _mm256_set1_epi32(input.zero_point);
            __m128i shift = _mm_cvtsi32_si128(input.left_shift);
            int rounded = input.form == MNW_REQUANT_ROUNDED;
            for (int pixel = 0; pixel < pixels; pixel++)
                for (int j = 0; j < input.channels; j += 8) {
                    int left = input.channels - j;
                    __m256i x = _mm256_sll_epi32(_mm256_sub_epi32(_mm256_cvtepi8_epi32(load8(input.codes + (size_t)pixel * input.channels + j, left)), zp), shift);
                    requant_store8(column + (size_t)pixel * total + j, left, x, input.table, 0, zero_point, minimum, maximum, rounded);
                }
        } else {
            for (int pixel = 0; pixel < pixels; pixel++)
                memcpy(column + (size_t)pixel * total, input.codes + (size_t)pixel * input.channels, (size_t)input.channels);
        }
        column += input.channels;
    }
}
#endif
