/*
 * A hypercall-like handler.  common/compat/foo.c includes this file again
 * with COMPAT defined (by the Makefile, -DCOMPAT) and do_foo renamed to
 * compat_foo, the way Xen builds its 32-bit guest entry points.
 */
#include <xen/lib.h>
#include <xen/hypercall.h>

#ifdef COMPAT
typedef int foo_ret_t;
typedef unsigned int foo_arg_t;
#else
typedef long foo_ret_t;
typedef unsigned long foo_arg_t;
#endif

foo_ret_t do_foo(unsigned int cmd, foo_arg_t arg)
{
    switch ( cmd )
    {
    case 0: /* FOO_query */
        return sizeof(foo_arg_t);
    case 1: /* FOO_double */
        return arg * 2;
    case 2: /* FOO_log */
        printk("foo: log %u\n", (unsigned int)arg);
        return 0;
    default:
        return -38; /* -ENOSYS */
    }
}
