// AArch64: the GEMM (pointwise and k x k convolutions, fully connected layers) on signed codes,
// with the dot-product instructions (sdot, FEAT_DotProd) or plain NEON (smull and sadalp).
#include "Levels.h"

#if defined(__aarch64__)
#include "NEONCommon.h"

/// The NEON levels read a signed copy of the input (the codes themselves, a convolution's padding
/// the input zero point): sdot and smull multiply signed bytes by signed bytes, so `base` is made
/// with offset `zero_point` (`mnw_kernels.gemm_signed_input`), not `128 + zero_point`.
static void copy_signed_input(const mnw_gemm *a) {
    if (a->convolution) pad_input_portable(a->input, a->convolution, (int8_t)a->zero_point, 0, (int8_t *)a->scratch);
    else memcpy(a->scratch, a->input, (size_t)a->rows * (size_t)a->k);
}

/// Requantizes and stores the 16-output block `b` of `valid` rows.
MNW_NEON_INLINE void store_tile16(const mnw_gemm *a, int32x4_t acc[][4], int row0, int valid, int b) {
    int n = a->n, count = n - 16 * b;
    neon_table4 table[4];
    neon_table16_load(a->requant + (size_t)b * MNW_REQUANT_BLOCK, table);
    int32x4_t zero_point = vdupq_n_s32(a->output_zero_point);
    int8x16_t minimum = vdupq_n_s8((int8_t)a->minimum), maximum = vdupq_n_s8((int8_t)a->maximum);
    int8_t *output = a->output + (size_t)row0 * n + 16 * b;
    int general = a->requant_form == MNW_REQUANT_GENERAL;
    for (int r = 0; r < valid; r++) {
        if (general) neon_requant_store16(output + (size_t)r * n, count, acc[r], table, zero_point, minimum, maximum, 1);
        else neon_requant_store16(output + (size_t)r * n, count, acc[r], table, zero_point, minimum, maximum, 0);
    }
}

/// A tile of R rows x one block of 16 outputs.
typedef void (*tile16_function)(const mnw_gemm *, const uint8_t *const *, int, int, int);

/// The input copied (or, for a plain product whose K is whole words, read in place: every load
/// then stays inside its row), then tiles of R rows over every 16-output block.
static void gemm_rows16(const mnw_gemm *a, const int R, tile16_function tile) {
    mnw_gemm rows_from = *a;
    if (!a->convolution && a->k % 4 == 0) rows_from.scratch = (uint8_t *)(uintptr_t)a->input;
    else copy_signed_input(a);
    gemm_rows layout = gemm_layout(a);
    int blocks = (a->n + 15) / 16;
    const uint8_t *rows[4];
    int y = 0, x = 0;
    for (int row0 = 0; row0 < a->rows; row0 += R) {
        int valid = gemm_next_rows(&rows_from, layout, row0, R, &y, &x, rows);
        for (int b = 0; b < blocks; b++) tile(a, rows, row0, valid, b);
    }
}

// MARK: dot product

#if defined(__clang__)
#define MNW_DOTPROD __attribute__((target("dotprod")))
#else
#define MNW_DOTPROD __attribute__((target("arch=armv8.2-a+dotprod")))
#endif

/// Requantizes one row of a tile (four or two accumulators, the short form) into 16 codes (8 when
/// not `wide`). The output zero point is added in int16 after narrowing, with saturation: each
/// rescaled value is within 2^30, so the clamp to int8 codes gives what QuantMath's 32-bit sum gives.
#define MNW_ROW_CODES(A0, A1, A2, A3)                                                                                      \
    ({                                                                                                                     \
        int16x8_t low = vqaddq_s16(vqmovn_high_s32(vqmovn_s32(vrshlq_s32(vqdmulhq_s32(A0, m0), s0)), vrshlq_s32(vqdmulhq_s32(A1, m1), s1)), \
                                   zero_point);                                                                            \
        int8x16_t codes;                                                                                                   \
        if (wide) {                                                                                                        \
            int16x8_t high = vqaddq_s16(vqmovn_high_s32(vqmovn_s32(vrshlq_s32(vqdmulhq_s32(A2, m2), s2)), vrshlq_s32(vqdmulhq_s32(A3, m3), s3)), \
                                        zero_point);                                                                       \
            codes = vqmovn_high_s16(vqmovn_s16(low), high);                                                               \
        } else {                                                                                                           \
            codes = vcombine_s8(vqmovn_s16(low), vqmovn_s16(low));                                                        \
        }                                                                                                                  \
        vminq_s8(vmaxq_s8(codes, minimum), maximum);                                                                       \
    })

