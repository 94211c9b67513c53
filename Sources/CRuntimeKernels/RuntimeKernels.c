// Fast kernels of the int8 runtime. Each SIMD function carries its own target attribute, so the
// file builds for a generic x86-64 CPU and the caller picks a kernel after `mnw_cpu_has_*`.
#include "RuntimeKernels.h"
#include "KernelsCommon.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

int mnw_cpu_has_avx512vnni(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")
        && __builtin_cpu_supports("avx512vnni");
}

int mnw_cpu_has_avx512vbmi(void) {
    __builtin_cpu_init();
    return mnw_cpu_has_avx512vnni() && __builtin_cpu_supports("avx512vbmi");
}
#else
int mnw_cpu_has_avx512vnni(void) { return 0; }
int mnw_cpu_has_avx512vbmi(void) { return 0; }
#endif


size_t mnw_depthwise_padded_size(const mnw_conv_geometry *g) {
    // 16 bytes of slack: the AVX2 kernel reads 8 channels at a time.
    return (size_t)padded_extent(g->output_height, g->stride_height, g->kernel_height, g->dilation_height)
        * (size_t)padded_extent(g->output_width, g->stride_width, g->kernel_width, g->dilation_width) * (size_t)g->channels + 16;
}

/// How a GEMM's K runs in its input copy: `segments` runs of `length` codes (the whole row; or a
/// kernel row of a k x k convolution, or one tap when the kernel is dilated along the width), each
/// padded to whole 4-code words.
typedef struct {
    int segments, length, words;
} gemm_segments;

static gemm_segments segments_of(int k, const mnw_conv_geometry *g) {
    gemm_segments s;
    if (!g) s.segments = 1, s.length = k;
    else if (g->dilation_width == 1) s.segments = g->kernel_height, s.length = g->kernel_width * g->channels;
    else s.segments = g->kernel_height * g->kernel_width, s.length = g->channels;
    s.words = (s.length + 3) / 4;
    return s;
}

int mnw_gemm_groups(int k, const mnw_conv_geometry *g) {
    gemm_segments s = segments_of(k, g);
    return s.segments * s.words;
}

size_t mnw_gemm_packed_size(int k, int n, const mnw_conv_geometry *g) { return (size_t)((n + 15) / 16) * (size_t)mnw_gemm_groups(k, g) * 64; }

void mnw_gemm_pack(const int8_t *weight, int k, int n, const mnw_conv_geometry *g, int8_t *packed, int32_t *offsets) {
    gemm_segments s = segments_of(k, g);
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

size_t mnw_requant_table_size(int count) { return (size_t)((count + 15) / 16) * MNW_REQUANT_BLOCK * sizeof(int64_t); }

int mnw_requant_prepare(const int32_t *multipliers, const int32_t *shifts, int count, int32_t zero_point, int64_t *table) {
    int blocks = (count + 15) / 16, high = 1, rounded = 1;
    memset(table, 0, mnw_requant_table_size(count));
    for (int b = 0; b < blocks; b++) {
        int64_t *block = table + (size_t)b * MNW_REQUANT_BLOCK;
        int32_t *high_shifts = (int32_t *)(block + 48), *constants = (int32_t *)(block + 56);
        for (int lane = 0; lane < 16; lane++) {
            int channel = 16 * b + lane, half = lane & 1, slot = lane >> 1;
            // Unused lanes: multiplier 0, total shift 33 (their results are never stored).
            int64_t total = channel < count ? 31 - (int64_t)shifts[channel] : 33;  // 1...62: the loader keeps shifts in -31...30
            block[8 * half + slot] = channel < count ? (int64_t)(uint32_t)multipliers[channel] : 0;
            block[16 + 8 * half + slot] = total;
            block[32 + 8 * half + slot] = (int64_t)1 << (total - 1);
            high_shifts[lane] = total >= 32 ? (int32_t)(total - 32) : 0;
            if (total < 32) high = 0;
            if (total < 33 || total > 52) rounded = 0;
            else constants[lane] = (int32_t)(((int64_t)1 << (total - 33)) + ((int64_t)zero_point << (total - 32)));
        }
    }
    return rounded ? MNW_REQUANT_ROUNDED : high ? MNW_REQUANT_HIGH : MNW_REQUANT_GENERAL;
}

#if defined(__x86_64__)
#define MNW_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define MNW_INLINE static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512vl,avx512vnni")))

MNW_INLINE __mmask16 mask16(int remaining) { return remaining >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << remaining) - 1); }

MNW_INLINE __mmask64 mask64(int remaining) { return remaining >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << remaining) - 1); }

/// Stores sixteen int32 lanes (already within int8) as codes: narrowed in a register first (the
/// memory form of vpmovdb is slow on AMD's cores), then one masked byte store.
MNW_INLINE void store_codes(int8_t *destination, __mmask16 mask, __m512i values) {
    __m128i codes = _mm512_cvtepi32_epi8(values);
    __asm__("" : "+v"(codes));
    _mm_mask_storeu_epi8(destination, mask, codes);
}

/// The clamp of a requantization relative to the output zero point: QuantMath saturates the
/// scaled value to int32, adds the zero point and clamps to [minimum, maximum]; clamping the 64-bit
/// scaled value to [minimum - zp, maximum - zp] and adding zp after is the same (both clamps are
/// monotone and the second interval lies within int32).
typedef struct {
    __m512i low, high, zero_point;
    __m128i minimum, maximum;
    __m512i minimum64, maximum64;  // the byte bounds in all 64 lanes
    int clamps;  // whether [minimum, maximum] is narrower than int8's range
} requant_clamp;

