// What the build targeted, from the compiler's own macros for the same CPU target as the Swift
// code (Package.swift passes MINNOW_TARGET_CPU to both).
#include "BuildInfo.h"

const char *mnw_build_target_cpu(void) { return MINNOW_TARGET_CPU; }

const char *mnw_build_vector_isa(void) {
#if defined(__AVX512F__)
    return "avx512";
#elif defined(__AVX2__)
    return "avx2";
#elif defined(__x86_64__)
    return "sse2";
#elif defined(__aarch64__)
    return "arm64-neon";
#else
    return "unknown";
#endif
}
