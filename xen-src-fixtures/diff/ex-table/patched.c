/*
 * ex-table: fn_read_a and fn_read_b both have exception-table entries
 * (.ex_table entries with fixup code in the shared .fixup section).
 * patched.c changes fn_read_a only.
 */
#include "xenlike.h"

int fn_read_a(const int *p)
{
    int v, rc;

    rc = xl_read_safe(v, p);
    return rc ? rc : v + 2;
}

int fn_read_b(const int *p, const int *q)
{
    int a, b, rc;

    rc = xl_read_safe(a, p);
    if ( rc )
        return rc;
    rc = xl_read_safe(b, q);
    return rc ? rc : a + b;
}
