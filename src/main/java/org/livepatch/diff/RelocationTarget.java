package org.livepatch.diff;

import org.livepatch.elf.Bytes;
import org.livepatch.elf.Section;
import org.livepatch.elf.Symbol;

/**
 * What a relocation really refers to, once section symbols and local labels are resolved.
 *
 * <p>Objects name most local things through section symbols ({@code .text.foo + 0x12}) or
 * {@code .L} labels, so two builds of the same code differ in those offsets whenever anything
 * else in the section moves. Resolving each reference to the symbol that covers the byte, or to
 * the string or constant stored there, lets the diff compare references by meaning.
 */
sealed interface RelocationTarget {

    /** A named symbol, defined here or undefined, and the offset of the referenced byte from its start. */
    record SymbolTarget(Symbol symbol, long offset) implements RelocationTarget {}

    /** A NUL-terminated string in a SHF_MERGE|SHF_STRINGS section: compared by its text, never its offset. */
    record StringTarget(Section section, long offset, String text) implements RelocationTarget {}

    /** A constant in a SHF_MERGE section of fixed-size entries ({@code .rodata.cst8}): compared by value. */
    record ConstantTarget(Section section, long offset, Bytes value) implements RelocationTarget {}

    /** Bytes no symbol covers ({@code .fixup} code, anonymous {@code .rodata}), inside {@code unit} when one exists. */
    record SectionTarget(Section section, long offset, SectionSlice unit) implements RelocationTarget {}

    /** STN_UNDEF: a relocation that names no symbol. */
    record NoTarget() implements RelocationTarget {}
}