MNW_INLINE requant_clamp make_clamp(int32_t zero_point, int32_t minimum, int32_t maximum) {
    requant_clamp c = {_mm512_set1_epi64((int64_t)minimum - zero_point), _mm512_set1_epi64((int64_t)maximum - zero_point),
                       _mm512_set1_epi32(zero_point), _mm_set1_epi8((char)minimum), _mm_set1_epi8((char)maximum),
                       _mm512_set1_epi8((char)minimum), _mm512_set1_epi8((char)maximum), minimum > -128 || maximum < 127};
    return c;
}

/// QuantMath's `requantize` on sixteen int32 lanes with one block of a requantization table
/// (`mnw_requant_prepare`): 64-bit products of the even and the odd lanes, the single rounding
/// shift, the clamp, the zero point.
MNW_INLINE __m512i requant16(__m512i x, const int64_t *block, requant_clamp c) {
    __m512i even = _mm512_mul_epi32(x, _mm512_loadu_si512(block));
    __m512i odd = _mm512_mul_epi32(_mm512_srli_epi64(x, 32), _mm512_loadu_si512(block + 8));
    even = _mm512_srav_epi64(_mm512_add_epi64(even, _mm512_loadu_si512(block + 32)), _mm512_loadu_si512(block + 16));
    odd = _mm512_srav_epi64(_mm512_add_epi64(odd, _mm512_loadu_si512(block + 40)), _mm512_loadu_si512(block + 24));
    even = _mm512_max_epi64(_mm512_min_epi64(even, c.high), c.low);
    odd = _mm512_max_epi64(_mm512_min_epi64(odd, c.high), c.low);
    return _mm512_add_epi32(_mm512_mask_blend_epi32((__mmask16)0xAAAA, even, _mm512_slli_epi64(odd, 32)), c.zero_point);
}

/// `requant16` for a table whose total shifts are all at least 32 (`mnw_requant_prepare` returned
/// `MNW_REQUANT_HIGH` or shorter: every real multiplier below 1/2), stored as codes. Then `(p + half) >> k` is the high half
/// of `p + half` shifted right by `k - 32` (floors compose), which fits in int32, so the 64-bit
/// clamps become a saturating narrowing and a byte clamp: the same result with fewer operations.
MNW_INLINE void requant_store_high(int8_t *destination, __mmask16 mask, __m512i x, const int64_t *block, requant_clamp c) {
    __m512i even = _mm512_add_epi64(_mm512_mul_epi32(x, _mm512_loadu_si512(block)), _mm512_loadu_si512(block + 32));
    __m512i odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), _mm512_loadu_si512(block + 8)), _mm512_loadu_si512(block + 40));
    __m512i q = _mm512_mask_blend_epi32((__mmask16)0xAAAA, _mm512_srli_epi64(even, 32), odd);
    q = _mm512_add_epi32(_mm512_srav_epi32(q, _mm512_loadu_si512(block + 48)), c.zero_point);
    _mm_mask_storeu_epi8(destination, mask, _mm_min_epi8(_mm_max_epi8(_mm512_cvtsepi32_epi8(q), c.minimum), c.maximum));
}

/// `requant16` for a table of the rounded form (`MNW_REQUANT_ROUNDED`: total shifts k in
/// 33...52), zero point added, before narrowing. With `h = floor(p / 2^32)` and `s = k - 32`, `(p + 2^(k-1)) >> k`
/// equals `(h + 2^(s-1)) >> s`: the rounding half is a whole multiple of 2^32, so it adds to the
/// high half alone, and the low half cannot move a floor by 2^s. Adding the zero point times
/// 2^s before the shift adds it after; the table holds `2^(s-1) + zp 2^s` per lane (within
/// int32, as |h| < 2^30 and s <= 20). So: two products, one permutation gathering their high
/// halves, one add, one shift, a saturating narrowing, and the byte clamp only when the layer
/// has one (a fused ReLU6 whose range is the output's needs none).
MNW_INLINE __m512i requant_rounded(__m512i x, const int64_t *block) {
    __m512i even = _mm512_mul_epi32(x, _mm512_loadu_si512(block));
    __m512i odd = _mm512_mul_epi32(_mm512_srli_epi64(x, 32), _mm512_loadu_si512(block + 8));
    __m512i highs = _mm512_permutex2var_epi32(even, _mm512_setr_epi32(1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31), odd);
    return _mm512_srav_epi32(_mm512_add_epi32(highs, _mm512_loadu_si512(block + 56)), _mm512_loadu_si512(block + 48));
}

/// `requant_rounded`, narrowed with saturation, clamped and stored.
MNW_INLINE void requant_store_rounded(int8_t *destination, __mmask16 mask, __m512i x, const int64_t *block, requant_clamp c) {
    __m128i codes = _mm512_cvtsepi32_epi8(requant_rounded(x, block));
    if (c.clamps) codes = _mm_min_epi8(_mm_max_epi8(codes, c.minimum), c.maximum);
    _mm_mask_storeu_epi8(destination, mask, codes);
}

/// Four vectors of int32 narrowed with saturation to their 64 codes, in order: two saturating
/// packs to words, one to bytes (saturating twice is saturating once), and one permutation
/// undoing the packs' interleaving of 128-bit lanes: 4 operations where four vpmovsdb take 8.
MNW_INLINE __m512i narrow4(__m512i a, __m512i b, __m512i c, __m512i d) {
    __m512i bytes = _mm512_packs_epi16(_mm512_packs_epi32(a, b), _mm512_packs_epi32(c, d));
    return _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), bytes);
}

/// 64 codes clamped (where the layer has a clamp) and stored under `mask`.
MNW_INLINE void store_codes64(int8_t *destination, __mmask64 mask, __m512i codes, requant_clamp c) {
    if (c.clamps) codes = _mm512_min_epi8(_mm512_max_epi8(codes, c.minimum64), c.maximum64);
    _mm512_mask_storeu_epi8(destination, mask, codes);
}

