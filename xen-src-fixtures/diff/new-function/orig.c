/* new-function: patched.c adds a static helper called from fn_a. */
#include "xenlike.h"

int fn_a(int x)
{
    return x + 1;
}

int fn_b(int x)
{
    return x * 2;
}
