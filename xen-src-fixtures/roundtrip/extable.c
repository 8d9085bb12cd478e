/*
 * An exception-table-like section built from inline asm, the way Xen's
 * _ASM_EXTABLE does it: each entry is two 32-bit self-relative offsets
 * (instruction, fixup), emitted with .pushsection into "rt_extable", with
 * the fixup code in its own executable section ".rt_fixup".  The section
 * name is a C identifier so the linker provides __start_/__stop_ symbols.
 *
 * Nothing faults here: each probe returns the address of its recorded
 * instruction, main() looks the address up in the table and calls the
 * fixup stub, which returns a known number.  A round trip that breaks a
 * relocation breaks the lookup.
 *
 * The file also emits a COMDAT group from top-level inline asm (the same
 * group is in thunks.S).
 */
#include "rt.h"

struct rt_extable_entry {
    int32_t insn;
    int32_t fixup;
};

extern const struct rt_extable_entry __start_rt_extable[];
extern const struct rt_extable_entry __stop_rt_extable[];

#define RT_EXTABLE(insn, fixup)                         \
    ".pushsection rt_extable, \"a\", @progbits\n"       \
    ".balign 4\n"                                       \
    ".long " insn " - ., " fixup " - .\n"               \
    ".popsection\n"

/* A fixup stub returning CODE, placed in .rt_fixup. */
#define RT_FIXUP(label, code)                                   \
    ".pushsection .rt_fixup, \"ax\", @progbits\n"               \
    label ": " RT_ENDBR "movl $" #code ", %%eax\n"              \
    "ret\n"                                                     \
    ".popsection\n"

static __attribute__((noinline)) const void *probe_load(const int *p, int *out)
{
    const void *site;
    int v;

    asm volatile ( "1: movl (%[p]), %[v]\n"
                   "   leaq 1b(%%rip), %[site]\n"
                   RT_FIXUP("2", 7)
                   RT_EXTABLE("1b", "2b")
                   : [v] "=r" (v), [site] "=r" (site)
                   : [p] "r" (p) );
    *out = v;
    return site;
}

static __attribute__((noinline)) const void *probe_store(int *p, int v)
{
    const void *site;

    asm volatile ( "1: movl %[v], (%[p])\n"
                   "   leaq 1b(%%rip), %[site]\n"
                   RT_FIXUP("2", 11)
                   RT_EXTABLE("1b", "2b")
                   : [site] "=r" (site)
                   : [p] "r" (p), [v] "r" (v)
                   : "memory" );
    return site;
}

/* Two entries from one function. */
static __attribute__((noinline)) const void *probe_pair(int second)
{
    const void *a, *b;

    asm volatile ( "1: nop\n"
                   "   leaq 1b(%%rip), %[a]\n"
                   "3: nop\n"
                   "   leaq 3b(%%rip), %[b]\n"
                   RT_FIXUP("2", 13)
                   RT_FIXUP("4", 17)
                   RT_EXTABLE("1b", "2b")
                   RT_EXTABLE("3b", "4b")
                   : [a] "=r" (a), [b] "=r" (b) );
    return second ? b : a;
}

static const void *search_extable(const void *addr)
{
    for ( const struct rt_extable_entry *e = __start_rt_extable;
          e < __stop_rt_extable; e++ )
    {
        const char *insn = (const char *)&e->insn + e->insn;

        if ( insn == addr )
            return (const char *)&e->fixup + e->fixup;
    }
    return 0;
}

int rt_extable_count(void)
{
    return (int)(__stop_rt_extable - __start_rt_extable);
}

/* Returns the fixup's number for probe WHICH, -1 if its entry is missing. */
int rt_extable_run(int which)
{
    static int cell = 5;
    const void *site, *fixup;
    int v = 0;

    switch ( which )
    {
    case 0:  site = probe_load(&cell, &v); break;
    case 1:  site = probe_store(&cell, 6); break;
    case 2:  site = probe_pair(0); break;
    default: site = probe_pair(1); break;
    }
    fixup = search_extable(site);
    if ( !fixup )
        return -1;
    return ((int (*)(void))fixup)() + v;
}

/* COMDAT group "rt_grp_answer"; thunks.S carries an identical copy. */
asm ( ".section .text.rt_grp_answer, \"axG\", @progbits, rt_grp_answer, comdat\n"
      ".globl rt_grp_answer\n"
      ".type rt_grp_answer, @function\n"
      "rt_grp_answer:\n"
      RT_ENDBR
      "movl $42, %eax\n"
      "ret\n"
      ".size rt_grp_answer, . - rt_grp_answer\n"
      ".previous\n" );
