/*
 * cold-part: gcc -O2 moves the unlikely path of a function into a cold
 * part of its own, fn_cold.cold in .text.unlikely.fn_cold, reached only by
 * jumps from fn_cold and jumping back into it (as _put_page_type.cold in
 * Xen's arch/x86/mm.o, or hvm_unmap_guest_frame.part.0.cold in hvm.o).
 * This is the patched side: it changes both the hot and the cold path of fn_cold; fn_warm
 * changes only in its hot path, so its cold part is the same bytes but
 * must still come along (it jumps back into the new copy of fn_warm).
 * With -DWARM_ONLY, fn_cold is as in orig.c.
 */
#include "xenlike.h"

void __attribute__((__cold__)) noinline report_bad(int v);

int fn_cold(int *p, int n)
{
    int i, s = 0;

    for ( i = 0; i < n; i++ )
    {
        if ( __builtin_expect(p[i] < 0, 0) )
        {
#ifndef WARM_ONLY
            report_bad(p[i] + 200);
#else
            report_bad(p[i] + 100);
#endif
            printk("bad entry %d\n", i);
            return -22;
        }
#ifndef WARM_ONLY
        s += p[i] * 2;
#else
        s += p[i];
#endif
    }
    return s;
}

int fn_warm(int *p, int n)
{
    int i, s = 1;

    for ( i = 0; i < n; i++ )
    {
        if ( __builtin_expect(p[i] == 0, 0) )
        {
            report_bad(i);
            printk("zero entry %d\n", i);
        }
        s += p[i];
    }
    return s * 5;
}
