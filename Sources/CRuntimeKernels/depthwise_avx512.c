// AVX-512: depthwise convolutions (multiply-add kernel; the vpdpbusd column kernel with VBMI).
#include "Levels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include "AVX512Common.h"

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
    const size_t *offsets = a->tap_offsets;
    requant_clamp clamp = make_clamp(a->output_zero_point, a->minimum, a->maximum);
    size_t row_step = (size_t)g->stride_height * padded_width * c, column_step = (size_t)g->stride_width * c;
    for (int base = 0; base < c; base += 16) {
        __mmask16 mask = whole ? (__mmask16)0xFFFF : mask16(c - base);
        // Up to nine taps' weights stay in registers; a larger kernel reads them from the widened filter.
        __m512i weights[9];
        const int cached = taps <= 9;
        for (int t = 0; cached && t < taps; t++) weights[t] = _mm512_loadu_si512(a->filter + (size_t)t * padded + base);
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
                    __m512i weight = cached ? weights[t] : _mm512_loadu_si512(a->filter + (size_t)t * padded + base);
                    sum = _mm512_add_epi32(sum, _mm512_mullo_epi32(_mm512_cvtepi8_epi32(raw), weight));
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
#endif
