/*
 * line-number-only: patched.c only inserts blank lines above functions
 * that use WARN_ON / BUG_ON / ASSERT.  On x86 the line number lives in the
 * relocation addends of .rela.bug_frames.N, never in .text.  patched.c
 * pushes fn_assert's ASSERT past line 127, so the high line bits (kept in
 * the first word of the frame) change as well as the low ones.
 */
#include "xenlike.h"

int fn_warn(int x)
{
    WARN_ON(x < 0);
    return x + 1;
}

int fn_bug(const int *p)
{
    BUG_ON(!p);
    return *p;
}

int fn_assert(int x)
{
    ASSERT(x != 3);
    return x * 2;
}

int fn_plain(int x)
{
    return x - 1;
}
