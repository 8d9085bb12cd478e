package org.livepatch.elf;

/**
 * The ELF64 file header fields that carry meaning for us. Offsets and counts of the tables are
 * kept for diagnostics; a writer recomputes them.
 */
public record ElfHeader(
        int osAbi,
        int abiVersion,
        int type,
        int machine,
        long version,
        long entry,
        long phoff,
        long shoff,
        long flags,
        int phnum,
        int shnum,
        int shstrndx) {

    public boolean isRelocatable() {
        return type == Elf.ET_REL;
    }

    /** The same header with the fields a writer recomputes cleared, for comparing models. */
    public ElfHeader withoutLayout() {
        return new ElfHeader(osAbi, abiVersion, type, machine, version, entry, 0, 0, flags, phnum, shnum, shstrndx);
    }
}
