package org.livepatch.verify;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.livepatch.elf.Bytes;
import org.livepatch.elf.Elf;

/**
 * A payload's ELF structure read with exactly the checks Xen 4.17.5 makes before it looks at
 * contents: the header ({@code livepatch_header_check}), the section headers
 * ({@code elf_resolve_sections}), their names ({@code elf_resolve_section_names}) and the symbol
 * entries ({@code elf_get_sym}), all in xen/common/livepatch_elf.c.
 *
 * <p>This is deliberately not {@link org.livepatch.elf.ElfReader}: that reader has its own, different
 * idea of a well-formed object, while a verifier must accept what Xen accepts and refuse what it
 * refuses, with Xen's errno. Every size, offset and index from the file is checked against the
 * file before it is used, with unsigned arithmetic that cannot wrap.
 */
public final class PayloadElf {
    static final int EHDR_SIZE = 64;
    static final int SHDR_SIZE = 64;
    static final int SYM_SIZE = 24;
    static final int SHN_COMMON = 0xfff2;
    static final int ELFOSABI_FREEBSD = 9;

    /** One section header as Xen sees it, with its bytes in the file ({@link Bytes#EMPTY} for SHT_NOBITS). */
    public record SectionHeader(int index, String name, int type, long flags, long addr, long offset, long size,
                                int link, int info, long addralign, long entsize, Bytes data) {
        public boolean isAlloc() {
            return (flags & Elf.SHF_ALLOC) != 0;
        }

        public boolean isWrite() {
            return (flags & Elf.SHF_WRITE) != 0;
        }

        public boolean isExec() {
            return (flags & Elf.SHF_EXECINSTR) != 0;
        }

        public boolean isNoBits() {
            return type == Elf.SHT_NOBITS;
        }
    }

    /** One symbol-table entry, as in the file (value not yet resolved). */
    public record SymbolEntry(int index, String name, int info, int other, int shndx, long value, long size) {
        public int bind() {
            return info >>> 4;
        }

        public int type() {
            return info & 0xf;
        }
    }

    private final String payload;
    private final Bytes file;
    private final List<SectionHeader> sections;
    private final int symtabIndex;
    private final List<SymbolEntry> symbols;

    private PayloadElf(String payload, Bytes file, List<SectionHeader> sections, int symtabIndex, List<SymbolEntry> symbols) {
        this.payload = payload;
        this.file = file;
        this.sections = Collections.unmodifiableList(sections);
        this.symtabIndex = symtabIndex;
        this.symbols = Collections.unmodifiableList(symbols);
    }

    /** Section headers by index; index 0 is a placeholder Xen never reads. */
    public List<SectionHeader> sections() {
        return sections;
    }

    public int symtabIndex() {
        return symtabIndex;
    }

    /** Symbols by index; index 0, which Xen skips, is included as read. */
    public List<SymbolEntry> symbols() {
        return symbols;
    }

    public Bytes file() {
        return file;
    }

    /** The first section with that name, searching from index 1 as livepatch_elf_sec_by_name does (duplicates are never detected). */
    public SectionHeader sectionNamed(String name) {
        for (int i = 1; i < sections.size(); i++) {
            if (sections.get(i).name().equals(name)) {
                return sections.get(i);
            }
        }
        return null;
    }

    static PayloadElf parse(String payload, byte[] data, HypervisorRules rules) throws PayloadRejectedException {
        return new Parser(payload, Bytes.copyOf(data), rules).parse();
    }

    private static final class Parser {
        private final String payload;
        private final Bytes f;
        private final long len;
        private final HypervisorRules rules;

        Parser(String payload, Bytes f, HypervisorRules rules) {
            this.payload = payload;
            this.rules = rules;
            this.f = f;
            this.len = f.length();
        }

        private PayloadRejectedException reject(RejectReason r, String detail) {
            return new PayloadRejectedException(new Rejection(payload, r, detail, rules));
        }

