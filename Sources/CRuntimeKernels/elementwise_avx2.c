// AVX2: the residual add, clamp and concatenation.
#include "Levels.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#include "AVX2Common.h"

/// The add's fields and tables in registers (`uniform_table8`).
typedef struct {
    uniform_table8 a_table, b_table, out_table;
    __m256i a_zero_point, b_zero_point, zero_point;
    __m128i a_shift, b_shift, minimum, maximum;
} add_registers;

/// Eight sums of the add, requantized (int32 codes before narrowing).
MNW_AVX2_INLINE __m256i add8(__m128i x8, __m128i y8, const add_registers *r, int rounded) {
    __m256i x = _mm256_sll_epi32(_mm256_sub_epi32(_mm256_cvtepi8_epi32(x8), r->a_zero_point), r->a_shift);
    __m256i y = _mm256_sll_epi32(_mm256_sub_epi32(_mm256_cvtepi8_epi32(y8), r->b_zero_point), r->b_shift);
    return uniform_requant8(_mm256_add_epi32(uniform_multiply8(x, r->a_table), uniform_multiply8(y, r->b_table)), r->out_table, r->zero_point, rounded);
}

/// Sixteen codes of the add from sixteen of each input.
MNW_AVX2_INLINE __m128i add16(__m128i x, __m128i y, const add_registers *r, int rounded) {
    __m256i low = add8(x, y, r, rounded), high = add8(_mm_srli_si128(x, 8), _mm_srli_si128(y, 8), r, rounded);
    __m256i words = _mm256_packs_epi32(low, high);  // lanes 0-3 8-11 | 4-7 12-15
    __m128i packed = _mm_packs_epi16(_mm256_castsi256_si128(words), _mm256_extracti128_si256(words, 1));
    return _mm_shuffle_epi32(_mm_min_epi8(_mm_max_epi8(packed, r->minimum), r->maximum), _MM_SHUFFLE(3, 1, 2, 0));
}

/// Whole blocks of sixteen, then the rest through a copy; `rounded` is a constant in each caller.
MNW_AVX2_INLINE void add_codes(const int8_t *first, const int8_t *second, int count, int8_t *output, const add_registers *r, int rounded) {
    int i = 0;
    for (; i + 16 <= count; i += 16)
        _mm_storeu_si128((__m128i *)(output + i), add16(_mm_loadu_si128((const __m128i *)(first + i)), _mm_loadu_si128((const __m128i *)(second + i)), r, rounded));
    if (i == count) return;
    int8_t xs[16] = {0}, ys[16] = {0}, codes[16];
    memcpy(xs, first + i, (size_t)(count - i));
    memcpy(ys, second + i, (size_t)(count - i));
    _mm_storeu_si128((__m128i *)codes, add16(_mm_loadu_si128((const __m128i *)xs), _mm_loadu_si128((const __m128i *)ys), r, rounded));
    memcpy(output + i, codes, (size_t)(count - i));
}

__attribute__((target("avx2")))
void mnw_add_avx2(const mnw_add *a) {
    add_registers r = {uniform_table8_load(a->a_table), uniform_table8_load(a->b_table), uniform_table8_load(a->output_table),
                       _mm256_set1_epi32(a->a_zero_point), _mm256_set1_epi32(a->b_zero_point), _mm256_set1_epi32(a->output_zero_point),
                       _mm_cvtsi32_si128(a->a_left_shift), _mm_cvtsi32_si128(a->b_left_shift), _mm_set1_epi8((char)a->minimum),
                       _mm_set1_epi8((char)a->maximum)};
    if (a->form == MNW_REQUANT_ROUNDED) add_codes(a->a, a->b, a->count, a->output, &r, 1);
    else add_codes(a->a, a->b, a->count, a->output, &r, 0);
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
