/* unchanged: identical sources; nothing may be reported. */
#include "xenlike.h"

static noinline int scale(int v)
{
    return v * 7;
}

int fn_count(void)
{
    static int count;

    return ++count;
}

void fn_report(int x)
{
    printk("report %d scaled %d\n", x, scale(x));
}

int fn_check(int x)
{
    WARN_ON(x < 0);
    return x + 1;
}
