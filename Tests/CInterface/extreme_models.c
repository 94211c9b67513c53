/*
 * The valid but extreme model files of HostileModelTests (committed in
 * Tests/Fixtures/extreme-models/ with the reference kernels' output codes) run on one kernel level
 * through the C interface: each file's input codes set to HostileModelTests' fixed pattern
 * (code i = i * 13 mod 255, as a signed byte), one invocation, the output codes compared with the
 * committed ones. scripts/arm-run.sh builds it for AArch64 and runs it under QEMU on every NEON
 * level, where XCTest cannot run.
 *   extreme_models fastest|reference|neon-i8mm|neon-dot|neon MODEL.mnw...
 *   (exit status 0 when every model gives its committed codes; MODEL.codes beside each file)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minnow_runtime.h"

/* A whole file into a buffer aligned for the runtime; NULL when it cannot be read. */
static void *read_aligned(const char *path, size_t *size) {
    FILE *file = fopen(path, "rb");
    if (!file) return NULL;
    fseek(file, 0, SEEK_END);
    long length = ftell(file);
    fseek(file, 0, SEEK_SET);
    size_t rounded = ((size_t)(length > 0 ? length : 1) + MINNOW_ARENA_ALIGNMENT - 1) / MINNOW_ARENA_ALIGNMENT * MINNOW_ARENA_ALIGNMENT;
    void *bytes = aligned_alloc(MINNOW_ARENA_ALIGNMENT, rounded);
    if (bytes && length >= 0 && fread(bytes, 1, (size_t)length, file) == (size_t)length) {
        *size = (size_t)length;
    } else {
        free(bytes);
        bytes = NULL;
    }
    fclose(file);
    return bytes;
}

/* Runs one model; returns 1 when its codes equal the committed ones, printing what differs, and
   sets `*level` to the kernel level that ran. */
static int check_model(const char *path, minnow_kernels kernels, const char **level) {
    char codes_path[4096];
    size_t length = strlen(path), model_size = 0, codes_size = 0, arena_size = 0;
    if (length < 4 || length >= sizeof codes_path || strcmp(path + length - 4, ".mnw") != 0) {
        printf("FAIL %s: not a .mnw path\n", path);
        return 0;
    }
    snprintf(codes_path, sizeof codes_path, "%.*s.codes", (int)(length - 4), path);
    void *model = read_aligned(path, &model_size);
    int8_t *expected = read_aligned(codes_path, &codes_size);
    minnow_error error;
    minnow_interpreter *interpreter = NULL;
    void *arena = NULL;
    int equal = 0;
    if (!model || !expected) {
        printf("FAIL %s: cannot read it or %s\n", path, codes_path);
    } else if (minnow_arena_size(model, model_size, &arena_size, &error) != MINNOW_OK
               || !(arena = aligned_alloc(MINNOW_ARENA_ALIGNMENT, (arena_size / MINNOW_ARENA_ALIGNMENT + 1) * MINNOW_ARENA_ALIGNMENT))
               || minnow_interpreter_create(model, model_size, arena, arena_size, kernels, &interpreter, &error) != MINNOW_OK) {
        printf("FAIL %s: %s\n", path, arena ? error.message : "no arena");
    } else {
        *level = minnow_kernel_level(interpreter);
        int8_t *input = minnow_input_codes(interpreter);
        for (size_t i = 0; i < minnow_input_count(interpreter); i++) input[i] = (int8_t)(i * 13 % 255);
        if (minnow_invoke(interpreter, &error) != MINNOW_OK) {
            printf("FAIL %s: %s\n", path, error.message);
        } else if (minnow_output_count(interpreter) != codes_size) {
            printf("FAIL %s: %lu output codes, %lu committed\n", path, (unsigned long)minnow_output_count(interpreter), (unsigned long)codes_size);
        } else {
            equal = memcmp(minnow_output_codes(interpreter), expected, codes_size) == 0;
            if (!equal) printf("FAIL %s: output codes differ from the reference kernels' on %s\n", path, minnow_kernel_level(interpreter));
        }
    }
    minnow_interpreter_free(interpreter);
    free(arena), free(model), free(expected);
    return equal;
}

int main(int argc, char **argv) {
    const char *names[] = {"fastest", "reference", "neon-dot", "neon", "neon-i8mm"};  // by minnow_kernels value
    int level = -1;
    for (int i = 0; argc > 1 && i < 5; i++)
        if (strcmp(argv[1], names[i]) == 0) level = i;
    if (argc < 3 || level < 0) {
        fprintf(stderr, "usage: extreme_models fastest|reference|neon-i8mm|neon-dot|neon MODEL.mnw...\n");
        return 2;
    }
    int failures = 0;
    const char *ran = names[level];
    for (int i = 2; i < argc; i++) failures += !check_model(argv[i], (minnow_kernels)level, &ran);
    printf("extreme_models: %d of %d files give the reference kernels' codes on the %s kernels\n", argc - 2 - failures, argc - 2, ran);
    return failures ? 1 : 0;
}
