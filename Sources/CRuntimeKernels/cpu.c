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
#else
int mnw_cpu_has_avx512vnni(void) { return 0; }
int mnw_cpu_has_avx512vbmi(void) { return 0; }
int mnw_cpu_has_avx2(void) { return 0; }
int mnw_cpu_has_avxvnni(void) { return 0; }
#endif
