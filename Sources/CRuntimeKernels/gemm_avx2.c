// AVX2 and AVX-VNNI: the GEMM on 256-bit tiles (vpmaddwd on 16-bit pairs, or vpmaddubsw on bytes
// when the weights fit in 7 bits; vpdpbusd with AVX-VNNI).
#include "Levels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include "AVX2Common.h"

/// Four rows (unsigned inputs at `rows[r]`, word g at `offsets[g]`) times outputs 8 b0 ..< 8 b0
/// + 8 NB, requantized and stored for the first `valid` rows.
MNW_AVX2_INLINE void gemm_tile8(const mnw_gemm *a, const int16_t *packed, const uint8_t *const *rows, int row0, int valid, int b0,
                                const int NB) {
    __m256i acc[4][2];
    for (int r = 0; r < 4; r++)
        for (int j = 0; j < NB; j++) acc[r][j] = _mm256_setzero_si256();
    // Bytes 0, 1 (then 2, 3) of a word as two int16 in every dword.
    __m256i low = _mm256_setr_epi8(0, -1, 1, -1, 0, -1, 1, -1, 0, -1, 1, -1, 0, -1, 1, -1, 0, -1, 1, -1, 0, -1, 1, -1, 0, -1, 1, -1, 0, -1, 1, -1);
    __m256i high = _mm256_setr_epi8(2, -1, 3, -1, 2, -1, 3, -1, 2, -1, 3, -1, 2, -1, 3, -1, 2, -1, 3, -1, 2, -1, 3, -1, 2, -1, 3, -1, 2, -1, 3, -1);
    int groups = a->groups;
    for (int g = 0; g < groups; g++) {
        __m256i w[2][2];
        for (int j = 0; j < NB; j++)
            for (int pair = 0; pair < 2; pair++)
                w[j][pair] = _mm256_loadu_si256((const __m256i *)(packed + ((((size_t)(b0 + j) * groups + g) * 2 + pair) * 16)));
        int32_t offset = a->offsets[g];
        for (int r = 0; r < 4; r++) {
            int32_t word;
            memcpy(&word, rows[r] + offset, 4);
            __m256i q = _mm256_set1_epi32(word);
            __m256i x01 = _mm256_shuffle_epi8(q, low), x23 = _mm256_shuffle_epi8(q, high);
            for (int j = 0; j < NB; j++)
                acc[r][j] = _mm256_add_epi32(acc[r][j], _mm256_add_epi32(_mm256_madd_epi16(x01, w[j][0]), _mm256_madd_epi16(x23, w[j][1])));
        }
    }
    __m256i zero_point = _mm256_set1_epi32(a->output_zero_point);
    __m128i minimum = _mm_set1_epi8((char)a->minimum), maximum = _mm_set1_epi8((char)a->maximum);
    int rounded = a->requant_form == MNW_REQUANT_ROUNDED;
    for (int j = 0; j < NB; j++) {
        int b = b0 + j, count = a->n - 8 * b;
        __m256i base = _mm256_loadu_si256((const __m256i *)(a->base + 8 * b));
        const int64_t *block = a->requant + (size_t)(b / 2) * MNW_REQUANT_BLOCK;
        for (int r = 0; r < valid; r++)
            requant_store8(a->output + (size_t)(row0 + r) * a->n + 8 * b, count, _mm256_add_epi32(acc[r][j], base), block, b % 2, zero_point,
                           minimum, maximum, rounded);
    }
}

__attribute__((target("avx2"))) static void tile8_2(const mnw_gemm *a, const int16_t *p, const uint8_t *const *rows, int row0, int valid, int b0) {
    gemm_tile8(a, p, rows, row0, valid, b0, 2);
}
__attribute__((target("avx2"))) static void tile8_1(const mnw_gemm *a, const int16_t *p, const uint8_t *const *rows, int row0, int valid, int b0) {
    gemm_tile8(a, p, rows, row0, valid, b0, 1);
}

/// A tile of `gemm_rows8`: rows `row0 ..< row0 + valid` times 8-output blocks b0 (and b0 + 1).
typedef void (*tile8_function)(const mnw_gemm *, const int16_t *, const uint8_t *const *, int, int, int);

