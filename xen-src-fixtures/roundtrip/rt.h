/*
 * Shared declarations for the ELF round-trip fixture.
 * Every object here is compiled on its own; main.c ties them together.
 */
#ifndef RT_H
#define RT_H

#include <stdint.h>

/* ENDBR64 in hand-written code when the compiler is asked for IBT. */
#ifdef __CET__
#define RT_ENDBR "endbr64\n"
#else
#define RT_ENDBR ""
#endif

/*
 * The same COMDAT group is emitted by extable.c (inline asm) and thunks.S,
 * so the linker has to drop one copy.  Keep both bodies identical.
 */
int rt_grp_answer(void);

/* counters.c: two functions with a static local named "count" each */
int rt_count_calls(void);
int rt_count_items(int n);
const char *rt_describe(int n);
int rt_checked_div(int a, int b);

/* tables.c: function-pointer table in .rodata, data, bss, a custom section */
typedef int rt_op_fn(int);
struct rt_op {
    const char *name;
    rt_op_fn *fn;
};
extern const struct rt_op rt_ops[];
extern const unsigned int rt_nr_ops;
extern int rt_primes[8];
extern long rt_scratch[16];
extern const char *rt_greetings[];
extern unsigned int rt_custom_marker;
int rt_sum_primes(void);
int rt_fill_scratch(int seed);

/* extable.c: exception-table-like section with fixup stubs */
int rt_extable_count(void);
int rt_extable_run(int which);

/* thunks.S: several function symbols at non-zero offsets in one section */
int rt_thunk_add1(int);
int rt_thunk_add2(int);
int rt_thunk_double(int);
int rt_thunk_negate(int);

#endif