/// Requantizes a tile of four rows x 16 outputs (x 8 when not `wide`: accumulators 2 and 3 of
/// each row unused), row r's accumulators `A<r>0...A<r>3`, and stores its `valid` rows.
MNW_NEON_INLINE void store_tile(const mnw_gemm *a, int row0, int valid, int b, const int wide, int32x4_t a00, int32x4_t a01, int32x4_t a02,
                                int32x4_t a03, int32x4_t a10, int32x4_t a11, int32x4_t a12, int32x4_t a13, int32x4_t a20, int32x4_t a21,
                                int32x4_t a22, int32x4_t a23, int32x4_t a30, int32x4_t a31, int32x4_t a32, int32x4_t a33) {
    int n = a->n, count = n - 16 * b;
    int8_t *output = a->output + (size_t)row0 * n + 16 * b;
    if (a->requant_form == MNW_REQUANT_GENERAL) {
        int32x4_t acc[4][4] = {{a00, a01, a02, a03}, {a10, a11, a12, a13}, {a20, a21, a22, a23}, {a30, a31, a32, a33}};
        store_tile16(a, acc, row0, valid, b);
        return;
    }
    const int64_t *block = a->requant + (size_t)b * MNW_REQUANT_BLOCK;
    const int32_t *multipliers = (const int32_t *)(block + 64), *shifts = (const int32_t *)(block + 72);
    int32x4_t m0 = vld1q_s32(multipliers), m1 = vld1q_s32(multipliers + 4), s0 = vld1q_s32(shifts), s1 = vld1q_s32(shifts + 4);
    int32x4_t m2 = wide ? vld1q_s32(multipliers + 8) : m0, m3 = wide ? vld1q_s32(multipliers + 12) : m0;
    int32x4_t s2 = wide ? vld1q_s32(shifts + 8) : s0, s3 = wide ? vld1q_s32(shifts + 12) : s0;
    int16x8_t zero_point = vdupq_n_s16((int16_t)a->output_zero_point);
    int8x16_t minimum = vdupq_n_s8((int8_t)a->minimum), maximum = vdupq_n_s8((int8_t)a->maximum);
    int8x16_t c0 = MNW_ROW_CODES(a00, a01, a02, a03), c1 = MNW_ROW_CODES(a10, a11, a12, a13);
    int8x16_t c2 = MNW_ROW_CODES(a20, a21, a22, a23), c3 = MNW_ROW_CODES(a30, a31, a32, a33);
    if (valid == 4 && count >= 16) {
        vst1q_s8(output, c0), vst1q_s8(output + n, c1), vst1q_s8(output + 2 * (size_t)n, c2), vst1q_s8(output + 3 * (size_t)n, c3);
    } else if (valid == 4 && count == 8) {
        vst1_s8(output, vget_low_s8(c0)), vst1_s8(output + n, vget_low_s8(c1));
        vst1_s8(output + 2 * (size_t)n, vget_low_s8(c2)), vst1_s8(output + 3 * (size_t)n, vget_low_s8(c3));
    } else {
        int8x16_t codes[4] = {c0, c1, c2, c3};
        for (int r = 0; r < valid; r++) neon_store16(output + (size_t)r * n, count, codes[r]);
    }
}
#undef MNW_ROW_CODES

