// AArch64 NEON: max pooling and global average pooling.
#include "Levels.h"

#if defined(__aarch64__)
#include "NEONCommon.h"

/// Per output pixel, the maximum over the window's positions inside the input (padded positions
/// skipped, as the reference), 16 channels at a time; the last block of fewer than 16 channels
/// loads its codes with -128 past them.
void mnw_max_pool_neon(const mnw_max_pool *p) {
    const mnw_max_pool f = *p;  // fields read once: the byte stores may alias them
    size_t row = (size_t)f.width * f.channels;
    int full = f.channels / 16 * 16, rest = f.channels - full;
    for (int y = 0; y < f.output_height; y++)
        for (int x = 0; x < f.output_width; x++) {
            int top = y * f.stride_height - f.padding_height, left = x * f.stride_width - f.padding_width, y0, y1, x0, x1;
            window_span(top, f.kernel_height, f.height, &y0, &y1);
            window_span(left, f.kernel_width, f.width, &x0, &x1);
            const int8_t *corner = f.input + (size_t)(top + y0) * row + (size_t)(left + x0) * f.channels;
            int8_t *out = f.output + ((size_t)y * f.output_width + x) * f.channels;
            for (int base = 0; base < full; base += 16) {
                int8x16_t best = vdupq_n_s8(-128);
                for (const int8_t *r = corner + base; r < corner + base + (size_t)(y1 - y0) * row; r += row)
                    for (int kx = 0; kx < x1 - x0; kx++) best = vmaxq_s8(best, vld1q_s8(r + (size_t)kx * f.channels));
                vst1q_s8(out + base, best);
            }
            if (rest) {
                int8x16_t best = vdupq_n_s8(-128);
                for (int ky = 0; ky < y1 - y0; ky++)
                    for (int kx = 0; kx < x1 - x0; kx++) best = vmaxq_s8(best, neon_load16(corner + (size_t)ky * row + (size_t)kx * f.channels + full, rest, -128));
                neon_store16(out + full, rest, best);
            }
        }
}

/// Per 16 channels: the codes summed over the pixels (widening adds, int32 wrapping as the
/// reference's), less pixels x zero point, requantized in the table's form.
MNW_NEON_INLINE void average16(const mnw_global_average_pool *p, int j, const int general) {
    int count = p->channels - j;
    int32x4_t sum[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
    for (int pixel = 0; pixel < p->pixels; pixel++) {
        int8x16_t codes = neon_load16(p->input + (size_t)pixel * p->channels + j, count, 0);
        int16x8_t low = vmovl_s8(vget_low_s8(codes)), high = vmovl_high_s8(codes);
        sum[0] = vaddw_s16(sum[0], vget_low_s16(low));
        sum[1] = vaddw_high_s16(sum[1], low);
        sum[2] = vaddw_s16(sum[2], vget_low_s16(high));
        sum[3] = vaddw_high_s16(sum[3], high);
    }
    int32x4_t correction = vdupq_n_s32((int32_t)((uint32_t)p->pixels * (uint32_t)p->zero_point));
    for (int i = 0; i < 4; i++) sum[i] = vsubq_s32(sum[i], correction);
    neon_table4 table[4];
    neon_table16_load(p->table, table);
    neon_requant_store16(p->output + j, count, sum, table, vdupq_n_s32(p->output_zero_point), vdupq_n_s8(-128), vdupq_n_s8(127), general);
}

void mnw_global_average_pool_neon(const mnw_global_average_pool *p) {
    for (int j = 0; j < p->channels; j += 16) {
        if (p->form == MNW_REQUANT_GENERAL) average16(p, j, 1);
        else average16(p, j, 0);
    }
}
#endif
