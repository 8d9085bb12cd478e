/* new-function: patched.c adds a static helper called from fn_a. */
#include "xenlike.h"

static noinline int fn_helper(int x)
{
    printk("fn_helper %d\n", x);
    return x ^ 0x5a;
}

int fn_a(int x)
{
    return fn_helper(x) + 1;
}

int fn_b(int x)
{
    return x * 2;
}
