// AArch64 NEON: the residual add, clamp, concatenation, table lookup and the requantization alone.
#include "Levels.h"

#if defined(__aarch64__)
#include "NEONCommon.h"

/// The low four int16 lanes widened (the counterpart of vmovl_high_s16).
MNW_NEON_INLINE int32x4_t vmovl_low(int16x8_t x) { return vmovl_s16(vget_low_s16(x)); }

/// Sixteen codes of the add in any form: each input less its zero point, shifted left, rescaled
/// by its one-channel table; the sum requantized by the output's.
MNW_NEON_INLINE int8x16_t add16_general(int8x16_t x, int8x16_t y, neon_table4 ta, neon_table4 tb, neon_table4 to, int32x4_t zero_points[3],
                                        int32x4_t shifts[2], int8x16_t minimum, int8x16_t maximum) {
    int32x4_t xs[4], ys[4], q[4];
    neon_widen16(x, zero_points[0], shifts[0], xs);
    neon_widen16(y, zero_points[1], shifts[1], ys);
    for (int i = 0; i < 4; i++) q[i] = neon_requant4(vaddq_s32(neon_multiply4(xs[i], ta, 1), neon_multiply4(ys[i], tb, 1)), to, zero_points[2], 1);
    return neon_narrow16(q[0], q[1], q[2], q[3], minimum, maximum);
}

static void add_general(const mnw_add *a) {
    neon_table4 ta = neon_table4_load(a->a_table, 0), tb = neon_table4_load(a->b_table, 0), to = neon_table4_load(a->output_table, 0);
    int32x4_t zero_points[3] = {vdupq_n_s32(a->a_zero_point), vdupq_n_s32(a->b_zero_point), vdupq_n_s32(a->output_zero_point)};
    int32x4_t shifts[2] = {vdupq_n_s32(a->a_left_shift), vdupq_n_s32(a->b_left_shift)};
    int8x16_t minimum = vdupq_n_s8((int8_t)a->minimum), maximum = vdupq_n_s8((int8_t)a->maximum);
    int count = a->count;
    for (int i = 0; i < count; i += 16) {
        int left = count - i;
        int8x16_t codes = add16_general(neon_load16(a->a + i, left, 0), neon_load16(a->b + i, left, 0), ta, tb, to, zero_points, shifts, minimum, maximum);
        neon_store16(a->output + i, left, codes);
    }
}

/// Four lanes of one input of the add in the short form: (x - zero point) << shift (the difference
/// already widened to int16, exact for codes and zero points in int8), rescaled.
#define MNW_SCALED4(DIFFERENCE16, HALF, SHIFT, M, S) \
    vrshlq_s32(vqdmulhq_s32(vshlq_s32(HALF(DIFFERENCE16), SHIFT), M), S)

/// The add with every table in a short form (total shifts of at least 32) on 16 codes, written out
/// (GCC loops over arrays of vectors through memory). The output's zero point is added after
/// narrowing to int16 with saturation: the rescaled sum is within 2^30 and the clamp to int8 codes
/// then gives what QuantMath's 32-bit sum gives.
typedef struct {
    int32x4_t ma, sa, mb, sb, mo, so, shift_a, shift_b;
    int8x16_t za, zb, minimum, maximum;
    int16x8_t zo;
} add_constants;

MNW_NEON_INLINE int8x16_t add16_short(int8x16_t x, int8x16_t y, const add_constants k) {
    int16x8_t x_low = vsubl_s8(vget_low_s8(x), vget_low_s8(k.za)), x_high = vsubl_high_s8(x, k.za);
    int16x8_t y_low = vsubl_s8(vget_low_s8(y), vget_low_s8(k.zb)), y_high = vsubl_high_s8(y, k.zb);
#define MNW_SCALED4(DIFFERENCE16, HALF, SHIFT, M, S) vrshlq_s32(vqdmulhq_s32(vshlq_s32(HALF(DIFFERENCE16), SHIFT), M), S)
#define MNW_SUM4(XD, YD, HALF) \
    vrshlq_s32(vqdmulhq_s32(vaddq_s32(MNW_SCALED4(XD, HALF, k.shift_a, k.ma, k.sa), MNW_SCALED4(YD, HALF, k.shift_b, k.mb, k.sb)), k.mo), k.so)
    int16x8_t low = vqmovn_high_s32(vqmovn_s32(MNW_SUM4(x_low, y_low, vmovl_low)), MNW_SUM4(x_low, y_low, vmovl_high_s16));
    int16x8_t high = vqmovn_high_s32(vqmovn_s32(MNW_SUM4(x_high, y_high, vmovl_low)), MNW_SUM4(x_high, y_high, vmovl_high_s16));
#undef MNW_SUM4
#undef MNW_SCALED4
    int8x16_t codes = vqmovn_high_s16(vqmovn_s16(vqaddq_s16(low, k.zo)), vqaddq_s16(high, k.zo));
    return vminq_s8(vmaxq_s8(codes, k.minimum), k.maximum);
}

