/*
 * Static locals with the same name in two functions (gcc names them
 * count.0 and count.1), static helpers kept out of line, string literals
 * (one .rodata.<fn>.str1.1 merge section per function), and a cold path
 * (gcc splits it into .text.unlikely.<fn> as <fn>.cold).
 */
#include <stdio.h>
#include <stdlib.h>
#include "rt.h"

static __attribute__((noinline)) int scale(int v, int factor)
{
    return v * factor + 1;
}

static __attribute__((noinline)) int clamp(int v)
{
    return v > 1000 ? 1000 : v;
}

int rt_count_calls(void)
{
    static int count;

    return ++count;
}

int rt_count_items(int n)
{
    static int count = 100;

    count += clamp(scale(n, 3));
    return count;
}

const char *rt_describe(int n)
{
    switch ( n % 4 )
    {
    case 0: return "zero mod four";
    case 1: return "one mod four";
    case 2: return "two mod four";
    default: return "three mod four";
    }
}

static __attribute__((noinline, cold, noreturn)) void die(const char *what)
{
    fprintf(stderr, "fatal: %s\n", what);
    exit(2);
}

int rt_checked_div(int a, int b)
{
    if ( __builtin_expect(b == 0, 0) )
    {
        printf("division by zero requested for %d\n", a);
        die("division by zero");
    }
    return a / b;
}
