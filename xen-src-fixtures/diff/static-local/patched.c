/*
 * static-local: two functions each own a "static int count"; gcc names
 * them count.0 and count.1.  patched.c changes fn_b only.
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

    count += step * 2;
    return count;
}
