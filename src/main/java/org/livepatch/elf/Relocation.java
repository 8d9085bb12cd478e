package org.livepatch.elf;

/**
 * One RELA entry, with its symbol resolved. {@code symbol} is the symbol-table entry the
 * relocation names (index 0, the null symbol, for {@code STN_UNDEF}); whether it is a section
 * symbol or a named one matters to the diff, which compares references by name.
 */
public record Relocation(long offset, int type, Symbol symbol, long addend) {

    public boolean viaSectionSymbol() {
        return symbol.isSectionSymbol();
    }
}
