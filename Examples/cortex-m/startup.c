/*
 * What a bare-metal Cortex-M program needs around the runtime, for QEMU's mps2-an500 board
 * (Cortex-M7) with semihosting (scripts/cortex-m-run.sh): the vector table; a reset that copies
 * .data, zeroes .bss, enables the FPU, opens newlib's semihosting streams (librdimon), runs the
 * constructors, reads the command line from the host (SYS_GET_CMDLINE) and exits with main's
 * status; and the three functions Embedded Swift and newlib expect from the platform.
 * Memory: mps2-an500.ld.
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern uint32_t __stack, __data_load, __data_start, __data_end, __bss_start__, __bss_end__;
extern void initialise_monitor_handles(void);
extern void __libc_init_array(void);
int main(int argc, char **argv);

/* One semihosting call (the host carries it out: QEMU with -semihosting-config enable=on). */
static int semihosting(int operation, void *argument) {
    register int r0 __asm__("r0") = operation;
    register void *r1 __asm__("r1") = argument;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void reset(void) {
    memcpy(&__data_start, &__data_load, (size_t)((char *)&__data_end - (char *)&__data_start));
    memset(&__bss_start__, 0, (size_t)((char *)&__bss_end__ - (char *)&__bss_start__));
    *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20; /* CPACR: CP10 and CP11 (the FPU) fully accessible */
    __asm__ volatile("dsb\n isb");
    initialise_monitor_handles();
    __libc_init_array();
    static char line[1024];
    static char *argv[32];
    struct {
        char *buffer;
        int length;
    } request = {line, sizeof line - 1};
    int argc = 0;
    if (semihosting(0x15 /* SYS_GET_CMDLINE */, &request) == 0)
        for (char *word = strtok(line, " "); word && argc < 31; word = strtok(NULL, " ")) argv[argc++] = word;
    argv[argc] = NULL;
    exit(main(argc, argv));
}

/* Faults stop here (a debugger, or QEMU's -d int, shows which). */
static void hang(void) {
    for (;;) {
    }
}

__attribute__((section(".vectors"), used)) static const void *vectors[16] = {
    &__stack, reset, hang, hang, hang, hang, hang, 0, 0, 0, 0, hang, hang, 0, hang, hang};

/* Embedded Swift allocates through posix_memalign, which newlib does not have: its memalign. */
int posix_memalign(void **pointer, size_t alignment, size_t size) {
    void *memory = memalign(alignment < sizeof(void *) ? sizeof(void *) : alignment, size);
    if (!memory) return ENOMEM;
    *pointer = memory;
    return 0;
}

/* The board has no entropy source: Swift's hash seeds (arc4random, through getentropy) are fixed. */
int getentropy(void *buffer, size_t length) {
    for (size_t i = 0; i < length; i++) ((unsigned char *)buffer)[i] = (unsigned char)(i * 151 + 7);
    return 0;
}

/* -nostartfiles leaves out crti/crtn: the constructors run from .init_array alone. */
void _init(void) {}
void _fini(void) {}
