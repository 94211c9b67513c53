/*
 * The runtime allocates nothing while it runs, on the AArch64 build too: this program counts the
 * heap allocations of the whole process (malloc, calloc, realloc, posix_memalign, aligned_alloc,
 * wrapped at link time with -Wl,--wrap=...), creates an interpreter through the C interface,
 * then quantizes and invokes 20 images and checks that the count did not move. scripts/arm-run.sh
 * builds it for AArch64 and runs it under QEMU.
 *   invoke_allocations MODEL.mnw     (exit status 0 when no allocation happened while running)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minnow_runtime.h"

static unsigned long allocations = 0;

void *__real_malloc(size_t size);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *pointer, size_t size);
int __real_posix_memalign(void **pointer, size_t alignment, size_t size);
void *__real_aligned_alloc(size_t alignment, size_t size);

void *__wrap_malloc(size_t size) { allocations++; return __real_malloc(size); }
void *__wrap_calloc(size_t count, size_t size) { allocations++; return __real_calloc(count, size); }
void *__wrap_realloc(void *pointer, size_t size) { allocations++; return __real_realloc(pointer, size); }
int __wrap_posix_memalign(void **pointer, size_t alignment, size_t size) { allocations++; return __real_posix_memalign(pointer, alignment, size); }
void *__wrap_aligned_alloc(size_t alignment, size_t size) { allocations++; return __real_aligned_alloc(alignment, size); }

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: invoke_allocations MODEL.mnw\n"); return 2; }
    FILE *file = fopen(argv[1], "rb");
    if (!file) { perror(argv[1]); return 2; }
    fseek(file, 0, SEEK_END);
    size_t size = (size_t)ftell(file);
    rewind(file);
    void *model = aligned_alloc(MINNOW_ARENA_ALIGNMENT, (size / 16 + 1) * 16);
    if (fread(model, 1, size, file) != size) { fprintf(stderr, "%s: short read\n", argv[1]); return 2; }
    fclose(file);

    minnow_error error;
    size_t arena_size = 0;
    minnow_interpreter *interpreter = NULL;
    if (minnow_arena_size(model, size, &arena_size, &error) != MINNOW_OK) { fprintf(stderr, "%s\n", error.message); return 1; }
    void *arena = aligned_alloc(MINNOW_ARENA_ALIGNMENT, (arena_size / 16 + 1) * 16);
    if (minnow_interpreter_create(model, size, arena, arena_size, MINNOW_KERNELS_FASTEST, &interpreter, &error) != MINNOW_OK) {
        fprintf(stderr, "%s\n", error.message);
        return 1;
    }
    size_t count = minnow_input_count(interpreter);
    float *values = malloc(count * sizeof(float));
    unsigned long created = allocations;
    for (int image = 0; image < 20; image++) {
        for (size_t i = 0; i < count; i++) values[i] = (float)((i * 7 + (size_t)image * 31) % 97) / 48.0f - 1.0f;
        if (minnow_quantize_input(interpreter, values, count, &error) != MINNOW_OK || minnow_invoke(interpreter, &error) != MINNOW_OK) {
            fprintf(stderr, "%s\n", error.message);
            return 1;
        }
    }
    unsigned long running = allocations - created;
    printf("invoke_allocations: %lu allocations to create the interpreter, %lu while quantizing and invoking 20 images\n", created, running);
    minnow_interpreter_free(interpreter);
    free(values);
    free(arena);
    free(model);
    return running == 0 && created > 0 ? 0 : 1;
}
