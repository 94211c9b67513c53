// GEMM weight packing and zero-point constants (plain C, run once when an interpreter is prepared).
#include "RuntimeKernels.h"
#include "KernelsCommon.h"

#include <string.h>

int mnw_gemm_groups(int k, const mnw_conv_geometry *g) {
    gemm_segments s = gemm_segments_of(k, g);
    return s.segments * s.words;
}

size_t mnw_gemm_packed_size(int k, int n, const mnw_conv_geometry *g) { return (size_t)((n + 15) / 16) * (size_t)mnw_gemm_groups(k, g) * 64; }

void mnw_gemm_pack(const int8_t *weight, int k, int n, const mnw_conv_geometry *g, int8_t *packed, int32_t *offsets) {
    gemm_segments s = gemm_segments_of(k, g);
    int blocks = (n + 15) / 16, groups = s.segments * s.words;
    memset(packed, 0, mnw_gemm_packed_size(k, n, g));
    for (int b = 0; b < blocks; b++)
        for (int group = 0; group < groups; group++)
            for (int j = 0; j < 16; j++)
                for (int t = 0; t < 4; t++) {
                    int within = 4 * (group % s.words) + t, column = 16 * b + j;
                    if (within < s.length && column < n)
                        packed[((size_t)(b * groups + group) * 16 + j) * 4 + t] = weight[((size_t)(group / s.words) * s.length + within) * n + column];
                }
    int padded_width = g ? padded_extent(g->output_width, g->stride_width, g->kernel_width, g->dilation_width) : 0;
    for (int group = 0; group < groups; group++) {
        int segment = group / s.words;
        size_t start = !g ? 0
            : g->dilation_width == 1 ? (size_t)segment * g->dilation_height * padded_width * g->channels
            : ((size_t)(segment / g->kernel_width) * g->dilation_height * padded_width + (size_t)(segment % g->kernel_width) * g->dilation_width)
                * g->channels;
        offsets[group] = (int32_t)(start + 4 * (size_t)(group % s.words));
    }
}

size_t mnw_gemm_input_size(int rows, int k, const mnw_conv_geometry *g) {
    return (g ? mnw_depthwise_padded_size(g) : (size_t)rows * k) + 64;
}

void mnw_weight_base(const int8_t *weight, int k, int n, const int32_t *bias, int32_t offset, int32_t *base) {
    int padded = (n + 15) / 16 * 16;
    for (int j = 0; j < padded; j++) {
        int32_t sum = 0;
        if (j < n)
            for (int row = 0; row < k; row++) sum += weight[(size_t)row * n + j];
        base[j] = (j < n && bias ? bias[j] : 0) - offset * sum;
    }
}

size_t mnw_gemm_pairs_size(int k, int n, const mnw_conv_geometry *g) {
    gemm_segments s = gemm_segments_of(k, g);
    return (size_t)((n + 15) / 16) * (size_t)s.segments * (size_t)((s.words + 1) / 2) * 128;
}

void mnw_gemm_pairs_pack(const int8_t *packed, int k, int n, const mnw_conv_geometry *g, int8_t *pairs) {
    gemm_segments s = gemm_segments_of(k, g);
    int blocks = (n + 15) / 16, groups = s.segments * s.words, per_segment = (s.words + 1) / 2;
    memset(pairs, 0, mnw_gemm_pairs_size(k, n, g));
    for (int b = 0; b < blocks; b++)
        for (int segment = 0; segment < s.segments; segment++)
            for (int word = 0; word < s.words; word++)
                for (int j = 0; j < 16; j++) {
                    size_t pair = ((size_t)b * s.segments + segment) * per_segment + word / 2;
                    int8_t *to = pairs + pair * 128 + (size_t)(j / 2) * 16 + (size_t)(j % 2) * 8 + (size_t)(word % 2) * 4;
                    memcpy(to, packed + (((size_t)b * groups + (size_t)segment * s.words + word) * 16 + j) * 4, 4);
                }
}

size_t mnw_gemm_words_size(int k, int n, const mnw_conv_geometry *g) {
    return (size_t)((n + 7) / 8) * (size_t)mnw_gemm_groups(k, g) * 64;
}

void mnw_gemm_words_pack(const int8_t *vnni_packed, int k, int n, const mnw_conv_geometry *g, int16_t *packed) {
    int groups = mnw_gemm_groups(k, g), blocks8 = (n + 7) / 8;
    for (int b = 0; b < blocks8; b++)
        for (int group = 0; group < groups; group++)
            for (int pair = 0; pair < 2; pair++)
                for (int j = 0; j < 8; j++)
                    for (int t = 0; t < 2; t++) {
                        int column = 8 * (b % 2) + j;
                        int8_t w = vnni_packed[((size_t)((b / 2) * groups + group) * 16 + column) * 4 + 2 * pair + t];
                        packed[(((size_t)b * groups + group) * 2 + pair) * 16 + 2 * j + t] = w;
                    }
}
