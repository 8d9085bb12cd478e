/*
 * compiled-twice: one source built twice, like the files in Xen's common/compat/
 * which include the native file with renaming macros.  With -DCOMPAT the
 * function is called compat_foo and truncates to 32 bits.
 */
#include "xenlike.h"

#ifdef COMPAT
#define do_foo compat_foo
typedef unsigned int foo_ret_t;
#else
typedef unsigned long foo_ret_t;
#endif

foo_ret_t do_foo(unsigned int cmd, unsigned long arg)
{
    switch ( cmd )
    {
    case 0:
        return arg + 1;
    case 1:
        return arg << 8;
    default:
        return -22;
    }
}
