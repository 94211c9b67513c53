/*
 * minnow_runtime.h: the C interface of Minnow's int8 runtime (API version 2).
 *
 * The runtime runs an exported .mnw model (docs/runtime-format.md) one image at a time in integer
 * arithmetic. The caller owns every buffer: the model bytes stay where they are (no copy, keep
 * them alive and unchanged while an interpreter uses them) and the activations live in the
 * caller's arena, whose size minnow_arena_size gives. Creating an interpreter allocates its
 * bookkeeping (parsed tensor and operator tables, prepared kernels); invoking it allocates
 * nothing.
 *
 * Every function that can fail returns a minnow_status and, when `error` is not NULL, writes the
 * status and a one-line message (NUL-terminated, cut to MINNOW_ERROR_MESSAGE_SIZE bytes) into it.
 * A bad model, a wrong size or a NULL pointer is an error code, never a crash. Functions that
 * cannot fail take a valid interpreter; passing NULL to them returns 0 or NULL.
 *
 * An interpreter is not safe to use from two threads at once; separate interpreters are.
 *
 *     size_t arena_size;
 *     minnow_error error;
 *     if (minnow_arena_size(model, model_size, &arena_size, &error) != MINNOW_OK) { puts(error.message); ... }
 *     void *arena = aligned_alloc(MINNOW_ARENA_ALIGNMENT, round_up(arena_size, MINNOW_ARENA_ALIGNMENT));
 *     minnow_interpreter *interpreter;
 *     minnow_interpreter_create(model, model_size, arena, arena_size, MINNOW_KERNELS_FASTEST, &interpreter, &error);
 *     minnow_quantize_pixels(interpreter, pixels, count, &error);  // 8-bit pixels (format 4)
 *     minnow_invoke(interpreter, &error);
 *     int32_t predicted = minnow_output_argmax(interpreter);
 *     minnow_interpreter_free(interpreter);
 *
 * Example program: Examples/c/classify.c.
 */
#ifndef MINNOW_RUNTIME_H
#define MINNOW_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The version of this interface; minnow_api_version() returns the library's. Version 2 added
    MINNOW_KERNELS_NEON_DOT and MINNOW_KERNELS_NEON (a version 1 library refuses them with
    MINNOW_ERROR_ARGUMENT), minnow_quantize_pixels, minnow_input_normalization and
    minnow_class_name (model format version 4 stores the normalization and the names); version 3
    MINNOW_KERNELS_NEON_I8MM. */
#define MINNOW_RUNTIME_API_VERSION 3
/** The bytes of a minnow_error's message, with its terminating NUL. */
#define MINNOW_ERROR_MESSAGE_SIZE 256
/** The alignment, in bytes, the model bytes and the arena must have. */
#define MINNOW_ARENA_ALIGNMENT 16

/** What a call did. */
typedef enum minnow_status {
    MINNOW_OK = 0,
    /** A NULL pointer, a count that does not match, a buffer too small. */
    MINNOW_ERROR_ARGUMENT = 1,
    /** The model bytes are not a valid .mnw model this runtime reads. */
    MINNOW_ERROR_MODEL = 2,
    /** The arena is smaller than minnow_arena_size says, or misaligned. */
    MINNOW_ERROR_ARENA = 3
} minnow_status;

/** Which kernels an interpreter runs. */
typedef enum minnow_kernels {
    /** The fastest this CPU supports, checked at run time. */
    MINNOW_KERNELS_FASTEST = 0,
    /** The portable reference kernels (the same output codes, bit for bit). */
    MINNOW_KERNELS_REFERENCE = 1,
    /** AArch64: NEON with the dot-product GEMM where the CPU has it, else as NEON; elsewhere the
        reference kernels. (For tests and comparisons: FASTEST picks it by itself.) */
    MINNOW_KERNELS_NEON_DOT = 2,
    /** AArch64: NEON with the plain NEON GEMM; elsewhere the reference kernels. */
    MINNOW_KERNELS_NEON = 3,
    /** AArch64: NEON with the int8 matrix-multiply GEMM (smmla, FEAT_I8MM) where the CPU has it,
        else as MINNOW_KERNELS_NEON_DOT; elsewhere the reference kernels. */
    MINNOW_KERNELS_NEON_I8MM = 4
} minnow_kernels;

/** A failed call's status and message. */
typedef struct minnow_error {
    minnow_status status;
    char message[MINNOW_ERROR_MESSAGE_SIZE];
} minnow_error;

/** How a tensor's int8 codes map to real values: real = scale * (code - zero_point). */
typedef struct minnow_quantization {
    float scale;
    int32_t zero_point;
} minnow_quantization;

/** An interpreter: a model prepared on an arena. */
typedef struct minnow_interpreter minnow_interpreter;

