/*
 * static-local-renumbered: patched.c gives fn_a (the first function) a
 * new "static int count", so gcc's numeric suffixes of the existing
 * count statics in fn_b and fn_c shift by one.
 */
#include "xenlike.h"

int fn_a(int x)
{
    static int count;

    count += x;
    return count + 1;
}

int fn_b(void)
{
    static int count;

    return ++count;
}

int fn_c(int step)
{
    static int count;

    count += step;
    return count;
}
