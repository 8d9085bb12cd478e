/*
 * bug-frames: fn_checks uses BUG_ON, WARN_ON, ASSERT and a run_fn frame;
 * patched.c changes its arithmetic on the same line, so no line number
 * moves.  fn_quiet (with a WARN_ON) does not change.
 */
#include "xenlike.h"

void fn_dump(void)
{
    printk("dump\n");
}

int fn_checks(int *p, int x)
{
    BUG_ON(!p);
    WARN_ON(x > 100);
    ASSERT(x != 7);
    if ( x == 42 )
        run_in_exception_handler(fn_dump);
    return *p * x + 3;
}

int fn_quiet(int x)
{
    WARN_ON(x == 0);
    return 100 / x;
}
