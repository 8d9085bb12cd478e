/* rodata-table: a const table used by fn_weight changes one value. */
#include "xenlike.h"

static const unsigned int weights[8] = { 1, 2, 4, 8, 16, 32, 64, 128 };

unsigned int fn_weight(unsigned int i)
{
    return weights[i & 7];
}

unsigned int fn_other(unsigned int i)
{
    return i ^ 0x55;
}