/// The input copied as unsigned codes (with a convolution's padding), then tiles of R rows over
/// it: `two` for a pair of 8-output blocks, `one` for the last single block.
MNW_AVX2_INLINE void gemm_rows8(const mnw_gemm *a, const int16_t *packed, const int R, tile8_function two, tile8_function one) {
    if (a->convolution) pad_input_portable(a->input, a->convolution, (int8_t)a->zero_point, 0x80, (int8_t *)a->scratch);
    else flip_codes(a->input, (size_t)a->rows * a->k, a->scratch);
    gemm_rows layout = gemm_layout(a);
    int blocks8 = (a->n + 7) / 8;
    const uint8_t *rows[6];
    int y = 0, x = 0;
    for (int row0 = 0; row0 < a->rows; row0 += R) {
        int valid = gemm_next_rows(a, layout, row0, R, &y, &x, rows);
        int b0 = 0;
        for (; b0 + 1 < blocks8; b0 += 2) two(a, packed, rows, row0, valid, b0);
        if (b0 < blocks8) one(a, packed, rows, row0, valid, b0);
    }
}


// MARK: GEMM with AVX-VNNI

/// Requantizes and stores a tile's accumulators (`gemm_tile8`'s store, for the AVX-VNNI tiles;
/// fields read once: the byte stores may alias them).
MNW_AVX2_INLINE void store_tile8(const mnw_gemm *a, __m256i acc[][2], int row0, int valid, int b0, const int R, const int NB) {
    int n = a->n;
    int8_t *output = a->output + (size_t)row0 * n;
    const int64_t *requant = a->requant;
    __m256i zero_point = _mm256_set1_epi32(a->output_zero_point);
    __m128i minimum = _mm_set1_epi8((char)a->minimum), maximum = _mm_set1_epi8((char)a->maximum);
    int rounded = a->requant_form == MNW_REQUANT_ROUNDED;
    for (int j = 0; j < NB; j++) {
        int b = b0 + j, count = n - 8 * b;
        const int64_t *block = requant + (size_t)(b / 2) * MNW_REQUANT_BLOCK;
        for (int r = 0; r < R; r++)
            if (r < valid) requant_store8(output + (size_t)r * n + 8 * b, count, acc[r][j], block, b % 2, zero_point, minimum, maximum, rounded);
    }
}

/// The byte tiles' body: R rows x NB blocks of 8 outputs on the AVX-512 GEMM's packed weights (a
/// block of 8 outputs is half of one of its 16-output blocks), the accumulators starting from the
/// zero-point constants, `DOT(acc, q, w)` adding a broadcast word's four products per lane. A
/// macro: the AVX-VNNI and AVX2 tiles differ in that one expression, and a VNNI intrinsic may not
/// be inlined into a function compiled without VNNI.
#define MNW_GEMM_TILE8_BYTES(a, rows, row0, valid, b0, R, NB, DOT)                                                        \
    __m256i acc[R][2];                                                                                                   \
    for (int j = 0; j < NB; j++) {                                                                                       \
        __m256i base = _mm256_loadu_si256((const __m256i *)((a)->base + 8 * ((b0) + j)));                              \
        for (int r = 0; r < R; r++) acc[r][j] = base;                                                                    \
    }                                                                                                                    \
    int groups = (a)->groups;                                                                                            \
    const int32_t *offsets = (a)->offsets;                                                                               \
    const int8_t *packed = (a)->packed;                                                                                  \
    for (int g = 0; g < groups; g++) {                                                                                   \
        __m256i w[2];                                                                                                    \
        for (int j = 0; j < NB; j++) {                                                                                   \
            int b = (b0) + j;                                                                                            \
            w[j] = _mm256_loadu_si256((const __m256i *)(packed + ((size_t)(b / 2) * groups + g) * 64 + 32 * (b % 2)));   \
        }                                                                                                                \
        int32_t offset = offsets[g];                                                                                     \
        for (int r = 0; r < R; r++) {                                                                                    \
            int32_t word;                                                                                                \
            memcpy(&word, (rows)[r] + offset, 4);                                                                        \
            __m256i q = _mm256_set1_epi32(word);                                                                         \
            for (int j = 0; j < NB; j++) acc[r][j] = DOT(acc[r][j], q, w[j]);                                            \
        }                                                                                                                \
    }                                                                                                                    \
    store_tile8(a, acc, row0, valid, b0, R, NB);

