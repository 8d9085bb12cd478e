/*
 * Trap helpers: read_guest_word() recovers from a faulting read through
 * the exception table (.ex_table + .fixup); check_trap_nr() carries bug
 * frames (BUG_ON, ASSERT) and read_guest_word() a WARN_ON.
 */
#include <xen/lib.h>
#include <asm/extable.h>
#include <asm/traps.h>

unsigned long search_exception_table(unsigned long addr)
{
    const struct exception_table_entry *e;

    for ( e = __start___ex_table; e < __stop___ex_table; e++ )
        if ( (unsigned long)&e->addr + e->addr == addr )
            return (unsigned long)&e->cont + e->cont;
    return 0;
}

int read_guest_word(const unsigned long *ptr, unsigned long *val)
{
    unsigned long v;
    int rc = read_unsafe(v, ptr);

    WARN_ON(rc);
    if ( !rc )
        *val = v;
    return rc;
}

int check_trap_nr(unsigned int trapnr)
{
    BUG_ON(trapnr >= 256);
    ASSERT(trapnr != 2);
    return trapnr < 32;
}
