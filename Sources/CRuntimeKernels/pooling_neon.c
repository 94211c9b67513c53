// AArch64 NEON: max pooling and global average pooling.
#include "Levels.h"

#if defined(__aarch64__)
#include "NEONCommon.h"

/// Per output pixel and 16 channels, the maximum over the window's positions inside the input
/// (padded positions skipped, as the reference).
void mnw_max_pool_neon(const mnw_max_pool *p) {
    const mnw_max_pool f = *p;  // fields read once: the byte stores may alias them
    for (int y = 0; y < f.output_height; y++)
        for (int x = 0; x < f.output_width; x++) {
            int top = y * f.stride_height - f.padding_height, left = x * f.stride_width - f.padding_width, y0, y1, x0, x1;
            window_span(top, f.kernel_height, f.height, &y0, &y1);
            window_span(left, f.kernel_width, f.width, &x0, &x1);
            for (int base = 0; base < f.channels; base += 16) {
                int count = f.channels - base;
                int8x16_t best = vdupq_n_s8(-128);
                for (int ky = y0; ky < y1; ky++)
                    for (int kx = x0; kx < x1; kx++)
                        best = vmaxq_s8(best, neon_load16(f.input + ((size_t)(top + ky) * f.width + (left + kx)) * f.channels + base, count, -128));
                neon_store16(f.output + ((size_t)y * f.output_width + x) * f.channels + base, count, best);
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