/// Requantizes sixteen accumulators with one table block and stores their codes in `form` (a
/// constant where it is called).
MNW_INLINE void requant_store(int8_t *destination, __mmask16 mask, __m512i x, const int64_t *block, requant_clamp c, const int form) {
    if (form == MNW_REQUANT_ROUNDED) requant_store_rounded(destination, mask, x, block, c);
    else if (form == MNW_REQUANT_HIGH) requant_store_high(destination, mask, x, block, c);
    else store_codes(destination, mask, requant16(x, block, c));
}

MNW_AVX512
void mnw_requantize_avx512(const int32_t *accumulators, int count, const int64_t *table, int form, int32_t zero_point, int32_t minimum,
                           int32_t maximum, int8_t *output) {
    requant_clamp c = make_clamp(zero_point, minimum, maximum);
    for (int i = 0; i < count; i += 16) {
        __mmask16 mask = mask16(count - i);
        __m512i x = _mm512_maskz_loadu_epi32(mask, accumulators + i);
        const int64_t *block = table + (size_t)(i / 16) * MNW_REQUANT_BLOCK;
        if (form == MNW_REQUANT_ROUNDED) requant_store(output + i, mask, x, block, c, MNW_REQUANT_ROUNDED);
        else if (form == MNW_REQUANT_HIGH) requant_store(output + i, mask, x, block, c, MNW_REQUANT_HIGH);
        else requant_store(output + i, mask, x, block, c, MNW_REQUANT_GENERAL);
    }
}

// MARK: GEMM rows (1x1 and k x k convolutions, fully connected)

/// `count` codes copied, each `^ flip` (0x80 makes them unsigned; 0 copies), 64 at a time.
MNW_INLINE void copy_codes(const int8_t *source, int count, uint8_t flip, int8_t *destination) {
    __m512i flips = _mm512_set1_epi8((char)flip);
    for (int i = 0; i < count; i += 64) {
        __mmask64 mask = mask64(count - i);
        _mm512_mask_storeu_epi8(destination + i, mask, _mm512_xor_si512(_mm512_maskz_loadu_epi8(mask, source + i), flips));
    }
}

MNW_INLINE void fill_codes(int8_t value, int count, int8_t *destination) {
    __m512i v = _mm512_set1_epi8(value);
    for (int i = 0; i < count; i += 64) _mm512_mask_storeu_epi8(destination + i, mask64(count - i), v);
}

/// `pad_input_portable` (KernelsCommon.h) with 64-byte masked moves: with the plain loops instead
/// the student's inference took 1.7x as long (measured; its depthwise layers copy their input).
MNW_INLINE void pad_input(const int8_t *input, const mnw_conv_geometry *g, int8_t zero_point, uint8_t flip, int8_t *destination) {
    int c = g->channels, rows = padded_extent(g->output_height, g->stride_height, g->kernel_height, g->dilation_height);
    int padded_width = padded_extent(g->output_width, g->stride_width, g->kernel_width, g->dilation_width);
    int8_t padding = (int8_t)(zero_point ^ (int8_t)flip);
    int left = g->padding_width, inside = g->width < padded_width - left ? g->width : padded_width - left;
    for (int py = 0; py < rows; py++) {
        int8_t *row = destination + (size_t)py * padded_width * c;
        int iy = py - g->padding_height;
        if (iy < 0 || iy >= g->height) {
            fill_codes(padding, padded_width * c, row);
            continue;
        }
        fill_codes(padding, left * c, row);
        copy_codes(input + (size_t)iy * g->width * c, inside * c, flip, row + (size_t)left * c);
        fill_codes(padding, (padded_width - left - inside) * c, row + (size_t)(left + inside) * c);
    }
}

/// Rows `row0 ..< row0 + valid` (their unsigned inputs at `rows[r]`, word g at `offsets[g]`; rows
/// past `valid` repeat the last) times output blocks `b0 ..< b0 + NB`, requantized and stored. R,
/// NB and `form` are constants at each call site, so the accumulators stay in registers; they
/// start from the zero-point constants (`base`).
MNW_INLINE void gemm_tile(const mnw_gemm *a, const uint8_t *const *rows, int row0, int valid, int b0, const int R, const int NB,
                          const int form) {
    __m512i acc[8][4];
    for (int j = 0; j < NB; j++) {
        __m512i base = _mm512_loadu_si512(a->base + 16 * (b0 + j));
        for (int r = 0; r < R; r++) acc[r][j] = base;
    }
    // Fields read once: the output stores are char stores, which may alias them.
    int groups = a->groups, n = a->n;
    const int32_t *offsets = a->offsets;
    const int8_t *w = a->packed + (size_t)b0 * groups * 64;
    for (int g = 0; g < groups; g++) {
        __m512i weights[4];
        for (int j = 0; j < NB; j++) weights[j] = _mm512_loadu_si512(w + ((size_t)j * groups + g) * 64);
        int32_t offset = offsets[g];
        for (int r = 0; r < R; r++) {
            int32_t word;
            memcpy(&word, rows[r] + offset, 4);
            __m512i q = _mm512_set1_epi32(word);
            for (int j = 0; j < NB; j++) acc[r][j] = _mm512_dpbusd_epi32(acc[r][j], q, weights[j]);
        }
    }
    requant_clamp c = make_clamp(a->output_zero_point, a->minimum, a->maximum);
    int8_t *output = a->output + (size_t)row0 * n + 16 * b0;
    const int64_t *tables = a->requant + (size_t)b0 * MNW_REQUANT_BLOCK;
    if (form == MNW_REQUANT_ROUNDED && NB >= 2) {
        // Each row's blocks are contiguous codes: narrowed together (`narrow4`), one store.
        __mmask64 mask = mask64(n - 16 * b0 < 16 * NB ? n - 16 * b0 : 16 * NB);
#pragma clang loop unroll(full)
        for (int r = 0; r < R; r++) {
            if (r >= valid) continue;
            __m512i q[4];
            for (int j = 0; j < 4; j++) q[j] = j < NB ? requant_rounded(acc[r][j], tables + (size_t)j * MNW_REQUANT_BLOCK) : q[NB - 1];
            store_codes64(output + (size_t)r * n, mask, narrow4(q[0], q[1], q[2], q[3]), c);
        }
        return;
    }
    if (form == MNW_REQUANT_ROUNDED && NB == 1 && R % 4 == 0 && n == 16) {
        // Rows of exactly 16 codes: four rows are 64 contiguous codes.
#pragma clang loop unroll(full)
        for (int r = 0; r < R; r += 4) {
            if (r >= valid) continue;
            __m512i q[4];
            for (int i = 0; i < 4; i++) q[i] = requant_rounded(acc[r + i][0], tables);
            store_codes64(output + (size_t)r * 16, mask64(16 * (valid - r)), narrow4(q[0], q[1], q[2], q[3]), c);
        }
        return;
    }
    for (int j = 0; j < NB; j++) {
        __mmask16 mask = mask16(n - 16 * (b0 + j));
#pragma clang loop unroll(full)
        for (int r = 0; r < R; r++)
            if (r < valid) requant_store(output + (size_t)r * n + 16 * j, mask, acc[r][j], tables + (size_t)j * MNW_REQUANT_BLOCK, c, form);
    }
}

