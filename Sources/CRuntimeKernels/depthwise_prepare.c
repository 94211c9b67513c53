// Depthwise filters widened or transposed, scratch sizes (plain C, run once when an interpreter is prepared).
#include "RuntimeKernels.h"
#include "KernelsCommon.h"

#include <string.h>

size_t mnw_depthwise_padded_size(const mnw_conv_geometry *g) {
    // 16 bytes of slack: the AVX2 kernel reads 8 channels at a time.
    return (size_t)padded_extent(g->output_height, g->stride_height, g->kernel_height, g->dilation_height)
        * (size_t)padded_extent(g->output_width, g->stride_width, g->kernel_width, g->dilation_width) * (size_t)g->channels + 16;
}

void mnw_depthwise_columns_prepare(const int8_t *filter, int channels, const int32_t *bias, int32_t zero_point, int8_t *columns,
                                   int32_t *base) {
    int blocks = (channels + 15) / 16;
    memset(columns, 0, (size_t)blocks * 192);
    for (int b = 0; b < blocks; b++)
        for (int kx = 0; kx < 3; kx++)
            for (int lane = 0; lane < 16 && 16 * b + lane < channels; lane++)
                for (int ky = 0; ky < 3; ky++)
                    columns[(size_t)b * 192 + kx * 64 + 4 * lane + ky] = filter[(size_t)(ky * 3 + kx) * channels + 16 * b + lane];
    mnw_weight_base(filter, 9, channels, bias, 128 + zero_point, base);
}

void mnw_widen_filter(const int8_t *filter, int taps, int channels, int32_t *widened) {
    int padded = (channels + 15) / 16 * 16;
    for (int t = 0; t < taps; t++)
        for (int c = 0; c < padded; c++) widened[(size_t)t * padded + c] = c < channels ? filter[(size_t)t * channels + c] : 0;
}

void mnw_depthwise_tap_offsets(const mnw_conv_geometry *g, size_t *offsets) { padded_tap_offsets(g, offsets); }
