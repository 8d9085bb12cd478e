/*
 * init-only: fn_setup lives in .init.text (like Xen's __init) and changes.
 * Init code has already run and been freed, so patching it is pointless.
 */
#include "xenlike.h"

int __init fn_setup(int x)
{
    return x * 8;
}

int fn_runtime(int x)
{
    return x + 1;
}
