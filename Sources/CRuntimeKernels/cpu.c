// CPU feature checks (the levels' preconditions).
#include "Levels.h"

#if defined(__x86_64__)
int mnw_cpu_has_avx512vnni(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")
        && __builtin_cpu_supports("avx512vnni");
}

int mnw_cpu_has_avx512vbmi(void) {
    __builtin_cpu_init();
    return mnw_cpu_has_avx512vnni() && __builtin_cpu_supports("avx512vbmi");
}

int mnw_cpu_has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
}

int mnw_cpu_has_avxvnni(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("avxvnni");
}
int mnw_cpu_has_dotprod(void) { return 0; }
int mnw_cpu_has_i8mm(void) { return 0; }
#else
int mnw_cpu_has_avx512vnni(void) { return 0; }
int mnw_cpu_has_avx512vbmi(void) { return 0; }
int mnw_cpu_has_avx2(void) { return 0; }
int mnw_cpu_has_avxvnni(void) { return 0; }
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1 << 13)
#endif
int mnw_cpu_has_dotprod(void) { return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0; }
int mnw_cpu_has_i8mm(void) { return (getauxval(AT_HWCAP2) & HWCAP2_I8MM) != 0; }
#elif defined(__aarch64__) && defined(__APPLE__)
#include <sys/sysctl.h>
// Every Apple Silicon CPU (M1, A14 on) has the dot-product instructions; M2 and A15 on also I8MM.
int mnw_cpu_has_dotprod(void) { return 1; }
int mnw_cpu_has_i8mm(void) {
    int value = 0;
    size_t size = sizeof value;
    return sysctlbyname("hw.optional.arm.FEAT_I8MM", &value, &size, NULL, 0) == 0 && value == 1;
}
#else
// Bare metal: no operating system to ask; the build says (-DMNW_ASSUME_DOTPROD, -DMNW_ASSUME_I8MM,
// or a -mcpu/-march with +dotprod, +i8mm).
#if defined(__aarch64__) && (defined(MNW_ASSUME_DOTPROD) || defined(__ARM_FEATURE_DOTPROD))
int mnw_cpu_has_dotprod(void) { return 1; }
#else
int mnw_cpu_has_dotprod(void) { return 0; }
#endif
#if defined(__aarch64__) && (defined(MNW_ASSUME_I8MM) || defined(__ARM_FEATURE_MATMUL_INT8))
int mnw_cpu_has_i8mm(void) { return 1; }
#else
int mnw_cpu_has_i8mm(void) { return 0; }
#endif
#endif
#endif
