#ifndef MINNOW_KERNELS_COMMON_H
#define MINNOW_KERNELS_COMMON_H

// Helpers shared by the kernel files (not part of the target's interface).

#include "RuntimeKernels.h"

#include <string.h>

/// The rows and columns of the zero-padded input a convolution reads.
static inline int padded_extent(int outputs, int stride, int kernel, int dilation) { return (outputs - 1) * stride + (kernel - 1) * dilation + 1; }

/// Copies a convolution's input into `destination` with its padding (and whatever the windows
/// reach past the last row or column) set to the input zero point, every code `^ flip` (0x80:
/// unsigned codes): then every window reads inside the copy. Plain C (the AVX-512 kernels have
/// their own vector copy).
static inline void pad_input_portable(const int8_t *input, const mnw_conv_geometry *g, int8_t zero_point, uint8_t flip, int8_t *destination) {
    int c = g->channels, rows = padded_extent(g->output_height, g->stride_height, g->kernel_height, g->dilation_height);
    int padded_width = padded_extent(g->output_width, g->stride_width, g->kernel_width, g->dilation_width);
    int8_t padding = (int8_t)(zero_point ^ (int8_t)flip);
    int left = g->padding_width, inside = g->width < padded_width - left ? g->width : padded_width - left;
    for (int py = 0; py < rows; py++) {
        int8_t *row = destination + (size_t)py * padded_width * c;
        int iy = py - g->padding_height;
        if (iy < 0 || iy >= g->height) {
            memset(row, padding, (size_t)padded_width * c);
            continue;
        }
        memset(row, padding, (size_t)left * c);
        const int8_t *source = input + (size_t)iy * g->width * c;
        if (flip) {
            for (int i = 0; i < inside * c; i++) row[left * c + i] = (int8_t)(source[i] ^ (int8_t)flip);
        } else {
            memcpy(row + (size_t)left * c, source, (size_t)inside * c);
        }
        memset(row + (size_t)(left + inside) * c, padding, (size_t)(padded_width - left - inside) * c);
    }
}

/// The positions `begin ..< end` of a pooling window of `kernel` starting at `origin` (negative
/// in the padding) that fall inside `0 ..< size`: the loops visit only those, so a window larger
/// than the input costs no more than the input.
static inline void window_span(int origin, int kernel, int size, int *begin, int *end) {
    *begin = origin < 0 ? -origin : 0;
    *end = size - origin < kernel ? size - origin : kernel;
}

/// Each tap's offset from its window's first code in a padded input (the layout of
/// `pad_input_portable`), kernel rows then columns: every tap reads inside the copy.
static inline void padded_tap_offsets(const mnw_conv_geometry *g, size_t *offsets) {
    size_t padded_width = (size_t)padded_extent(g->output_width, g->stride_width, g->kernel_width, g->dilation_width);
    for (int ky = 0; ky < g->kernel_height; ky++)
        for (int kx = 0; kx < g->kernel_width; kx++)
            offsets[ky * g->kernel_width + kx] = ((size_t)ky * g->dilation_height * padded_width + (size_t)kx * g->dilation_width) * g->channels;
}

/// How a GEMM's K runs in its input copy: `segments` runs of `length` codes (the whole row; or a
/// kernel row of a k x k convolution, or one tap when the kernel is dilated along the width), each
/// padded to whole 4-code words: the word groups of `mnw_gemm_pack`, `words` per segment.
typedef struct {
    int segments, length, words;
} gemm_segments;

static inline gemm_segments gemm_segments_of(int k, const mnw_conv_geometry *g) {
    gemm_segments s;
    if (!g) s.segments = 1, s.length = k;
    else if (g->dilation_width == 1) s.segments = g->kernel_height, s.length = g->kernel_width * g->channels;
    else s.segments = g->kernel_height * g->kernel_width, s.length = g->channels;
    s.words = (s.length + 3) / 4;
    return s;
}

/// Where a GEMM's rows live in its scratch (its input copied as unsigned codes; a convolution's
/// with its padding): row r = y * width + x starts at `scratch + y * row_step + x * column_step`.
typedef struct {
    size_t row_step, column_step;
    int width;
} gemm_rows;

static inline gemm_rows gemm_layout(const mnw_gemm *a) {
    const mnw_conv_geometry *g = a->convolution;
    gemm_rows layout = {0, (size_t)a->k, a->rows};
    if (g) {
        size_t padded_width = (size_t)padded_extent(g->output_width, g->stride_width, g->kernel_width, g->dilation_width);
        layout.row_step = (size_t)g->stride_height * padded_width * g->channels;
        layout.column_step = (size_t)g->stride_width * g->channels;
        layout.width = g->output_width;
    }
    return layout;
}

/// The starts of the `tile` rows from `row0` on into `rows` (those past the last row repeat it),
/// advancing the position (*y, *x); returns how many are real.
static inline int gemm_next_rows(const mnw_gemm *a, gemm_rows layout, int row0, int tile, int *y, int *x, const uint8_t **rows) {
    int valid = a->rows - row0 < tile ? a->rows - row0 : tile;
    for (int r = 0; r < tile; r++) {
        if (r >= valid) {
            rows[r] = rows[valid - 1];
            continue;
        }
        rows[r] = a->scratch + (size_t)*y * layout.row_step + (size_t)*x * layout.column_step;
        if (++*x == layout.width) *x = 0, ++*y;
    }
    return valid;
}

#endif