/// The body of a four-row GEMM (written once for the levels whose tiles need their own target
/// attributes, so no shared function can call them): the input copied, or a plain product read in
/// place when its K is a multiple of `IN_PLACE` (the tiles' loads then stay inside each row); then
/// for every four rows (`valid` real, the others repeating the last) each block of 16 outputs by
/// `TILE`, the last block 8 wide when at most 8 outputs remain.
#define MNW_GEMM_ROWS4(TILE, IN_PLACE)                                                                                      \
    mnw_gemm rows_from = *a;                                                                                                \
    if (!a->convolution && a->k % (IN_PLACE) == 0) rows_from.scratch = (uint8_t *)(uintptr_t)a->input;                      \
    else copy_signed_input(a);                                                                                              \
    gemm_rows layout = gemm_layout(a);                                                                                      \
    gemm_segments runs = gemm_segments_of(a->k, a->convolution);                                                            \
    int blocks = (a->n + 15) / 16, last_narrow = a->n - 16 * (blocks - 1) <= 8;                                             \
    const uint8_t *rows[4];                                                                                                 \
    int y = 0, x = 0;                                                                                                       \
    for (int row0 = 0; row0 < a->rows; row0 += 4) {                                                                         \
        int valid = a->rows - row0 < 4 ? a->rows - row0 : 4;                                                               \
        if (a->convolution) {                                                                                               \
            gemm_next_rows(&rows_from, layout, row0, 4, &y, &x, rows);                                                     \
        } else {                                                                                                            \
            for (int r = 0; r < 4; r++) rows[r] = rows_from.scratch + (size_t)(row0 + (r < valid ? r : valid - 1)) * a->k;  \
        }                                                                                                                   \
        for (int b = 0; b < blocks - last_narrow; b++) TILE(a, runs, rows, row0, valid, b, 1);                              \
        if (last_narrow) TILE(a, runs, rows, row0, valid, blocks - 1, 0);                                                   \
    }

/// The 64 bytes of weights of one word (16 outputs x 4) at `w` into v0...v3, `w` advanced: one
/// post-incrementing `ld1` (GCC otherwise computes each address apart, and without a fixed place
/// in the instruction stream hoists the loads of a four-word step, spilling accumulators).
#if defined(__GNUC__)
#define MNW_LOAD_WEIGHTS(W0, W1, W2, W3)                                                                                   \
    register int8x16_t W0 __asm__("v0"), W1 __asm__("v1"), W2 __asm__("v2"), W3 __asm__("v3");                             \
    __asm__ volatile("ld1 {v0.16b-v3.16b}, [%4], #64" : "=w"(W0), "=w"(W1), "=w"(W2), "=w"(W3), "+r"(w) : : "memory");
#endif

/// One word (lane LANE of the rows' X0...X3) times the weights at `w`: four rows x 16 outputs
/// (`wide`) or x 8.
#define MNW_DOT_WORD(X0, X1, X2, X3, LANE)                                                                                   \
    {                                                                                                                       \
        MNW_LOAD_WEIGHTS(w0, w1, w2, w3)                                                                                    \
        a00 = vdotq_laneq_s32(a00, w0, X0, LANE), a01 = vdotq_laneq_s32(a01, w1, X0, LANE);                                 \
        a10 = vdotq_laneq_s32(a10, w0, X1, LANE), a11 = vdotq_laneq_s32(a11, w1, X1, LANE);                                 \
        a20 = vdotq_laneq_s32(a20, w0, X2, LANE), a21 = vdotq_laneq_s32(a21, w1, X2, LANE);                                 \
        a30 = vdotq_laneq_s32(a30, w0, X3, LANE), a31 = vdotq_laneq_s32(a31, w1, X3, LANE);                                 \
        if (wide) {                                                                                                         \
            a02 = vdotq_laneq_s32(a02, w2, X0, LANE), a03 = vdotq_laneq_s32(a03, w3, X0, LANE);                             \
            a12 = vdotq_laneq_s32(a12, w2, X1, LANE), a13 = vdotq_laneq_s32(a13, w3, X1, LANE);                             \
            a22 = vdotq_laneq_s32(a22, w2, X2, LANE), a23 = vdotq_laneq_s32(a23, w3, X2, LANE);                             \
            a32 = vdotq_laneq_s32(a32, w2, X3, LANE), a33 = vdotq_laneq_s32(a33, w3, X3, LANE);                             \
        }                                                                                                                   \
    }

