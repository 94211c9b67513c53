/*
 * classify: a C program that uses Minnow's runtime through its C interface alone
 * (include/minnow_runtime.h). It classifies the images of an IDX file (Fashion-MNIST's format,
 * raw or gzip) with an exported .mnw model and prints one line per image: the predicted class,
 * and with --codes the output codes.
 *
 *   classify MODEL.mnw IMAGES-idx3-ubyte[.gz] [--limit N] [--codes] [--names]
 *            [--kernels fastest|reference|neon-dot|neon] [--mean M --std S]
 *
 * A model file of format version 4 stores the normalization it was trained with: the runtime
 * quantizes the raw pixels with it (minnow_quantize_pixels), and with --names each line also has
 * the class's name from the file. For older files (or with --mean and --std) pixels are
 * normalized here, (pixel / 255 - mean) / std, with Fashion-MNIST's training statistics unless
 * --mean and --std say otherwise, and quantized by the runtime.
 * Build (scripts/build-c-example.sh does this):
 *   cc -std=c11 -I include Examples/c/classify.c -L .build/release -lMinnowRuntimeC -lz -o classify
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* gzip through zlib; -DMINNOW_NO_ZLIB reads raw files only (the AArch64 build in scripts/arm-run.sh). */
#ifndef MINNOW_NO_ZLIB
#include <zlib.h>
typedef gzFile input_file;
#define input_open(path) gzopen(path, "rb")
#define input_read(file, buffer, count) gzread(file, buffer, (unsigned)(count))
#define input_close(file) gzclose(file)
#else
typedef FILE *input_file;
#define input_open(path) fopen(path, "rb")
#define input_read(file, buffer, count) (int)fread(buffer, 1, count, file)
#define input_close(file) fclose(file)
#endif

#include "minnow_runtime.h"

/* The whole file at `path` (gzip inflated by zlib, raw read as is); NULL on failure. */
static unsigned char *read_all(const char *path, size_t *size) {
    input_file file = input_open(path);
    if (!file) return NULL;
    size_t capacity = 1 << 20, used = 0;
    unsigned char *bytes = malloc(capacity);
    int count;
    while (bytes && (count = input_read(file, bytes + used, capacity - used)) > 0) {
        used += (size_t)count;
        if (used == capacity) {
            unsigned char *grown = realloc(bytes, capacity *= 2);
            if (!grown) { free(bytes); bytes = NULL; }
            else bytes = grown;
        }
    }
    input_close(file);
    *size = used;
    return bytes;
}

/* `bytes` copied into a buffer aligned as the runtime needs. */
static void *aligned_copy(const unsigned char *bytes, size_t size) {
    size_t rounded = (size + MINNOW_ARENA_ALIGNMENT - 1) / MINNOW_ARENA_ALIGNMENT * MINNOW_ARENA_ALIGNMENT;
    void *copy = aligned_alloc(MINNOW_ARENA_ALIGNMENT, rounded ? rounded : MINNOW_ARENA_ALIGNMENT);
    if (copy) memcpy(copy, bytes, size);
    return copy;
}

