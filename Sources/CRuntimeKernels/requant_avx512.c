// AVX-512: the vector requantization on its own (tests compare it with QuantMath in every form).
#include "Levels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include "AVX512Common.h"

MNW_AVX512
void mnw_requantize_avx512(const int32_t *accumulators, int count, const int64_t *table, int form, int32_t zero_point, int32_t minimum,
                           int32_t maximum, int8_t *output) {
    requant_clamp c = make_clamp(zero_point, minimum, maximum);
    for (int i = 0; i < count; i += 16) {
        __mmask16 mask = mask16(count - i);
        __m512i x = _mm512_maskz_loadu_epi32(mask, accumulators + i);
        const int64_t *block = table + (size_t)(i / 16) * MNW_REQUANT_BLOCK;
        if (form == MNW_REQUANT_ROUNDED) requant_store(output + i, mask, x, block, c, MNW_REQUANT_ROUNDED);
        else if (form == MNW_REQUANT_HIGH) requant_store(output + i, mask, x, block, c, MNW_REQUANT_HIGH);
        else requant_store(output + i, mask, x, block, c, MNW_REQUANT_GENERAL);
    }
}
#endif
