/*
 * line-only-printk: patched.c inserts lines near the top, which moves
 * __LINE__ for everything below. Xen prints "<file>:<line>" from
 * domain_crash(), dprintk() and gdprintk(): printk(fmt, __FILE__, __LINE__).
 * fn_crash, fn_dprintk and fn_gdprintk differ only in that number: not
 * patched.
 * fn_limit changes a real constant printed after the line, fn_label one
 * printed after a string that is not a file name, and fn_both a line and a
 * real constant: all three are patched. fn_report passes __FILE__ and
 * __LINE__ to a function that is not printk: patched too (nothing proves
 * what that function does with the number).
 */
#include "xenlike.h"

/* A fix that adds
 * four lines here. */

struct dom { int id; };
void __domain_crash(struct dom *d);
void report_at(const char *file, int line);

#define domain_crash(d) do {                                            \
    printk("domain_crash called from %s:%d\n", __FILE__, __LINE__);     \
    __domain_crash(d);                                                  \
} while ( 0 )
#define dprintk(lvl, fmt, args...) \
    printk(lvl "%s:%d: " fmt, __FILE__, __LINE__, ## args)
/* Debug builds' gdprintk (xen/include/xen/lib.h), with its %pv of current. */
extern struct dom *current_vcpu;
#define gdprintk(lvl, fmt, args...) \
    printk("<G>" lvl "%s:%d:%pv " fmt, __FILE__, __LINE__, current_vcpu, ## args)

int fn_crash(struct dom *d, int x)
{
    if ( x > d->id )
    {
        domain_crash(d);
        return -1;
    }
    return x * 3;
}

void fn_dprintk(unsigned long mfn)
{
    if ( mfn & 1 )
        dprintk("<G><1>", "bad mfn %lx\n", mfn);
}

int fn_gdprintk(int rc)
{
    if ( rc )
        gdprintk("<1>", "failed: %d\n", rc);
    return rc;
}

void fn_limit(int v)
{
    dprintk("<G><2>", "limit %d\n", 32);
    (void)v;
}

void fn_label(void)
{
    printk("%s:%d\n", "eth", 43);
}

int fn_both(struct dom *d, int x)
{
    if ( x < 0 )
        domain_crash(d);
    return x + 8;
}

void fn_report(void)
{
    report_at(__FILE__, __LINE__);
}
