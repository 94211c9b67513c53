// AArch64 NEON: depthwise convolutions on 16 channels at a time (every level with NEON).
#include "Levels.h"

#if defined(__aarch64__)
#include "NEONCommon.h"

/// One tap of 16 channels: the codes times the weights (`smull`, each product at most 16384 in
/// magnitude: exact in int16), widened and added (`saddw`) to four int32 accumulators.
MNW_NEON_INLINE void multiply_add16(int32x4_t sum[4], int8x16_t codes, int8x16_t weights) {
    int16x8_t low = vmull_s8(vget_low_s8(codes), vget_low_s8(weights)), high = vmull_high_s8(codes, weights);
    sum[0] = vaddw_s16(sum[0], vget_low_s16(low));
    sum[1] = vaddw_high_s16(sum[1], low);
    sum[2] = vaddw_s16(sum[2], vget_low_s16(high));
    sum[3] = vaddw_high_s16(sum[3], high);
}

/// Channels `first ..< first + 16` (fewer at the end) of every output pixel; TAPS a constant 9
/// (3 x 3: the weights stay in registers) or 0 (any kernel: weights loaded per tap). Reads 16
/// codes per tap: past a pixel's last channel it reads the next pixel's, or the copy's slack.
MNW_NEON_INLINE void depthwise_block16(const mnw_depthwise *a, int first, const int TAPS, const int general) {
    const mnw_conv_geometry *g = a->geometry;
    int c = g->channels, taps = TAPS ? TAPS : g->kernel_height * g->kernel_width, count = c - first < 16 ? c - first : 16;
    int padded_width = padded_extent(g->output_width, g->stride_width, g->kernel_width, g->dilation_width);
    size_t row_step = (size_t)g->stride_height * padded_width * c, column_step = (size_t)g->stride_width * c;
    const size_t *offsets = a->tap_offsets;
    const int8_t *filter = a->filter_codes + first;
    int8x16_t held[9];
    if (TAPS)
        for (int t = 0; t < TAPS; t++) held[t] = neon_load16(filter + (size_t)t * c, count, 0);
    int32x4_t bias[4];
    for (int i = 0; i < 4; i++) bias[i] = vld1q_s32(a->base + first + 4 * i);
    const int64_t *block = a->requant + (size_t)(first / 16) * MNW_REQUANT_BLOCK;
    int32x4_t zero_point = vdupq_n_s32(a->output_zero_point);
    int8x16_t minimum = vdupq_n_s8((int8_t)a->minimum), maximum = vdupq_n_s8((int8_t)a->maximum);
    int output_height = g->output_height, output_width = g->output_width;
    int8_t *out = a->output + first;
    for (int y = 0; y < output_height; y++) {
        const int8_t *window = a->padded + (size_t)y * row_step + first;
        for (int x = 0; x < output_width; x++, window += column_step, out += c) {
            int32x4_t sum[4] = {bias[0], bias[1], bias[2], bias[3]};
            for (int t = 0; t < taps; t++)
                multiply_add16(sum, vld1q_s8(window + offsets[t]), TAPS ? held[t] : neon_load16(filter + (size_t)t * c, count, 0));
            neon_requant_store16(out, count, sum, block, zero_point, minimum, maximum, general);
        }
    }
}

static void depthwise_general(const mnw_depthwise *a, int first) { depthwise_block16(a, first, 0, 1); }
static void depthwise_short(const mnw_depthwise *a, int first) { depthwise_block16(a, first, 0, 0); }
static void depthwise3x3_general(const mnw_depthwise *a, int first) { depthwise_block16(a, first, 9, 1); }
static void depthwise3x3_short(const mnw_depthwise *a, int first) { depthwise_block16(a, first, 9, 0); }

/// The input copied with its padding (signed codes, the padding the input zero point, which
/// `base` cancels), then each block of 16 channels.
void mnw_depthwise_neon(const mnw_depthwise *a) {
    const mnw_conv_geometry *g = a->geometry;
    pad_input_portable(a->input, g, (int8_t)a->zero_point, 0, a->padded);
    int general = a->requant_form == MNW_REQUANT_GENERAL, three = g->kernel_height * g->kernel_width == 9;
    void (*block)(const mnw_depthwise *, int) = three ? (general ? depthwise3x3_general : depthwise3x3_short)
                                                      : (general ? depthwise_general : depthwise_short);
    for (int first = 0; first < g->channels; first += 16) block(a, first);
}
#endif
