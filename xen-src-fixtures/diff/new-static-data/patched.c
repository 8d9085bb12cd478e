/* new-static-data: patched.c adds a file-scope static used by fn_a. */
#include "xenlike.h"

static int calls;

int fn_a(int x)
{
    calls++;
    return x + 2 + calls;
}

int fn_b(int x)
{
    return x - 2;
}
