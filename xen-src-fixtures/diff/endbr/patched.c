/*
 * endbr: like changed-function, but fn_cb is a cf_check function, so with
 * -fcf-protection=branch -mmanual-endbr it starts with ENDBR64
 * (f3 0f 1e fa).  fn_plain has no ENDBR64.
 */
#include "xenlike.h"

int cf_check fn_cb(int x)
{
    return x * 5 + 1;
}

int fn_plain(int x)
{
    return x - 7;
}
