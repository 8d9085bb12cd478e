/*
 * Several function symbols inside ONE section, most at non-zero offsets,
 * as in Xen's arch/x86/indirect-thunk.S (one .text.__x86_indirect_thunk_*
 * style section holding a run of 16-byte aligned entry points).  Also a
 * local (non-global) function symbol at a non-zero offset, a read-only data
 * section with a relocation back into the code, and the COMDAT group that
 * extable.c emits too.
 */
#ifdef __CET__
# define ENDBR endbr64
#else
# define ENDBR
#endif

#define ENTRY(name)            \
        .p2align 4, 0xcc;      \
        .globl name;           \
        .type name, @function; \
name:                          \
        ENDBR

        .section .text.rt_thunks, "ax", @progbits

ENTRY(rt_thunk_add1)                /* offset 0 */
        leal 1(%rdi), %eax
        ret
        .size rt_thunk_add1, . - rt_thunk_add1

ENTRY(rt_thunk_add2)                /* offset 16 */
        call add_one_local
        call add_one_local
        ret
        .size rt_thunk_add2, . - rt_thunk_add2

ENTRY(rt_thunk_double)              /* offset 32 */
        leal (%rdi,%rdi), %eax
        ret
        .size rt_thunk_double, . - rt_thunk_double

ENTRY(rt_thunk_negate)              /* offset 48 */
        movl %edi, %eax
        negl %eax
        ret
        .size rt_thunk_negate, . - rt_thunk_negate

        /* local helper at a non-zero offset; adds one to %edi in place */
        .p2align 4, 0xcc
        .type add_one_local, @function
add_one_local:
        incl %edi
        movl %edi, %eax
        ret
        .size add_one_local, . - add_one_local

        .section .rodata.rt_thunk_entries, "a", @progbits
        .p2align 3
        .globl rt_thunk_entries
        .type rt_thunk_entries, @object
rt_thunk_entries:
        .quad rt_thunk_add1, rt_thunk_add2, rt_thunk_double, rt_thunk_negate
        .size rt_thunk_entries, . - rt_thunk_entries

        .section .text.rt_grp_answer, "axG", @progbits, rt_grp_answer, comdat
        .globl rt_grp_answer
        .type rt_grp_answer, @function
rt_grp_answer:
        ENDBR
        movl $42, %eax
        ret
        .size rt_grp_answer, . - rt_grp_answer

        .section .note.GNU-stack, "", @progbits
