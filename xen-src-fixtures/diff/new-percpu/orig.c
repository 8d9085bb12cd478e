/*
 * new-percpu: the fix adds per-CPU variables (DEFINE_PER_CPU and
 * DEFINE_PER_CPU_READ_MOSTLY, as xen/include/xen/percpu.h defines them:
 * symbol per_cpu__<name> in .bss.percpu / .bss.percpu.read_mostly).
 * A per-CPU variable is an offset into each CPU's per-CPU area, laid out
 * when Xen was linked; a payload cannot add one, so the diff is refused,
 * naming each new variable.
 */
#include "xenlike.h"

#define DEFINE_PER_CPU(type, name) \
    __attribute__((__section__(".bss.percpu"))) __typeof__(type) per_cpu__ ## name
#define DEFINE_PER_CPU_READ_MOSTLY(type, name) \
    __attribute__((__section__(".bss.percpu.read_mostly"))) __typeof__(type) per_cpu__ ## name
extern unsigned long this_cpu_offset;
#define this_cpu(name) \
    (*(__typeof__(&per_cpu__ ## name))((char *)&per_cpu__ ## name + this_cpu_offset))

DEFINE_PER_CPU(unsigned int, ctxt_count);

void fn_switch(unsigned int next)
{
    this_cpu(ctxt_count)++;
    (void)next;
}
