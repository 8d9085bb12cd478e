/*
 * build-time-strings: like xen/common/version.c, functions return strings
 * that come from the build (here: -D macros given in the expect file's
 * cflags line).  Both objects are compiled with the same values, as the
 * pipeline must arrange for its original and patched builds.
 */
#include "xenlike.h"

const char *xen_compile_date(void)
{
    return XEN_COMPILE_DATE;
}

const char *xen_compile_time(void)
{
    return XEN_COMPILE_TIME;
}

const char *xen_compile_by(void)
{
    return XEN_COMPILE_BY;
}