typedef void (*gemm_tile_function)(const mnw_gemm *, const uint8_t *const *, int, int, int);

/// The tiles of R rows x NB blocks, in `tiles_RxNB[form]`: one function for the rounded form, one
/// for the general form, which also serves the high form (no exported layer has it: a real
/// multiplier in [1/4, 1/2) for some channel but none above; two variants keep the code small).
#define MNW_TILES(R, NB)                                                                                          \
    MNW_AVX512 static void tile_##R##x##NB##_general(const mnw_gemm *a, const uint8_t *const *rows, int row0, int valid, int b0) { \
        gemm_tile(a, rows, row0, valid, b0, R, NB, MNW_REQUANT_GENERAL);                                          \
    }                                                                                                             \
    MNW_AVX512 static void tile_##R##x##NB##_rounded(const mnw_gemm *a, const uint8_t *const *rows, int row0, int valid, int b0) { \
        gemm_tile(a, rows, row0, valid, b0, R, NB, MNW_REQUANT_ROUNDED);                                          \
    }                                                                                                             \
    static const gemm_tile_function tiles_##R##x##NB[3] = {tile_##R##x##NB##_general, tile_##R##x##NB##_general, tile_##R##x##NB##_rounded};
MNW_TILES(8, 1)
MNW_TILES(8, 2)
MNW_TILES(4, 1)
MNW_TILES(4, 2)
MNW_TILES(4, 3)
MNW_TILES(4, 4)
MNW_TILES(1, 4)
MNW_TILES(1, 1)

/// The first eight lanes of a vector (256 bits) in both halves.
MNW_INLINE __m512i both_halves(__m512i v) { return _mm512_shuffle_i64x2(v, v, 0x44); }

/// A GEMM with exactly 8 outputs and the rounded requantization, two rows per vector: lanes 0-7
/// one row's outputs, lanes 8-15 the next row's (the weights, zero-point constants and table
/// lanes repeated in both halves), so each vpdpbusd and requantization does 16 outputs, not 8,
/// and the tile's 8 rows are 64 contiguous codes: narrowed together, one store. `table` is the
/// duplicated requantization block.
MNW_AVX512 __attribute__((noinline)) static void gemm_pairs(const mnw_gemm *a, const uint8_t *const *rows, int row0, int valid,
                                                            const int64_t *table) {
    int groups = a->groups;
    const int32_t *offsets = a->offsets;
    __m512i acc[4];
    for (int p = 0; p < 4; p++) acc[p] = both_halves(_mm512_loadu_si512(a->base));
    for (int g = 0; g < groups; g++) {
        __m512i weights = both_halves(_mm512_loadu_si512(a->packed + (size_t)g * 64));
        int32_t offset = offsets[g];
        for (int p = 0; p < 4; p++) {
            __m512i q = _mm512_mask_broadcastd_epi32(_mm512_broadcastd_epi32(_mm_loadu_si32(rows[2 * p] + offset)), (__mmask16)0xFF00,
                                                     _mm_loadu_si32(rows[2 * p + 1] + offset));
            acc[p] = _mm512_dpbusd_epi32(acc[p], q, weights);
        }
    }
    requant_clamp c = make_clamp(a->output_zero_point, a->minimum, a->maximum);
    __m512i codes = narrow4(requant_rounded(acc[0], table), requant_rounded(acc[1], table), requant_rounded(acc[2], table),
                            requant_rounded(acc[3], table));
    store_codes64(a->output + (size_t)row0 * 8, mask64(8 * valid), codes, c);
}

