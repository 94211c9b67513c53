/*
 * A QEMU TCG plugin that counts the guest instructions a program executes (every translation
 * block adds its instruction count, inline, each time it runs) and prints the total when the
 * program exits: "instructions N" on QEMU's log (standard error). With the argument
 * `functions=on` it also prints, per function (the symbol of each block's first instruction), a
 * line "function N NAME", largest first: a profile. Debian's QEMU ships no plugins; this is the
 * part of its API (version 1, QEMU 7.2) used here, declared here.
 *   cc -shared -fPIC -O2 -o instruction_count.so instruction_count_plugin.c
 *   qemu-aarch64 -plugin ./instruction_count.so[,functions=on] -d plugin PROGRAM ...
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op, void *ptr, uint64_t imm);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
void qemu_plugin_outs(const char *string);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t index);
const char *qemu_plugin_insn_symbol(const struct qemu_plugin_insn *insn);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

static uint64_t executed = 0;

/* Per-function counters: an open-addressing table keyed by the symbol's name pointer (QEMU keeps
 * one string per symbol for the program's life). Full table: blocks count under "(other)". */
enum { FUNCTION_SLOTS = 1 << 14 };
static int by_function = 0;
static struct function_count { const char *name; uint64_t executed; } functions[FUNCTION_SLOTS];
static uint64_t other_functions = 0;

static uint64_t *function_counter(const char *name) {
    if (name == NULL) name = "(no symbol)";
    size_t slot = ((uintptr_t)name >> 3) % FUNCTION_SLOTS;
    for (size_t probe = 0; probe < FUNCTION_SLOTS; probe++, slot = (slot + 1) % FUNCTION_SLOTS) {
        if (functions[slot].name == name) return &functions[slot].executed;
        if (functions[slot].name == NULL) { functions[slot].name = name; return &functions[slot].executed; }
    }
    return &other_functions;
}

static void translated(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    size_t count = qemu_plugin_tb_n_insns(tb);
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &executed, count);
    if (by_function) {
        const char *name = qemu_plugin_insn_symbol(qemu_plugin_tb_get_insn(tb, 0));
        qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, function_counter(name), count);
    }
}

static int larger_first(const void *a, const void *b) {
    uint64_t x = ((const struct function_count *)a)->executed, y = ((const struct function_count *)b)->executed;
    return (x < y) - (x > y);
}

static void print_functions(void) {
    /* Names can repeat under different pointers (one per translation): merge them after sorting by name. */
    qsort(functions, FUNCTION_SLOTS, sizeof functions[0], larger_first);
    char line[512];
    for (size_t i = 0; i < FUNCTION_SLOTS && functions[i].executed > 0; i++) {
        snprintf(line, sizeof line, "function %" PRIu64 " %s\n", functions[i].executed, functions[i].name);
        qemu_plugin_outs(line);
    }
    if (other_functions > 0) {
        snprintf(line, sizeof line, "function %" PRIu64 " (other)\n", other_functions);
        qemu_plugin_outs(line);
    }
}

static void finished(qemu_plugin_id_t id, void *userdata) {
    (void)id, (void)userdata;
    char line[64];
    snprintf(line, sizeof line, "instructions %" PRIu64 "\n", executed);
    qemu_plugin_outs(line);
    if (by_function) print_functions();
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const void *info, int argc, char **argv) {
    (void)info;
    for (int i = 0; i < argc; i++) by_function |= strcmp(argv[i], "functions=on") == 0;
    qemu_plugin_register_vcpu_tb_trans_cb(id, translated);
    qemu_plugin_register_atexit_cb(id, finished, NULL);
    return 0;
}
