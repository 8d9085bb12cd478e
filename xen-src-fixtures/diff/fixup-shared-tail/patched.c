/*
 * fixup-shared-tail: the fixup code of fn_read_a ends with a jump to a
 * tail that sits in the middle of fn_read_b's fixup code, in the one
 * .fixup section of the object.  The assembler resolves that jump itself
 * (same section, no relocation), so fn_read_a's fixup code is only right
 * next to that tail, at the same distance as in the object.
 *
 *   .fixup  +0x0  fn_read_b's fixup: mov $-14,%eax; jmp back
 *           +0xa  .Lxl_tail: mov $-14,%eax; jmp *%rcx   (no entry points here)
 *           +0x11 fn_read_a's fixup: lea back(%rip),%rcx; jmp .Lxl_tail
 *           +0x1a fn_read_c's fixup (falls through into fn_read_d's)
 *           +0x21 fn_read_d's fixup: mov $-14,%eax; jmp *%rcx
 *
 * This is the patched side: fn_read_a and fn_read_c changed.
 */
#include "xenlike.h"

int fn_read_b(const int *p)
{
    int v;

    asm volatile ( "1: movl (%[p]), %[v]\n"
                   "2:\n"
                   " .pushsection .fixup, \"ax\"\n"
                   "3: movl $-14, %[v]\n"
                   "   jmp 2b\n"
                   ".Lxl_tail:\n"
                   "   movl $-14, %%eax\n"
                   "   jmp *%%rcx\n"
                   " .popsection\n"
                   XL_EXTABLE(1b, 3b)
                   : [v] "=r" (v) : [p] "r" (p) );
    return v;
}

int fn_read_a(const int *p)
{
    int v;

    asm volatile ( "1: movl (%[p]), %%eax\n"
                   "2:\n"
                   " .pushsection .fixup, \"ax\"\n"
                   "3: leaq 2b(%%rip), %%rcx\n"
                   "   jmp .Lxl_tail\n"
                   " .popsection\n"
                   XL_EXTABLE(1b, 3b)
                   : "=a" (v) : [p] "r" (p) : "rcx" );
    return v + 5;
}

int fn_read_c(const int *p)
{
    int v;

    asm volatile ( "1: movl (%[p]), %%eax\n"
                   "2:\n"
                   " .pushsection .fixup, \"ax\"\n"
                   "3: leaq 2b(%%rip), %%rcx\n"
                   " .popsection\n"
                   XL_EXTABLE(1b, 3b)
                   : "=a" (v) : [p] "r" (p) : "rcx" );
    return v + 6;
}

int fn_read_d(const int *p)
{
    int v;

    asm volatile ( "1: movl (%[p]), %%eax\n"
                   "2:\n"
                   " .pushsection .fixup, \"ax\"\n"
                   "3: movl $-14, %%eax\n"
                   "   jmp *%%rcx\n"
                   " .popsection\n"
                   XL_EXTABLE(1b, 3b)
                   : "=a" (v) : [p] "r" (p) : "rcx" );
    return v + 3;
}
