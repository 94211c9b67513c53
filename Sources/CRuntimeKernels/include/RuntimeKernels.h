#ifndef MINNOW_RUNTIME_KERNELS_H
#define MINNOW_RUNTIME_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Fast int8 kernels of the runtime, by operator family and instruction-set level: each SIMD file
/// is compiled for the CPU features it uses (per-function target attributes), and a level's
/// kernels are reached through its table (`mnw_kernels_for`), which is non-NULL only on a CPU that
/// has the level. The scalar Swift reference kernels are the fallback and define the results,
/// which these equal bit for bit. The plain C functions here (tables, packing) run once, when an
/// interpreter is prepared, on every CPU.

/// The geometry of an NHWC convolution of one image.
typedef struct {
    int height, width, channels;             // input
    int kernel_height, kernel_width;
    int stride_height, stride_width, padding_height, padding_width, dilation_height, dilation_width;
    int output_height, output_width, output_channels;
} mnw_conv_geometry;

// MARK: requantization

/// int64 values per block of 16 channels in a requantization table: multipliers, total shifts
/// `31 - shift` and rounding halves `2^(30 - shift)` (each even lanes then odd lanes), then
/// sixteen int32 `total - 32`, then sixteen int32 constants of the rounded form (the x86 layout);
/// then, in lane order for the NEON kernels, sixteen int32 multipliers, sixteen int32 `31 - total`
/// (0 where the total is below 32) and sixteen int64 `-total`.
#define MNW_REQUANT_BLOCK 96

/// The requantization forms `mnw_requant_prepare` finds (each exact; see requant.c).
enum {
    /// Any multiplier and shift: 64-bit rounding shift and clamps.
    MNW_REQUANT_GENERAL = 0,
    /// Every total shift at least 32 (real multipliers below 1/2).
    MNW_REQUANT_HIGH = 1,
    /// Every total shift in 33...52 (real multipliers in [2^-21, 1/4)): the high halves of the
    /// products, one 32-bit add of rounding and zero point, one shift.
    MNW_REQUANT_ROUNDED = 2,
};

/// Bytes of the requantization table of `count` channels.
size_t mnw_requant_table_size(int count);

/// Fills a requantization table from per-channel fixed-point multipliers and shifts (shifts in
/// -31...30, as the loader checks) for an output zero point in -128...127. Returns the shortest
/// form that holds for every channel (`MNW_REQUANT_ROUNDED`, `_HIGH` or `_GENERAL`); a table of
/// either shorter form serves `_HIGH` kernels.
int mnw_requant_prepare(const int32_t *multipliers, const int32_t *shifts, int count, int32_t zero_point, int64_t *table);

/// Fills a table of one multiplier in all sixteen lanes (a per-tensor rescaling of codes less their
/// zero point) for an output zero point, with the codes first shifted left by `*left_shift` bits
/// and the total shift longer by as many: the same result, exactly (`(x 2^e M + 2^(k+e-1)) >> (k+e)`
/// equals `(x M + 2^(k-1)) >> k`), and a real multiplier of 1/2 up to 2^7 gets a short form (total
/// shift at least 32), which the AVX2 kernels need. At most 8 bits, so `|x| <= 255 x 2^8`.
/// Returns the table's form.
int mnw_rescale_prepare(int32_t multiplier, int32_t shift, int32_t zero_point, int64_t *table, int32_t *left_shift);

/// Requantizes `count` accumulators to int8 codes exactly as QuantMath's `requantize`
/// (single rounding: `(x * multiplier + 2^(k-1)) >> k` with `k = 31 - shift` on 64 bits,
/// saturated to int32, plus the zero point, clamped to [minimum, maximum]), in the `form` given
/// (at most what `mnw_requant_prepare` returned, the zero point the one it was given).
typedef void (*mnw_requantize_function)(const int32_t *accumulators, int count, const int64_t *table, int form, int32_t zero_point,
                                        int32_t minimum, int32_t maximum, int8_t *output);

// MARK: GEMM rows

/// A GEMM reads its input from an unsigned copy (`x ^ 0x80`; for a k x k convolution padded with
/// the input zero point), each row's K as `groups` 4-code words at byte offsets from the row's
/// start: the whole row, or per kernel row (per tap when the kernel is dilated along the width)
/// a run padded to whole words. `groups` for K = k (and convolution `g`, or NULL).
int mnw_gemm_groups(int k, const mnw_conv_geometry *g);

