package org.livepatch.elf;

/**
 * Constants of the ELF64 format (System V gABI) that this project reads and writes.
 *
 * <p>Names follow the specification so they can be searched for in {@code elf.h}.
 */
public final class Elf {
    private Elf() {}

    public static final int EHDR_SIZE = 64;
    public static final int SHDR_SIZE = 64;
    public static final int PHDR_SIZE = 56;
    public static final int SYM_SIZE = 24;
    public static final int RELA_SIZE = 24;

    public static final int ELFCLASS64 = 2;
    public static final int ELFDATA2LSB = 1;
    public static final int EV_CURRENT = 1;

    public static final int ET_REL = 1;
    public static final int ET_EXEC = 2;
    public static final int ET_DYN = 3;

    public static final int EM_X86_64 = 62;
    public static final int EM_AARCH64 = 183;

    public static final int SHN_UNDEF = 0;
    public static final int SHN_LORESERVE = 0xff00;
    public static final int SHN_ABS = 0xfff1;
    public static final int SHN_COMMON = 0xfff2;
    public static final int SHN_XINDEX = 0xffff;

    public static final int SHT_NULL = 0;
    public static final int SHT_PROGBITS = 1;
    public static final int SHT_SYMTAB = 2;
    public static final int SHT_STRTAB = 3;
    public static final int SHT_RELA = 4;
    public static final int SHT_HASH = 5;
    public static final int SHT_DYNAMIC = 6;
    public static final int SHT_NOTE = 7;
    public static final int SHT_NOBITS = 8;
    public static final int SHT_REL = 9;
    public static final int SHT_DYNSYM = 11;
    public static final int SHT_INIT_ARRAY = 14;
    public static final int SHT_FINI_ARRAY = 15;
    public static final int SHT_PREINIT_ARRAY = 16;
    public static final int SHT_GROUP = 17;
    public static final int SHT_SYMTAB_SHNDX = 18;
    public static final int SHT_X86_64_UNWIND = 0x70000001;

    public static final long SHF_WRITE = 0x1;
    public static final long SHF_ALLOC = 0x2;
    public static final long SHF_EXECINSTR = 0x4;
    public static final long SHF_MERGE = 0x10;
    public static final long SHF_STRINGS = 0x20;
    public static final long SHF_INFO_LINK = 0x40;
    public static final long SHF_LINK_ORDER = 0x80;
    public static final long SHF_GROUP = 0x200;
    public static final long SHF_TLS = 0x400;
    public static final long SHF_EXCLUDE = 0x80000000L;

    public static final int GRP_COMDAT = 0x1;

    public static final int STB_LOCAL = 0;
    public static final int STB_GLOBAL = 1;
    public static final int STB_WEAK = 2;

    public static final int STT_NOTYPE = 0;
    public static final int STT_OBJECT = 1;
    public static final int STT_FUNC = 2;
    public static final int STT_SECTION = 3;
    public static final int STT_FILE = 4;
    public static final int STT_COMMON = 5;
    public static final int STT_TLS = 6;

    public static final int STV_DEFAULT = 0;
    public static final int STV_HIDDEN = 2;

    public static final int NT_GNU_BUILD_ID = 3;

    public static String sectionTypeName(int type) {
        return switch (type) {
            case SHT_NULL -> "NULL";
            case SHT_PROGBITS -> "PROGBITS";
            case SHT_SYMTAB -> "SYMTAB";
            case SHT_STRTAB -> "STRTAB";
            case SHT_RELA -> "RELA";
            case SHT_HASH -> "HASH";
            case SHT_DYNAMIC -> "DYNAMIC";
            case SHT_NOTE -> "NOTE";
            case SHT_NOBITS -> "NOBITS";
            case SHT_REL -> "REL";
            case SHT_DYNSYM -> "DYNSYM";
            case SHT_INIT_ARRAY -> "INIT_ARRAY";
            case SHT_FINI_ARRAY -> "FINI_ARRAY";
            case SHT_PREINIT_ARRAY -> "PREINIT_ARRAY";
            case SHT_GROUP -> "GROUP";
            case SHT_SYMTAB_SHNDX -> "SYMTAB SECTION INDICES";
            case SHT_X86_64_UNWIND -> "X86_64_UNWIND";
            default -> "0x" + Integer.toHexString(type);
        };
    }

    public static String bindName(int bind) {
        return switch (bind) {
            case STB_LOCAL -> "LOCAL";
            case STB_GLOBAL -> "GLOBAL";
            case STB_WEAK -> "WEAK";
            default -> Integer.toString(bind);
        };
    }

    public static String symbolTypeName(int type) {
        return switch (type) {
            case STT_NOTYPE -> "NOTYPE";
            case STT_OBJECT -> "OBJECT";
            case STT_FUNC -> "FUNC";
            case STT_SECTION -> "SECTION";
            case STT_FILE -> "FILE";
            case STT_COMMON -> "COMMON";
            case STT_TLS -> "TLS";
            default -> Integer.toString(type);
        };
    }

    /** Section flags in readelf's letter notation (W A X M S I L G T E). */
    public static String flagLetters(long flags) {
        StringBuilder sb = new StringBuilder();
        if ((flags & SHF_WRITE) != 0) sb.append('W');
        if ((flags & SHF_ALLOC) != 0) sb.append('A');
        if ((flags & SHF_EXECINSTR) != 0) sb.append('X');
        if ((flags & SHF_MERGE) != 0) sb.append('M');
        if ((flags & SHF_STRINGS) != 0) sb.append('S');
        if ((flags & SHF_INFO_LINK) != 0) sb.append('I');
        if ((flags & SHF_LINK_ORDER) != 0) sb.append('L');
        if ((flags & SHF_GROUP) != 0) sb.append('G');
        if ((flags & SHF_TLS) != 0) sb.append('T');
        if ((flags & SHF_EXCLUDE) != 0) sb.append('E');
        return sb.toString();
    }
}
