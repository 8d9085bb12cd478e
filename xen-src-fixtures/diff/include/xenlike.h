/*
 * xenlike.h - small stand-ins for the special sections a Xen 4.17 x86
 * hypervisor object carries.  Written for these fixtures; only the section
 * names, entry sizes and relocation patterns follow Xen (see README.md for
 * the Xen headers each layout was checked against).
 *
 * Compile with the flags in ../CFLAGS (freestanding: -nostdinc, no libc).
 */
#ifndef XENLIKE_H
#define XENLIKE_H

/*
 * Xen's compiler.h makes every declaration hidden, which together with
 * -fpic gives direct PC32/PLT32 references instead of GOT indirections.
 */
#pragma GCC visibility push(hidden)

#define NULL ((void *)0)
#define noinline    __attribute__((__noinline__))
#define always_inline inline __attribute__((__always_inline__))
#define cf_check    __attribute__((__cf_check__))     /* ENDBR64 with -mmanual-endbr */
#define __used      __attribute__((__used__))
#define __weak      __attribute__((__weak__))
#define __section(s) __attribute__((__section__(s)))
#define __init      __section(".init.text")
#define unreachable() __builtin_unreachable()

#define XL_STR_(x) #x
#define XL_STR(x) XL_STR_(x)

int printk(const char *fmt, ...) __attribute__((__format__(__printf__, 1, 2)));

/* ------------------------------------------------------------------------
 * Exception table: .ex_table, 8-byte entries, 4-byte aligned, each entry
 * two self-relative s32 offsets { insn - &entry.insn, fixup - &entry.fixup }.
 * Both relocations are R_X86_64_PC32: one to the function's .text section,
 * one to .fixup.  Fixup code goes into one shared ".fixup" (AX) section and
 * jumps back into the function (another PC32, from .fixup to .text.<fn>).
 * Layout checked against xen/arch/x86/include/asm/asm_defns.h (_ASM_EXTABLE)
 * and asm/uaccess.h (struct exception_table_entry).
 */
#define XL_EXTABLE(insn, fixup)                 \
    " .section .ex_table, \"a\"\n"              \
    " .balign 4\n"                              \
    " .long " #insn " - ., " #fixup " - .\n"    \
    " .previous\n"

/* Read *p; on a fault the fixup stores -14 (-EFAULT) in rc and zero in v. */
#define xl_read_safe(v, p) ({                                   \
    int rc_ = 0;                                                \
    asm volatile ( "1: movl %[mem], %[val]\n"                   \
                   "2:\n"                                       \
                   " .section .fixup, \"ax\"\n"                 \
                   "3: movl $-14, %[rc]\n"                      \
                   "   xorl %[val], %[val]\n"                   \
                   "   jmp 2b\n"                                \
                   " .previous\n"                               \
                   XL_EXTABLE(1b, 3b)                           \
                   : [rc] "+r" (rc_), [val] "=r" (v)            \
                   : [mem] "m" (*(p)) );                        \
    rc_; })

/* ------------------------------------------------------------------------
 * Alternatives: .altinstructions holds packed 14-byte entries
 *   s32 orig_offset (PC32 -> .text.<fn>), s32 repl_offset (PC32 ->
 *   .altinstr_replacement), u16 cpuid, u8 orig_len, u8 repl_len,
 *   u8 pad_len, u8 priv
 * (struct alt_instr, xen/arch/x86/include/asm/alternative.h in 4.17).
 * The replacement bytes go to .altinstr_replacement (AX); like Xen, a
 * length byte is also dropped into .discard (never linked).  This macro
 * does no NOP padding: the replacement must not be longer than the
 * original.
 */
#define XL_ALTERNATIVE(oldinstr, newinstr, feature)                     \
    ".Lxl_orig_s%=:\n\t" oldinstr "\n.Lxl_orig_e%=:\n"                  \
    " .pushsection .altinstructions, \"a\", @progbits\n"                \
    " .long .Lxl_orig_s%= - .\n"                                        \
    " .long .Lxl_repl_s%= - .\n"                                        \
    " .word " XL_STR(feature) "\n"                                      \
    " .byte .Lxl_orig_e%= - .Lxl_orig_s%=\n"                            \
    " .byte .Lxl_repl_e%= - .Lxl_repl_s%=\n"                            \
    " .byte 0\n"                                                        \
    " .byte 0\n"                                                        \
    " .section .discard, \"a\", @progbits\n"                            \
    " .byte .Lxl_orig_e%= - .Lxl_orig_s%=\n"                            \
    " .section .altinstr_replacement, \"ax\", @progbits\n"              \
    ".Lxl_repl_s%=:\n\t" newinstr "\n.Lxl_repl_e%=:\n"                  \
    " .popsection\n"

#define xl_alternative(oldinstr, newinstr, feature) \
    asm volatile ( XL_ALTERNATIVE(oldinstr, newinstr, feature) ::: "memory" )

