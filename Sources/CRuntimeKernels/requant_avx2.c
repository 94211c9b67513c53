// AVX2: the vector requantization on its own, in the short forms (tests compare it with QuantMath).
#include "Levels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include "AVX2Common.h"

__attribute__((target("avx2")))
void mnw_requantize_avx2(const int32_t *accumulators, int count, const int64_t *table, int form, int32_t zero_point, int32_t minimum,
                         int32_t maximum, int8_t *output) {
    __m256i zp = _mm256_set1_epi32(zero_point);
    __m128i low = _mm_set1_epi8((char)minimum), high = _mm_set1_epi8((char)maximum);
    for (int i = 0; i < count; i += 8) {
        int n = count - i < 8 ? count - i : 8;
        int32_t lanes[8] = {0};
        memcpy(lanes, accumulators + i, (size_t)n * sizeof(int32_t));
        const int64_t *block = table + (size_t)(i / 16) * MNW_REQUANT_BLOCK;
        requant_store8(output + i, n, _mm256_loadu_si256((const __m256i *)lanes), block, (i / 8) % 2, zp, low, high, form == MNW_REQUANT_ROUNDED);
    }
}
#endif
