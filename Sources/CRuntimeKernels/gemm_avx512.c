// AVX-512 VNNI: the GEMM (1x1 and k x k convolutions, fully connected layers) on vpdpbusd register tiles.
#include "Levels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include "AVX512Common.h"

/// Rows `row0 ..< row0 + valid` (their unsigned inputs at `rows[r]`, word g at `offsets[g]`; rows
/// past `valid` repeat the last) times output blocks `b0 ..< b0 + NB`, requantized and stored. R,
/// NB and `form` are constants at each call site, so the accumulators stay in registers; they
/// start from the zero-point constants (`base`).
MNW_INLINE void gemm_tile(const mnw_gemm *a, const uint8_t *const *rows, int row0, int valid, int b0, const int R, const int NB,
                          const int form) {
    __m512i acc[8][4];
    for (int j = 0; j < NB; j++) {
        __m512i base = _mm512_loadu_si512(a->base + 16 * (b0 + j));
        for (int r = 0; r < R; r++) acc[r][j] = base;
    }
    // Fields read once: the output stores are char stores, which may alias them.
    int groups = a->groups, n = a->n;
    const int32_t *offsets = a->offsets;
    const int8_t *w = a->packed + (size_t)b0 * groups * 64;
    for (int g = 0; g < groups; g++) {
        __m512i weights[4];
        for (int j = 0; j < NB; j++) weights[j] = _mm512_loadu_si512(w + ((size_t)j * groups + g) * 64);
        int32_t offset = offsets[g];
        for (int r = 0; r < R; r++) {
            int32_t word;
            memcpy(&word, rows[r] + offset, 4);
            __m512i q = _mm512_set1_epi32(word);
            for (int j = 0; j < NB; j++) acc[r][j] = _mm512_dpbusd_epi32(acc[r][j], q, weights[j]);
        }
    }
    requant_clamp c = make_clamp(a->output_zero_point, a->minimum, a->maximum);
    int8_t *output = a->output + (size_t)row0 * n + 16 * b0;
    const int64_t *tables = a->requant + (size_t)b0 * MNW_REQUANT_BLOCK;
    if (form == MNW_REQUANT_ROUNDED && NB >= 2) {
        // Each row's blocks are contiguous codes: narrowed together (`narrow4`), one store.
        __mmask64 mask = mask64(n - 16 * b0 < 16 * NB ? n - 16 * b0 : 16 * NB);
#pragma clang loop unroll(full)
        for (int r = 0; r < R; r++) {
            if (r >= valid) continue;
            __m512i q[4];
            for (int j = 0; j < 4; j++) q[j] = j < NB ? requant_rounded(acc[r][j], tables + (size_t)j * MNW_REQUANT_BLOCK) : q[NB - 1];
            store_codes64(output + (size_t)r * n, mask, narrow4(q[0], q[1], q[2], q[3]), c);
        }
        return;
    }
    if (form == MNW_REQUANT_ROUNDED && NB == 1 && R % 4 == 0 && n == 16) {
        // Rows of exactly 16 codes: four rows are 64 contiguous codes.
#pragma clang loop unroll(full)
        for (int r = 0; r < R; r += 4) {
            if (r >= valid) continue;
            __m512i q[4];
            for (int i = 0; i < 4; i++) q[i] = requant_rounded(acc[r + i][0], tables);
            store_codes64(output + (size_t)r * 16, mask64(16 * (valid - r)), narrow4(q[0], q[1], q[2], q[3]), c);
        }
        return;
    }
    for (int j = 0; j < NB; j++) {
        __mmask16 mask = mask16(n - 16 * (b0 + j));
#pragma clang loop unroll(full)
        for (int r = 0; r < R; r++)
            if (r < valid) requant_store(output + (size_t)r * n + 16 * j, mask, acc[r][j], tables + (size_t)j * MNW_REQUANT_BLOCK, c, form);
    }
}

typedef void (*gemm_tile_function)(const mnw_gemm *, const uint8_t *const *, int, int, int);

/// The tiles of R rows x NB blocks, in `tiles_RxNB[form]`: one function for the rounded form, one
/// for the general form, which also serves the high form (no exported layer has it: a real
/// multiplier in [1/4, 1/2) for some channel but none above; two variants keep the code small).
#define MNW_TILES(R, NB)                                                                                          \
    MNW_AVX512 static void tile_##R##x##NB##_general(const mnw_gemm *a, const uint8_t *const *rows, int row0, int valid, int b0) { \
        gemm_tile(a, rows, row0, valid, b0, R, NB, MNW_REQUANT_GENERAL);                                          \
    }                                                                                                             \
    MNW_AVX512 static void tile_##R##x##NB##_rounded(const mnw_gemm *a, const uint8_t *const *rows, int row0, int valid, int b0) { \
        gemm_tile(a, rows, row0, valid, b0, R, NB, MNW_REQUANT_ROUNDED);                                          \
    }                                                                                                             \
    static const gemm_tile_function tiles_##R##x##NB[3] = {tile_##R##x##NB##_general, tile_##R##x##NB##_general, tile_##R##x##NB##_rounded};
