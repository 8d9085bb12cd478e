package org.livepatch.elf;

/**
 * One section: its header and its bytes ({@link Bytes#EMPTY} for SHT_NOBITS and SHT_NULL).
 *
 * @param index position in the section header table
 * @param offset file offset as read; not part of the section's meaning (writers re-lay files)
 */
public record Section(
        int index,
        String name,
        int type,
        long flags,
        long addr,
        long offset,
        long size,
        int link,
        int info,
        long addralign,
        long entsize,
        Bytes data) {

    public boolean isAlloc() {
        return (flags & Elf.SHF_ALLOC) != 0;
    }

    public boolean isExec() {
        return (flags & Elf.SHF_EXECINSTR) != 0;
    }

    public boolean isWrite() {
        return (flags & Elf.SHF_WRITE) != 0;
    }

    public boolean isNoBits() {
        return type == Elf.SHT_NOBITS;
    }

    public boolean isRela() {
        return type == Elf.SHT_RELA;
    }

    /** Merge sections of NUL-terminated strings, e.g. {@code .rodata.foo.str1.1}. */
    public boolean isMergeStrings() {
        return (flags & Elf.SHF_MERGE) != 0 && (flags & Elf.SHF_STRINGS) != 0;
    }

    public boolean inGroup() {
        return (flags & Elf.SHF_GROUP) != 0;
    }

    /** The header and bytes without the file offset, which says nothing about the section. */
    public boolean sameContentAs(Section o) {
        return index == o.index && name.equals(o.name) && type == o.type && flags == o.flags && addr == o.addr
                && size == o.size && link == o.link && info == o.info && addralign == o.addralign
                && entsize == o.entsize && data.equals(o.data);
    }

    @Override
    public String toString() {
        return "[" + index + "] " + name;
    }
}
