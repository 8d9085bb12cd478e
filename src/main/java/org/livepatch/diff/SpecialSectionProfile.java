package org.livepatch.diff;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The layout of one of Xen's special sections, as x86 Xen defines it, learnt from the section
 * itself rather than from debug info (a default Xen build has none; upstream's DWARF lookup fails
 * there).
 *
 * <p>Each is an array of fixed-size entries whose first field points into the code the entry is
 * about; an entry belongs to the function that field points into.
 *
 * @param candidateSizes entry sizes to try, in order; the first that divides the section and puts
 *                       every relocation on one of {@code fields} wins
 * @param fields         offsets inside an entry where relocations may sit
 * @param traits         which of the {@link Trait}s this layout has
 * @param replacementLength offset of the byte giving the length of the piece of
 *                       {@code .altinstr_replacement} the entry's second field points to, or -1
 */
record SpecialSectionProfile(String kind, List<Integer> candidateSizes, List<Integer> fields, Set<Trait> traits,
                             int replacementLength, String auxSection) {

    /** What sets one layout apart from a plain array of self-relative pointers. */
    enum Trait {
        /**
         * The displacements are relative to the entry start, not to the field ({@code struct
         * bug_frame}); otherwise self-relative ({@code .long x - .}).
         */
        FRAME_RELATIVE,
        /**
         * The top 7 bits of each 32-bit displacement carry half a line number ({@code struct
         * bug_frame}: 24-bit signed disp, 7 bits of line), masked off so moved lines do not count
         * as a change.
         */
        LINE_BITS,
        /**
         * An entry without a relocation at offset 0 continues the previous entry (the second
         * frame of an assertion, which only points at the message).
         */
        CONTINUATION
    }

    SpecialSectionProfile {
        traits = Set.copyOf(traits);
    }

    /** xen/arch/x86/include/asm/uaccess.h: struct exception_table_entry { s32 addr, cont; }. */
    static final SpecialSectionProfile EX_TABLE = new SpecialSectionProfile("exception table", List.of(8), List.of(0, 4),
            Set.of(), -1, ".fixup");
    /**
     * xen/arch/x86/include/asm/alternative.h: struct alt_instr, packed: s32 orig_offset, s32 repl_offset,
     * u16 cpuid, u8 orig_len, u8 repl_len, u8 pad_len, u8 priv = 14 bytes (Xen 4.17); older Xen had
     * no pad_len/priv (12 bytes). repl_len sits at offset 11 in both.
     */
    static final SpecialSectionProfile ALTERNATIVES = new SpecialSectionProfile("alternatives", List.of(14, 12), List.of(0, 4),
            Set.of(), 11, ".altinstr_replacement");
    /** xen/arch/x86/include/asm/bug.h: struct bug_frame, two 32-bit words; BUGFRAME_assert adds a second frame. */
    static final SpecialSectionProfile BUG_FRAMES = new SpecialSectionProfile("bug frames", List.of(8), List.of(0, 4),
            EnumSet.of(Trait.FRAME_RELATIVE, Trait.LINE_BITS, Trait.CONTINUATION), -1, null);
    /** xen/include/xen/livepatch_payload.h: each hook entry is one function pointer. */
    static final SpecialSectionProfile HOOKS = new SpecialSectionProfile("hook", List.of(8), List.of(0),
            Set.of(), -1, null);

    static SpecialSectionProfile forSection(String name) {
        if (name.equals(".ex_table") || name.equals(".ex_table.pre")) {
            return EX_TABLE;
        }
        if (name.equals(".altinstructions")) {
            return ALTERNATIVES;
        }
        if (name.matches("\\.bug_frames\\.[0-9]")) {
            return BUG_FRAMES;
        }
        if (name.startsWith(".livepatch.hooks.")) {
            return HOOKS;
        }
        return null;
    }

    boolean frameRelative() {
        return traits.contains(Trait.FRAME_RELATIVE);
    }

    boolean lineBits() {
        return traits.contains(Trait.LINE_BITS);
    }

    boolean continuation() {
        return traits.contains(Trait.CONTINUATION);
    }

    boolean isHook() {
        return this == HOOKS;
    }

    /** The displacement as the code means it: line-number bits removed when the layout carries them. */
    long displacement(long addend) {
        if (!lineBits()) {
            return addend;
        }
        long low = addend & 0xffffff;
        return (low ^ 0x800000) - 0x800000;
    }
}
