/*
 * Exception table with the Xen 4.17 x86 layout: .ex_table, 8-byte
 * entries { s32 insn - ., s32 fixup - . }, fixup code in .fixup.
 */
#ifndef ASM_EXTABLE_H
#define ASM_EXTABLE_H

struct exception_table_entry {
    s32 addr, cont;
};

extern const struct exception_table_entry __start___ex_table[];
extern const struct exception_table_entry __stop___ex_table[];

#define _ASM_EXTABLE(from, to)                  \
    " .section .ex_table, \"a\"\n"              \
    " .balign 4\n"                              \
    " .long " #from " - ., " #to " - .\n"       \
    " .previous\n"

/* v = *p, or v = 0 and -EFAULT (-14) if the access faults. */
#define read_unsafe(v, p) ({                                    \
    int rc_ = 0;                                                \
    asm volatile ( "1: mov %[mem], %[val]\n"                    \
                   "2:\n"                                       \
                   " .section .fixup, \"ax\"\n"                 \
                   "3: mov $-14, %[rc]\n"                       \
                   "   xor %[val], %[val]\n"                    \
                   "   jmp 2b\n"                                \
                   " .previous\n"                               \
                   _ASM_EXTABLE(1b, 3b)                         \
                   : [rc] "+r" (rc_), [val] "=r" (v)            \
                   : [mem] "m" (*(p)) );                        \
    rc_; })

unsigned long search_exception_table(unsigned long addr);

#endif /* ASM_EXTABLE_H */
