/*
 * static-local-renumbered: patched.c gives fn_c (the last function) a new
 * "static int count".  gcc 12 numbers same-named statics in reverse order
 * of definition, so the existing statics of fn_a and fn_b get new suffixes:
 *            orig     patched
 *   fn_a     count.1  count.2
 *   fn_b     count.0  count.1
 *   fn_c     -        count.0
 * Matching by name would pair orig fn_a's count.1 with patched fn_b's.
 */
#include "xenlike.h"

int fn_a(void)
{
    static int count;

    return ++count;
}

int fn_b(int step)
{
    static int count;

    count += step;
    return count;
}

int fn_c(int x)
{
    return x + 1;
}