/// Bytes of a weight matrix [K][N] packed for `mnw_gemm_vnni`.
size_t mnw_gemm_packed_size(int k, int n, const mnw_conv_geometry *g);

/// Packs `weight` ([K][N], N contiguous) into `packed` (`mnw_gemm_packed_size` bytes): for output
/// block b and word group, 64 bytes: for each of the block's 16 outputs, its 4 weights of the
/// word (zero past a run); and each group's byte offset into `offsets` (`mnw_gemm_groups` entries).
void mnw_gemm_pack(const int8_t *weight, int k, int n, const mnw_conv_geometry *g, int8_t *packed, int32_t *offsets);

/// Bytes of the unsigned input copy (the scratch of `mnw_gemm`), with slack for the last word.
size_t mnw_gemm_input_size(int rows, int k, const mnw_conv_geometry *g);

/// Per output j (N rounded up to 16 entries, the padding 0): `bias[j] - offset * sum_k
/// weight[k][j]` (bias may be NULL). The constant a kernel adds to its products so that the input
/// zero point (and the +128 of unsigned inputs) drops out: a GEMM's `sum_k (x + 128) w` takes
/// offset `128 + zp`; a depthwise filter `[taps][C]` on signed codes takes `zp`.
void mnw_weight_base(const int8_t *weight, int k, int n, const int32_t *bias, int32_t offset, int32_t *base);

/// A matrix product over rows, requantized per output: `output[r][j] = requantize(base[j] +
/// sum_k (x[r][k] + 128) * w[k][j])` for a pointwise convolution or fully connected layer (rows of
/// `input`, k codes each) or a k x k convolution (`convolution` set: each output pixel's window).
typedef struct {
    int rows, k, n;
    const int8_t *input;
    /// For a k x k convolution (groups 1): its geometry; NULL for a plain product.
    const mnw_conv_geometry *convolution;
    int32_t zero_point;
    const int8_t *packed;        // mnw_gemm_pack
    const int32_t *offsets;      // mnw_gemm_pack
    int groups;                  // mnw_gemm_groups
    const int32_t *base;         // mnw_weight_base, offset 128 + zero_point
    const int64_t *requant;      // mnw_requant_prepare, n channels
    int requant_form;            // what mnw_requant_prepare returned
    int32_t output_zero_point, minimum, maximum;
    int8_t *output;              // rows x n codes
    uint8_t *scratch;            // mnw_gemm_input_size bytes
    /// The weights as 16-bit pairs (`mnw_gemm_words_pack`) for a level whose byte products need
    /// 7-bit weights (`mnw_kernels.bytes_need_seven_bits`) when some weight is outside [-64, 63];
    /// NULL otherwise.
    const int16_t *packed_words;
    /// The weights in pairs of words (`mnw_gemm_pairs_pack`) for a level whose GEMM multiplies
    /// 2 x 8 by 8 x 2 blocks (`mnw_kernels.gemm_word_pairs`); NULL otherwise.
    const int8_t *packed_pairs;
} mnw_gemm;

/// Bytes of the GEMM weights as 16-bit pairs: per block of 8 outputs and word group, two 16-lane
/// int16 vectors (each output's first two and last two weights of the word).
size_t mnw_gemm_words_size(int k, int n, const mnw_conv_geometry *g);

/// The 16-bit-pair weights from the byte-packed ones (`mnw_gemm_pack`).
void mnw_gemm_words_pack(const int8_t *packed, int k, int n, const mnw_conv_geometry *g, int16_t *words);

/// Bytes of the GEMM weights in pairs of words: per block of 16 outputs, K segment and pair of its
/// words (the last pair of an odd count completed with zeros), 128 bytes: for each two outputs
/// 2p and 2p + 1, output 2p's eight weights then output 2p + 1's (the right operand of AArch64's
/// `smmla`, FEAT_I8MM).
size_t mnw_gemm_pairs_size(int k, int n, const mnw_conv_geometry *g);

/// The pairs-of-words weights from the byte-packed ones (`mnw_gemm_pack`).
void mnw_gemm_pairs_pack(const int8_t *packed, int k, int n, const mnw_conv_geometry *g, int8_t *pairs);

// MARK: depthwise convolution

/// The filter [taps][channels] as int32, each tap's row padded to a multiple of 16 channels.
void mnw_widen_filter(const int8_t *filter, int taps, int channels, int32_t *widened);

