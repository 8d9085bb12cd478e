package org.livepatch.diff;

import org.livepatch.elf.Elf;
import org.livepatch.elf.Section;

/** What part a section plays for live patching, decided from its name and flags. */
enum SectionRole {
    /** Not loaded or not meaningful to the patch: .comment, notes, .discard, debug info, tables. */
    IGNORED,
    /** Code and data freed after boot ({@code __init}: .init.*, .initcall*): never patched. */
    INIT,
    /** Xen's tables of fixed-size entries about code: .ex_table, .altinstructions, .bug_frames.N, hooks. */
    SPECIAL,
    /** Code reached only through a special table: .fixup (from .ex_table), .altinstr_replacement. */
    AUX_CODE,
    STRINGS,
    CONSTANTS,
    TEXT,
    RODATA,
    DATA,
    BSS;

    static SectionRole of(Section s) {
        String n = s.name();
        if (s.index() == 0 || !s.isAlloc() || s.type() == Elf.SHT_GROUP || s.type() == Elf.SHT_NOTE
                || s.type() == Elf.SHT_RELA || s.type() == Elf.SHT_SYMTAB || s.type() == Elf.SHT_STRTAB
                || n.startsWith(".discard") || n.startsWith(".note") || n.startsWith(".comment")) {
            return IGNORED;
        }
        if (SpecialSectionProfile.forSection(n) != null) {
            return SPECIAL;
        }
        if (n.equals(".fixup") || n.equals(".altinstr_replacement")) {
            return AUX_CODE;
        }
        // xen/include/xen/init.h: __init, __initdata, __initconst, __initsetup, initcalls; all of
        // it is discarded once the hypervisor has booted, so a change there cannot matter to a
        // running system (upstream ignores .init* with a warning, commit 3c88fec).
        if (n.startsWith(".init") || n.equals(".text.startup") || n.startsWith(".initcall")) {
            return INIT;
        }
        if ((s.flags() & Elf.SHF_MERGE) != 0) {
            return (s.flags() & Elf.SHF_STRINGS) != 0 ? STRINGS : CONSTANTS;
        }
        if (s.isExec()) {
            return TEXT;
        }
        if (s.isNoBits()) {
            return BSS;
        }
        return s.isWrite() ? DATA : RODATA;
    }

    boolean isData() {
        return this == DATA || this == BSS;
    }
}