#define XL_FEATURE_SMAP   (7 * 32 + 20)     /* any 16-bit number works */
#define XL_FEATURE_LFENCE (3 * 32 + 1)

/* ------------------------------------------------------------------------
 * Bug frames: .bug_frames.<type> (0 run_fn, 1 warn, 2 bug, 3 assert),
 * 4-byte aligned, 8 bytes per frame (struct bug_frame in
 * xen/arch/x86/include/asm/bug.h, 4.17):
 *   word 0: (ud2 address - frame) + (line >> 7) << 24   PC32 -> .text.<fn>
 *   word 1: (ptr - frame)         + (line & 127) << 24  PC32 -> file string
 *                                                        (or fn for run_fn)
 * An assert frame is followed by a second 8-byte frame "{ 0, msg - frame }"
 * whose PC32 targets the message string (relative to the FIRST frame).
 * So the source line lives only in relocation addends, never in .text.
 */
#define XL_BUG_LINE_LO(line) (((line) & 127) << 24)
#define XL_BUG_LINE_HI(line) (((line) >> 7) << 24)

#define XL_BUG_FRAME(type, line, ptr_, second_frame, msg_)                  \
    asm volatile ( ".Lxl_ud2%=: ud2\n"                                      \
                   " .pushsection .bug_frames." XL_STR(type)                \
                   ", \"a\", @progbits\n"                                   \
                   " .p2align 2\n"                                          \
                   ".Lxl_frm%=:\n"                                          \
                   " .long (.Lxl_ud2%= - .Lxl_frm%=) + %c[hi]\n"            \
                   " .long (%c[ptr] - .Lxl_frm%=) + %c[lo]\n"               \
                   " .if " #second_frame "\n"                               \
                   " .long 0, %c[msg] - .Lxl_frm%=\n"                       \
                   " .endif\n"                                              \
                   " .popsection\n"                                         \
                   :: [ptr] "i" (ptr_), [msg] "i" (msg_),                   \
                      [lo] "i" (XL_BUG_LINE_LO(line)),                      \
                      [hi] "i" (XL_BUG_LINE_HI(line)) )

#define WARN()  XL_BUG_FRAME(1, __LINE__, __FILE__, 0, NULL)
#define BUG()   do { XL_BUG_FRAME(2, __LINE__, __FILE__, 0, NULL); unreachable(); } while ( 0 )
#define ASSERT(p) do {                                                      \
    if ( __builtin_expect(!(p), 0) )                                        \
    {                                                                       \
        XL_BUG_FRAME(3, __LINE__, __FILE__, 1, #p);                         \
        unreachable();                                                      \
    }                                                                       \
} while ( 0 )
/* A run_fn frame: no line, the pointer is a function (PC32 -> the function). */
#define run_in_exception_handler(fn) XL_BUG_FRAME(0, 0, fn, 0, NULL)

#define BUG_ON(p) do { if ( __builtin_expect(!!(p), 0) ) BUG(); } while ( 0 )
#define WARN_ON(p) do { if ( __builtin_expect(!!(p), 0) ) WARN(); } while ( 0 )

/* ------------------------------------------------------------------------
 * Live-patch hooks: one 8-byte function pointer (R_X86_64_64) per entry.
 * load/unload sections may hold several entries; the other six exactly
 * one.  Section names and pointer types follow
 * xen/include/xen/livepatch_payload.h; like Xen the pointer objects are
 * weak globals.
 */
struct xl_payload;
typedef void xl_loadcall_t(void);
typedef int  xl_precall_t(struct xl_payload *p);
typedef int  xl_actioncall_t(struct xl_payload *p);
typedef void xl_postcall_t(struct xl_payload *p);

#define XL_HOOK(type, kind, fn) \
    type *__weak const xl_hook_##kind##_##fn __section(".livepatch.hooks." #kind) = fn

#define XL_LOAD_HOOK(fn)       XL_HOOK(xl_loadcall_t, load, fn)
#define XL_UNLOAD_HOOK(fn)     XL_HOOK(xl_loadcall_t, unload, fn)
#define XL_PREAPPLY_HOOK(fn)   XL_HOOK(xl_precall_t, preapply, fn)
#define XL_APPLY_HOOK(fn)      XL_HOOK(xl_actioncall_t, apply, fn)
#define XL_POSTAPPLY_HOOK(fn)  XL_HOOK(xl_postcall_t, postapply, fn)
#define XL_PREREVERT_HOOK(fn)  XL_HOOK(xl_precall_t, prerevert, fn)
#define XL_REVERT_HOOK(fn)     XL_HOOK(xl_actioncall_t, revert, fn)
#define XL_POSTREVERT_HOOK(fn) XL_HOOK(xl_postcall_t, postrevert, fn)

#endif /* XENLIKE_H */
