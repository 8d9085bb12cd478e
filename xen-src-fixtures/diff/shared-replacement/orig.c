/*
 * shared-replacement: .altinstr_replacement laid out the way Xen's
 * evaluate_nospec() and stac()/clac() leave it when inlined into one
 * function (do_domctl in Xen 4.17 after XSA fix 0010): empty replacements
 * (alternative("lfence", "", ...)) point wherever the section is at that
 * moment, i.e. at the first byte of the next replacement; and one
 * replacement is pointed into by two entries (a whole one and its tail).
 *
 *   .altinstr_replacement   entries pointing there (repl_len)
 *   +0x0 stac (3 bytes)     fn_nospec: empty (0); fn_smap: stac (3)
 *   +0x3 clac (3 bytes)     fn_smap: clac (3)
 *   +0x6 lfence; clac (6)   fn_tail: whole (6), its clac tail at +0x9 (3)
 *   +0xc                    fn_nospec: empty (0), at the end
 *
 * patched.c changes fn_smap and fn_tail outside their alternatives.
 */
#include "xenlike.h"

/* Two entries: one for the whole replacement, one for its last instruction. */
#define XL_ALT_TAIL(oldinstr, first, second, feature)                   \
    ".Lxt_orig_s%=:\n\t" oldinstr "\n.Lxt_orig_e%=:\n"                  \
    " .pushsection .altinstructions, \"a\", @progbits\n"                \
    " .long .Lxt_orig_s%= - .\n"                                        \
    " .long .Lxt_repl_s%= - .\n"                                        \
    " .word " XL_STR(feature) "\n"                                      \
    " .byte .Lxt_orig_e%= - .Lxt_orig_s%=\n"                            \
    " .byte .Lxt_repl_e%= - .Lxt_repl_s%=\n"                            \
    " .byte 0\n"                                                        \
    " .byte 0\n"                                                        \
    " .long .Lxt_orig_s%= - .\n"                                        \
    " .long .Lxt_repl_m%= - .\n"                                        \
    " .word " XL_STR(feature) "\n"                                      \
    " .byte .Lxt_orig_e%= - .Lxt_orig_s%=\n"                            \
    " .byte .Lxt_repl_e%= - .Lxt_repl_m%=\n"                            \
    " .byte 0\n"                                                        \
    " .byte 0\n"                                                        \
    " .section .altinstr_replacement, \"ax\", @progbits\n"              \
    ".Lxt_repl_s%=:\n\t" first "\n.Lxt_repl_m%=:\n\t" second "\n"       \
    ".Lxt_repl_e%=:\n"                                                  \
    " .popsection\n"

int fn_nospec(int *p)
{
    xl_alternative("lfence", "", XL_FEATURE_LFENCE);
    return *p + 2;
}

int fn_smap(int *p)
{
    int v;

    xl_alternative("nop; nop; nop", "stac", XL_FEATURE_SMAP);
    v = *p + 1;
    xl_alternative("nop; nop; nop", "clac", XL_FEATURE_SMAP);
    return v;
}

int fn_tail(int *p)
{
    asm volatile ( XL_ALT_TAIL(".byte 0x0f, 0x1f, 0x44, 0x00, 0x00, 0x90", "lfence", "clac", XL_FEATURE_SMAP) ::: "memory" );
    return *p * 3;
}

int fn_end(int *p)
{
    xl_alternative("lfence", "", XL_FEATURE_LFENCE);
    return *p - 2;
}
