/*
 * Data of every common kind: a const table of function pointers (.rodata
 * with -fno-pie, .data.rel.ro with -fpie), initialised data, bss, an array
 * of string pointers and a variable in a custom named section.
 */
#include "rt.h"

static int times_three(int v) { return v * 3; }
static int minus_seven(int v) { return v - 7; }

const struct rt_op rt_ops[] = {
    { "add1",    rt_thunk_add1 },
    { "add2",    rt_thunk_add2 },
    { "double",  rt_thunk_double },
    { "negate",  rt_thunk_negate },
    { "times3",  times_three },
    { "minus7",  minus_seven },
};
const unsigned int rt_nr_ops = sizeof(rt_ops) / sizeof(rt_ops[0]);

int rt_primes[8] = { 2, 3, 5, 7, 11, 13, 17, 19 };

long rt_scratch[16];

const char *rt_greetings[] = { "hello", "bonjour", "hallo", 0 };

__attribute__((section(".custom.sec"), used))
unsigned int rt_custom_marker = 0xc0ffee;

int rt_sum_primes(void)
{
    int sum = 0;

    for ( unsigned int i = 0; i < sizeof(rt_primes) / sizeof(rt_primes[0]); i++ )
        sum += rt_primes[i];
    return sum;
}

int rt_fill_scratch(int seed)
{
    long total = 0;

    for ( unsigned int i = 0; i < 16; i++ )
    {
        rt_scratch[i] = seed + (long)i * i;
        total += rt_scratch[i];
    }
    return (int)total;
}
