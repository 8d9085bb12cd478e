package org.livepatch.elf;

/**
 * One symbol-table entry with its name resolved.
 *
 * @param shndx the raw section index: 0 (undefined), a section index, or a reserved index such as
 *              {@link Elf#SHN_ABS}
 */
public record Symbol(int index, String name, long value, long size, int info, int other, int shndx) {

    public int bind() {
        return info >>> 4;
    }

    public int type() {
        return info & 0xf;
    }

    public int visibility() {
        return other & 0x3;
    }

    public boolean isLocal() {
        return bind() == Elf.STB_LOCAL;
    }

    public boolean isGlobal() {
        return bind() == Elf.STB_GLOBAL;
    }

    public boolean isWeak() {
        return bind() == Elf.STB_WEAK;
    }

    public boolean isFunction() {
        return type() == Elf.STT_FUNC;
    }

    public boolean isObject() {
        return type() == Elf.STT_OBJECT;
    }

    public boolean isSectionSymbol() {
        return type() == Elf.STT_SECTION;
    }

    public boolean isFile() {
        return type() == Elf.STT_FILE;
    }

    public boolean isUndefined() {
        return shndx == Elf.SHN_UNDEF;
    }

    public boolean isAbsolute() {
        return shndx == Elf.SHN_ABS;
    }

    /** True when the symbol is defined in a real section (not undefined, absolute or common). */
    public boolean hasSection() {
        return shndx != Elf.SHN_UNDEF && shndx < Elf.SHN_LORESERVE;
    }

    public static int info(int bind, int type) {
        return (bind << 4) | (type & 0xf);
    }

    @Override
    public String toString() {
        return name.isEmpty() ? "#" + index : name;
    }
}
