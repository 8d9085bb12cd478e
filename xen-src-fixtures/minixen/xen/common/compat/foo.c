/* 32-bit guest variant of common/foo.c (compiled with -DCOMPAT). */
#include <xen/hypercall.h>

#define do_foo compat_foo

#include "../foo.c"
