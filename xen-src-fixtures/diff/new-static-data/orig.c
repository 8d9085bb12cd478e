/* new-static-data: patched.c adds a file-scope static used by fn_a. */
#include "xenlike.h"

int fn_a(int x)
{
    return x + 2;
}

int fn_b(int x)
{
    return x - 2;
}
