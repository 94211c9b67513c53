// The kernel table of each instruction-set level (XNNPACK's per-operator configs, in one place):
// constant tables, one chosen per level after a CPU check. A new level (an ARM one) is new kernel
// files and one table here; the interpreter does not change.
#include "Levels.h"

#if defined(__x86_64__)
/// The AVX-VNNI level's depthwise: the column kernel where the arguments ask for it, else AVX2's.
static void depthwise_avx_vnni(const mnw_depthwise *a) { (a->columns ? mnw_depthwise_avxvnni : mnw_depthwise_avx2)(a); }

#define MNW_AVX512_TABLE(COLUMNS)                                                                                    \
    {"avx512-vnni", 0, 0, COLUMNS, 0, 0, mnw_gemm_vnni, mnw_depthwise_avx512, mnw_add_avx512, mnw_concatenate_avx512, \
     mnw_max_pool_avx512, mnw_global_average_pool_avx512, mnw_clamp_avx512, mnw_lookup_avx2, mnw_requantize_avx512}
static const mnw_kernels avx512_vnni = MNW_AVX512_TABLE(0), avx512_vbmi = MNW_AVX512_TABLE(1);
static const mnw_kernels avx_vnni = {"avx-vnni", 1, 0, 1, 0, 0, mnw_gemm_avxvnni, depthwise_avx_vnni, mnw_add_avx2, mnw_concatenate_avx2,
                                     mnw_max_pool_avx2, mnw_global_average_pool_avx2, mnw_clamp_avx2, mnw_lookup_avx2, mnw_requantize_avx2};
static const mnw_kernels avx2 = {"avx2", 1, 1, 1, 0, 0, mnw_gemm_avx2, mnw_depthwise_avx2, mnw_add_avx2, mnw_concatenate_avx2,
                                 mnw_max_pool_avx2, mnw_global_average_pool_avx2, mnw_clamp_avx2, mnw_lookup_avx2, mnw_requantize_avx2};

const mnw_kernels *mnw_kernels_for(int level) {
    switch (level) {
    case MNW_LEVEL_AVX512_VNNI: return !mnw_cpu_has_avx512vnni() ? NULL : mnw_cpu_has_avx512vbmi() ? &avx512_vbmi : &avx512_vnni;
    case MNW_LEVEL_AVX_VNNI: return mnw_cpu_has_avxvnni() ? &avx_vnni : NULL;
    case MNW_LEVEL_AVX2: return mnw_cpu_has_avx2() ? &avx2 : NULL;
    default: return NULL;
    }
}
#elif defined(__aarch64__)
#define MNW_NEON_TABLE(NAME, PAIRS, GEMM)                                                                            \
    {NAME, 0, 0, 0, 1, PAIRS, GEMM, mnw_depthwise_neon, mnw_add_neon, mnw_concatenate_neon, mnw_max_pool_neon,             \
     mnw_global_average_pool_neon, mnw_clamp_neon, mnw_lookup_neon, mnw_requantize_neon}
static const mnw_kernels neon_i8mm = MNW_NEON_TABLE("neon-i8mm", 1, mnw_gemm_neon_i8mm), neon_dot = MNW_NEON_TABLE("neon-dot", 0, mnw_gemm_neon_dot),
                         neon = MNW_NEON_TABLE("neon", 0, mnw_gemm_neon);

const mnw_kernels *mnw_kernels_for(int level) {
    switch (level) {
    case MNW_LEVEL_NEON_I8MM: return mnw_cpu_has_i8mm() && mnw_cpu_has_dotprod() ? &neon_i8mm : NULL;
    case MNW_LEVEL_NEON_DOT: return mnw_cpu_has_dotprod() ? &neon_dot : NULL;
    case MNW_LEVEL_NEON: return &neon;
    default: return NULL;
    }
}
#else
const mnw_kernels *mnw_kernels_for(int level) {
    (void)level;
    return NULL;
}
#endif