        PayloadElf parse() throws PayloadRejectedException {
            // livepatch_header_check
            if (len < EHDR_SIZE) {
                throw reject(RejectReason.HEADER_TRUNCATED, "Section header is bigger than payload: the file has " + len + " bytes, an ELF64 header needs 64");
            }
            if (f.u8(0) != 0x7f || f.u8(1) != 'E' || f.u8(2) != 'L' || f.u8(3) != 'F') {
                throw reject(RejectReason.NOT_ELF, "Not an ELF payload (bad magic)");
            }
            int osabi = f.u8(7);
            int type = f.u16(16);
            int machine = f.u16(18);
            long version = f.u32(20);
            long shoff = f.u64(40);
            int phnum = f.u16(56);
            int shentsize = f.u16(58);
            int shnum = f.u16(60);
            int shstrndx = f.u16(62);
            if (version != Elf.EV_CURRENT || f.u8(6) != Elf.EV_CURRENT || f.u8(8) != 0
                    || (osabi != 0 && osabi != ELFOSABI_FREEBSD) || type != Elf.ET_REL || phnum != 0) {
                throw reject(RejectReason.INVALID_ELF, "Invalid ELF payload: need e_version/EI_VERSION 1, EI_ABIVERSION 0, EI_OSABI 0 or 9, "
                        + "e_type ET_REL and no program headers (have e_version %d, EI_VERSION %d, EI_ABIVERSION %d, EI_OSABI %d, e_type %d, e_phnum %d)"
                        .formatted(version, f.u8(6), f.u8(8), osabi, type, phnum));
            }
            // xen/arch/x86/livepatch.c: arch_livepatch_verify_elf
            if (machine != Elf.EM_X86_64 || f.u8(4) != Elf.ELFCLASS64 || f.u8(5) != Elf.ELFDATA2LSB) {
                throw reject(RejectReason.UNSUPPORTED_MACHINE, "Unsupported ELF Machine type: need EM_X86_64, ELFCLASS64, little-endian (have e_machine %d, EI_CLASS %d, EI_DATA %d)"
                        .formatted(machine, f.u8(4), f.u8(5)));
            }
            if (shstrndx == Elf.SHN_UNDEF) {
                throw reject(RejectReason.SECTION_HEADERS_CORRUPT, "Section name idx is undefined (e_shstrndx 0)");
            }
            if (shnum >= HypervisorRules.MAX_SECTIONS) {
                throw reject(RejectReason.TOO_MANY_SECTIONS, "Too many (" + shnum + ") sections; Xen takes fewer than 1024");
            }
            if (shstrndx >= shnum) {
                throw reject(RejectReason.SECTION_HEADERS_CORRUPT, "Section name idx (" + shstrndx + ") is past end of sections (" + shnum + ")");
            }
            if (Long.compareUnsigned(shoff, len) >= 0) {
                throw reject(RejectReason.SECTION_HEADERS_CORRUPT, "Bogus e_shoff 0x%x (file is 0x%x bytes)".formatted(shoff, len));
            }
            if (shentsize < SHDR_SIZE) {
                throw reject(RejectReason.SECTION_HEADERS_CORRUPT, "Section header size is " + shentsize + "! Expected 64.");
            }
            if ((len - shoff) / shentsize < shnum) {
                throw reject(RejectReason.SECTION_HEADERS_CORRUPT, "Section header size is corrupted: " + shnum + " headers of " + shentsize + " bytes at 0x"
                        + Long.toHexString(shoff) + " run past the end of the file");
            }
            List<SectionHeader> raw = resolveSections(shoff, shentsize, shnum);
            int symtab = findSymtab(raw);
            List<SectionHeader> named = resolveSectionNames(raw, shstrndx);
            List<SymbolEntry> syms = readSymbols(named, symtab);
            return new PayloadElf(payload, f, named, symtab, syms);
        }

        // xen/common/livepatch_elf.c: elf_resolve_sections
        private List<SectionHeader> resolveSections(long shoff, int shentsize, int shnum) throws PayloadRejectedException {
            List<SectionHeader> list = new ArrayList<>(shnum);
            list.add(new SectionHeader(0, "", Elf.SHT_NULL, 0, 0, 0, 0, 0, 0, 0, 0, Bytes.EMPTY));
            for (int i = 1; i < shnum; i++) {
                int o = (int) (shoff + (long) i * shentsize);
                long nameOff = f.u32(o);
                int type = f.s32(o + 4);
                long flags = f.u64(o + 8);
                long addr = f.u64(o + 16);
                long offset = f.u64(o + 24);
                long size = f.u64(o + 32);
                int link = f.s32(o + 40);
                int info = f.s32(o + 44);
                long align = f.u64(o + 48);
                long entsize = f.u64(o + 56);
                boolean nobits = type == Elf.SHT_NOBITS;
                if (Long.compareUnsigned(offset, EHDR_SIZE) < 0) {
                    throw reject(RejectReason.SECTION_DATA_OUT_OF_FILE, "Section [" + i + "] data at ELF header (sh_offset 0x" + Long.toHexString(offset) + ")");
                }
                if (!nobits && (Long.compareUnsigned(offset, len) > 0 || Long.compareUnsigned(size, len - offset) > 0)) {
                    throw reject(RejectReason.SECTION_DATA_OUT_OF_FILE, "Section [%d] data is past end of payload (0x%x+0x%x, file is 0x%x bytes)".formatted(i, offset, size, len));
                }
                if ((align & (align - 1)) != 0) {
                    throw reject(RejectReason.SECTION_ALIGNMENT_UNSUPPORTED, "Section [%d] alignment (0x%x) is not supported".formatted(i, align));
                }
                if (align != 0 && (addr & (align - 1)) != 0) {
                    throw reject(RejectReason.SECTION_MISALIGNED, "Section [%d] addr (0x%x) is not aligned properly (0x%x)".formatted(i, addr, align));
                }
                if ((flags & (Elf.SHF_WRITE | Elf.SHF_ALLOC)) != 0 && nobits && Long.compareUnsigned(size, HypervisorRules.MAX_PAYLOAD_SIZE) > 0) {
                    throw reject(RejectReason.BSS_TOO_LARGE, "Section [%d] is SHT_NOBITS of 0x%x bytes, more than 2 MiB".formatted(i, size));
                }
                Bytes data = nobits ? Bytes.EMPTY : f.slice((int) offset, (int) size);
                list.add(new SectionHeader(i, Long.toString(nameOff), type, flags, addr, offset, size, link, info, align, entsize, data));
            }
            return list;
        }

