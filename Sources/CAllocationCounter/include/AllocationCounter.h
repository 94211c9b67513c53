#ifndef MINNOW_ALLOCATION_COUNTER_H
#define MINNOW_ALLOCATION_COUNTER_H

/// Heap allocations (malloc, calloc, realloc, aligned_alloc, posix_memalign, memalign) made by
/// this process so far. A program that links this target counts every allocation of every
/// library: the functions below replace glibc's and forward to it (Linux only; elsewhere the
/// count stays 0 and `minnow_allocation_counting` is 0).
unsigned long long minnow_allocation_count(void);

/// 1 when allocations are counted on this platform.
int minnow_allocation_counting(void);

#endif