/// Words of four rows broadcast from `P0...P3` (`BYTES` 4 or 8: one word, or two in lanes 0 and 1).
#define MNW_LOAD_WORDS(BYTES, P0, P1, P2, P3)                                                                               \
    int8x16_t x0 = BYTES == 8 ? vreinterpretq_s8_s64(vld1q_dup_s64((const int64_t *)(P0))) : vreinterpretq_s8_s32(vld1q_dup_s32((const int32_t *)(P0))); \
    int8x16_t x1 = BYTES == 8 ? vreinterpretq_s8_s64(vld1q_dup_s64((const int64_t *)(P1))) : vreinterpretq_s8_s32(vld1q_dup_s32((const int32_t *)(P1))); \
    int8x16_t x2 = BYTES == 8 ? vreinterpretq_s8_s64(vld1q_dup_s64((const int64_t *)(P2))) : vreinterpretq_s8_s32(vld1q_dup_s32((const int32_t *)(P2))); \
    int8x16_t x3 = BYTES == 8 ? vreinterpretq_s8_s64(vld1q_dup_s64((const int64_t *)(P3))) : vreinterpretq_s8_s32(vld1q_dup_s32((const int32_t *)(P3)));

/// Four rows x one block of 16 outputs (`wide`; 16 accumulators of 32 vector registers) or of 8
/// (the last block when at most 8 outputs remain: no products of zero weights) on sdot, each four
/// products per lane, requantized in the short form and stored. K runs through its segments: four
/// words at a time one 16-byte load per row serves four sdot by lane, two words an 8-byte
/// broadcast, one a 4-byte one. Written out register by register: GCC keeps an array of
/// accumulators in memory.
MNW_DOTPROD MNW_NEON_INLINE void tile_dot(const mnw_gemm *a, gemm_segments runs, const uint8_t *const *rows, int row0, int valid, int b,
                                          const int wide) {
    const int32_t *base = a->base + 16 * b;
    int32x4_t b0 = vld1q_s32(base), b1 = vld1q_s32(base + 4), b2 = wide ? vld1q_s32(base + 8) : b0, b3 = wide ? vld1q_s32(base + 12) : b0;
    int32x4_t a00 = b0, a01 = b1, a02 = b2, a03 = b3, a10 = b0, a11 = b1, a12 = b2, a13 = b3;
    int32x4_t a20 = b0, a21 = b1, a22 = b2, a23 = b3, a30 = b0, a31 = b1, a32 = b2, a33 = b3;
    const int8_t *w = a->packed + (size_t)b * a->groups * 64;
    const int8_t *r0 = (const int8_t *)rows[0], *r1 = (const int8_t *)rows[1], *r2 = (const int8_t *)rows[2], *r3 = (const int8_t *)rows[3];
    const int32_t *offsets = a->offsets;
    for (int segment = 0; segment < runs.segments; segment++, offsets += runs.words) {
        int32_t offset = *offsets;
        const int8_t *p0 = r0 + offset, *p1 = r1 + offset, *p2 = r2 + offset, *p3 = r3 + offset;
        if (runs.words == 1) {  // a kernel row of one channel (a first layer on grey images)
            MNW_LOAD_WORDS(4, p0, p1, p2, p3)
            MNW_DOT_WORD(x0, x1, x2, x3, 0)
            continue;
        }
        int left = runs.words;
        for (; left >= 4; left -= 4, p0 += 16, p1 += 16, p2 += 16, p3 += 16) {
            int8x16_t x0 = vld1q_s8(p0), x1 = vld1q_s8(p1), x2 = vld1q_s8(p2), x3 = vld1q_s8(p3);
            MNW_DOT_WORD(x0, x1, x2, x3, 0)
            MNW_DOT_WORD(x0, x1, x2, x3, 1)
            MNW_DOT_WORD(x0, x1, x2, x3, 2)
            MNW_DOT_WORD(x0, x1, x2, x3, 3)
        }
        if (left >= 2) {
            MNW_LOAD_WORDS(8, p0, p1, p2, p3)
            MNW_DOT_WORD(x0, x1, x2, x3, 0)
            MNW_DOT_WORD(x0, x1, x2, x3, 1)
            p0 += 8, p1 += 8, p2 += 8, p3 += 8, left -= 2;
        }
        if (left == 1) {
            MNW_LOAD_WORDS(4, p0, p1, p2, p3)
            MNW_DOT_WORD(x0, x1, x2, x3, 0)
        }
    }
    store_tile(a, row0, valid, b, wide, a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33);
}
#undef MNW_LOAD_WORDS
#undef MNW_DOT_WORD
#undef MNW_LOAD_WEIGHTS

