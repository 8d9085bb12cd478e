/* changed-function: fn_a's body changes, fn_b is untouched. */
#include "xenlike.h"

int fn_a(int x)
{
    return x * 5 + 1;
}

int fn_b(int x)
{
    return x - 7;
}
