#ifndef MINNOW_RUNTIME_KERNELS_H
#define MINNOW_RUNTIME_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Fast int8 kernels of the runtime, each compiled for the CPU features it uses (per-function
/// target attributes) and chosen at run time after a CPU check; the scalar Swift reference
/// kernels are the fallback and define the results, which these equal bit for bit.

/// 1 when the CPU has AVX-512 F/BW/VL and VNNI (vpdpbusd).
int mnw_cpu_has_avx512vnni(void);

/// Bytes of a weight matrix [K][N] packed for `mnw_pointwise_row_vnni`: N in blocks of 16
/// outputs, K in groups of 4 inputs, zero padded.
size_t mnw_vnni_packed_size(int k, int n);

/// Packs `weight` ([K][N], N contiguous) into `packed` (`mnw_vnni_packed_size` bytes): for output
/// block b and input group g, 64 bytes: for each of the block's 16 outputs, its 4 weights of the group.
void mnw_vnni_pack(const int8_t *weight, int k, int n, int8_t *packed);

/// Per output, the sum of its K weights (for the zero-point correction).
void mnw_column_sums(const int8_t *weight, int k, int n, int32_t *sums);

/// One row of a pointwise convolution or fully connected layer:
/// `accumulators[j] = bias[j] + sum_k (input[k] - zero_point) * weight[k][j]` for j < n, computed
/// as `sum_k (input[k] + 128) * weight[k][j] - (128 + zero_point) * column_sums[j]` with vpdpbusd
/// (unsigned by signed bytes, four products summed into each int32 lane). Requires
/// `mnw_cpu_has_avx512vnni()`. `accumulators` holds at least n rounded up to 16.
void mnw_pointwise_row_vnni(const int8_t *input, int k, int32_t zero_point, const int8_t *packed, const int32_t *column_sums,
                            const int32_t *bias, int n, int32_t *accumulators);

/// Four rows at once (each weight block loaded once for the four): the accumulators of row r go
/// to `accumulators + r * stride` (stride at least n rounded up to 16).
void mnw_pointwise_rows4_vnni(const int8_t *const *rows, int k, int32_t zero_point, const int8_t *packed, const int32_t *column_sums,
                              const int32_t *bias, int n, int32_t *accumulators, int stride);

/// Requantizes 16 accumulators at a time to int8 codes, exactly as QuantMath's `requantize` does
/// (single rounding: `(x * multiplier + 2^(k-1)) >> k` with `k = 31 - shift` on 64 bits, saturated
/// to int32, plus the zero point, clamped to [minimum, maximum]); per-channel multipliers and
/// shifts (`count` of each). Requires `mnw_cpu_has_avx512vnni()`. Tested against QuantMath.
void mnw_requantize_avx512(const int32_t *accumulators, int count, const int32_t *multipliers, const int32_t *shifts, int32_t zero_point,
                           int32_t minimum, int32_t maximum, int8_t *output);

/// The elementwise add of the reference kernels (each input made relative to its zero point,
/// shifted left by `left_shift`, rescaled; the sum requantized), sixteen lanes at a time.
/// Requires `mnw_cpu_has_avx512vnni()`.
void mnw_add_avx512(int count, const int8_t *a, int32_t a_zero_point, int32_t a_multiplier, int32_t a_shift, const int8_t *b,
                    int32_t b_zero_point, int32_t b_multiplier, int32_t b_shift, int32_t left_shift, int32_t output_multiplier,
                    int32_t output_shift, int32_t output_zero_point, int32_t minimum, int32_t maximum, int8_t *output);

/// Max pooling of one NHWC image, 64 channels at a time (padded positions skipped, as the
/// reference). Requires `mnw_cpu_has_avx512vnni()`.
void mnw_max_pool_avx512(const int8_t *input, int height, int width, int channels, int kernel_height, int kernel_width, int stride_height,
                         int stride_width, int padding_height, int padding_width, int output_height, int output_width, int8_t *output);

/// The geometry of an NHWC convolution of one image.
typedef struct {
    int height, width, channels;             // input
    int kernel_height, kernel_width;
    int stride_height, stride_width, padding_height, padding_width, dilation_height, dilation_width;
    int output_height, output_width, output_channels;
} mnw_conv_geometry;

/// The input patch of output pixel (y, x) as one row of `kernel_height * kernel_width * channels`
/// codes (HWC order, the filter's HWI order); positions in the padding get `zero_point` (real 0).
void mnw_patch_row(const int8_t *input, const mnw_conv_geometry *g, int y, int x, int8_t zero_point, int8_t *row);

/// A depthwise convolution of one image (filter [kh][kw][C]), requantized per channel: equal to the
/// reference convolution with groups == channels. Requires `mnw_cpu_has_avx512vnni()`.
/// `scratch` holds at least `channels` rounded up to 16 int32 values.
void mnw_depthwise_avx512(const int8_t *input, const mnw_conv_geometry *g, int32_t zero_point, const int8_t *filter, const int32_t *bias,
                          const int32_t *multipliers, const int32_t *shifts, int32_t output_zero_point, int32_t minimum, int32_t maximum,
                          int8_t *output, int32_t *scratch);

#endif