/// The dot-product GEMM (four-word loads stay inside a row of K a multiple of 4).
MNW_DOTPROD void mnw_gemm_neon_dot(const mnw_gemm *a) { MNW_GEMM_ROWS4(tile_dot, 4) }

// MARK: int8 matrix multiply

#if defined(__clang__)
#define MNW_I8MM __attribute__((target("dotprod,i8mm")))
#else
#define MNW_I8MM __attribute__((target("arch=armv8.2-a+dotprod+i8mm")))
#endif

/// Two 2 x 2 blocks of one pair of words: rows 0-1 (`X01`, each row's 8 codes) and 2-3 (`X23`)
/// times outputs 2p, 2p + 1 (`W`: each output's 8 weights): `smmla` adds 32 products into each.
#define MNW_MMLA(P, W) a0##P = vmmlaq_s32(a0##P, x01, W), a1##P = vmmlaq_s32(a1##P, x23, W);

/// The 128 bytes of weights of one pair of words (16 outputs) at `w` into v0...v7 (the first 64,
/// 8 outputs, when not `wide`), `w` advanced past all 128: post-incrementing `ld1`, as
/// `MNW_LOAD_WEIGHTS`.
#define MNW_LOAD_PAIR_WEIGHTS()                                                                                            \
    register int8x16_t w0 __asm__("v0"), w1 __asm__("v1"), w2 __asm__("v2"), w3 __asm__("v3");                             \
    register int8x16_t w4 __asm__("v4"), w5 __asm__("v5"), w6 __asm__("v6"), w7 __asm__("v7");                             \
    __asm__ volatile("ld1 {v0.16b-v3.16b}, [%4], #64" : "=w"(w0), "=w"(w1), "=w"(w2), "=w"(w3), "+r"(w) : : "memory");      \
    if (wide) __asm__ volatile("ld1 {v4.16b-v7.16b}, [%4], #64" : "=w"(w4), "=w"(w5), "=w"(w6), "=w"(w7), "+r"(w) : : "memory"); \
    else w += 64;

