#ifndef MINNOW_LEVELS_H
#define MINNOW_LEVELS_H

// The kernels of each instruction-set level (not part of the target's interface: callers reach
// them through `mnw_kernels_for`), and the CPU checks that pick the levels. Each function requires
// its level's CPU features.

#include "RuntimeKernels.h"

/// 1 when the CPU has the features: AVX-512 F/BW/VL + VNNI; also VBMI; AVX2; AVX2 + AVX-VNNI.
int mnw_cpu_has_avx512vnni(void);
int mnw_cpu_has_avx512vbmi(void);
int mnw_cpu_has_avx2(void);
int mnw_cpu_has_avxvnni(void);
/// 1 on AArch64 with the dot-product instructions (FEAT_DotProd).
int mnw_cpu_has_dotprod(void);
/// 1 on AArch64 with the int8 matrix multiply (FEAT_I8MM).
int mnw_cpu_has_i8mm(void);

// AVX-512 VNNI (gemm_avx512.c, depthwise_avx512.c, elementwise_avx512.c, pooling_avx512.c,
// requant_avx512.c).
void mnw_gemm_vnni(const mnw_gemm *a);
/// The multiply-add kernel, or with `columns` the vpdpbusd column kernel (needs VBMI).
void mnw_depthwise_avx512(const mnw_depthwise *a);
void mnw_add_avx512(const mnw_add *a);
void mnw_concatenate_avx512(const mnw_concatenate *c);
void mnw_max_pool_avx512(const mnw_max_pool *p);
void mnw_global_average_pool_avx512(const mnw_global_average_pool *p);
void mnw_clamp_avx512(const mnw_clamp *c);
void mnw_requantize_avx512(const int32_t *accumulators, int count, const int64_t *table, int form, int32_t zero_point, int32_t minimum,
                           int32_t maximum, int8_t *output);

// AVX2 (gemm_avx2.c, depthwise_avx2.c, elementwise_avx2.c, pooling_avx2.c): short requantization
// forms only.
/// vpmaddwd on 16-bit pairs (`packed_words`), or, when `packed_words` is NULL (every weight in
/// [-64, 63]), vpmaddubsw on the bytes (`packed`); tiles of 4 (words) or 5 (bytes) rows x 16 outputs.
void mnw_gemm_avx2(const mnw_gemm *a);
/// The depthwise kernel on 8 channels at a time: with `columns` (3 x 3, stride 1 or 2, weights in
/// [-64, 63]) the column kernel on bytes (vpmaddubsw), else every tap widened and multiplied.
void mnw_depthwise_avx2(const mnw_depthwise *a);
void mnw_add_avx2(const mnw_add *a);
void mnw_max_pool_avx2(const mnw_max_pool *p);
void mnw_global_average_pool_avx2(const mnw_global_average_pool *p);
void mnw_clamp_avx2(const mnw_clamp *c);
/// Copies, or rescales in a short form (`mnw_rescale_prepare`), each input in turn.
void mnw_concatenate_avx2(const mnw_concatenate *c);
/// The requantization alone, in a short form (`form` at least `MNW_REQUANT_HIGH`).
void mnw_requantize_avx2(const int32_t *accumulators, int count, const int64_t *table, int form, int32_t zero_point, int32_t minimum,
                         int32_t maximum, int8_t *output);
/// A 256-entry table lookup, 32 codes at a time (vpshufb on each 16-entry block, blended by the
/// high nibble); every x86 level uses it (AVX-512 CPUs have AVX2).
void mnw_lookup_avx2(const mnw_lookup *l);

// AVX-VNNI (gemm_avx2.c, depthwise_avx2.c): 256-bit vpdpbusd on `mnw_gemm_pack`'s bytes, tiles of 6
// rows x 16 outputs; the column depthwise kernel on 8 channels.
void mnw_gemm_avxvnni(const mnw_gemm *a);
void mnw_depthwise_avxvnni(const mnw_depthwise *a);

// AArch64 (gemm_neon.c, depthwise_neon.c, elementwise_neon.c, pooling_neon.c): every
// requantization form; the GEMM on signed codes (`gemm_signed_input`).
/// sdot (needs FEAT_DotProd): tiles of 4 rows x 16 outputs.
void mnw_gemm_neon_dot(const mnw_gemm *a);
/// The GEMM on smmla (FEAT_I8MM): reads `packed_pairs`.
void mnw_gemm_neon_i8mm(const mnw_gemm *a);
/// smull and sadalp: tiles of 2 rows x 16 outputs.
void mnw_gemm_neon(const mnw_gemm *a);
/// smull and saddw on 16 channels, `filter_codes`.
void mnw_depthwise_neon(const mnw_depthwise *a);
void mnw_add_neon(const mnw_add *a);
void mnw_concatenate_neon(const mnw_concatenate *c);
void mnw_max_pool_neon(const mnw_max_pool *p);
void mnw_global_average_pool_neon(const mnw_global_average_pool *p);
void mnw_clamp_neon(const mnw_clamp *c);
/// tbl and tbx on the table's four 64-entry quarters.
void mnw_lookup_neon(const mnw_lookup *l);
void mnw_requantize_neon(const int32_t *accumulators, int count, const int64_t *table, int form, int32_t zero_point, int32_t minimum,
                         int32_t maximum, int8_t *output);

#endif
