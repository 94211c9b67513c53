// Requantization tables (plain C, run once when an interpreter is prepared).
#include "RuntimeKernels.h"

#include <string.h>

int mnw_rescale_prepare(int32_t multiplier, int32_t shift, int32_t zero_point, int64_t *table, int32_t *left_shift) {
    int32_t extra = shift + 1 <= 0 ? 0 : shift + 1 < 8 ? shift + 1 : 8, multipliers[16], shifts[16];
    for (int lane = 0; lane < 16; lane++) multipliers[lane] = multiplier, shifts[lane] = shift - extra;
    *left_shift = extra;
    return mnw_requant_prepare(multipliers, shifts, 16, zero_point, table);
}

size_t mnw_requant_table_size(int count) { return (size_t)((count + 15) / 16) * MNW_REQUANT_BLOCK * sizeof(int64_t); }

int mnw_requant_prepare(const int32_t *multipliers, const int32_t *shifts, int count, int32_t zero_point, int64_t *table) {
    int blocks = (count + 15) / 16, high = 1, rounded = 1;
    memset(table, 0, mnw_requant_table_size(count));
    for (int b = 0; b < blocks; b++) {
        int64_t *block = table + (size_t)b * MNW_REQUANT_BLOCK;
        int32_t *high_shifts = (int32_t *)(block + 48), *constants = (int32_t *)(block + 56);
        int32_t *lane_multipliers = (int32_t *)(block + 64), *negated_high_shifts = (int32_t *)(block + 72);
        int64_t *negated_totals = block + 80;
        for (int lane = 0; lane < 16; lane++) {
            int channel = 16 * b + lane, half = lane & 1, slot = lane >> 1;
            // Unused lanes: multiplier 0, total shift 33 (their results are never stored).
            int64_t total = channel < count ? 31 - (int64_t)shifts[channel] : 33;  // 1...62: the loader keeps shifts in -31...30
            block[8 * half + slot] = channel < count ? (int64_t)(uint32_t)multipliers[channel] : 0;
            block[16 + 8 * half + slot] = total;
            block[32 + 8 * half + slot] = (int64_t)1 << (total - 1);
            high_shifts[lane] = total >= 32 ? (int32_t)(total - 32) : 0;
            lane_multipliers[lane] = channel < count ? multipliers[channel] : 0;
            negated_high_shifts[lane] = total >= 32 ? (int32_t)(31 - total) : 0;
            negated_totals[lane] = -total;
            if (total < 32) high = 0;
            if (total < 33 || total > 52) rounded = 0;
            else constants[lane] = (int32_t)(((int64_t)1 << (total - 33)) + ((int64_t)zero_point << (total - 32)));
        }
    }
    return rounded ? MNW_REQUANT_ROUNDED : high ? MNW_REQUANT_HIGH : MNW_REQUANT_GENERAL;
}
