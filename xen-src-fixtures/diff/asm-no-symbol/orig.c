/* Assembly in its own section with only a local label, no STT_FUNC symbol: the
 * diff cannot tell which function the bytes belong to, so a change must be refused. */
#include "xenlike.h"

asm(".pushsection .text.stub_area, \"ax\", @progbits\n"
    "stub_entry:\n"
    "    mov $1, %eax\n"
    "    ret\n"
    ".popsection\n");

int use_stub(void);
int use_stub(void)
{
    return 7;
}
