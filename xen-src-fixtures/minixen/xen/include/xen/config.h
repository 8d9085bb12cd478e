/*
 * Included into every compile with -include, as in Xen: the generated
 * CONFIG_ defines plus the few compiler helpers everything uses.
 */
#ifndef XEN_CONFIG_H
#define XEN_CONFIG_H

#include <generated/autoconf.h>

#ifndef __ASSEMBLY__

/* Hidden visibility: with -fpic this gives direct references, no GOT. */
#pragma GCC visibility push(hidden)

#define NULL ((void *)0)
#define noinline      __attribute__((__noinline__))
#define __used        __attribute__((__used__))
#define __section(s)  __attribute__((__section__(s)))
#define __init        __section(".init.text")
#define __initdata    __section(".init.data")
#define cf_check      __attribute__((__cf_check__))
#define unreachable() __builtin_unreachable()
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define __stringify_1(x) #x
#define __stringify(x)   __stringify_1(x)

typedef signed int s32;
typedef unsigned int u32;
typedef unsigned char u8;
typedef unsigned long size_t;

#endif /* __ASSEMBLY__ */

#endif /* XEN_CONFIG_H */