/// A depthwise convolution of one image (filter [kh][kw][C]), requantized per channel.
typedef struct {
    const mnw_conv_geometry *geometry;
    const int8_t *input;
    int32_t zero_point;          // the input's
    /// Scratch for the input with its padding (`mnw_depthwise_padded_size` bytes); the padding
    /// holds the input zero point, which the base cancels.
    int8_t *padded;
    const int32_t *filter;       // mnw_widen_filter
    const int32_t *base;         // mnw_weight_base, offset zero_point
    const int64_t *requant;      // mnw_requant_prepare
    int requant_form;            // what mnw_requant_prepare returned
    int32_t output_zero_point, minimum, maximum;
    int8_t *output;
    /// 1: the column kernel (3 x 3, stride 1 or 2 on both axes, no dilation; only on a level
    /// with `depthwise_columns`), with `mnw_depthwise_columns_prepare`'s weights and base.
    int columns;
    const int8_t *column_weights;
    const int32_t *unsigned_base;
    /// Each tap's offset from its window's first code in `padded` (`mnw_depthwise_tap_offsets`,
    /// made at prepare time: no kernel keeps a file-sized table on its stack).
    const size_t *tap_offsets;
    /// The filter's own codes, [taps][channels] (the NEON kernels multiply bytes).
    const int8_t *filter_codes;
    /// 1 when no weight is -128: two products then sum within int16 (each at most 127 x 128 in
    /// magnitude), and the NEON kernel adds taps in pairs before widening.
    int pairs_fit_int16;
} mnw_depthwise;

/// Each tap's offset (kernel rows, then columns) from its window's first code in the padded copy
/// `mnw_depthwise_padded_size` describes: `kernel_height * kernel_width` entries.
void mnw_depthwise_tap_offsets(const mnw_conv_geometry *g, size_t *offsets);

/// For the column kernel: per block of 16 channels and kernel column, 64 bytes (per channel its
/// three kernel rows' weights and a zero), `(channels + 15) / 16 * 192` bytes; and the base
/// `bias - (128 + zero_point) * sum of the channel's weights` (channels rounded up to 16).
void mnw_depthwise_columns_prepare(const int8_t *filter, int channels, const int32_t *bias, int32_t zero_point, int8_t *columns,
                                   int32_t *base);

/// Bytes of the padded input a depthwise convolution of geometry `g` needs.
size_t mnw_depthwise_padded_size(const mnw_conv_geometry *g);

// MARK: elementwise and pooling

/// The elementwise add of the reference kernels: each input made relative to its zero point,
/// shifted left, rescaled (one-channel requantization tables of 16 equal lanes); the sum
/// requantized. An input's left shift may exceed the reference's by e when its table's shift is
/// e lower: `(x 2^e m + 2^(k+e-1)) >> (k+e)` equals `(x m + 2^(k-1)) >> k`, and a total shift of
/// at least 32 allows the shorter form.
typedef struct {
    int count;
    const int8_t *a, *b;
    int32_t a_zero_point, b_zero_point, a_left_shift, b_left_shift;
    const int64_t *a_table, *b_table, *output_table;
    int form;                    // the output table's form when both inputs' tables are at least
                                 // MNW_REQUANT_HIGH, else MNW_REQUANT_GENERAL
    int32_t output_zero_point, minimum, maximum;
    int8_t *output;              // count codes
} mnw_add;

/// Max pooling of one NHWC image (padded positions skipped, as the reference).
typedef struct {
    const int8_t *input;
    int height, width, channels;
    int kernel_height, kernel_width, stride_height, stride_width, padding_height, padding_width;
    int output_height, output_width;
    int8_t *output;
} mnw_max_pool;

/// One input of a channel concatenation: its codes [pixels][channels], and when its parameters
/// differ from the output's, its zero point and the one-channel table of `inputScale /
/// outputScale` (NULL: the codes are copied) from `mnw_rescale_prepare`: the codes less the zero
/// point are shifted left by `left_shift` bits first, and `form` is the table's form.
typedef struct {
    const int8_t *codes;
    int channels;
    int32_t zero_point;
    const int64_t *table;
    int32_t left_shift;
    int form;
} mnw_concat_input;

/// A concatenation along channels of `count` inputs of `pixels` rows each.
typedef struct {
    int pixels, count;
    const mnw_concat_input *inputs;
    int32_t output_zero_point;
    int8_t *output;
} mnw_concatenate;

/// Global average pooling: per channel the sum of `input - zero_point` over `pixels` (int32,
/// wrapping as the reference), requantized with a one-channel table.
typedef struct {
    int pixels, channels;
    const int8_t *input;
    int32_t zero_point;
    const int64_t *table;
    int form;                    // the table's form (the x86 levels run only the short ones)
    int32_t output_zero_point;
    int8_t *output;
} mnw_global_average_pool;

