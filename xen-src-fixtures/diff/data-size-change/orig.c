/* data-size-change: a global array grows from 4 to 8 entries. */
#include "xenlike.h"

int xl_ring[4];

int fn_ring(unsigned int i)
{
    return xl_ring[i % (sizeof(xl_ring) / sizeof(xl_ring[0]))];
}
