#ifndef MINNOW_BUILD_INFO_H
#define MINNOW_BUILD_INFO_H

/// The CPU the package was built for (`MINNOW_TARGET_CPU` when it was built: "native" unless set).
const char *mnw_build_target_cpu(void);

/// The widest x86 vector instruction set the build's code may use without a run-time check
/// ("avx512", "avx2", "sse2"), or "arm64-neon", or "unknown": what `-march` of the build target gave.
const char *mnw_build_vector_isa(void);

#endif
