/*
 * Prints a fixed report that touches every feature of the other objects.
 * The output never contains addresses, so a program linked from original
 * objects and one linked from rewritten objects must print the same text.
 */
#include <stdio.h>
#include <string.h>
#include "rt.h"

extern const long rt_thunk_entries[4];      /* thunks.S, .rodata */

static const char banner[] = "roundtrip fixture";
static unsigned int calls_seen;             /* bss in this object */
long rt_main_pair[2] = { 40, 2 };           /* data in this object */

int main(void)
{
    printf("%s\n", banner);

    for ( unsigned int i = 0; i < rt_nr_ops; i++ )
        printf("op %-6s 10 -> %d\n", rt_ops[i].name, rt_ops[i].fn(10));

    for ( int i = 0; i < 4; i++ )
        printf("thunk entry %d 5 -> %d\n", i,
               ((rt_op_fn *)rt_thunk_entries[i])(5));

    for ( int i = 0; i < 3; i++ )
        calls_seen = rt_count_calls();
    printf("count_calls %u\n", calls_seen);
    printf("count_items %d\n", rt_count_items(4));
    printf("count_items %d\n", rt_count_items(500));

    for ( int i = 0; i < 5; i++ )
        printf("describe %d: %s\n", i, rt_describe(i));
    printf("checked_div %d\n", rt_checked_div(84, 2));

    printf("sum_primes %d\n", rt_sum_primes());
    rt_primes[7] = 23;
    printf("sum_primes after write %d\n", rt_sum_primes());
    int filled = rt_fill_scratch(3);
    printf("fill_scratch %d scratch[15] %ld\n", filled, rt_scratch[15]);

    for ( const char **g = rt_greetings; *g; g++ )
        printf("greeting %s (%zu)\n", *g, strlen(*g));
    printf("custom marker %#x\n", rt_custom_marker);
    printf("pair %ld\n", rt_main_pair[0] + rt_main_pair[1]);

    printf("extable entries %d\n", rt_extable_count());
    for ( int i = 0; i < 4; i++ )
        printf("extable probe %d -> %d\n", i, rt_extable_run(i));

    printf("comdat answer %d\n", rt_grp_answer());
    return 0;
}
