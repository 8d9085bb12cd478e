/*
 * alternatives: fn_alt and fn_other each carry one alternative
 * (.altinstructions entry + .altinstr_replacement bytes).  patched.c
 * changes fn_alt outside the alternative.
 */
#include "xenlike.h"

int fn_alt(int *p)
{
    xl_alternative("nop; nop; nop", "clac", XL_FEATURE_SMAP);
    return *p + 1;
}

int fn_other(int *p)
{
    xl_alternative(".byte 0x0f, 0x1f, 0x00", "lfence", XL_FEATURE_LFENCE);
    return *p - 1;
}
