/* changed-data: the initial value of an existing global changes. */
#include "xenlike.h"

int threshold = 20;

int fn_check(int x)
{
    return x > threshold;
}