MNW_AVX512
void mnw_gemm_vnni(const mnw_gemm *a) {
    int blocks = (a->n + 15) / 16, form = a->requant_form;
    int pairs = a->n == 8 && form == MNW_REQUANT_ROUNDED;
    // Tiles of 8 rows x up to 2 output blocks for narrow layers (as pairs for 8 outputs), 4 rows x
    // up to 4 blocks for wide ones, one row x 4 blocks for a single row (fully connected).
    int tile_rows = a->rows == 1 ? 1 : blocks <= 2 ? 8 : 4;
    // The input made unsigned (x ^ 0x80) in the scratch, with a convolution's padding: then each
    // row's words are read in place (no patches are gathered).
    if (a->convolution) pad_input(a->input, a->convolution, (int8_t)a->zero_point, 0x80, (int8_t *)a->scratch);
    else copy_codes(a->input, a->rows * a->k, 0x80, (int8_t *)a->scratch);
    int64_t paired_table[MNW_REQUANT_BLOCK];
    if (pairs) {
        // Lanes 0-7 of every table vector repeated in lanes 8-15 (the first 256 bits of each).
        for (int v = 0; v < MNW_REQUANT_BLOCK; v += 8) _mm512_storeu_si512(paired_table + v, both_halves(_mm512_loadu_si512(a->requant + v)));
    }
    gemm_rows layout = gemm_layout(a);
    const uint8_t *rows[8];
    int y = 0, x = 0;
    for (int row0 = 0; row0 < a->rows; row0 += tile_rows) {
        int valid = gemm_next_rows(a, layout, row0, tile_rows, &y, &x, rows);
        if (tile_rows == 8 && pairs) {
            gemm_pairs(a, rows, row0, valid, paired_table);
            continue;
        }
        if (tile_rows == 8) {
            (blocks == 2 ? tiles_8x2 : tiles_8x1)[form](a, rows, row0, valid, 0);
            continue;
        }
        for (int b0 = 0; b0 < blocks; b0 += 4) {
            int nb = blocks - b0 < 4 ? blocks - b0 : 4;
            if (tile_rows == 1) {
                if (nb == 4) tiles_1x4[form](a, rows, row0, valid, b0);
                else for (int j = 0; j < nb; j++) tiles_1x1[form](a, rows, row0, valid, b0 + j);
            } else (nb == 4 ? tiles_4x4 : nb == 3 ? tiles_4x3 : nb == 2 ? tiles_4x2 : tiles_4x1)[form](a, rows, row0, valid, b0);
        }
    }
}

// MARK: depthwise convolution

/// A depthwise convolution on the padded input, sixteen channels at a time (the block's weights
/// stay in registers while it runs over every output pixel): per pixel one int32 multiply-add
/// per tap and the requantization fused into the store. `taps` is a constant where the kernel
/// size is known (3 x 3), so the tap loop unrolls; `whole` (channels a multiple of 16) drops the
/// masks.
MNW_INLINE void depthwise(const mnw_depthwise *a, const int taps, const int form, const int whole) {
    // Fields read once: the output stores are char stores, which may alias them.
    const mnw_conv_geometry *g = a->geometry;
    int c = g->channels, padded = (c + 15) / 16 * 16, output_height = g->output_height, output_width = g->output_width;
    const int8_t *input = a->padded;
    const int64_t *requant = a->requant;
    int padded_width = padded_extent(g->output_width, g->stride_width, g->kernel_width, g->dilation_width);
    pad_input(a->input, g, (int8_t)a->zero_point, 0, a->padded);
    size_t offsets[taps];
    padded_tap_offsets(g, offsets);
    requant_clamp clamp = make_clamp(a->output_zero_point, a->minimum, a->maximum);
    size_t row_step = (size_t)g->stride_height * padded_width * c, column_step = (size_t)g->stride_width * c;
    for (int base = 0; base < c; base += 16) {
        __mmask16 mask = whole ? (__mmask16)0xFFFF : mask16(c - base);
        __m512i weights[taps];
        for (int t = 0; t < taps; t++) weights[t] = _mm512_loadu_si512(a->filter + (size_t)t * padded + base);
        __m512i bias = _mm512_loadu_si512(a->base + base);
        const int64_t *table = requant + (size_t)(base / 16) * MNW_REQUANT_BLOCK;
        int8_t *out = a->output + base;
        for (int y = 0; y < output_height; y++) {
            const int8_t *window = input + (size_t)y * row_step + base;
            for (int x = 0; x < output_width; x++, window += column_step, out += c) {
                __m512i sum = bias;
                for (int t = 0; t < taps; t++) {
                    const int8_t *p = window + offsets[t];
                    __m128i raw = whole ? _mm_loadu_si128((const __m128i *)p) : _mm_maskz_loadu_epi8(mask, p);
                    sum = _mm512_add_epi32(sum, _mm512_mullo_epi32(_mm512_cvtepi8_epi32(raw), weights[t]));
                }
                requant_store(out, mask, sum, table, clamp, form);
            }
        }
    }
}

#define MNW_VBMI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx512vbmi")))
#define MNW_VBMI_INLINE static inline __attribute__((always_inline, target("avx512f,avx512bw,avx512vl,avx512vnni,avx512vbmi")))

/// Three kernel rows of one input column, sixteen channels: dword c of the result holds the
/// column's three codes of channel c (and a zero byte), as vpdpbusd wants them (one vpermb).
MNW_VBMI_INLINE __m512i column_quads(const int8_t *top, size_t row_bytes, __mmask16 mask, __m512i transpose) {
    __m512i v = _mm512_zextsi128_si512(_mm_maskz_loadu_epi8(mask, top));
    v = _mm512_inserti32x4(v, _mm_maskz_loadu_epi8(mask, top + row_bytes), 1);
    v = _mm512_inserti32x4(v, _mm_maskz_loadu_epi8(mask, top + 2 * row_bytes), 2);
    return _mm512_permutexvar_epi8(transpose, v);
}