/// `gemm_tile8` with 256-bit `vpdpbusd` (AVX-VNNI: Intel's client cores since Alder Lake, AMD's
/// since Zen 5). R rows: 6 x 2 blocks keeps 12 accumulators in flight (of 16 ymm registers),
/// enough to cover the latency.
__attribute__((always_inline, target("avx2,avxvnni")))
static inline void gemm_tile8_vnni(const mnw_gemm *a, const uint8_t *const *rows, int row0, int valid, int b0, const int NB) {
    MNW_GEMM_TILE8_BYTES(a, rows, row0, valid, b0, 6, NB, _mm256_dpbusd_avx_epi32)
}

__attribute__((target("avx2,avxvnni"))) static void tile8_vnni_2(const mnw_gemm *a, const int16_t *unused, const uint8_t *const *rows, int row0,
                                                                 int valid, int b0) {
    (void)unused;
    gemm_tile8_vnni(a, rows, row0, valid, b0, 2);
}
__attribute__((target("avx2,avxvnni"))) static void tile8_vnni_1(const mnw_gemm *a, const int16_t *unused, const uint8_t *const *rows, int row0,
                                                                 int valid, int b0) {
    (void)unused;
    gemm_tile8_vnni(a, rows, row0, valid, b0, 1);
}

/// (The tiles read the AVX-512 packing, `a->packed`: no 16-bit weights.)
__attribute__((target("avx2,avxvnni")))
void mnw_gemm_avxvnni(const mnw_gemm *a) { gemm_rows8(a, NULL, 6, tile8_vnni_2, tile8_vnni_1); }

// MARK: GEMM on bytes without VNNI (7-bit weights)

/// Four products of a broadcast word per lane without VNNI, for weights in [-64, 63] (7 bits):
/// vpmaddubsw multiplies the unsigned input codes by the weight bytes and adds adjacent pairs into
/// int16, at most 2 x 255 x 64 = 32640 in magnitude, so it never saturates and the sums are exact;
/// vpmaddwd by ones adds the pairs of pairs into int32.
__attribute__((always_inline, target("avx2")))
static inline __m256i dot_bytes4(__m256i acc, __m256i q, __m256i w) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(q, w), _mm256_set1_epi16(1)));
}

/// `gemm_tile8_vnni` on `dot_bytes4`: three instructions per 32 products, where `gemm_tile8`
/// needs five (and twice the weight loads). 5 rows x 2 blocks keep 10 accumulators, 2 weights,
/// the ones, the broadcast and a product in 15 ymm registers.
__attribute__((always_inline, target("avx2")))
static inline void gemm_tile8_bytes(const mnw_gemm *a, const uint8_t *const *rows, int row0, int valid, int b0, const int NB) {
    MNW_GEMM_TILE8_BYTES(a, rows, row0, valid, b0, 5, NB, dot_bytes4)
}

__attribute__((target("avx2"))) static void tile8_bytes_2(const mnw_gemm *a, const int16_t *unused, const uint8_t *const *rows, int row0,
                                                          int valid, int b0) {
    (void)unused;
    gemm_tile8_bytes(a, rows, row0, valid, b0, 2);
}
__attribute__((target("avx2"))) static void tile8_bytes_1(const mnw_gemm *a, const int16_t *unused, const uint8_t *const *rows, int row0,
                                                          int valid, int b0) {
    (void)unused;
    gemm_tile8_bytes(a, rows, row0, valid, b0, 1);
}

/// The byte tiles when the preparation found every weight in [-64, 63] (it then packs no 16-bit
/// words), else the word tiles.
__attribute__((target("avx2")))
void mnw_gemm_avx2(const mnw_gemm *a) {
    if (a->packed_words) gemm_rows8(a, a->packed_words, 4, tile8_2, tile8_1);
    else gemm_rows8(a, NULL, 5, tile8_bytes_2, tile8_bytes_1);
}
#endif
