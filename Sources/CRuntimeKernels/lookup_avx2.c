// AVX2: the 256-entry table lookup of the lookup-table operator (activations that are no clamp).
#include "Levels.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

/// 32 codes: their unsigned index (code + 128) split into a high nibble (which 16-entry block of
/// the table) and a low one (the entry in it); each block, broadcast to both 128-bit lanes, is
/// shuffled by the low nibbles and kept where the high nibble names it.
__attribute__((target("avx2"))) static inline __m256i lookup32(__m256i codes, const __m256i *blocks) {
    __m256i index = _mm256_xor_si256(codes, _mm256_set1_epi8((char)0x80));
    __m256i low = _mm256_and_si256(index, _mm256_set1_epi8(0x0F));
    __m256i high = _mm256_and_si256(_mm256_srli_epi16(index, 4), _mm256_set1_epi8(0x0F));
    __m256i result = _mm256_setzero_si256();
    for (int k = 0; k < 16; k++) {
        __m256i selected = _mm256_cmpeq_epi8(high, _mm256_set1_epi8((char)k));
        result = _mm256_blendv_epi8(result, _mm256_shuffle_epi8(blocks[k], low), selected);
    }
    return result;
}

__attribute__((target("avx2")))
void mnw_lookup_avx2(const mnw_lookup *l) {
    const mnw_lookup f = *l;  // fields read once: the byte stores may alias them
    __m256i blocks[16];
    for (int k = 0; k < 16; k++) blocks[k] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(f.table + 16 * k)));
    int i = 0;
    for (; i + 32 <= f.count; i += 32)
        _mm256_storeu_si256((__m256i *)(f.output + i), lookup32(_mm256_loadu_si256((const __m256i *)(f.input + i)), blocks));
    if (i < f.count) {
        int8_t lanes[32] = {0};
        memcpy(lanes, f.input + i, (size_t)(f.count - i));
        _mm256_storeu_si256((__m256i *)lanes, lookup32(_mm256_loadu_si256((const __m256i *)lanes), blocks));
        memcpy(f.output + i, lanes, (size_t)(f.count - i));
    }
}
#endif
