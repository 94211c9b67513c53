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
    const int64_t *block = a->requant + (size_t)b * MNW_REQUANT_BLOCK;
    int32x4_t zero_point = vdupq_n_s32(a->output_zero_point);
    int8x16_t minimum = vdupq_n_s8((int8_t)a->minimum), maximum = vdupq_n_s8((int8_t)a->maximum);
    int8_t *output = a->output + (size_t)row0 * n + 16 * b;
    int general = a->requant_form == MNW_REQUANT_GENERAL;
    for (int r = 0; r < valid; r++) {
        if (general) neon_requant_store16(output + (size_t)r * n, count, acc[r], block, zero_point, minimum, maximum, 1);
        else neon_requant_store16(output + (size_t)r * n, count, acc[r], block, zero_point, minimum, maximum, 0);
    }
}

/// A tile of R rows x one block of 16 outputs.
typedef void (*tile16_function)(const mnw_gemm *, const uint8_t *const *, int, int, int);

/// The input copied, then tiles of R rows over every 16-output block.
static void gemm_rows16(const mnw_gemm *a, const int R, tile16_function tile) {
    copy_signed_input(a);
    gemm_rows layout = gemm_layout(a);
    int blocks = (a->n + 15) / 16;
    const uint8_t *rows[4];
    int y = 0, x = 0;
    for (int row0 = 0; row0 < a->rows; row0 += R) {
        int valid = gemm_next_rows(a, layout, row0, R, &y, &x, rows);
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
/// word is broadcast (ld1r).
MNW_DOTPROD static void tile16_dot(const mnw_gemm *a, const uint8_t *const *rows, int row0, int valid, int b) {
    int32x4_t acc[4][4];
    for (int j = 0; j < 4; j++) {
        int32x4_t base = vld1q_s32(a->base + 16 * b + 4 * j);
        for (int r = 0; r < 4; r++) acc[r][j] = base;
    }
    int groups = a->groups;
    const int32_t *offsets = a->offsets;
    const int8_t *packed = a->packed + (size_t)b * groups * 64;
    const int8_t *r0 = (const int8_t *)rows[0], *r1 = (const int8_t *)rows[1], *r2 = (const int8_t *)rows[2], *r3 = (const int8_t *)rows[3];
    int g = 0;
    while (g < groups) {
        int32_t offset = offsets[g];
        if (g + 4 <= groups && offsets[g + 3] == offset + 12) {
            int8x16_t x0 = vld1q_s8(r0 + offset), x1 = vld1q_s8(r1 + offset), x2 = vld1q_s8(r2 + offset), x3 = vld1q_s8(r3 + offset);
#define MNW_DOT_WORD(WORD)                                                                                     \
    do {                                                                                                       \
        const int8_t *w = packed + (size_t)(g + WORD) * 64;                                                    \
        for (int j = 0; j < 4; j++) {                                                                          \
            int8x16_t wj = vld1q_s8(w + 16 * j);                                                               \
            acc[0][j] = vdotq_laneq_s32(acc[0][j], wj, x0, WORD);                                              \
            acc[1][j] = vdotq_laneq_s32(acc[1][j], wj, x1, WORD);                                              \
            acc[2][j] = vdotq_laneq_s32(acc[2][j], wj, x2, WORD);                                              \
            acc[3][j] = vdotq_laneq_s32(acc[3][j], wj, x3, WORD);                                              \
        }                                                                                                      \
    } while (0)
            MNW_DOT_WORD(0);
            MNW_DOT_WORD(1);
            MNW_DOT_WORD(2);
            MNW_DOT_WORD(3);
#undef MNW_DOT_WORD
            g += 4;
            continue;
        }
        int8x16_t x[4];
        for (int r = 0; r < 4; r++) x[r] = vreinterpretq_s8_s32(vld1q_dup_s32((const int32_t *)((const int8_t *)rows[r] + offset)));
        const int8_t *w = packed + (size_t)g * 64;
        for (int j = 0; j < 4; j++) {
            int8x16_t wj = vld1q_s8(w + 16 * j);
            for (int r = 0; r < 4; r++) acc[r][j] = vdotq_s32(acc[r][j], wj, x[r]);
        }
        g++;
    }
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
    int32x4_t partial[2][8];
    for (int r = 0; r < 2; r++)
        for (int i = 0; i < 8; i++) partial[r][i] = vdupq_n_s32(0);
    int groups = a->groups;
    const int32_t *offsets = a->offsets;
    const int8_t *packed = a->packed + (size_t)b * groups * 64;
    for (int g = 0; g < groups; g++) {
        int32_t offset = offsets[g];
        int8x16_t x[2];
        for (int r = 0; r < 2; r++) x[r] = vreinterpretq_s8_s32(vld1q_dup_s32((const int32_t *)((const int8_t *)rows[r] + offset)));
        const int8_t *w = packed + (size_t)g * 64;
        for (int j = 0; j < 4; j++) {
            int8x16_t wj = vld1q_s8(w + 16 * j);
            for (int r = 0; r < 2; r++) {
                partial[r][2 * j] = vpadalq_s16(partial[r][2 * j], vmull_s8(vget_low_s8(wj), vget_low_s8(x[r])));
                partial[r][2 * j + 1] = vpadalq_s16(partial[r][2 * j + 1], vmull_high_s8(wj, x[r]));
            }
        }
    }
    int32x4_t acc[2][4];
    for (int j = 0; j < 4; j++) {
        int32x4_t base = vld1q_s32(a->base + 16 * b + 4 * j);
        for (int r = 0; r < 2; r++) acc[r][j] = vaddq_s32(base, vpaddq_s32(partial[r][2 * j], partial[r][2 * j + 1]));
    }
    store_tile16(a, acc, row0, valid, b);
}

void mnw_gemm_neon(const mnw_gemm *a) { gemm_rows16(a, 2, tile16_plain); }
#endif