/// Four rows x 16 outputs (`wide`) or 8 on smmla (FEAT_I8MM): accumulator a<h><p> holds rows 2h,
/// 2h + 1 x outputs 2p, 2p + 1 as [r0 o0, r0 o1, r1 o0, r1 o1]; each pair of words of K is one
/// 8-byte load per row and 16 `smmla` (8 when narrow), 512 products. The weights are
/// `packed_pairs`; an odd last word of a segment pairs with zero weights (its input read reaches
/// 4 bytes past the segment: inside the copy, or its slack). Unpacked into rows (`trn1`/`trn2`
/// on 64-bit lanes) for `store_tile`.
MNW_I8MM MNW_NEON_INLINE void tile_mmla(const mnw_gemm *a, gemm_segments runs, const uint8_t *const *rows, int row0, int valid, int b,
                                        const int wide) {
    const int32_t *base = a->base + 16 * b;
#define MNW_BASE_PAIR(P) vreinterpretq_s32_s64(vld1q_dup_s64((const int64_t *)(base + 2 * (P))))
    int32x4_t a00 = MNW_BASE_PAIR(0), a01 = MNW_BASE_PAIR(1), a02 = MNW_BASE_PAIR(2), a03 = MNW_BASE_PAIR(3);
    int32x4_t a04 = wide ? MNW_BASE_PAIR(4) : a00, a05 = wide ? MNW_BASE_PAIR(5) : a00, a06 = wide ? MNW_BASE_PAIR(6) : a00;
    int32x4_t a07 = wide ? MNW_BASE_PAIR(7) : a00;
#undef MNW_BASE_PAIR
    int32x4_t a10 = a00, a11 = a01, a12 = a02, a13 = a03, a14 = a04, a15 = a05, a16 = a06, a17 = a07;
    int pairs = (runs.words + 1) / 2;
    const int8_t *w = a->packed_pairs + (size_t)b * runs.segments * pairs * 128;
    const int8_t *r0 = (const int8_t *)rows[0], *r1 = (const int8_t *)rows[1], *r2 = (const int8_t *)rows[2], *r3 = (const int8_t *)rows[3];
    const int32_t *offsets = a->offsets;
    for (int segment = 0; segment < runs.segments; segment++, offsets += runs.words) {
        int32_t offset = *offsets;
        const int8_t *p0 = r0 + offset, *p1 = r1 + offset, *p2 = r2 + offset, *p3 = r3 + offset;
        for (int q = 0; q < pairs; q++, p0 += 8, p1 += 8, p2 += 8, p3 += 8) {
            int8x16_t x01 = vcombine_s8(vld1_s8(p0), vld1_s8(p1)), x23 = vcombine_s8(vld1_s8(p2), vld1_s8(p3));
            MNW_LOAD_PAIR_WEIGHTS()
            MNW_MMLA(0, w0) MNW_MMLA(1, w1) MNW_MMLA(2, w2) MNW_MMLA(3, w3)
            if (wide) { MNW_MMLA(4, w4) MNW_MMLA(5, w5) MNW_MMLA(6, w6) MNW_MMLA(7, w7) }
        }
    }
#define MNW_ROW(H, P, Q, TRN) vreinterpretq_s32_s64(TRN(vreinterpretq_s64_s32(a##H##P), vreinterpretq_s64_s32(a##H##Q)))
    store_tile(a, row0, valid, b, wide, MNW_ROW(0, 0, 1, vtrn1q_s64), MNW_ROW(0, 2, 3, vtrn1q_s64), MNW_ROW(0, 4, 5, vtrn1q_s64),
               MNW_ROW(0, 6, 7, vtrn1q_s64), MNW_ROW(0, 0, 1, vtrn2q_s64), MNW_ROW(0, 2, 3, vtrn2q_s64), MNW_ROW(0, 4, 5, vtrn2q_s64),
               MNW_ROW(0, 6, 7, vtrn2q_s64), MNW_ROW(1, 0, 1, vtrn1q_s64), MNW_ROW(1, 2, 3, vtrn1q_s64), MNW_ROW(1, 4, 5, vtrn1q_s64),
               MNW_ROW(1, 6, 7, vtrn1q_s64), MNW_ROW(1, 0, 1, vtrn2q_s64), MNW_ROW(1, 2, 3, vtrn2q_s64), MNW_ROW(1, 4, 5, vtrn2q_s64),
               MNW_ROW(1, 6, 7, vtrn2q_s64));
#undef MNW_ROW
}
#undef MNW_LOAD_PAIR_WEIGHTS
#undef MNW_MMLA

