// AVX-512: the residual add, channel concatenation and clamp.
#include "Levels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include "AVX512Common.h"

/// Sixteen lanes of an add before its output requantization: both inputs made relative to their
/// zero points, shifted left and rescaled (`form`: the tables' form), summed.
MNW_INLINE __m512i add_sum16(const mnw_add *f, int i, __mmask16 mask, __m512i azp, __m512i bzp, __m128i ashift, __m128i bshift, const int form) {
    __m512i x = _mm512_sll_epi32(_mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, f->a + i)), azp), ashift);
    __m512i y = _mm512_sll_epi32(_mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, f->b + i)), bzp), bshift);
    return form != MNW_REQUANT_GENERAL ? _mm512_add_epi32(multiply16_high(x, f->a_table), multiply16_high(y, f->b_table))
                                       : _mm512_add_epi32(multiply16(x, f->a_table), multiply16(y, f->b_table));
}

MNW_INLINE void add(const mnw_add *a, int8_t *output, const int form) {
    // The fields copied once: the output stores are char stores, which may alias them.
    const mnw_add f = *a;
    __m512i azp = _mm512_set1_epi32(f.a_zero_point), bzp = _mm512_set1_epi32(f.b_zero_point);
    __m128i ashift = _mm_cvtsi32_si128(f.a_left_shift), bshift = _mm_cvtsi32_si128(f.b_left_shift);
    requant_clamp c = make_clamp(f.output_zero_point, f.minimum, f.maximum);
    if (form == MNW_REQUANT_ROUNDED) {
        // 64 lanes at a time: four sums requantized, narrowed together (`narrow4`), one store.
        for (int i = 0; i < f.count; i += 64) {
            __m512i q[4];
            for (int v = 0; v < 4; v++) {
                int remaining = f.count - i - 16 * v;
                __mmask16 mask = remaining <= 0 ? 0 : mask16(remaining);
                q[v] = requant_rounded(add_sum16(&f, i + 16 * v, mask, azp, bzp, ashift, bshift, form), f.output_table);
            }
            store_codes64(output + i, mask64(f.count - i), narrow4(q[0], q[1], q[2], q[3]), c);
        }
        return;
    }
    for (int i = 0; i < f.count; i += 16) {
        __mmask16 mask = mask16(f.count - i);
        requant_store(output + i, mask, add_sum16(&f, i, mask, azp, bzp, ashift, bshift, form), f.output_table, c, form);
    }
}

MNW_AVX512 static void add_general(const mnw_add *a, int8_t *output) { add(a, output, MNW_REQUANT_GENERAL); }
MNW_AVX512 static void add_high(const mnw_add *a, int8_t *output) { add(a, output, MNW_REQUANT_HIGH); }
MNW_AVX512 static void add_rounded(const mnw_add *a, int8_t *output) { add(a, output, MNW_REQUANT_ROUNDED); }

MNW_AVX512
void mnw_add_avx512(const mnw_add *a) {
    (a->form == MNW_REQUANT_ROUNDED ? add_rounded : a->form == MNW_REQUANT_HIGH ? add_high : add_general)(a, a->output);
}

MNW_AVX512
static void concatenate_avx512(int pixels, const mnw_concat_input *inputs, int count, int32_t output_zero_point, int8_t *output) {
    int total = 0;
    for (int i = 0; i < count; i++) total += inputs[i].channels;
    requant_clamp c = make_clamp(output_zero_point, -128, 127);
    // One input at a time over every pixel, its fields in locals (the output stores may alias
    // the array): the channel count and masks stay fixed in the inner loop.
    int8_t *column = output;
    for (int i = 0; i < count; i++) {
        const mnw_concat_input input = inputs[i];
        if (input.table) {
            __m512i zp = _mm512_set1_epi32(input.zero_point);
            __m128i shift = _mm_cvtsi32_si128(input.left_shift);
            for (int pixel = 0; pixel < pixels; pixel++)
                for (int j = 0; j < input.channels; j += 16) {
                    __mmask16 mask = mask16(input.channels - j);
                    __m512i x = _mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, input.codes + (size_t)pixel * input.channels + j)), zp);
                    x = _mm512_sll_epi32(x, shift);
                    store_codes(column + (size_t)pixel * total + j, mask, requant16(x, input.table, c));
                }
        } else if (input.channels <= 64) {
            __mmask64 mask = mask64(input.channels);
            for (int pixel = 0; pixel < pixels; pixel++)
                _mm512_mask_storeu_epi8(column + (size_t)pixel * total, mask, _mm512_maskz_loadu_epi8(mask, input.codes + (size_t)pixel * input.channels));
        } else {
            for (int pixel = 0; pixel < pixels; pixel++)
                copy_codes(input.codes + (size_t)pixel * input.channels, input.channels, 0, column + (size_t)pixel * total);
        }
        column += input.channels;
    }
}


MNW_AVX512
static void clamp_avx512(int count, const int8_t *input, int32_t minimum, int32_t maximum, int8_t *output) {
    __m512i low = _mm512_set1_epi8((char)minimum), high = _mm512_set1_epi8((char)maximum);
    for (int i = 0; i < count; i += 64) {
        __mmask64 mask = mask64(count - i);
        _mm512_mask_storeu_epi8(output + i, mask, _mm512_min_epi8(_mm512_max_epi8(_mm512_maskz_loadu_epi8(mask, input + i), low), high));
    }
}

MNW_AVX512
void mnw_concatenate_avx512(const mnw_concatenate *c) { concatenate_avx512(c->pixels, c->inputs, c->count, c->output_zero_point, c->output); }

MNW_AVX512
void mnw_clamp_avx512(const mnw_clamp *c) { clamp_avx512(c->count, c->input, c->minimum, c->maximum, c->output); }

#endif
