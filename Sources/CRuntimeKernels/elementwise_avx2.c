// AVX2: the residual add and clamp; the concatenation that copies (plain C, every level without a rescaling one).
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
#endif

void mnw_concatenate_copy(const mnw_concatenate *c) {
    int pixels = c->pixels, count = c->count;
    const mnw_concat_input *inputs = c->inputs;
    int8_t *output = c->output;
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