/// A 3 x 3 depthwise convolution (stride S of 1 or 2, no dilation) with vpdpbusd: the input
/// copied as unsigned codes with its padding; each input column's three codes per channel
/// transposed into dwords once (`column_quads`) and shared by the output pixels whose windows
/// hold it, each output pixel three vpdpbusd (one per kernel column, the block's three column
/// weight vectors in registers), the requantization fused into the store.
MNW_VBMI_INLINE void depthwise_columns(const mnw_depthwise *a, const int S, const int form) {
    // Fields read once: the output stores are char stores, which may alias them.
    const mnw_conv_geometry *g = a->geometry;
    int c = g->channels, output_height = g->output_height, output_width = g->output_width;
    const int8_t *padded = a->padded;
    const int64_t *requant = a->requant;
    size_t padded_width = (size_t)padded_extent(g->output_width, S, 3, 1), row_bytes = padded_width * c;
    pad_input(a->input, g, (int8_t)a->zero_point, 0x80, a->padded);
    int8_t order[64];
    for (int b = 0; b < 64; b++) order[b] = (int8_t)(16 * (b % 4) + b / 4);
    __m512i transpose = _mm512_loadu_si512(order);
    requant_clamp clamp = make_clamp(a->output_zero_point, a->minimum, a->maximum);
    for (int base = 0; base < c; base += 16) {
        __mmask16 mask = mask16(c - base);
        const int8_t *w = a->column_weights + (size_t)(base / 16) * 192;
        __m512i w0 = _mm512_loadu_si512(w), w1 = _mm512_loadu_si512(w + 64), w2 = _mm512_loadu_si512(w + 128);
        __m512i bias = _mm512_loadu_si512(a->unsigned_base + base);
        const int64_t *table = requant + (size_t)(base / 16) * MNW_REQUANT_BLOCK;
        int8_t *out = a->output + base;
        for (int y = 0; y < output_height; y++) {
            const int8_t *top = padded + (size_t)y * S * row_bytes + base;
            __m512i q0 = column_quads(top, row_bytes, mask, transpose), q1 = q0, q2;
            if (S == 1) q1 = column_quads(top + c, row_bytes, mask, transpose);
            for (int x = 0; x < output_width; x++, out += c) {
                const int8_t *column = top + (size_t)x * S * c;
                if (S == 2) q1 = column_quads(column + c, row_bytes, mask, transpose);
                q2 = column_quads(column + 2 * c, row_bytes, mask, transpose);
                __m512i sum = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_dpbusd_epi32(bias, q0, w0), q1, w1), q2, w2);
                requant_store(out, mask, sum, table, clamp, form);
                if (S == 1) q0 = q1, q1 = q2;
                else q0 = q2;
            }
        }
    }
}

typedef void (*depthwise_function)(const mnw_depthwise *);

/// The column kernel for stride S in `columns_S[form]` (as the GEMM tiles: the general form's
/// function serves the high form).
#define MNW_COLUMNS(S)                                                                                       \
    MNW_VBMI static void columns_##S##_general(const mnw_depthwise *a) { depthwise_columns(a, S, MNW_REQUANT_GENERAL); } \
    MNW_VBMI static void columns_##S##_rounded(const mnw_depthwise *a) { depthwise_columns(a, S, MNW_REQUANT_ROUNDED); } \
    static const depthwise_function columns_##S[3] = {columns_##S##_general, columns_##S##_general, columns_##S##_rounded};
MNW_COLUMNS(1)
MNW_COLUMNS(2)

