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

/// Two taps of 16 channels summed in int16 (`smull` then `smlal`: exact when no weight is -128, as
/// |a w + b v| <= 2 x 128 x 127 < 2^15), then widened and added: 10 instructions where two
/// `multiply_add16` take 14.
MNW_NEON_INLINE void multiply_add_pair16(int32x4_t sum[4], int8x16_t codes, int8x16_t weights, int8x16_t codes2, int8x16_t weights2) {
    int16x8_t low = vmlal_s8(vmull_s8(vget_low_s8(codes), vget_low_s8(weights)), vget_low_s8(codes2), vget_low_s8(weights2));
    int16x8_t high = vmlal_high_s8(vmull_high_s8(codes, weights), codes2, weights2);
    sum[0] = vaddw_s16(sum[0], vget_low_s16(low));
    sum[1] = vaddw_high_s16(sum[1], low);
    sum[2] = vaddw_s16(sum[2], vget_low_s16(high));
    sum[3] = vaddw_high_s16(sum[3], high);
}

/// Channels `first ..< first + 16` (fewer at the end) of every output pixel; TAPS a constant 9
/// (3 x 3: the weights stay in registers) or 0 (any kernel: weights loaded per tap). Reads 16
/// codes per tap: past a pixel's last channel it reads the next pixel's, or the copy's slack.
MNW_NEON_INLINE void depthwise_block16(const mnw_depthwise *a, int first, const int TAPS, const int general, const int pairs) {
    const mnw_conv_geometry *g = a->geometry;
    int c = g->channels, taps = TAPS ? TAPS : g->kernel_height * g->kernel_width, count = c - first < 16 ? c - first : 16;
    int padded_width = padded_extent(g->output_width, g->stride_width, g->kernel_width, g->dilation_width);
    size_t row_step = (size_t)g->stride_height * padded_width * c, column_step = (size_t)g->stride_width * c;
    const size_t *offsets = a->tap_offsets;
    const int8_t *filter = a->filter_codes + first;
    // 3 x 3: the nine taps' weights and offsets in registers, the taps written out (GCC keeps an
    // array of them in memory and loops).
    int8x16_t w0, w1, w2, w3, w4, w5, w6, w7, w8;
    size_t o0 = 0, o1 = 0, o2 = 0, o3 = 0, o4 = 0, o5 = 0, o6 = 0, o7 = 0, o8 = 0;
    if (TAPS) {
        w0 = neon_load16(filter, count, 0), w1 = neon_load16(filter + c, count, 0), w2 = neon_load16(filter + 2 * (size_t)c, count, 0);
        w3 = neon_load16(filter + 3 * (size_t)c, count, 0), w4 = neon_load16(filter + 4 * (size_t)c, count, 0);
        w5 = neon_load16(filter + 5 * (size_t)c, count, 0), w6 = neon_load16(filter + 6 * (size_t)c, count, 0);
        w7 = neon_load16(filter + 7 * (size_t)c, count, 0), w8 = neon_load16(filter + 8 * (size_t)c, count, 0);
        o0 = offsets[0], o1 = offsets[1], o2 = offsets[2], o3 = offsets[3], o4 = offsets[4], o5 = offsets[5], o6 = offsets[6];
        o7 = offsets[7], o8 = offsets[8];
    } else {
        w0 = w1 = w2 = w3 = w4 = w5 = w6 = w7 = w8 = vdupq_n_s8(0);
    }
    int32x4_t bias[4];
    for (int i = 0; i < 4; i++) bias[i] = vld1q_s32(a->base + first + 4 * i);
    neon_table4 table[4];
    neon_table16_load(a->requant + (size_t)(first / 16) * MNW_REQUANT_BLOCK, table);
    int32x4_t zero_point = vdupq_n_s32(a->output_zero_point);
    int8x16_t minimum = vdupq_n_s8((int8_t)a->minimum), maximum = vdupq_n_s8((int8_t)a->maximum);
    int output_height = g->output_height, output_width = g->output_width;
    int8_t *out = a->output + first;
    for (int y = 0; y < output_height; y++) {
        const int8_t *window = a->padded + (size_t)y * row_step + first;
        for (int x = 0; x < output_width; x++, window += column_step, out += c) {
            int32x4_t sum[4] = {bias[0], bias[1], bias[2], bias[3]};
            if (TAPS && pairs) {
                multiply_add_pair16(sum, vld1q_s8(window + o0), w0, vld1q_s8(window + o1), w1);
                multiply_add_pair16(sum, vld1q_s8(window + o2), w2, vld1q_s8(window + o3), w3);
                multiply_add_pair16(sum, vld1q_s8(window + o4), w4, vld1q_s8(window + o5), w5);
                multiply_add_pair16(sum, vld1q_s8(window + o6), w6, vld1q_s8(window + o7), w7);
                multiply_add16(sum, vld1q_s8(window + o8), w8);
            } else if (TAPS) {
                multiply_add16(sum, vld1q_s8(window + o0), w0);
                multiply_add16(sum, vld1q_s8(window + o1), w1);
                multiply_add16(sum, vld1q_s8(window + o2), w2);
                multiply_add16(sum, vld1q_s8(window + o3), w3);
                multiply_add16(sum, vld1q_s8(window + o4), w4);
                multiply_add16(sum, vld1q_s8(window + o5), w5);
                multiply_add16(sum, vld1q_s8(window + o6), w6);
                multiply_add16(sum, vld1q_s8(window + o7), w7);
                multiply_add16(sum, vld1q_s8(window + o8), w8);
            } else {
                for (int t = 0; t < taps; t++) multiply_add16(sum, vld1q_s8(window + offsets[t]), neon_load16(filter + (size_t)t * c, count, 0));
            }
            neon_requant_store16(out, count, sum, table, zero_point, minimum, maximum, general);
        }
    }
}

static void depthwise_general(const mnw_depthwise *a, int first) { depthwise_block16(a, first, 0, 1, 0); }
static void depthwise_short(const mnw_depthwise *a, int first) { depthwise_block16(a, first, 0, 0, 0); }
static void depthwise3x3_general(const mnw_depthwise *a, int first) { depthwise_block16(a, first, 9, 1, 0); }
static void depthwise3x3_short(const mnw_depthwise *a, int first) { depthwise_block16(a, first, 9, 0, 0); }
static void depthwise3x3_pairs_general(const mnw_depthwise *a, int first) { depthwise_block16(a, first, 9, 1, 1); }
static void depthwise3x3_pairs_short(const mnw_depthwise *a, int first) { depthwise_block16(a, first, 9, 0, 1); }

/// The input copied with its padding (signed codes, the padding the input zero point, which
/// `base` cancels), then each block of 16 channels.
void mnw_depthwise_neon(const mnw_depthwise *a) {
    const mnw_conv_geometry *g = a->geometry;
    pad_input_portable(a->input, g, (int8_t)a->zero_point, 0, a->padded);
    int general = a->requant_form == MNW_REQUANT_GENERAL, three = g->kernel_height * g->kernel_width == 9;
    void (*block)(const mnw_depthwise *, int) = !three ? (general ? depthwise_general : depthwise_short)
        : a->pairs_fit_int16 ? (general ? depthwise3x3_pairs_general : depthwise3x3_pairs_short)
                             : (general ? depthwise3x3_general : depthwise3x3_short);
    for (int first = 0; first < g->channels; first += 16) block(a, first);
}
#endif
