/*
 * C entry point, called from entry.S.  It lives in .init.text (__init),
 * like Xen's __start_xen(), and touches everything else once.
 */
#include <xen/lib.h>
#include <xen/version.h>
#include <xen/hypercall.h>
#include <asm/traps.h>

void __start_xen(void) __attribute__((__noreturn__));

static unsigned long __initdata boot_word = 0x1234;

void __init __start_xen(void)
{
    const void *id;
    unsigned int len;
    unsigned long w;

    print_version();
    if ( xen_build_id(&id, &len) == 0 )
        printk("build-id: %u bytes\n", len);
    if ( read_guest_word(&boot_word, &w) == 0 )
        printk("boot word %x\n", (unsigned int)w);
    printk("foo: %d %d\n", (int)do_foo(1, 21), compat_foo(1, 21));
    printk("trap 14 is an exception: %d\n", check_trap_nr(14));
    printk("console lines: %u\n", console_lines());
    for ( ;; )
        asm volatile ( "hlt" );
}
