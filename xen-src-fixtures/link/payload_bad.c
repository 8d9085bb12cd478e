/*
 * A payload Xen refuses: an absolute 32-bit reference (R_X86_64_32, which xen/arch/x86/livepatch.c
 * does not handle), a funcs entry for "tiny" (1 byte, too small for a 5-byte jump, old_size 1),
 * and a second entry patching the same function.
 */
#include "livepatch.h"

extern int shared_counter;

int tiny(void);
int tiny(void)
{
    int v;
    __asm__("movl $shared_counter, %0" : "=r"(v));
    return v;
}

struct lp_func bad_funcs[2] LP_SECTION(".livepatch.funcs") = {
    { .name = "tiny", .new_addr = tiny, .new_size = 8, .old_size = 1, .version = 2 },
    { .name = "tiny", .new_addr = tiny, .new_size = 8, .old_size = 1, .version = 2 },
};
