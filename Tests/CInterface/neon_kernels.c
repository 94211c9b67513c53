/*
 * The AArch64 kernels equal the reference arithmetic, kernel by kernel, on every NEON level the
 * CPU has (scripts/arm-run.sh runs it under qemu-aarch64 -cpu max, where all three levels run,
 * and -cpu cortex-a53, which has no dot product; cortex-a76 has the dot product without the int8
 * matrix multiply): the requantization in every form against QuantMath's
 * `requantize` itself (compiled for AArch64 with Embedded Swift, `mnw_quantmath_requantize`), and
 * the GEMM (fully connected and k x k convolutions with padding, strides, dilations), the depthwise
 * convolution, max pooling, clamp, lookup, add and concatenation against direct loops on that same requantization, on
 * random shapes around the tile sizes, full-range weights (-128 included) and random per-channel
 * multipliers of every form. Prints one line per kernel; exit status 1 on any difference, or when
 * the CPU has no NEON level at all.
 *   neon_kernels [TRIALS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "RuntimeKernels.h"

int32_t mnw_quantmath_requantize(int32_t accumulator, int32_t multiplier, int32_t shift, int32_t zero_point, int32_t minimum,
                                 int32_t maximum);

static uint64_t state = 0x9E3779B97F4A7C15ull;

static uint32_t next(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (uint32_t)(state >> 16);
}

/// A uniform integer in [low, high].
static int between(int low, int high) { return low + (int)(next() % (uint32_t)(high - low + 1)); }

/// Per-channel multipliers in [2^30, 2^31) (or 0) with shifts of one trial's kind: any (-31...30),
/// every total shift at least 32 (-31...-1), or the rounded form's (-21...-2).
static void random_multipliers(int count, int kind, int32_t *multipliers, int32_t *shifts) {
    for (int i = 0; i < count; i++) {
        multipliers[i] = between(0, 20) == 0 ? 0 : (int32_t)((1u << 30) | (next() & 0x3FFFFFFF));
        shifts[i] = kind == 0 ? between(-31, 30) : kind == 1 ? between(-31, -1) : between(-21, -2);
    }
}

static int failures = 0;

static void check(int equal, const char *kernel, const char *level, int trial) {
    if (equal) return;
    if (failures++ < 10) printf("FAIL %s on %s, trial %d\n", kernel, level, trial);
}

static void test_requantize(const mnw_kernels *k, int trials) {
    for (int trial = 0; trial < trials * 4; trial++) {
        int count = between(1, 70);
        int32_t accumulators[70], multipliers[70], shifts[70];
        for (int i = 0; i < count; i++) accumulators[i] = (int32_t)((next() << 16) ^ next()) >> between(0, 31);
        if (trial % 7 == 0) accumulators[0] = INT32_MAX, accumulators[count - 1] = INT32_MIN;
        random_multipliers(count, trial % 3, multipliers, shifts);
        int32_t zero_point = between(-128, 127), minimum = trial % 2 ? -128 : zero_point, maximum = trial % 2 ? 127 : between(zero_point, 127);
        int64_t *table = malloc(mnw_requant_table_size(count));
        int shortest = mnw_requant_prepare(multipliers, shifts, count, zero_point, table);
        int8_t expected[70], output[70];
        for (int i = 0; i < count; i++)
            expected[i] = (int8_t)mnw_quantmath_requantize(accumulators[i], multipliers[i], shifts[i], zero_point, minimum, maximum);
        for (int form = 0; form <= shortest; form++) {
            k->requantize(accumulators, count, table, form, zero_point, minimum, maximum, output);
            check(!memcmp(output, expected, (size_t)count), "requantize", k->name, trial);
        }
        free(table);
    }
}

/// A random convolution geometry whose output has at least one pixel.
static mnw_conv_geometry random_geometry(int channels) {
    mnw_conv_geometry g;
    for (;;) {
        g.height = between(1, 8), g.width = between(1, 8), g.channels = channels;
        g.kernel_height = between(1, 3), g.kernel_width = between(1, 3);
        g.stride_height = between(1, 2), g.stride_width = between(1, 2);
        g.padding_height = between(0, 2), g.padding_width = between(0, 2);
        g.dilation_height = between(1, 2), g.dilation_width = between(1, 2);
        int span_y = (g.kernel_height - 1) * g.dilation_height + 1, span_x = (g.kernel_width - 1) * g.dilation_width + 1;
        if (g.height + 2 * g.padding_height < span_y || g.width + 2 * g.padding_width < span_x) continue;
        g.output_height = (g.height + 2 * g.padding_height - span_y) / g.stride_height + 1;
        g.output_width = (g.width + 2 * g.padding_width - span_x) / g.stride_width + 1;
        return g;
    }
}

/// The reference sum of output pixel (oy, ox), output channel j, of a convolution with filter
/// [kh][kw][filter_channels][n] (depthwise: filter_channels 1 and input channel j).
static int32_t convolution_sum(const mnw_conv_geometry *g, const int8_t *input, int32_t zero_point, const int8_t *filter, int n, int oy, int ox,
                               int j, int depthwise) {
    int32_t sum = 0;
    for (int ky = 0; ky < g->kernel_height; ky++)
        for (int kx = 0; kx < g->kernel_width; kx++) {
            int iy = oy * g->stride_height - g->padding_height + ky * g->dilation_height;
            int ix = ox * g->stride_width - g->padding_width + kx * g->dilation_width;
            if (iy < 0 || iy >= g->height || ix < 0 || ix >= g->width) continue;
            const int8_t *pixel = input + ((size_t)iy * g->width + ix) * g->channels;
            if (depthwise) {
                sum += (pixel[j] - zero_point) * filter[(size_t)(ky * g->kernel_width + kx) * n + j];
                continue;
            }
            for (int c = 0; c < g->channels; c++)
                sum += (pixel[c] - zero_point) * filter[((size_t)(ky * g->kernel_width + kx) * g->channels + c) * n + j];
        }
    return sum;
}

static void fill_codes(int8_t *codes, size_t count) {
    for (size_t i = 0; i < count; i++) codes[i] = (int8_t)next();
}

static void test_gemm(const mnw_kernels *k, int trials) {
    for (int trial = 0; trial < trials; trial++) {
        int convolution = trial % 2, n = between(1, 40), rows, inputs;
        mnw_conv_geometry g = random_geometry(between(1, 12));
        if (convolution) rows = g.output_height * g.output_width, inputs = g.kernel_height * g.kernel_width * g.channels;
        else rows = between(1, 9), inputs = between(1, 70);
        int8_t *input = malloc((size_t)(convolution ? g.height * g.width * g.channels : rows * inputs)), *weights = malloc((size_t)inputs * n);
        fill_codes(input, (size_t)(convolution ? g.height * g.width * g.channels : rows * inputs));
        fill_codes(weights, (size_t)inputs * n);
        int32_t bias[40], multipliers[40], shifts[40];
        for (int j = 0; j < n; j++) bias[j] = between(-(1 << 20), 1 << 20);
        random_multipliers(n, trial % 3, multipliers, shifts);
        mnw_gemm a;
        memset(&a, 0, sizeof a);
        const mnw_conv_geometry *geometry = convolution ? &g : NULL;
        a.rows = rows, a.k = inputs, a.n = n, a.input = input, a.convolution = geometry, a.zero_point = between(-128, 127);
        a.groups = mnw_gemm_groups(inputs, geometry);
        int8_t *packed = malloc(mnw_gemm_packed_size(inputs, n, geometry));
        int32_t *offsets = malloc(sizeof(int32_t) * (size_t)a.groups), *base = malloc(sizeof(int32_t) * (size_t)((n + 15) / 16 * 16));
        mnw_gemm_pack(weights, inputs, n, geometry, packed, offsets);
        mnw_weight_base(weights, inputs, n, bias, k->gemm_signed_input ? a.zero_point : 128 + a.zero_point, base);
        int64_t *table = malloc(mnw_requant_table_size(n));
        a.output_zero_point = between(-128, 127);
        a.requant_form = mnw_requant_prepare(multipliers, shifts, n, a.output_zero_point, table);
        a.minimum = trial % 4 == 3 ? a.output_zero_point : -128, a.maximum = 127;
        a.packed = packed, a.offsets = offsets, a.base = base, a.requant = table;
        int8_t *pairs = k->gemm_word_pairs ? malloc(mnw_gemm_pairs_size(inputs, n, geometry)) : NULL;
        if (pairs) mnw_gemm_pairs_pack(packed, inputs, n, geometry, pairs);
        a.packed_pairs = pairs;
        a.output = malloc((size_t)rows * n);
        a.scratch = malloc(mnw_gemm_input_size(rows, inputs, geometry));
        k->gemm(&a);
        int equal = 1;
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < n; j++) {
                int32_t sum = bias[j];
                if (convolution) sum += convolution_sum(&g, input, a.zero_point, weights, n, r / g.output_width, r % g.output_width, j, 0);
                else
                    for (int i = 0; i < inputs; i++) sum += (input[(size_t)r * inputs + i] - a.zero_point) * weights[(size_t)i * n + j];
                equal &= a.output[(size_t)r * n + j] == mnw_quantmath_requantize(sum, multipliers[j], shifts[j], a.output_zero_point, a.minimum, a.maximum);
            }
        check(equal, convolution ? "gemm (convolution)" : "gemm", k->name, trial);
        free(input), free(weights), free(packed), free(pairs), free(offsets), free(base), free(table), free(a.output), free(a.scratch);
    }
}

static void test_depthwise(const mnw_kernels *k, int trials) {
    for (int trial = 0; trial < trials; trial++) {
        int channels = between(1, 40);
        mnw_conv_geometry g = random_geometry(channels);
        int taps = g.kernel_height * g.kernel_width, padded = (channels + 15) / 16 * 16;
        int8_t *input = malloc((size_t)g.height * g.width * channels), *filter = malloc((size_t)taps * channels);
        fill_codes(input, (size_t)g.height * g.width * channels);
        fill_codes(filter, (size_t)taps * channels);
        // Half the trials without -128 among the weights: the paired int16 sums of 3 x 3 filters.
        if (trial % 2)
            for (int i = 0; i < taps * channels; i++) filter[i] = filter[i] == -128 ? -127 : filter[i];
        int32_t bias[40], multipliers[40], shifts[40];
        for (int j = 0; j < channels; j++) bias[j] = between(-(1 << 20), 1 << 20);
        random_multipliers(channels, trial % 3, multipliers, shifts);
        mnw_depthwise d;
        memset(&d, 0, sizeof d);
        d.geometry = &g, d.input = input, d.zero_point = between(-128, 127);
        d.padded = malloc(mnw_depthwise_padded_size(&g));
        int32_t *widened = malloc(sizeof(int32_t) * (size_t)taps * padded), *base = malloc(sizeof(int32_t) * (size_t)padded);
        mnw_widen_filter(filter, taps, channels, widened);
        mnw_weight_base(filter, taps, channels, bias, d.zero_point, base);
        size_t *offsets = malloc(sizeof(size_t) * (size_t)taps);
        mnw_depthwise_tap_offsets(&g, offsets);
        int64_t *table = malloc(mnw_requant_table_size(channels));
        d.output_zero_point = between(-128, 127);
        d.requant_form = mnw_requant_prepare(multipliers, shifts, channels, d.output_zero_point, table);
        d.filter = widened, d.base = base, d.requant = table, d.tap_offsets = offsets, d.filter_codes = filter;
        d.minimum = trial % 4 == 3 ? d.output_zero_point : -128, d.maximum = 127;
        d.pairs_fit_int16 = 1;
        for (int i = 0; i < taps * channels; i++) d.pairs_fit_int16 &= filter[i] != -128;
        d.output = malloc((size_t)g.output_height * g.output_width * channels);
        k->depthwise(&d);
        int equal = 1;
        for (int oy = 0; oy < g.output_height; oy++)
            for (int ox = 0; ox < g.output_width; ox++)
                for (int j = 0; j < channels; j++) {
                    int32_t sum = bias[j] + convolution_sum(&g, input, d.zero_point, filter, channels, oy, ox, j, 1);
                    equal &= d.output[((size_t)oy * g.output_width + ox) * channels + j]
                        == mnw_quantmath_requantize(sum, multipliers[j], shifts[j], d.output_zero_point, d.minimum, d.maximum);
                }
        check(equal, "depthwise", k->name, trial);
        free(input), free(filter), free(d.padded), free(widened), free(base), free(offsets), free(table), free(d.output);
    }
}

static void test_elementwise(const mnw_kernels *k, int trials) {
    for (int trial = 0; trial < trials; trial++) {
        int count = between(1, 100);
        int8_t input[100], output[100], table[256];
        fill_codes(input, (size_t)count);
        fill_codes(table, 256);
        mnw_lookup l = {count, input, table, output};
        k->lookup(&l);
        int equal = 1;
        for (int i = 0; i < count; i++) equal &= output[i] == table[input[i] + 128];
        check(equal, "lookup", k->name, trial);
        int32_t minimum = between(-128, 127), maximum = between(minimum, 127);
        mnw_clamp c = {count, input, minimum, maximum, output};
        k->clamp(&c);
        equal = 1;
        for (int i = 0; i < count; i++) equal &= output[i] == (input[i] < minimum ? minimum : input[i] > maximum ? maximum : input[i]);
        check(equal, "clamp", k->name, trial);
    }
}

static void test_max_pool(const mnw_kernels *k, int trials) {
    for (int trial = 0; trial < trials; trial++) {
        int channels = between(1, 40);
        mnw_conv_geometry g = random_geometry(channels);
        g.padding_height = g.padding_height < g.kernel_height ? g.padding_height : g.kernel_height - 1;
        g.padding_width = g.padding_width < g.kernel_width ? g.padding_width : g.kernel_width - 1;
        int oh = (g.height + 2 * g.padding_height - g.kernel_height) / g.stride_height + 1;
        int ow = (g.width + 2 * g.padding_width - g.kernel_width) / g.stride_width + 1;
        if (oh < 1 || ow < 1) continue;
        int8_t *input = malloc((size_t)g.height * g.width * channels), *output = malloc((size_t)oh * ow * channels);
        fill_codes(input, (size_t)g.height * g.width * channels);
        mnw_max_pool p = {input, g.height, g.width, channels, g.kernel_height, g.kernel_width, g.stride_height, g.stride_width,
                          g.padding_height, g.padding_width, oh, ow, output};
        k->max_pool(&p);
        int equal = 1;
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
                for (int c = 0; c < channels; c++) {
                    int best = -128;
                    for (int ky = 0; ky < g.kernel_height; ky++)
                        for (int kx = 0; kx < g.kernel_width; kx++) {
                            int iy = oy * g.stride_height - g.padding_height + ky, ix = ox * g.stride_width - g.padding_width + kx;
                            if (iy >= 0 && iy < g.height && ix >= 0 && ix < g.width && input[((size_t)iy * g.width + ix) * channels + c] > best)
                                best = input[((size_t)iy * g.width + ix) * channels + c];
                        }
                    equal &= output[((size_t)oy * ow + ox) * channels + c] == best;
                }
        check(equal, "max pool", k->name, trial);
        free(input), free(output);
    }
}

/// QuantMath's rounding multiplication alone: `requantize` with zero point 0 and no clamp.
static int32_t quantmath_multiply(int32_t x, int32_t multiplier, int32_t shift) {
    return mnw_quantmath_requantize(x, multiplier, shift, 0, INT32_MIN, INT32_MAX);
}

/// A one-channel requantization table (16 equal lanes); returns its form.
static int one_channel_table(int32_t multiplier, int32_t shift, int32_t zero_point, int64_t *table) {
    int32_t multipliers[16], shifts[16];
    for (int i = 0; i < 16; i++) multipliers[i] = multiplier, shifts[i] = shift;
    return mnw_requant_prepare(multipliers, shifts, 16, zero_point, table);
}

/// The add as the runtime prepares it (Sources/MinnowRuntime/Operators/Add.swift: an input shift
/// of 0 or 1 moves into the left shift) against TFLite's int8 add in QuantMath's arithmetic: each
/// input less its zero point, shifted left by 20, rescaled; the sum requantized.
static void test_add(const mnw_kernels *k, int trials) {
    for (int trial = 0; trial < trials; trial++) {
        int count = between(1, 100);
        int8_t a[100], b[100], output[100];
        fill_codes(a, (size_t)count), fill_codes(b, (size_t)count);
        int32_t multiplier[3], shift[3], zero_point[3];
        random_multipliers(3, 1, multiplier, shift);
        shift[0] = between(-6, 1), shift[1] = between(-6, 1), shift[2] = trial % 3 == 0 ? between(-31, 3) : between(-24, -12);
        for (int i = 0; i < 3; i++) zero_point[i] = between(-128, 127);
        int64_t *tables = malloc(3 * mnw_requant_table_size(16));
        mnw_add add = {.count = count, .a = a, .b = b, .a_zero_point = zero_point[0], .b_zero_point = zero_point[1]};
        int forms[3];
        for (int i = 0; i < 3; i++) {
            int extra = i < 2 && shift[i] >= 0 ? shift[i] + 1 : 0;
            if (i == 0) add.a_left_shift = 20 + extra;
            if (i == 1) add.b_left_shift = 20 + extra;
            forms[i] = one_channel_table(multiplier[i], shift[i] - extra, i == 2 ? zero_point[2] : 0, tables + i * MNW_REQUANT_BLOCK);
        }
        add.a_table = tables, add.b_table = tables + MNW_REQUANT_BLOCK, add.output_table = tables + 2 * MNW_REQUANT_BLOCK;
        add.form = forms[0] >= MNW_REQUANT_HIGH && forms[1] >= MNW_REQUANT_HIGH ? forms[2] : MNW_REQUANT_GENERAL;
        add.output_zero_point = zero_point[2], add.minimum = trial % 4 == 3 ? zero_point[2] : -128, add.maximum = 127, add.output = output;
        k->add(&add);
        int equal = 1;
        for (int i = 0; i < count; i++) {
            int32_t sum = quantmath_multiply((a[i] - zero_point[0]) * (1 << 20), multiplier[0], shift[0])
                + quantmath_multiply((b[i] - zero_point[1]) * (1 << 20), multiplier[1], shift[1]);
            equal &= output[i] == mnw_quantmath_requantize(sum, multiplier[2], shift[2], zero_point[2], add.minimum, add.maximum);
        }
        check(equal, "add", k->name, trial);
        free(tables);
    }
}

/// A concatenation of up to four inputs, each copied or rescaled (`mnw_rescale_prepare`), against
/// QuantMath's requantization of each code less its input's zero point.
static void test_concatenate(const mnw_kernels *k, int trials) {
    for (int trial = 0; trial < trials; trial++) {
        int pixels = between(1, 10), count = between(1, 4), total = 0;
        mnw_concat_input inputs[4];
        int32_t multiplier[4], shift[4], output_zero_point = between(-128, 127);
        int64_t *tables = malloc(4 * mnw_requant_table_size(16));
        random_multipliers(4, 0, multiplier, shift);
        for (int i = 0; i < count; i++) {
            int channels = between(1, 40);
            int8_t *codes = malloc((size_t)pixels * channels);
            fill_codes(codes, (size_t)pixels * channels);
            inputs[i] = (mnw_concat_input){codes, channels, output_zero_point, NULL, 0, MNW_REQUANT_ROUNDED};
            if (between(0, 2) > 0) {
                shift[i] = between(-9, 7), inputs[i].zero_point = between(-128, 127);
                inputs[i].table = tables + i * MNW_REQUANT_BLOCK;
                inputs[i].form = mnw_rescale_prepare(multiplier[i], shift[i], output_zero_point, tables + i * MNW_REQUANT_BLOCK, &inputs[i].left_shift);
            }
            total += channels;
        }
        int8_t *output = malloc((size_t)pixels * total);
        mnw_concatenate c = {pixels, count, inputs, output_zero_point, output};
        k->concatenate(&c);
        int equal = 1;
        for (int p = 0, column = 0; p < pixels; p++, column = 0)
            for (int i = 0; i < count; column += inputs[i].channels, i++)
                for (int j = 0; j < inputs[i].channels; j++) {
                    int8_t code = inputs[i].codes[(size_t)p * inputs[i].channels + j];
                    int32_t expected = !inputs[i].table ? code
                        : mnw_quantmath_requantize(code - inputs[i].zero_point, multiplier[i], shift[i], output_zero_point, -128, 127);
                    equal &= output[(size_t)p * total + column + j] == expected;
                }
        check(equal, "concatenation", k->name, trial);
        for (int i = 0; i < count; i++) free((void *)inputs[i].codes);
        free(tables), free(output);
    }
}

int main(int argc, char **argv) {
    int trials = argc > 1 ? atoi(argv[1]) : 300;
    if (trials < 1) { fprintf(stderr, "usage: neon_kernels [TRIALS]\n"); return 2; }
    int levels[] = {MNW_LEVEL_NEON_I8MM, MNW_LEVEL_NEON_DOT, MNW_LEVEL_NEON}, tested = 0;
    for (int i = 0; i < 3; i++) {
        const mnw_kernels *k = mnw_kernels_for(levels[i]);
        if (!k) continue;
        tested++;
        int before = failures;
        test_requantize(k, trials);
        test_gemm(k, trials);
        test_depthwise(k, trials);
        test_elementwise(k, trials);
        test_max_pool(k, trials);
        test_add(k, trials);
        test_concatenate(k, trials);
        printf("neon_kernels: %s: requantize, gemm, convolution, depthwise, lookup, clamp, max pool, add, concatenation on %d random cases each: %s\n", k->name, trials,
               failures == before ? "equal to the reference" : "DIFFERENT");
    }
    if (!tested) { printf("FAIL: this CPU has no NEON kernel level\n"); return 1; }
    return failures ? 1 : 0;
}
