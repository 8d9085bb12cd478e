/* hooks: patched.c adds a load hook and apply/revert action hooks. */
#include "xenlike.h"

int fn_a(int x)
{
    return x + 1;
}

static void cf_check fn_load_hook(void)
{
    printk("payload loaded\n");
}

static int cf_check fn_apply_hook(struct xl_payload *p)
{
    printk("applying\n");
    return 0;
}

static int cf_check fn_revert_hook(struct xl_payload *p)
{
    printk("reverting\n");
    return 0;
}

XL_LOAD_HOOK(fn_load_hook);
XL_APPLY_HOOK(fn_apply_hook);
XL_REVERT_HOOK(fn_revert_hook);
