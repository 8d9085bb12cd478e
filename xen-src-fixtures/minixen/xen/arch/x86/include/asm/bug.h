/*
 * Bug frames with the x86 Xen 4.17 layout: section .bug_frames.<type>,
 * 8 bytes per frame, two self-relative 32-bit words; the source line is
 * split into the top bits of both words (see diff/README.md).
 */
#ifndef ASM_BUG_H
#define ASM_BUG_H

#define BUGFRAME_run_fn 0
#define BUGFRAME_warn   1
#define BUGFRAME_bug    2
#define BUGFRAME_assert 3

#ifndef __ASSEMBLY__

struct bug_frame {
    s32 loc_disp;       /* ud2 - frame, plus (line >> 7) << 24 */
    s32 ptr_disp;       /* file or fn - frame, plus (line & 127) << 24 */
};

#define BUG_FRAME(type, line, ptr_, second_frame, msg_)                     \
    asm volatile ( ".Lbug_ud2%=: ud2\n"                                     \
                   " .pushsection .bug_frames." __stringify(type)           \
                   ", \"a\", @progbits\n"                                   \
                   " .p2align 2\n"                                          \
                   ".Lbug_frm%=:\n"                                         \
                   " .long (.Lbug_ud2%= - .Lbug_frm%=) + %c[hi]\n"          \
                   " .long (%c[ptr] - .Lbug_frm%=) + %c[lo]\n"              \
                   " .if " #second_frame "\n"                               \
                   " .long 0, %c[msg] - .Lbug_frm%=\n"                      \
                   " .endif\n"                                              \
                   " .popsection\n"                                         \
                   :: [ptr] "i" (ptr_), [msg] "i" (msg_),                   \
                      [lo] "i" (((line) & 127) << 24),                      \
                      [hi] "i" (((line) >> 7) << 24) )

#define WARN() BUG_FRAME(BUGFRAME_warn, __LINE__, __FILE__, 0, NULL)
#define BUG()  do { BUG_FRAME(BUGFRAME_bug, __LINE__, __FILE__, 0, NULL); unreachable(); } while ( 0 )
#define BUG_ON(p)  do { if ( __builtin_expect(!!(p), 0) ) BUG(); } while ( 0 )
#define WARN_ON(p) do { if ( __builtin_expect(!!(p), 0) ) WARN(); } while ( 0 )
#define ASSERT(p) do {                                                      \
    if ( __builtin_expect(!(p), 0) )                                        \
    {                                                                       \
        BUG_FRAME(BUGFRAME_assert, __LINE__, __FILE__, 1, #p);              \
        unreachable();                                                      \
    }                                                                       \
} while ( 0 )

#endif /* __ASSEMBLY__ */

#endif /* ASM_BUG_H */
