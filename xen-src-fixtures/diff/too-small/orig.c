/*
 * too-small: fn_tiny is 3 bytes in orig.o (xor %eax,%eax; ret), too short
 * for the 5-byte jump a patch writes over the old function.  The
 * function_return("keep") attribute turns off the return thunk for it
 * (otherwise "ret" would be a 5-byte jmp __x86_return_thunk), and
 * -falign-functions=1 (cflags in expect) removes the alignment padding
 * that would otherwise make 16 bytes available.
 */
#include "xenlike.h"

#define keep_ret __attribute__((__function_return__("keep")))

int keep_ret fn_tiny(void)
{
    return 0;
}

int fn_normal(int x)
{
    return x * 9;
}