MNW_TILES(8, 1)
MNW_TILES(8, 2)
MNW_TILES(4, 1)
MNW_TILES(4, 2)
MNW_TILES(4, 3)
MNW_TILES(4, 4)
MNW_TILES(1, 4)
MNW_TILES(1, 1)

/// The first eight lanes of a vector (256 bits) in both halves.
MNW_INLINE __m512i both_halves(__m512i v) { return _mm512_shuffle_i64x2(v, v, 0x44); }

/// A GEMM with exactly 8 outputs and the rounded requantization, two rows per vector: lanes 0-7
/// one row's outputs, lanes 8-15 the next row's (the weights, zero-point constants and table
/// lanes repeated in both halves), so each vpdpbusd and requantization does 16 outputs, not 8,
/// and the tile's 8 rows are 64 contiguous codes: narrowed together, one store. `table` is the
/// duplicated requantization block.
MNW_AVX512 __attribute__((noinline)) static void gemm_pairs(const mnw_gemm *a, const uint8_t *const *rows, int row0, int valid,
                                                            const int64_t *table) {
    int groups = a->groups;
    const int32_t *offsets = a->offsets;
    __m512i acc[4];
    for (int p = 0; p < 4; p++) acc[p] = both_halves(_mm512_loadu_si512(a->base));
    for (int g = 0; g < groups; g++) {
        __m512i weights = both_halves(_mm512_loadu_si512(a->packed + (size_t)g * 64));
        int32_t offset = offsets[g];
        for (int p = 0; p < 4; p++) {
            __m512i q = _mm512_mask_broadcastd_epi32(_mm512_broadcastd_epi32(_mm_loadu_si32(rows[2 * p] + offset)), (__mmask16)0xFF00,
                                                     _mm_loadu_si32(rows[2 * p + 1] + offset));
            acc[p] = _mm512_dpbusd_epi32(acc[p], q, weights);
        }
    }
    requant_clamp c = make_clamp(a->output_zero_point, a->minimum, a->maximum);
    __m512i codes = narrow4(requant_rounded(acc[0], table), requant_rounded(acc[1], table), requant_rounded(acc[2], table),
                            requant_rounded(acc[3], table));
    store_codes64(a->output + (size_t)row0 * 8, mask64(8 * valid), codes, c);
}

MNW_AVX512
void mnw_gemm_vnni(const mnw_gemm *a) {
    int blocks = (a->n + 15) / 16, form = a->requant_form;
    int pairs = a->n == 8 && form == MNW_REQUANT_ROUNDED;
    // Tiles of 8 rows x up to 2 output blocks for narrow layers (as pairs for 8 outputs), 4 rows x
    // up to 4 blocks for wide ones, one row x 4 blocks for a single row (fully connected).
    int tile_rows = a->rows == 1 ? 1 : blocks <= 2 ? 8 : 4;
    // The input made unsigned (x ^ 0x80) in the scratch, with a convolution's padding: then each
    // row's words are read in place (no patches are gathered).
    if (a->convolution) pad_input(a->input, a->convolution, (int8_t)a->zero_point, 0x80, (int8_t *)a->scratch);
    else copy_codes(a->input, a->rows * a->k, 0x80, (int8_t *)a->scratch);
    int64_t paired_table[MNW_REQUANT_BLOCK];
    if (pairs) {
        // Lanes 0-7 of every table vector repeated in lanes 8-15 (the first 256 bits of each).
        for (int v = 0; v < MNW_REQUANT_BLOCK; v += 8) _mm512_storeu_si512(paired_table + v, both_halves(_mm512_loadu_si512(a->requant + v)));
    }
    gemm_rows layout = gemm_layout(a);
    const uint8_t *rows[8];
    int y = 0, x = 0;
    for (int row0 = 0; row0 < a->rows; row0 += tile_rows) {
        int valid = gemm_next_rows(a, layout, row0, tile_rows, &y, &x, rows);
        if (tile_rows == 8 && pairs) {
            gemm_pairs(a, rows, row0, valid, paired_table);
            continue;
        }
        if (tile_rows == 8) {
            (blocks == 2 ? tiles_8x2 : tiles_8x1)[form](a, rows, row0, valid, 0);
            continue;
        }
        for (int b0 = 0; b0 < blocks; b0 += 4) {
            int nb = blocks - b0 < 4 ? blocks - b0 : 4;
            if (tile_rows == 1) {
                if (nb == 4) tiles_1x4[form](a, rows, row0, valid, b0);
                else for (int j = 0; j < nb; j++) tiles_1x1[form](a, rows, row0, valid, b0 + j);
            } else (nb == 4 ? tiles_4x4 : nb == 3 ? tiles_4x3 : nb == 2 ? tiles_4x2 : tiles_4x1)[form](a, rows, row0, valid, b0);
        }
    }
}
#endif