static void add_short(const mnw_add *arguments) {
    const mnw_add a = *arguments;  // fields read once: the stores may alias them
    add_constants k = {vld1q_s32((const int32_t *)(a.a_table + 64)), vld1q_s32((const int32_t *)(a.a_table + 72)),
                       vld1q_s32((const int32_t *)(a.b_table + 64)), vld1q_s32((const int32_t *)(a.b_table + 72)),
                       vld1q_s32((const int32_t *)(a.output_table + 64)), vld1q_s32((const int32_t *)(a.output_table + 72)),
                       vdupq_n_s32(a.a_left_shift), vdupq_n_s32(a.b_left_shift), vdupq_n_s8((int8_t)a.a_zero_point),
                       vdupq_n_s8((int8_t)a.b_zero_point), vdupq_n_s8((int8_t)a.minimum), vdupq_n_s8((int8_t)a.maximum),
                       vdupq_n_s16((int16_t)a.output_zero_point)};
    int i = 0;
    for (; i + 16 <= a.count; i += 16) vst1q_s8(a.output + i, add16_short(vld1q_s8(a.a + i), vld1q_s8(a.b + i), k));
    if (i < a.count) {
        int left = a.count - i;
        neon_store16(a.output + i, left, add16_short(neon_load16(a.a + i, left, 0), neon_load16(a.b + i, left, 0), k));
    }
}

void mnw_add_neon(const mnw_add *a) {
    int int8_zero_points = a->a_zero_point >= -128 && a->a_zero_point <= 127 && a->b_zero_point >= -128 && a->b_zero_point <= 127;
    if (a->form == MNW_REQUANT_GENERAL || !int8_zero_points) add_general(a);
    else add_short(a);
}

void mnw_clamp_neon(const mnw_clamp *c) {
    int count = c->count;
    const int8_t *input = c->input;
    int8_t *output = c->output;
    int8x16_t minimum = vdupq_n_s8((int8_t)c->minimum), maximum = vdupq_n_s8((int8_t)c->maximum);
    for (int i = 0; i < count; i += 16) neon_store16(output + i, count - i, vminq_s8(vmaxq_s8(neon_load16(input + i, count - i, 0), minimum), maximum));
}

/// A rescaled input of a concatenation in any form: per pixel, 16 channels at a time.
static void rescale_input_general(mnw_concat_input input, int pixels, int total, int32x4_t output_zero_point, int8_t *column) {
    neon_table4 t = neon_table4_load(input.table, 0);
    int32x4_t zero_point = vdupq_n_s32(input.zero_point), shift = vdupq_n_s32(input.left_shift);
    int8x16_t minimum = vdupq_n_s8(-128), maximum = vdupq_n_s8(127);
    for (int pixel = 0; pixel < pixels; pixel++)
        for (int j = 0; j < input.channels; j += 16) {
            int left = input.channels - j;
            int32x4_t x[4];
            neon_widen16(neon_load16(input.codes + (size_t)pixel * input.channels + j, left, 0), zero_point, shift, x);
            for (int i = 0; i < 4; i++) x[i] = neon_requant4(x[i], t, output_zero_point, 1);
            neon_store16(column + (size_t)pixel * total + j, left, neon_narrow16(x[0], x[1], x[2], x[3], minimum, maximum));
        }
}

/// Sixteen codes of a rescaled input in the short form (total shift at least 32), written out: the
/// difference to the zero point in int16 (exact for int8 codes and zero point), widened, shifted,
/// rescaled; the output zero point added in int16 after narrowing (the rescaled value is within
/// 2^30, so saturating there and at the int8 narrowing gives QuantMath's codes).
MNW_NEON_INLINE int8x16_t rescale16_short(int8x16_t codes, int8x16_t zero_point, int32x4_t shift, int32x4_t m, int32x4_t s, int16x8_t output_zero_point) {
    int16x8_t low = vsubl_s8(vget_low_s8(codes), vget_low_s8(zero_point)), high = vsubl_high_s8(codes, zero_point);
#define MNW_RESCALE4(HALF, D) vrshlq_s32(vqdmulhq_s32(vshlq_s32(HALF(D), shift), m), s)
    int16x8_t low16 = vqmovn_high_s32(vqmovn_s32(MNW_RESCALE4(vmovl_low, low)), MNW_RESCALE4(vmovl_high_s16, low));
    int16x8_t high16 = vqmovn_high_s32(vqmovn_s32(MNW_RESCALE4(vmovl_low, high)), MNW_RESCALE4(vmovl_high_s16, high));
#undef MNW_RESCALE4
    return vqmovn_high_s16(vqmovn_s16(vqaddq_s16(low16, output_zero_point)), vqaddq_s16(high16, output_zero_point));
}

