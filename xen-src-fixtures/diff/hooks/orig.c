/* hooks: patched.c adds a load hook and apply/revert action hooks. */
#include "xenlike.h"

int fn_a(int x)
{
    return x + 1;
}
