/*
 * Checks of the runtime's C interface that a C caller can get wrong: a corrupt model buffer, a
 * too-small or misaligned arena, NULL pointers, a wrong input count, NaN input. Each must return
 * its error code with a message, never crash. Run by CInterfaceTests with an exported model:
 *   api_checks MODEL.mnw     (prints one line per check; exit status 0 when all pass)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minnow_runtime.h"

static int failures = 0;

static void expect(const char *name, minnow_status got, minnow_status wanted, const minnow_error *error) {
    int message_ok = got == MINNOW_OK || (error->status == got && strlen(error->message) > 0);
    if (got == wanted && message_ok) {
        printf("pass %s: %s: %s\n", name, minnow_status_name(got), error->message);
    } else {
        printf("FAIL %s: got %s (%d), wanted %s: %s\n", name, minnow_status_name(got), got, minnow_status_name(wanted), error->message);
        failures++;
    }
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: api_checks MODEL.mnw\n"); return 2; }
    FILE *file = fopen(argv[1], "rb");
    if (!file) { perror(argv[1]); return 2; }
    fseek(file, 0, SEEK_END);
    size_t size = (size_t)ftell(file);
    rewind(file);
    unsigned char *model = aligned_alloc(MINNOW_ARENA_ALIGNMENT, (size / 16 + 1) * 16);
    if (fread(model, 1, size, file) != size) { fprintf(stderr, "%s: short read\n", argv[1]); return 2; }
    fclose(file);

    minnow_error error;
    size_t arena_size = 0;
    expect("arena size", minnow_arena_size(model, size, &arena_size, &error), MINNOW_OK, &error);
    if (minnow_api_version() != MINNOW_RUNTIME_API_VERSION) { printf("FAIL api version %d\n", minnow_api_version()); failures++; }

    /* A corrupt buffer: one byte flipped in the middle, then the file cut short. */
    unsigned char *corrupt = aligned_alloc(MINNOW_ARENA_ALIGNMENT, (size / 16 + 1) * 16);
    memcpy(corrupt, model, size);
    corrupt[size / 2] ^= 0x5a;
    size_t ignored;
    expect("corrupt model", minnow_arena_size(corrupt, size, &ignored, &error), MINNOW_ERROR_MODEL, &error);
    expect("truncated model", minnow_arena_size(model, size / 3, &ignored, &error), MINNOW_ERROR_MODEL, &error);
    expect("NULL model", minnow_arena_size(NULL, size, &ignored, &error), MINNOW_ERROR_ARGUMENT, &error);

    unsigned char *arena = aligned_alloc(MINNOW_ARENA_ALIGNMENT, (arena_size / 16 + 2) * 16);
    minnow_interpreter *interpreter = NULL;
    expect("small arena", minnow_interpreter_create(model, size, arena, arena_size - 1, MINNOW_KERNELS_FASTEST, &interpreter, &error),
           MINNOW_ERROR_ARENA, &error);
    expect("misaligned arena", minnow_interpreter_create(model, size, arena + 1, arena_size, MINNOW_KERNELS_FASTEST, &interpreter, &error),
           MINNOW_ERROR_ARENA, &error);
    expect("corrupt model create", minnow_interpreter_create(corrupt, size, arena, arena_size, MINNOW_KERNELS_FASTEST, &interpreter, &error),
           MINNOW_ERROR_MODEL, &error);
    expect("unknown kernels", minnow_interpreter_create(model, size, arena, arena_size, (minnow_kernels)7, &interpreter, &error),
           MINNOW_ERROR_ARGUMENT, &error);
    expect("NULL out", minnow_interpreter_create(model, size, arena, arena_size, MINNOW_KERNELS_FASTEST, NULL, &error),
           MINNOW_ERROR_ARGUMENT, &error);
    if (interpreter != NULL) { printf("FAIL a failed create left an interpreter\n"); failures++; }

    expect("create", minnow_interpreter_create(model, size, arena, arena_size, MINNOW_KERNELS_REFERENCE, &interpreter, &error),
           MINNOW_OK, &error);
    int32_t dims[4];
    size_t rank = 0;
    expect("input shape", minnow_input_shape(interpreter, dims, 4, &rank, &error), MINNOW_OK, &error);
    size_t count = minnow_input_count(interpreter);
    if (rank != 3 || (size_t)dims[0] * dims[1] * dims[2] != count) { printf("FAIL input shape and count disagree\n"); failures++; }
    expect("shape too long", minnow_input_shape(interpreter, dims, 1, &rank, &error), MINNOW_ERROR_ARGUMENT, &error);
    expect("NULL interpreter", minnow_invoke(NULL, &error), MINNOW_ERROR_ARGUMENT, &error);

    float *values = calloc(count, sizeof(float));
    expect("wrong count", minnow_quantize_input(interpreter, values, count - 1, &error), MINNOW_ERROR_ARGUMENT, &error);
    values[count / 2] = NAN;
    expect("NaN input", minnow_quantize_input(interpreter, values, count, &error), MINNOW_ERROR_ARGUMENT, &error);
    values[count / 2] = 0.5f;
    expect("input", minnow_quantize_input(interpreter, values, count, &error), MINNOW_OK, &error);
    minnow_quantization q = minnow_input_quantization(interpreter);
    long expected = lrintf(0.5f * (1.0f / q.scale)) + q.zero_point;
    if (expected > 127) expected = 127;
    if (minnow_input_codes(interpreter)[count / 2] != expected) { printf("FAIL quantized code %d, expected %ld\n", minnow_input_codes(interpreter)[count / 2], expected); failures++; }
    expect("invoke", minnow_invoke(interpreter, &error), MINNOW_OK, &error);
    int32_t predicted = minnow_output_argmax(interpreter);
    if (predicted < 0 || (size_t)predicted >= minnow_output_count(interpreter)) { printf("FAIL argmax %d\n", predicted); failures++; }
    if (minnow_output_argmax(NULL) != -1 || minnow_input_codes(NULL) != NULL) { printf("FAIL NULL accessors\n"); failures++; }
    /* Format version 4: raw pixels quantize with the stored normalization; names and statistics read back. */
    unsigned char *pixels = calloc(count, 1);
    expect("NULL pixels", minnow_quantize_pixels(interpreter, NULL, count, &error), MINNOW_ERROR_ARGUMENT, &error);
    expect("wrong pixel count", minnow_quantize_pixels(interpreter, pixels, count + 1, &error), MINNOW_ERROR_ARGUMENT, &error);
    float mean = 0, std = 0;
    if (minnow_input_normalization(interpreter, &mean, &std, 1) != 1 || !(std > 0)) { printf("FAIL stored normalization %f %f\n", mean, std); failures++; }
    if (minnow_input_normalization(interpreter, NULL, NULL, (size_t)-1) != 1) { printf("FAIL normalization count with a huge capacity\n"); failures++; }
    if (minnow_input_normalization(NULL, &mean, &std, 1) != 0) { printf("FAIL normalization of NULL\n"); failures++; }
    pixels[count / 2] = 200;
    expect("pixels", minnow_quantize_pixels(interpreter, pixels, count, &error), MINNOW_OK, &error);
    q = minnow_input_quantization(interpreter);
    expected = lrintf(((200.0f / 255.0f - mean) / std) / q.scale) + q.zero_point;
    if (expected > 127) expected = 127;
    if (minnow_input_codes(interpreter)[count / 2] != expected) { printf("FAIL pixel code %d, expected %ld\n", minnow_input_codes(interpreter)[count / 2], expected); failures++; }
    size_t classes = minnow_output_count(interpreter);
    for (size_t c = 0; c < classes; c++)
        if (minnow_class_name(interpreter, c) == NULL || strlen(minnow_class_name(interpreter, c)) == 0) { printf("FAIL class name %zu\n", c); failures++; }
    if (minnow_class_name(interpreter, classes) != NULL || minnow_class_name(NULL, 0) != NULL) { printf("FAIL class name out of range\n"); failures++; }
    free(pixels);
    /* A NULL error pointer is allowed. */
    if (minnow_invoke(interpreter, NULL) != MINNOW_OK) { printf("FAIL invoke without error\n"); failures++; }
    minnow_interpreter_free(interpreter);
    minnow_interpreter_free(NULL);
    printf("%d failures\n", failures);
    return failures == 0 ? 0 : 1;
}