static void rescale_input_short(mnw_concat_input input, int pixels, int total, int32_t output_zero_point, int8_t *column) {
    int8x16_t zero_point = vdupq_n_s8((int8_t)input.zero_point);
    int32x4_t shift = vdupq_n_s32(input.left_shift);
    int32x4_t m = vld1q_s32((const int32_t *)(input.table + 64)), s = vld1q_s32((const int32_t *)(input.table + 72));
    int16x8_t output_zp = vdupq_n_s16((int16_t)output_zero_point);
    int channels = input.channels;
    for (int pixel = 0; pixel < pixels; pixel++) {
        const int8_t *from = input.codes + (size_t)pixel * channels;
        int8_t *to = column + (size_t)pixel * total;
        int j = 0;
        for (; j + 16 <= channels; j += 16) vst1q_s8(to + j, rescale16_short(vld1q_s8(from + j), zero_point, shift, m, s, output_zp));
        if (j < channels) neon_store16(to + j, channels - j, rescale16_short(neon_load16(from + j, channels - j, 0), zero_point, shift, m, s, output_zp));
    }
}

/// A copied input of a concatenation: per pixel its channels, 16 at a time (a `memcpy` call per
/// pixel cost more than the copy for the tens of channels these layers have).
static void copy_input(mnw_concat_input input, int pixels, int total, int8_t *column) {
    int channels = input.channels;
    for (int pixel = 0; pixel < pixels; pixel++) {
        const int8_t *from = input.codes + (size_t)pixel * channels;
        int8_t *to = column + (size_t)pixel * total;
        int j = 0;
        for (; j + 16 <= channels; j += 16) vst1q_s8(to + j, vld1q_s8(from + j));
        for (; j < channels; j++) to[j] = from[j];
    }
}

/// One input at a time over every pixel: copied, or rescaled in its table's form.
void mnw_concatenate_neon(const mnw_concatenate *c) {
    int pixels = c->pixels, count = c->count, total = 0;
    const mnw_concat_input *inputs = c->inputs;
    for (int i = 0; i < count; i++) total += inputs[i].channels;
    int32x4_t zero_point = vdupq_n_s32(c->output_zero_point);
    int8_t *column = c->output;
    for (int i = 0; i < count; i++) {
        const mnw_concat_input input = inputs[i];
        int int8_zero_points = input.zero_point >= -128 && input.zero_point <= 127 && c->output_zero_point >= -128 && c->output_zero_point <= 127;
        if (!input.table) copy_input(input, pixels, total, column);
        else if (input.form == MNW_REQUANT_GENERAL || !int8_zero_points) rescale_input_general(input, pixels, total, zero_point, column);
        else rescale_input_short(input, pixels, total, c->output_zero_point, column);
        column += input.channels;
    }
}

/// The 256-entry lookup: the unsigned index (code + 128) looked up in the table's four 64-entry
/// quarters (`tbl` on four registers gives 0 for an index past 63; each quarter's `tbx` fills in
/// its own indices, the index lowered by 64 each time).
void mnw_lookup_neon(const mnw_lookup *l) {
    const mnw_lookup f = *l;  // fields read once: the byte stores may alias them
    int8x16x4_t quarters[4];
    for (int q = 0; q < 4; q++) quarters[q] = vld1q_s8_x4(f.table + 64 * q);
    uint8x16_t sixty_four = vdupq_n_u8(64), flip = vdupq_n_u8(0x80);
    for (int i = 0; i < f.count; i += 16) {
        uint8x16_t index = veorq_u8(vreinterpretq_u8_s8(neon_load16(f.input + i, f.count - i, 0)), flip);
        int8x16_t result = vqtbl4q_s8(quarters[0], index);
        for (int q = 1; q < 4; q++) {
            index = vsubq_u8(index, sixty_four);
            result = vqtbx4q_s8(result, quarters[q], index);
        }
        neon_store16(f.output + i, f.count - i, result);
    }
}

/// The requantization alone (for tests), in any form.
void mnw_requantize_neon(const int32_t *accumulators, int count, const int64_t *table, int form, int32_t zero_point, int32_t minimum,
                         int32_t maximum, int8_t *output) {
    int32x4_t zp = vdupq_n_s32(zero_point);
    int8x16_t low = vdupq_n_s8((int8_t)minimum), high = vdupq_n_s8((int8_t)maximum);
    for (int i = 0; i < count; i += 16) {
        int n = count - i < 16 ? count - i : 16;
        int32_t lanes[16] = {0};
        memcpy(lanes, accumulators + i, (size_t)n * sizeof(int32_t));
        int32x4_t x[4] = {vld1q_s32(lanes), vld1q_s32(lanes + 4), vld1q_s32(lanes + 8), vld1q_s32(lanes + 12)};
        neon_table4 quarters[4];
        neon_table16_load(table + (size_t)(i / 16) * MNW_REQUANT_BLOCK, quarters);
        if (form == MNW_REQUANT_GENERAL) neon_requant_store16(output + i, n, x, quarters, zp, low, high, 1);
        else neon_requant_store16(output + i, n, x, quarters, zp, low, high, 0);
    }
}
#endif
