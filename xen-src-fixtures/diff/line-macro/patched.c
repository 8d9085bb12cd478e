/*
 * line-macro: fn_where prints __LINE__, which is an immediate operand in
 * its code.  patched.c only inserts blank lines, yet fn_where's bytes
 * change.  fn_plain has no __LINE__ and stays the same.
 */
#include "xenlike.h"




void fn_where(void)
{
    printk("fn_where: line %d\n", __LINE__);
}




int fn_plain(int x)
{
    return x + 40;
}
