/* changed-data: the initial value of an existing global changes. */
#include "xenlike.h"

int threshold = 10;

int fn_check(int x)
{
    return x > threshold;
}