/// The multiply-add kernel for 3 x 3 with the channels a multiple of 16 (unmasked loads) or not,
/// in `NAME[form]` (the general form's function serves the high form).
#define MNW_DEPTHWISE_3X3(WHOLE, NAME)                                                                      \
    MNW_AVX512 static void NAME##_general(const mnw_depthwise *a) { depthwise(a, 9, MNW_REQUANT_GENERAL, WHOLE); } \
    MNW_AVX512 static void NAME##_rounded(const mnw_depthwise *a) { depthwise(a, 9, MNW_REQUANT_ROUNDED, WHOLE); } \
    static const depthwise_function NAME[3] = {NAME##_general, NAME##_general, NAME##_rounded};
MNW_DEPTHWISE_3X3(0, depthwise_3x3)
MNW_DEPTHWISE_3X3(1, depthwise_3x3_whole)

/// Any other kernel size.
MNW_AVX512 static void depthwise_any(const mnw_depthwise *a) { depthwise(a, a->geometry->kernel_height * a->geometry->kernel_width, 0, 0); }

MNW_AVX512
void mnw_depthwise_avx512(const mnw_depthwise *a) {
    const mnw_conv_geometry *g = a->geometry;
    int form = a->requant_form;
    if (a->columns) (g->stride_width == 1 ? columns_1 : columns_2)[form](a);
    else if (g->kernel_height != 3 || g->kernel_width != 3) depthwise_any(a);
    else (g->channels % 16 == 0 ? depthwise_3x3_whole : depthwise_3x3)[form](a);
}

// MARK: elementwise and pooling

/// The largest of a KH x KW window's codes, 64 channels from `corner` (every tap inside the input).
MNW_INLINE __m512i window_max(const int8_t *corner, size_t row_bytes, int channels, __mmask64 mask, const int KH, const int KW) {
    __m512i best = _mm512_set1_epi8(-128);
    for (int ky = 0; ky < KH; ky++)
        for (int kx = 0; kx < KW; kx++) best = _mm512_max_epi8(best, _mm512_maskz_loadu_epi8(mask, corner + ky * row_bytes + (size_t)kx * channels));
    return best;
}

/// Max pooling: windows inside the input (no padding: every window of the common 2 x 2 and
/// 3 x 3 kernels) without per-tap checks, the kernel size a constant; any other with them.
MNW_INLINE void max_pool(const int8_t *input, int height, int width, int channels, int kernel_height, int kernel_width, int stride_height,
                         int stride_width, int padding_height, int padding_width, int output_height, int output_width, int8_t *output,
                         const int KH, const int KW) {
    size_t row_bytes = (size_t)width * channels;
    for (int y = 0; y < output_height; y++)
        for (int x = 0; x < output_width; x++)
            for (int base = 0; base < channels; base += 64) {
                __mmask64 mask = mask64(channels - base);
                int8_t *out = output + ((size_t)y * output_width + x) * channels + base;
                if (KH) {
                    const int8_t *corner = input + (size_t)y * stride_height * row_bytes + (size_t)x * stride_width * channels + base;
                    _mm512_mask_storeu_epi8(out, mask, window_max(corner, row_bytes, channels, mask, KH, KW));
                    continue;
                }
                __m512i best = _mm512_set1_epi8(-128);
                for (int ky = 0; ky < kernel_height; ky++) {
                    int iy = y * stride_height - padding_height + ky;
                    if (iy < 0 || iy >= height) continue;
                    for (int kx = 0; kx < kernel_width; kx++) {
                        int ix = x * stride_width - padding_width + kx;
                        if (ix < 0 || ix >= width) continue;
                        best = _mm512_max_epi8(best, _mm512_maskz_loadu_epi8(mask, input + (size_t)iy * row_bytes + (size_t)ix * channels + base));
                    }
                }
                _mm512_mask_storeu_epi8(out, mask, best);
            }
}

MNW_AVX512
void mnw_max_pool_avx512(const int8_t *input, int height, int width, int channels, int kernel_height, int kernel_width, int stride_height,
                         int stride_width, int padding_height, int padding_width, int output_height, int output_width, int8_t *output) {
    // Every window inside the input: no padding and the last window's end within it.
    int inside = padding_height == 0 && padding_width == 0 && (output_height - 1) * stride_height + kernel_height <= height
        && (output_width - 1) * stride_width + kernel_width <= width;
    int square = kernel_height == kernel_width && inside ? kernel_height : 0;
    if (square == 2)
        max_pool(input, height, width, channels, 2, 2, stride_height, stride_width, 0, 0, output_height, output_width, output, 2, 2);
    else if (square == 3)
        max_pool(input, height, width, channels, 3, 3, stride_height, stride_width, 0, 0, output_height, output_width, output, 3, 3);
    else
        max_pool(input, height, width, channels, kernel_height, kernel_width, stride_height, stride_width, padding_height, padding_width,
                 output_height, output_width, output, 0, 0);
}

/// `x * multiplier * 2^(shift - 31)` with QuantMath's single rounding, saturated to int32, one
/// multiplier for all sixteen lanes (the per-tensor rescaling of an add or a concatenation).
MNW_INLINE __m512i multiply16(__m512i x, const int64_t *block) {
    requant_clamp wide = {_mm512_set1_epi64(INT32_MIN), _mm512_set1_epi64(INT32_MAX), _mm512_setzero_si512(), _mm_setzero_si128(),
                          _mm_setzero_si128()};
    return requant16(x, block, wide);
}

/// `multiply16` for a table whose total shifts are at least 32 (see `requant_store_high`): the
/// result fits in int32 without saturating.
MNW_INLINE __m512i multiply16_high(__m512i x, const int64_t *block) {
    __m512i even = _mm512_add_epi64(_mm512_mul_epi32(x, _mm512_loadu_si512(block)), _mm512_loadu_si512(block + 32));
    __m512i odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), _mm512_loadu_si512(block + 8)), _mm512_loadu_si512(block + 40));
    __m512i q = _mm512_mask_blend_epi32((__mmask16)0xAAAA, _mm512_srli_epi64(even, 32), odd);
    return _mm512_srav_epi32(q, _mm512_loadu_si512(block + 48));
}

/// Sixteen lanes of an add before its output requantization: both inputs made relative to their
/// zero points, shifted left and rescaled (`form`: the tables' form), summed.
MNW_INLINE __m512i add_sum16(const mnw_add *f, int i, __mmask16 mask, __m512i azp, __m512i bzp, __m128i ashift, __m128i bshift, const int form) {
    __m512i x = _mm512_sll_epi32(_mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, f->a + i)), azp), ashift);
    __m512i y = _mm512_sll_epi32(_mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, f->b + i)), bzp), bshift);
    return form != MNW_REQUANT_GENERAL ? _mm512_add_epi32(multiply16_high(x, f->a_table), multiply16_high(y, f->b_table))
                                       : _mm512_add_epi32(multiply16(x, f->a_table), multiply16(y, f->b_table));
}

MNW_INLINE void add(const mnw_add *a, int8_t *output, const int form) {
    // The fields copied once: the output stores are char stores, which may alias them.
    const mnw_add f = *a;
    __m512i azp = _mm512_set1_epi32(f.a_zero_point), bzp = _mm512_set1_epi32(f.b_zero_point);
    __m128i ashift = _mm_cvtsi32_si128(f.a_left_shift), bshift = _mm_cvtsi32_si128(f.b_left_shift);
    requant_clamp c = make_clamp(f.output_zero_point, f.minimum, f.maximum);
    if (form == MNW_REQUANT_ROUNDED) {
        // 64 lanes at a time: four sums requantized, narrowed together (`narrow4`), one store.
        for (int i = 0; i < f.count; i += 64) {
            __m512i q[4];
            for (int v = 0; v < 4; v++) {
                int remaining = f.count - i - 16 * v;
                __mmask16 mask = remaining <= 0 ? 0 : mask16(remaining);
                q[v] = requant_rounded(add_sum16(&f, i + 16 * v, mask, azp, bzp, ashift, bshift, form), f.output_table);
            }
            store_codes64(output + i, mask64(f.count - i), narrow4(q[0], q[1], q[2], q[3]), c);
        }
        return;
    }
    for (int i = 0; i < f.count; i += 16) {
        __mmask16 mask = mask16(f.count - i);
        requant_store(output + i, mask, add_sum16(&f, i, mask, azp, bzp, ashift, bshift, form), f.output_table, c, form);
    }
}

