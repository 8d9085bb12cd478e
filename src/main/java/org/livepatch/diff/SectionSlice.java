package org.livepatch.diff;

import org.livepatch.elf.Section;
import org.livepatch.elf.Symbol;

/**
 * The smallest piece of an object the diff compares and carries: one function, one data object,
 * or the bytes of a section no symbol describes.
 *
 * <p>With {@code -ffunction-sections -fdata-sections} a unit is usually a whole section. It is a
 * sub-range when several symbols share a section (assembly files, {@code .data.read_mostly},
 * {@code .init.text}); then {@link #symbol} is null for the bytes between them.
 *
 * @param start first byte of the unit in {@code section}
 * @param end   one past the last byte
 * @param wholeSection true when the unit spans its section, so copying the section copies it
 */
record SectionSlice(Section section, long start, long end, Symbol symbol, String file, boolean wholeSection) {

    boolean isFunction() {
        return symbol != null && symbol.isFunction();
    }

    boolean isAnonymous() {
        return symbol == null;
    }

    boolean contains(long offset) {
        return offset >= start && offset < end;
    }

    /** The name the running hypervisor knows this unit by: {@code file#name} for locals (xen/tools/symbols). */
    String xenName() {
        return symbol == null ? null : XenNames.of(symbol, file);
    }

    /** A short human description for reports. */
    String describe() {
        if (symbol != null) {
            return symbol.name();
        }
        return section.name() + (wholeSection ? "" : "+0x" + Long.toHexString(start));
    }

    // Identity, not content: two units are the same only if they are the same piece of one object,
    // and hashing a record would hash the section's bytes.
    @Override
    public boolean equals(Object o) {
        return this == o;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }

    @Override
    public String toString() {
        return describe();
    }
}