/// `output[i] = min(max(input[i], minimum), maximum)`.
typedef struct {
    int count;
    const int8_t *input;
    int32_t minimum, maximum;
    int8_t *output;
} mnw_clamp;

/// A table lookup: `output[i] = table[input[i] + 128]` (256 codes).
typedef struct {
    int count;
    const int8_t *input;
    const int8_t *table;
    int8_t *output;
} mnw_lookup;

// MARK: levels

/// The instruction-set levels with fast kernels, fastest first.
enum {
    /// AVX-512 F/BW/VL with VNNI (`vpdpbusd` on 512 bits); the column depthwise kernel also
    /// needs VBMI.
    MNW_LEVEL_AVX512_VNNI = 0,
    /// AVX2 with AVX-VNNI (256-bit `vpdpbusd`): Intel client cores since Alder Lake, AMD Zen 5.
    MNW_LEVEL_AVX_VNNI = 1,
    /// AVX2 alone: the GEMM multiplies 16-bit pairs (`vpmaddwd`).
    MNW_LEVEL_AVX2 = 2,
    /// AArch64 with the dot-product instructions (FEAT_DotProd: `sdot`), most phone cores since
    /// 2018 (Cortex-A55/A75 on), Apple M1 on.
    MNW_LEVEL_NEON_DOT = 3,
    /// AArch64 NEON alone (every AArch64 CPU): the GEMM multiplies with `smull` and `sadalp`.
    MNW_LEVEL_NEON = 4,
    /// AArch64 with the int8 matrix multiply (FEAT_I8MM: `smmla`, 32 products per instruction)
    /// besides the dot product: Cortex-A510/A710/X2 on (phones since 2022), Apple M2 on. The
    /// GEMM on `smmla`, the rest as `MNW_LEVEL_NEON_DOT`.
    MNW_LEVEL_NEON_I8MM = 5,
    MNW_LEVEL_COUNT = 6,
};

/// One level's kernels (every entry set).
typedef struct {
    /// "avx512-vnni", "avx-vnni", "avx2", "neon-i8mm", "neon-dot" or "neon".
    const char *name;
    /// 1 when the kernels requantize in a short form only (a table for which
    /// `mnw_requant_prepare` returned at least `MNW_REQUANT_HIGH`); 0 when they take every form.
    int short_forms_only;
    /// 1 when the level multiplies bytes with vpmaddubsw (no VNNI), whose pair sums are exact only
    /// for weights in [-64, 63] (7 bits): a GEMM with other weights reads `packed_words`
    /// (`mnw_gemm_words_pack`) besides `packed`, and a depthwise convolution with other weights
    /// runs the tap kernel, not the column kernel.
    int bytes_need_seven_bits;
    /// 1 when `depthwise` runs the column kernel for arguments with `columns` set.
    int depthwise_columns;
    /// 1 when the GEMM multiplies the signed codes (the NEON levels): its `base` then takes offset
    /// `zero_point`, not `128 + zero_point`.
    int gemm_signed_input;
    /// 1 when the GEMM reads `packed_pairs` (`mnw_gemm_pairs_pack`) besides `packed`.
    int gemm_word_pairs;
    void (*gemm)(const mnw_gemm *);
    void (*depthwise)(const mnw_depthwise *);
    void (*add)(const mnw_add *);
    void (*concatenate)(const mnw_concatenate *);
    void (*max_pool)(const mnw_max_pool *);
    void (*global_average_pool)(const mnw_global_average_pool *);
    void (*clamp)(const mnw_clamp *);
    void (*lookup)(const mnw_lookup *);
    /// The requantization alone (for tests), in the forms the level runs.
    mnw_requantize_function requantize;
} mnw_kernels;

/// The kernels of `level` (an `MNW_LEVEL_*`), or NULL when this CPU does not have it (the x86
/// levels off x86-64, the NEON levels off AArch64). Constant tables: the CPU is checked on each
/// call (on AArch64 Linux `getauxval(AT_HWCAP)` and `AT_HWCAP2`; on Apple `sysctlbyname`;
/// elsewhere on AArch64 the build settings `MNW_ASSUME_DOTPROD` and `MNW_ASSUME_I8MM`, or the
/// compiler's `__ARM_FEATURE_DOTPROD` and `__ARM_FEATURE_MATMUL_INT8`), and the answer never
/// changes within a process.
const mnw_kernels *mnw_kernels_for(int level);

#endif