MNW_AVX512 static void add_general(const mnw_add *a, int8_t *output) { add(a, output, MNW_REQUANT_GENERAL); }
MNW_AVX512 static void add_high(const mnw_add *a, int8_t *output) { add(a, output, MNW_REQUANT_HIGH); }
MNW_AVX512 static void add_rounded(const mnw_add *a, int8_t *output) { add(a, output, MNW_REQUANT_ROUNDED); }

MNW_AVX512
void mnw_add_avx512(const mnw_add *a, int8_t *output) {
    (a->form == MNW_REQUANT_ROUNDED ? add_rounded : a->form == MNW_REQUANT_HIGH ? add_high : add_general)(a, output);
}

MNW_AVX512
void mnw_concatenate_avx512(int pixels, const mnw_concat_input *inputs, int count, int32_t output_zero_point, int8_t *output) {
    int total = 0;
    for (int i = 0; i < count; i++) total += inputs[i].channels;
    requant_clamp c = make_clamp(output_zero_point, -128, 127);
    // One input at a time over every pixel, its fields in locals (the output stores may alias
    // the array): the channel count and masks stay fixed in the inner loop.
    int8_t *column = output;
    for (int i = 0; i < count; i++) {
        const mnw_concat_input input = inputs[i];
        if (input.table) {
            __m512i zp = _mm512_set1_epi32(input.zero_point);
            for (int pixel = 0; pixel < pixels; pixel++)
                for (int j = 0; j < input.channels; j += 16) {
                    __mmask16 mask = mask16(input.channels - j);
                    __m512i x = _mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, input.codes + (size_t)pixel * input.channels + j)), zp);
                    store_codes(column + (size_t)pixel * total + j, mask, requant16(x, input.table, c));
                }
        } else if (input.channels <= 64) {
            __mmask64 mask = mask64(input.channels);
            for (int pixel = 0; pixel < pixels; pixel++)
                _mm512_mask_storeu_epi8(column + (size_t)pixel * total, mask, _mm512_maskz_loadu_epi8(mask, input.codes + (size_t)pixel * input.channels));
        } else {
            for (int pixel = 0; pixel < pixels; pixel++)
                copy_codes(input.codes + (size_t)pixel * input.channels, input.channels, 0, column + (size_t)pixel * total);
        }
        column += input.channels;
    }
}

MNW_AVX512
void mnw_global_average_pool_avx512(int pixels, int channels, const int8_t *input, int32_t zero_point, const int64_t *table,
                                    int32_t output_zero_point, int8_t *output) {
    requant_clamp c = make_clamp(output_zero_point, -128, 127);
    __m512i correction = _mm512_set1_epi32(pixels * zero_point);
    for (int j = 0; j < channels; j += 16) {
        __mmask16 mask = mask16(channels - j);
        __m512i sum = _mm512_setzero_si512();
        for (int p = 0; p < pixels; p++) sum = _mm512_add_epi32(sum, _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(mask, input + (size_t)p * channels + j)));
        store_codes(output + j, mask, (requant16(_mm512_sub_epi32(sum, correction), table, c)));
    }
}

MNW_AVX512
void mnw_clamp_avx512(int count, const int8_t *input, int32_t minimum, int32_t maximum, int8_t *output) {
    __m512i low = _mm512_set1_epi8((char)minimum), high = _mm512_set1_epi8((char)maximum);
    for (int i = 0; i < count; i += 64) {
        __mmask64 mask = mask64(count - i);
        _mm512_mask_storeu_epi8(output + i, mask, _mm512_min_epi8(_mm512_max_epi8(_mm512_maskz_loadu_epi8(mask, input + i), low), high));
    }
}

#else
void mnw_requantize_avx512(const int32_t *accumulators, int count, const int64_t *table, int form, int32_t zero_point, int32_t minimum,
                           int32_t maximum, int8_t *output) {
    (void)accumulators; (void)count; (void)table; (void)form; (void)zero_point; (void)minimum; (void)maximum; (void)output;
}
void mnw_gemm_vnni(const mnw_gemm *a) { (void)a; }
void mnw_depthwise_avx512(const mnw_depthwise *a) { (void)a; }
void mnw_max_pool_avx512(const int8_t *input, int height, int width, int channels, int kernel_height, int kernel_width, int stride_height,
                         int stride_width, int padding_height, int padding_width, int output_height, int output_width, int8_t *output) {
    (void)input; (void)height; (void)width; (void)channels; (void)kernel_height; (void)kernel_width; (void)stride_height;
    (void)stride_width; (void)padding_height; (void)padding_width; (void)output_height; (void)output_width; (void)output;
}
void mnw_add_avx512(const mnw_add *a, int8_t *output) { (void)a; (void)output; }
void mnw_concatenate_avx512(int pixels, const mnw_concat_input *inputs, int count, int32_t output_zero_point, int8_t *output) {
    (void)pixels; (void)inputs; (void)count; (void)output_zero_point; (void)output;
}
void mnw_global_average_pool_avx512(int pixels, int channels, const int8_t *input, int32_t zero_point, const int64_t *table,
                                    int32_t output_zero_point, int8_t *output) {
    (void)pixels; (void)channels; (void)input; (void)zero_point; (void)table; (void)output_zero_point; (void)output;
}
void mnw_clamp_avx512(int count, const int8_t *input, int32_t minimum, int32_t maximum, int8_t *output) {
    (void)count; (void)input; (void)minimum; (void)maximum; (void)output;
}
#endif