/** The API version of the library (MINNOW_RUNTIME_API_VERSION of the header it was built with). */
int32_t minnow_api_version(void);

/** The name of a status ("ok", "argument", "model", "arena"; "unknown" for other values). A static string. */
const char *minnow_status_name(minnow_status status);

/** Checks the model (every field, as minnow_interpreter_create does) and writes the arena bytes it needs. */
minnow_status minnow_arena_size(const void *model, size_t model_size, size_t *arena_size, minnow_error *error);

/**
 * Creates an interpreter for the model in `model` (MINNOW_ARENA_ALIGNMENT-aligned, kept alive by
 * the caller) with its activations in `arena` (at least minnow_arena_size bytes, aligned, kept
 * alive by the caller). On success writes the interpreter to `*interpreter`; free it with
 * minnow_interpreter_free.
 */
minnow_status minnow_interpreter_create(const void *model, size_t model_size, void *arena, size_t arena_size,
                                        minnow_kernels kernels, minnow_interpreter **interpreter, minnow_error *error);

/** Frees an interpreter (NULL is allowed). The model bytes and the arena stay the caller's. */
void minnow_interpreter_free(minnow_interpreter *interpreter);

/** The kernel level that runs: "avx512-vnni", "avx-vnni", "avx2", "neon-i8mm", "neon-dot", "neon" or "reference".
    A static string. */
const char *minnow_kernel_level(const minnow_interpreter *interpreter);

/**
 * Writes the input's shape (height, width, channels; no batch axis) to `dims`, which has room for
 * `capacity` values, and its rank to `*rank`. MINNOW_ERROR_ARGUMENT when it does not fit.
 */
minnow_status minnow_input_shape(const minnow_interpreter *interpreter, int32_t *dims, size_t capacity, size_t *rank,
                                 minnow_error *error);

/** As minnow_input_shape, for the output (the class scores: one axis). */
minnow_status minnow_output_shape(const minnow_interpreter *interpreter, int32_t *dims, size_t capacity, size_t *rank,
                                  minnow_error *error);

/** The input's quantization parameters (a zero scale for NULL). */
minnow_quantization minnow_input_quantization(const minnow_interpreter *interpreter);

/** The output's quantization parameters (a zero scale for NULL). */
minnow_quantization minnow_output_quantization(const minnow_interpreter *interpreter);

/** The number of input codes (height * width * channels). */
size_t minnow_input_count(const minnow_interpreter *interpreter);

/** The number of output codes (classes). */
size_t minnow_output_count(const minnow_interpreter *interpreter);

/** The input codes, NHWC without the batch axis, in the arena: write a quantized image here. */
int8_t *minnow_input_codes(minnow_interpreter *interpreter);

/**
 * Quantizes `count` normalized float values (exactly minnow_input_count of them, NHWC) into the
 * input codes as QuantMath quantizes (round to nearest, ties to even, then saturate): what
 * training's integer evaluation and `minnow run` do.
 * NaN is refused.
 */
minnow_status minnow_quantize_input(minnow_interpreter *interpreter, const float *values, size_t count, minnow_error *error);

/**
 * Quantizes an image of `count` 8-bit pixels (exactly minnow_input_count of them, HWC) with the
 * input normalization the model file stores, `(pixel / 255 - mean[c]) / std[c]`, then as
 * minnow_quantize_input does. A file without one (format versions before 4) gives
 * MINNOW_ERROR_ARGUMENT: normalize and call minnow_quantize_input instead. (API version 2.)
 */
minnow_status minnow_quantize_pixels(minnow_interpreter *interpreter, const uint8_t *pixels, size_t count, minnow_error *error);

/**
 * The input normalization the model file stores: its channel count (1: one pair for every
 * channel; 0: none stored), with up to `capacity` means and standard deviations (of pixels scaled
 * to [0, 1]) written to `mean` and `std` (either may be NULL). (API version 2.)
 */
size_t minnow_input_normalization(const minnow_interpreter *interpreter, float *mean, float *std, size_t capacity);

/**
 * The name of output class `index` as the model file stores it (UTF-8, NUL-terminated, inside the
 * model bytes: valid while they are), or NULL when the file stores no names or `index` is out of
 * range. (API version 2.)
 */
const char *minnow_class_name(const minnow_interpreter *interpreter, size_t index);

/** Runs the model on the input codes. */
minnow_status minnow_invoke(minnow_interpreter *interpreter, minnow_error *error);

/** The output codes after minnow_invoke, in the arena. */
const int8_t *minnow_output_codes(const minnow_interpreter *interpreter);

/** The index of the largest output code (the first on ties): the predicted class; -1 for NULL. */
int32_t minnow_output_argmax(const minnow_interpreter *interpreter);

#ifdef __cplusplus
}
#endif

#endif /* MINNOW_RUNTIME_H */
