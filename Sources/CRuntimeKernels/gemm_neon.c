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

/// Four rows x 16 outputs on sdot: 16 accumulators (of 32 vector registers), each sdot four
/// products per lane. Where four words of K lie next to each other in a row (a whole row, or a
/// kernel row of a convolution), one 16-byte load per row serves four sdot by lane; elsewhere each
/// word is broadcast (ld1r). Written out register by register: GCC keeps an array of
/// accumulators in memory.
MNW_DOTPROD static void tile16_dot(const mnw_gemm *a, const uint8_t *const *rows, int row0, int valid, int b) {
    const int32_t *base = a->base + 16 * b;
    int32x4_t b0 = vld1q_s32(base), b1 = vld1q_s32(base + 4), b2 = vld1q_s32(base + 8), b3 = vld1q_s32(base + 12);
    int32x4_t a00 = b0, a01 = b1, a02 = b2, a03 = b3, a10 = b0, a11 = b1, a12 = b2, a13 = b3;
    int32x4_t a20 = b0, a21 = b1, a22 = b2, a23 = b3, a30 = b0, a31 = b1, a32 = b2, a33 = b3;
    int groups = a->groups;
    const int32_t *offsets = a->offsets;
    const int8_t *w = a->packed + (size_t)b * groups * 64;
    const int8_t *r0 = (const int8_t *)rows[0], *r1 = (const int8_t *)rows[1], *r2 = (const int8_t *)rows[2], *r3 = (const int8_t *)rows[3];
// Keeps each word's weight loads beside its sdot instructions: GCC otherwise hoists all sixteen of
// a four-word step, which with the 16 accumulators needs more than 32 registers and spills.
#define MNW_LOAD_HERE() __asm__ volatile("" ::: "memory")
#define MNW_DOT4(W0, W1, W2, W3, X, LANE, A0, A1, A2, A3) \
    A0 = vdotq_laneq_s32(A0, W0, X, LANE);                \
    A1 = vdotq_laneq_s32(A1, W1, X, LANE);                \
    A2 = vdotq_laneq_s32(A2, W2, X, LANE);                \
    A3 = vdotq_laneq_s32(A3, W3, X, LANE);
#define MNW_DOT_WORD(LANE)                                                                                   \
    {                                                                                                        \
        MNW_LOAD_HERE();                                                                                     \
        int8x16x4_t ws = vld1q_s8_x4(w);                                                                     \
        int8x16_t w0 = ws.val[0], w1 = ws.val[1], w2 = ws.val[2], w3 = ws.val[3];                            \
        w += 64;                                                                                             \
        MNW_DOT4(w0, w1, w2, w3, x0, LANE, a00, a01, a02, a03)                                               \
        MNW_DOT4(w0, w1, w2, w3, x1, LANE, a10, a11, a12, a13)                                               \
        MNW_DOT4(w0, w1, w2, w3, x2, LANE, a20, a21, a22, a23)                                               \
        MNW_DOT4(w0, w1, w2, w3, x3, LANE, a30, a31, a32, a33)                                               \
    }
    int g = 0;
    while (g < groups) {
        int32_t offset = offsets[g];
        if (g + 4 <= groups && offsets[g + 3] == offset + 12) {
            int8x16_t x0 = vld1q_s8(r0 + offset), x1 = vld1q_s8(r1 + offset), x2 = vld1q_s8(r2 + offset), x3 = vld1q_s8(r3 + offset);
            MNW_DOT_WORD(0)
            MNW_DOT_WORD(1)
            MNW_DOT_WORD(2)
            MNW_DOT_WORD(3)
            g += 4;
        } else {
            int8x16_t x0 = vreinterpretq_s8_s32(vld1q_dup_s32((const int32_t *)(r0 + offset)));
            int8x16_t x1 = vreinterpretq_s8_s32(vld1q_dup_s32((const int32_t *)(r1 + offset)));
            int8x16_t x2 = vreinterpretq_s8_s32(vld1q_dup_s32((const int32_t *)(r2 + offset)));
            int8x16_t x3 = vreinterpretq_s8_s32(vld1q_dup_s32((const int32_t *)(r3 + offset)));
            MNW_DOT_WORD(0)
            g++;
        }
    }
#undef MNW_DOT_WORD
#undef MNW_DOT4
#undef MNW_LOAD_HERE
    int32x4_t acc[4][4] = {{a00, a01, a02, a03}, {a10, a11, a12, a13}, {a20, a21, a22, a23}, {a30, a31, a32, a33}};
    store_tile16(a, acc, row0, valid, b);
}

MNW_DOTPROD void mnw_gemm_neon_dot(const mnw_gemm *a) { gemm_rows16(a, 4, tile16_dot); }

// MARK: plain NEON

/// Two rows x 16 outputs without the dot product: per word, `smull` multiplies the broadcast
/// word's four codes by two outputs' four weights into eight int16 (each at most 128 x 128 =
/// 16384 in magnitude: exact), and `sadalp` adds adjacent pairs into int32 accumulators (lanes:
/// output 2i taps 0-1, 2-3, output 2i + 1 taps 0-1, 2-3); a pairwise add at the end leaves one
/// sum per output. 16 accumulators, 4 weights, 2 inputs and 2 products in 24 registers.
static void tile16_plain(const mnw_gemm *a, const uint8_t *const *rows, int row0, int valid, int b) {
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