/// The smmla GEMM: a plain product is read in place only when its rows are whole pairs of words
/// (K a multiple of 8: the last pair's load stays inside its row).
MNW_I8MM void mnw_gemm_neon_i8mm(const mnw_gemm *a) { MNW_GEMM_ROWS4(tile_mmla, 8) }
#undef MNW_GEMM_ROWS4

// MARK: plain NEON

/// Two rows x 16 outputs without the dot product: per word, `smull` multiplies the broadcast
/// word's four codes by two outputs' four weights into eight int16 (each at most 128 x 128 =
/// 16384 in magnitude: exact), and `sadalp` adds adjacent pairs into int32 accumulators (lanes:
/// output 2i taps 0-1, 2-3, output 2i + 1 taps 0-1, 2-3); a pairwise add at the end leaves one
/// sum per output. 16 accumulators, 4 weights, 2 inputs and 2 products in 24 registers. Not
/// inlined into the row loop: there GCC spills accumulators (5% more instructions).
__attribute__((noinline)) static void tile16_plain(const mnw_gemm *a, const uint8_t *const *rows, int row0, int valid, int b) {
    int32x4_t p00 = vdupq_n_s32(0), p01 = p00, p02 = p00, p03 = p00, p04 = p00, p05 = p00, p06 = p00, p07 = p00;
    int32x4_t p10 = p00, p11 = p00, p12 = p00, p13 = p00, p14 = p00, p15 = p00, p16 = p00, p17 = p00;
    int groups = a->groups;
    const int32_t *offsets = a->offsets;
    const int8_t *w = a->packed + (size_t)b * groups * 64;
    const int8_t *r0 = (const int8_t *)rows[0], *r1 = (const int8_t *)rows[1];
#define MNW_MULL(W, X, LOW, HIGH)                                      \
    LOW = vpadalq_s16(LOW, vmull_s8(vget_low_s8(W), vget_low_s8(X))); \
    HIGH = vpadalq_s16(HIGH, vmull_high_s8(W, X));
    for (int g = 0; g < groups; g++, w += 64) {
        int32_t offset = offsets[g];
        int8x16_t x0 = vreinterpretq_s8_s32(vld1q_dup_s32((const int32_t *)(r0 + offset)));
        int8x16_t x1 = vreinterpretq_s8_s32(vld1q_dup_s32((const int32_t *)(r1 + offset)));
        int8x16_t w0 = vld1q_s8(w), w1 = vld1q_s8(w + 16), w2 = vld1q_s8(w + 32), w3 = vld1q_s8(w + 48);
        MNW_MULL(w0, x0, p00, p01)
        MNW_MULL(w1, x0, p02, p03)
        MNW_MULL(w2, x0, p04, p05)
        MNW_MULL(w3, x0, p06, p07)
        MNW_MULL(w0, x1, p10, p11)
        MNW_MULL(w1, x1, p12, p13)
        MNW_MULL(w2, x1, p14, p15)
        MNW_MULL(w3, x1, p16, p17)
    }
#undef MNW_MULL
    const int32_t *base = a->base + 16 * b;
    int32x4_t b0 = vld1q_s32(base), b1 = vld1q_s32(base + 4), b2 = vld1q_s32(base + 8), b3 = vld1q_s32(base + 12);
    int32x4_t acc[2][4] = {{vaddq_s32(b0, vpaddq_s32(p00, p01)), vaddq_s32(b1, vpaddq_s32(p02, p03)), vaddq_s32(b2, vpaddq_s32(p04, p05)),
                            vaddq_s32(b3, vpaddq_s32(p06, p07))},
                           {vaddq_s32(b0, vpaddq_s32(p10, p11)), vaddq_s32(b1, vpaddq_s32(p12, p13)), vaddq_s32(b2, vpaddq_s32(p14, p15)),
                            vaddq_s32(b3, vpaddq_s32(p16, p17))}};
    store_tile16(a, acc, row0, valid, b);
}

void mnw_gemm_neon(const mnw_gemm *a) { gemm_rows16(a, 2, tile16_plain); }
#endif