static unsigned read_be32(const unsigned char *p) {
    return (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
}

static int fail(const char *what, const minnow_error *error) {
    fprintf(stderr, "classify: %s: %s (%s)\n", what, error->message, minnow_status_name(error->status));
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: classify MODEL.mnw IMAGES-idx3-ubyte[.gz] [--limit N] [--codes] [--names] [--kernels K] [--mean M --std S]\n");
        return 2;
    }
    long limit = -1;
    int print_codes = 0, print_names = 0, given_statistics = 0;
    minnow_kernels kernels = MINNOW_KERNELS_FASTEST;
    float mean = 0.2860f, std = 0.3530f;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--codes")) print_codes = 1;
        else if (!strcmp(argv[i], "--kernels") && i + 1 < argc) {
            const char *name = argv[++i];
            if (!strcmp(name, "fastest")) kernels = MINNOW_KERNELS_FASTEST;
            else if (!strcmp(name, "reference")) kernels = MINNOW_KERNELS_REFERENCE;
            else if (!strcmp(name, "neon-i8mm")) kernels = MINNOW_KERNELS_NEON_I8MM;
            else if (!strcmp(name, "neon-dot")) kernels = MINNOW_KERNELS_NEON_DOT;
            else if (!strcmp(name, "neon")) kernels = MINNOW_KERNELS_NEON;
            else { fprintf(stderr, "classify: --kernels must be fastest, reference, neon-i8mm, neon-dot or neon, got %s\n", name); return 2; }
        }
        else if (!strcmp(argv[i], "--limit") && i + 1 < argc) limit = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--names")) print_names = 1;
        else if (!strcmp(argv[i], "--mean") && i + 1 < argc) mean = strtof(argv[++i], NULL), given_statistics = 1;
        else if (!strcmp(argv[i], "--std") && i + 1 < argc) std = strtof(argv[++i], NULL), given_statistics = 1;
        else { fprintf(stderr, "classify: unknown argument %s\n", argv[i]); return 2; }
    }
    if (std <= 0) { fprintf(stderr, "classify: --std must be positive\n"); return 2; }

    size_t model_size = 0, images_size = 0;
    unsigned char *model_file = read_all(argv[1], &model_size);
    if (!model_file) { fprintf(stderr, "classify: %s: cannot read\n", argv[1]); return 1; }
    void *model = aligned_copy(model_file, model_size);
    free(model_file);
    unsigned char *images = read_all(argv[2], &images_size);
    if (!model || !images) { fprintf(stderr, "classify: %s: cannot read\n", argv[2]); return 1; }
    if (images_size < 16 || read_be32(images) != 0x00000803) {
        fprintf(stderr, "classify: %s: not an IDX file of unsigned-byte images\n", argv[2]);
        return 1;
    }
    size_t count = read_be32(images + 4), pixels = (size_t)read_be32(images + 8) * read_be32(images + 12);
    if (images_size - 16 < count * pixels) { fprintf(stderr, "classify: %s: truncated\n", argv[2]); return 1; }
    if (limit >= 0 && (size_t)limit < count) count = (size_t)limit;

    minnow_error error;
    size_t arena_size = 0;
    if (minnow_arena_size(model, model_size, &arena_size, &error) != MINNOW_OK) return fail(argv[1], &error);
    void *arena = aligned_alloc(MINNOW_ARENA_ALIGNMENT, (arena_size / MINNOW_ARENA_ALIGNMENT + 1) * MINNOW_ARENA_ALIGNMENT);
    minnow_interpreter *interpreter = NULL;
    if (minnow_interpreter_create(model, model_size, arena, arena_size, kernels, &interpreter, &error) != MINNOW_OK)
        return fail(argv[1], &error);
    if (minnow_input_count(interpreter) != pixels) {
        fprintf(stderr, "classify: the model takes %lu values per image, %s has %lu pixels\n",
                (unsigned long)minnow_input_count(interpreter), argv[2], (unsigned long)pixels);
        return 1;
    }
    /* %lu, not %zu: small C libraries (newlib on a microcontroller) may not know %zu. */
    fprintf(stderr, "classify: %lu images, arena %lu bytes, %s kernels\n", (unsigned long)count, (unsigned long)arena_size,
            minnow_kernel_level(interpreter));

    /* A version 4 file stores its normalization: the runtime quantizes the raw pixels itself. */
    int stored = !given_statistics && minnow_input_normalization(interpreter, NULL, NULL, 0) > 0;
    fprintf(stderr, "classify: input normalization %s\n", stored ? "from the model file" : "given");
    float *values = malloc(pixels * sizeof(float));
    size_t classes = minnow_output_count(interpreter);
    for (size_t image = 0; image < count; image++) {
        const unsigned char *pixel = images + 16 + image * pixels;
        if (stored) {
            if (minnow_quantize_pixels(interpreter, pixel, pixels, &error) != MINNOW_OK) return fail("input", &error);
        } else {
            for (size_t i = 0; i < pixels; i++) values[i] = ((float)pixel[i] / 255.0f - mean) / std;
            if (minnow_quantize_input(interpreter, values, pixels, &error) != MINNOW_OK) return fail("input", &error);
        }
        if (minnow_invoke(interpreter, &error) != MINNOW_OK) return fail("invoke", &error);
        int32_t predicted = minnow_output_argmax(interpreter);
        printf("%d", (int)predicted);
        if (print_names) {
            const char *name = minnow_class_name(interpreter, (size_t)predicted);
            printf(" %s", name ? name : "-");
        }
        if (print_codes) {
            const int8_t *codes = minnow_output_codes(interpreter);
            for (size_t c = 0; c < classes; c++) printf(" %d", codes[c]);
        }
        printf("\n");
    }
    minnow_interpreter_free(interpreter);
    free(values);
    free(arena);
    free(model);
    free(images);
    return 0;
}