        private int findSymtab(List<SectionHeader> raw) throws PayloadRejectedException {
            int symtab = -1;
            for (SectionHeader s : raw) {
                if (s.index() == 0 || s.type() != Elf.SHT_SYMTAB) {
                    continue;
                }
                if (symtab >= 0) {
                    throw reject(RejectReason.MULTIPLE_SYMBOL_TABLES, "Unsupported multiple symbol tables (sections " + symtab + " and " + s.index() + ")");
                }
                symtab = s.index();
                if (Integer.compareUnsigned(s.link(), raw.size()) >= 0) {
                    throw reject(RejectReason.SYMBOL_TABLE_CORRUPT, "Symbol table idx (" + Integer.toUnsignedString(s.link()) + ") to strtab past end (" + raw.size() + ")");
                }
            }
            if (symtab < 0) {
                throw reject(RejectReason.SYMBOL_TABLE_CORRUPT, "No symbol table found");
            }
            SectionHeader st = raw.get(symtab);
            if (st.size() == 0 || Long.compareUnsigned(st.entsize(), SYM_SIZE) < 0 || Long.remainderUnsigned(st.size(), st.entsize()) != 0) {
                throw reject(RejectReason.SYMBOL_TABLE_CORRUPT, "Symbol table header is corrupted (sh_size %d, sh_entsize %d)".formatted(st.size(), st.entsize()));
            }
            if (st.link() == 0) {
                // Xen 4.17.5 would read the never-filled section 0 here (a NULL dereference).
                throw reject(RejectReason.STRING_TABLE_CORRUPT, "String table section is corrupted: the symbol table's sh_link is 0");
            }
            if (!validStrtab(raw.get(st.link()))) {
                throw reject(RejectReason.STRING_TABLE_CORRUPT, "String table section is corrupted (section " + st.link() + " must be a non-empty SHT_STRTAB starting and ending with NUL)");
            }
            return symtab;
        }

        // xen/common/livepatch_elf.c: elf_verify_strtab
        private static boolean validStrtab(SectionHeader s) {
            return s.type() == Elf.SHT_STRTAB && s.size() != 0 && s.data().u8(0) == 0 && s.data().u8(s.data().length() - 1) == 0;
        }

        // xen/common/livepatch_elf.c: elf_resolve_section_names
        private List<SectionHeader> resolveSectionNames(List<SectionHeader> raw, int shstrndx) throws PayloadRejectedException {
            SectionHeader strtab = raw.get(shstrndx);
            if (!validStrtab(strtab)) {
                throw reject(RejectReason.SECTION_NAMES_CORRUPT, "Section string table is corrupted (section " + shstrndx + ")");
            }
            List<SectionHeader> named = new ArrayList<>(raw.size());
            named.add(raw.get(0));
            for (int i = 1; i < raw.size(); i++) {
                SectionHeader s = raw.get(i);
                long off = Long.parseLong(s.name());
                if (off >= strtab.size()) {
                    throw reject(RejectReason.SECTION_NAMES_CORRUPT, "Section " + i + " name is not within .shstrtab (sh_name " + off + ", table of " + strtab.size() + " bytes)");
                }
                // The table ends with NUL (checked above), so every name is terminated inside it.
                String name = strtab.data().cString((int) off);
                named.add(new SectionHeader(i, name, s.type(), s.flags(), s.addr(), s.offset(), s.size(), s.link(), s.info(), s.addralign(), s.entsize(), s.data()));
            }
            return named;
        }

        // xen/common/livepatch_elf.c: elf_get_sym
        private List<SymbolEntry> readSymbols(List<SectionHeader> sections, int symtabIndex) throws PayloadRejectedException {
            SectionHeader st = sections.get(symtabIndex);
            SectionHeader strtab = sections.get(st.link());
            long n = st.size() / st.entsize();
            int entsize = (int) st.entsize();
            List<SymbolEntry> list = new ArrayList<>((int) n);
            list.add(new SymbolEntry(0, "", 0, 0, 0, 0, 0));
            Bytes d = st.data();
            for (int i = 1; i < n; i++) {
                int o = i * entsize;
                long nameOff = d.u32(o);
                if (nameOff >= strtab.size()) {
                    throw reject(RejectReason.SYMBOL_NAME_OUT_OF_TABLE, "Symbol [" + i + "] name is not within .strtab (st_name " + nameOff + ", table of " + strtab.size() + " bytes)");
                }
                list.add(new SymbolEntry(i, strtab.data().cString((int) nameOff), d.u8(o + 4), d.u8(o + 5), d.u16(o + 6), d.u64(o + 8), d.u64(o + 16)));
            }
            return list;
        }
    }
}
