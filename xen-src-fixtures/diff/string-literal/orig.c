/* string-literal: the format string in fn_a changes, fn_b's does not. */
#include "xenlike.h"

void fn_a(int x)
{
    printk("fn_a: value %d\n", x);
}

void fn_b(int x)
{
    printk("fn_b: value %d\n", x);
}
