package org.livepatch.elf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads an ELF64 little-endian file completely and checks every offset, size, count and index
 * against the file before using it.
 *
 * <p>Nothing read from the file is trusted: a table's count is only believed once the table is
 * known to lie inside the file, so a forged count can never allocate more than the file's size,
 * and any inconsistency ends in one {@link ElfFormatException} naming the structure and offset.
 */
public final class ElfReader {
    /** Our own limit on input size: payloads are at most 2 MiB, xen-syms some tens of MiB. */
    public static final long MAX_FILE_SIZE = 1L << 30;

    private final Path path;
    private final Bytes file;

    private ElfReader(Path path, Bytes file) {
        this.path = path;
        this.file = file;
    }

    public static ElfFile read(Path path) throws IOException {
        long size;
        try {
            size = Files.size(path);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(path.toString(), null, "no such file");
        }
        if (size > MAX_FILE_SIZE) {
            throw new ElfFormatException(path, "file", 0, "file of " + size + " bytes is larger than the " + MAX_FILE_SIZE + " bytes we read");
        }
        byte[] data = Files.readAllBytes(path);
        return read(path, data);
    }

    /** Parses bytes already in memory; {@code path} only names them in errors. The array is not copied. */
    public static ElfFile read(Path path, byte[] data) throws ElfFormatException {
        return new ElfReader(path, Bytes.wrapOwned(data, 0, data.length)).parse();
    }

    private ElfFormatException error(String structure, long offset, String reason) {
        return new ElfFormatException(path, structure, offset, reason);
    }

    private ElfFile parse() throws ElfFormatException {
        ElfHeader h = parseHeader();
        List<ProgramHeader> phdrs = parseProgramHeaders(h);
        long[] nameOffsets = new long[h.shnum()];
        List<Section> raw = parseSectionHeaders(h, nameOffsets);
        List<Section> sections = nameSections(h, raw, nameOffsets);

        Section symtab = null;
        for (Section s : sections) {
            if (s.type() == Elf.SHT_SYMTAB) {
                if (symtab != null) {
                    throw error("section header " + s.index(), sectionHeaderOffset(h, s.index()), "a second SHT_SYMTAB (first is section " + symtab.index() + ")");
                }
                symtab = s;
            } else if (s.type() == Elf.SHT_SYMTAB_SHNDX) {
                throw error("section header " + s.index(), sectionHeaderOffset(h, s.index()), "extended section indices (SHT_SYMTAB_SHNDX) are not supported");
            }
        }
        List<Symbol> symbols = symtab == null ? List.of() : parseSymbols(h, sections, symtab);

        List<RelocationSection> relas = new ArrayList<>();
        List<SectionGroup> groups = new ArrayList<>();
        Map<Integer, List<Note>> notes = new HashMap<>();
        for (Section s : sections) {
            switch (s.type()) {
                case Elf.SHT_RELA -> relas.add(parseRelocations(h, sections, symtab, symbols, s));
                case Elf.SHT_REL -> throw error("section " + s.name(), s.offset(), "SHT_REL relocations are not used on x86_64 or aarch64");
                case Elf.SHT_GROUP -> groups.add(parseGroup(h, sections, symtab, symbols, s));
                case Elf.SHT_NOTE -> notes.put(s.index(), parseNotes(s));
                default -> { }
            }
        }
        return new ElfFile(path, h, phdrs, sections, symtab, symbols, relas, groups, notes);
    }

    private ElfHeader parseHeader() throws ElfFormatException {
        if (file.length() < Elf.EHDR_SIZE) {
            throw error("ELF header", 0, "file is " + file.length() + " bytes, shorter than an ELF64 header (64)");
        }
        if (file.u8(0) != 0x7f || file.u8(1) != 'E' || file.u8(2) != 'L' || file.u8(3) != 'F') {
            throw error("ELF header", 0, "not an ELF file (bad magic)");
        }
        if (file.u8(4) != Elf.ELFCLASS64) {
            throw error("ELF header", 4, "not ELF64 (EI_CLASS " + file.u8(4) + ")");
        }
        if (file.u8(5) != Elf.ELFDATA2LSB) {
            throw error("ELF header", 5, "not little-endian (EI_DATA " + file.u8(5) + ")");
        }
        if (file.u8(6) != Elf.EV_CURRENT) {
            throw error("ELF header", 6, "unknown EI_VERSION " + file.u8(6));
        }
        int type = file.u16(16);
        int machine = file.u16(18);
        long version = file.u32(20);
        long entry = file.u64(24);
        long phoff = file.u64(32);
        long shoff = file.u64(40);
        long flags = file.u32(48);
        int ehsize = file.u16(52);
        int phentsize = file.u16(54);
        int phnum = file.u16(56);
        int shentsize = file.u16(58);
        int shnum = file.u16(60);
        int shstrndx = file.u16(62);
        if (version != Elf.EV_CURRENT) {
            throw error("ELF header", 20, "unknown e_version " + version);
        }
        if (ehsize != Elf.EHDR_SIZE) {
            throw error("ELF header", 52, "e_ehsize is " + ehsize + ", expected 64");
        }
        if (phnum > 0 && phentsize != Elf.PHDR_SIZE) {
            throw error("ELF header", 54, "e_phentsize is " + phentsize + ", expected 56");
        }
        if (shnum > 0 && shentsize != Elf.SHDR_SIZE) {
            throw error("ELF header", 58, "e_shentsize is " + shentsize + ", expected 64");
        }
        if (shnum == 0 && shoff != 0) {
            throw error("ELF header", 60, "extended section numbering (e_shnum 0 with a section table) is not supported");
        }
        if (shnum > 0) {
            checkRange("section header table", 40, shoff, (long) shnum * Elf.SHDR_SIZE);
            if (shstrndx == Elf.SHN_XINDEX) {
                throw error("ELF header", 62, "extended e_shstrndx is not supported");
            }
            if (shstrndx >= shnum) {
                throw error("ELF header", 62, "e_shstrndx " + shstrndx + " is not below e_shnum " + shnum);
            }
        }
        if (phnum > 0) {
            checkRange("program header table", 32, phoff, (long) phnum * Elf.PHDR_SIZE);
        }
        return new ElfHeader(file.u8(7), file.u8(8), type, machine, version, entry, phoff, shoff, flags, phnum, shnum, shstrndx);
    }

    private void checkRange(String structure, long where, long offset, long size) throws ElfFormatException {
        if (offset < 0 || size < 0 || offset > file.length() || size > file.length() - offset) {
            throw error(structure, where, "range 0x%x+0x%x lies outside the file of 0x%x bytes".formatted(offset, size, file.length()));
        }
    }

    private List<ProgramHeader> parseProgramHeaders(ElfHeader h) {
        List<ProgramHeader> list = new ArrayList<>(h.phnum());
        for (int i = 0; i < h.phnum(); i++) {
            int o = (int) (h.phoff() + (long) i * Elf.PHDR_SIZE);
            list.add(new ProgramHeader((int) file.u32(o), (int) file.u32(o + 4), file.u64(o + 8), file.u64(o + 16),
                    file.u64(o + 24), file.u64(o + 32), file.u64(o + 40), file.u64(o + 48)));
        }
        return list;
    }

    private static long sectionHeaderOffset(ElfHeader h, int index) {
        return h.shoff() + (long) index * Elf.SHDR_SIZE;
    }

    /**
     * Section headers and their data windows, with empty names: the sh_name of section i goes to
     * {@code nameOffsets[i]}, resolved once the section-name table is known.
     */
    private List<Section> parseSectionHeaders(ElfHeader h, long[] nameOffsets) throws ElfFormatException {
        List<Section> list = new ArrayList<>(h.shnum());
        for (int i = 0; i < h.shnum(); i++) {
            int o = (int) sectionHeaderOffset(h, i);
            String what = "section header " + i;
            long nameOff = file.u32(o);
            int type = (int) file.u32(o + 4);
            long flags = file.u64(o + 8);
            long addr = file.u64(o + 16);
            long offset = file.u64(o + 24);
            long size = file.u64(o + 32);
            int link = (int) file.u32(o + 40);
            int info = (int) file.u32(o + 44);
            long align = file.u64(o + 48);
            long entsize = file.u64(o + 56);
            if (align != 0 && Long.bitCount(align) != 1) {
                throw error(what, o + 48, "sh_addralign " + align + " is not a power of two");
            }
            if (link < 0 || link >= h.shnum()) {
                throw error(what, o + 40, "sh_link " + Integer.toUnsignedString(link) + " is not a section index (e_shnum " + h.shnum() + ")");
            }
            Bytes data = Bytes.EMPTY;
            if (i == 0) {
                if (type != Elf.SHT_NULL) {
                    throw error(what, o + 4, "section 0 must be SHT_NULL");
                }
            } else if (type == Elf.SHT_NULL) {
                // An inactive header has no bytes in the file; a size would promise bytes that
                // code sizing its work by sh_size (as for any section that is not SHT_NOBITS) cannot find.
                if (size != 0) {
                    throw error(what, o + 4, "inactive (SHT_NULL) section with sh_size 0x%x".formatted(size));
                }
            } else if (type != Elf.SHT_NOBITS) {
                if (offset < 0 || size < 0 || offset > file.length() || size > file.length() - offset) {
                    throw error(what, o + 24, "data range 0x%x+0x%x lies outside the file of 0x%x bytes".formatted(offset, size, file.length()));
                }
                if (size > 0 && offset < Elf.EHDR_SIZE) {
                    throw error(what, o + 24, "data at 0x%x overlaps the ELF header".formatted(offset));
                }
                data = file.slice((int) offset, (int) size);
            }
            nameOffsets[i] = nameOff;
            list.add(new Section(i, "", type, flags, addr, offset, size, link, info, align, entsize, data));
        }
        return list;
    }

    private List<Section> nameSections(ElfHeader h, List<Section> raw, long[] nameOffsets) throws ElfFormatException {
        if (raw.isEmpty()) {
            return raw;
        }
        Section strtab = raw.get(h.shstrndx());
        if (h.shstrndx() != 0 && strtab.type() != Elf.SHT_STRTAB) {
            throw error("section header " + h.shstrndx(), sectionHeaderOffset(h, h.shstrndx()) + 4, "e_shstrndx names a section of type " + Elf.sectionTypeName(strtab.type()) + ", not STRTAB");
        }
        List<Section> named = new ArrayList<>(raw.size());
        for (Section s : raw) {
            long nameOff = nameOffsets[s.index()];
            String name;
            if (h.shstrndx() == 0) {
                name = "";
            } else {
                name = nameOff > Integer.MAX_VALUE ? null : strtab.data().cString((int) nameOff);
                if (name == null) {
                    throw error("section header " + s.index(), sectionHeaderOffset(h, s.index()), "sh_name " + nameOff + " is outside the section-name table (" + strtab.size() + " bytes) or not terminated");
                }
            }
            if (h.isRelocatable() && (name.startsWith(".rela.") || name.startsWith(".rel.")) && s.type() != Elf.SHT_RELA && s.type() != Elf.SHT_REL) {
                // The gABI reserves these names for relocation sections, and GNU ld -r goes by the
                // name: carried into a payload object, such a section comes out of the link as a
                // relocation table made of whatever bytes it held.
                throw error("section header " + s.index(), sectionHeaderOffset(h, s.index()) + 4, "section " + name
                        + " has a name reserved for relocation sections but type " + Elf.sectionTypeName(s.type()));
            }
            named.add(new Section(s.index(), name, s.type(), s.flags(), s.addr(), s.offset(), s.size(), s.link(), s.info(), s.addralign(), s.entsize(), s.data()));
        }
        return named;
    }

    private List<Symbol> parseSymbols(ElfHeader h, List<Section> sections, Section symtab) throws ElfFormatException {
        String what = "symbol table " + symtab.name();
        if (symtab.entsize() != Elf.SYM_SIZE) {
            throw error(what, sectionHeaderOffset(h, symtab.index()) + 56, "sh_entsize " + symtab.entsize() + ", expected 24");
        }
        if (symtab.size() % Elf.SYM_SIZE != 0) {
            throw error(what, symtab.offset(), "size " + symtab.size() + " is not a multiple of 24");
        }
        Section strtab = sections.get(symtab.link());
        if (strtab.type() != Elf.SHT_STRTAB) {
            throw error(what, sectionHeaderOffset(h, symtab.index()) + 40, "sh_link " + symtab.link() + " is not a string table");
        }
        int n = (int) (symtab.size() / Elf.SYM_SIZE);
        if (symtab.info() < 0 || symtab.info() > n) {
            throw error(what, sectionHeaderOffset(h, symtab.index()) + 44, "sh_info " + Integer.toUnsignedString(symtab.info()) + " (first global) exceeds the " + n + " symbols");
        }
        Bytes d = symtab.data();
        List<Symbol> list = new ArrayList<>(n);
        Map<Long, String> names = new HashMap<>();
        for (int i = 0; i < n; i++) {
            int o = i * Elf.SYM_SIZE;
            long nameOff = d.u32(o);
            int info = d.u8(o + 4);
            int other = d.u8(o + 5);
            int shndx = d.u16(o + 6);
            long value = d.u64(o + 8);
            long size = d.u64(o + 16);
            String name = names.get(nameOff);
            if (name == null) {
                name = nameOff > Integer.MAX_VALUE ? null : strtab.data().cString((int) nameOff);
                if (name == null) {
                    throw error("symbol " + i, symtab.offset() + o, "st_name " + nameOff + " is outside " + strtab.name() + " (" + strtab.size() + " bytes) or not terminated");
                }
                names.put(nameOff, name);
            }
            if (shndx == Elf.SHN_XINDEX) {
                throw error("symbol " + i, symtab.offset() + o + 6, "extended section index (SHN_XINDEX) is not supported");
            }
            if (shndx != Elf.SHN_UNDEF && shndx < Elf.SHN_LORESERVE && shndx >= sections.size()) {
                throw error("symbol " + i + " (" + name + ")", symtab.offset() + o + 6, "st_shndx " + shndx + " is not a section index (e_shnum " + sections.size() + ")");
            }
            if (h.isRelocatable() && shndx != Elf.SHN_UNDEF && shndx < Elf.SHN_LORESERVE) {
                // In an object a defined symbol is an offset into its section (gABI, "Symbol
                // Values"); one outside it would make the diff cut or copy bytes that do not exist.
                Section in = sections.get(shndx);
                if (Long.compareUnsigned(value, in.size()) > 0 || Long.compareUnsigned(size, in.size() - value) > 0) {
                    throw error("symbol " + i + " (" + name + ")", symtab.offset() + o + 8, "st_value 0x%x + st_size 0x%x lies outside section %d (%s) of 0x%x bytes"
                            .formatted(value, size, shndx, in.name(), in.size()));
                }
            }
            list.add(new Symbol(i, name, value, size, info, other, shndx));
        }
        return list;
    }

    private RelocationSection parseRelocations(ElfHeader h, List<Section> sections, Section symtab, List<Symbol> symbols, Section s) throws ElfFormatException {
        String what = "relocation section " + s.name();
        long sh = sectionHeaderOffset(h, s.index());
        if (s.entsize() != Elf.RELA_SIZE) {
            throw error(what, sh + 56, "sh_entsize " + s.entsize() + ", expected 24");
        }
        if (s.size() % Elf.RELA_SIZE != 0) {
            throw error(what, s.offset(), "size " + s.size() + " is not a multiple of 24");
        }
        if (symtab == null || s.link() != symtab.index()) {
            throw error(what, sh + 40, "sh_link " + s.link() + " is not the symbol table");
        }
        if (s.info() <= 0 || s.info() >= sections.size()) {
            throw error(what, sh + 44, "sh_info " + Integer.toUnsignedString(s.info()) + " is not a section index");
        }
        Section target = sections.get(s.info());
        if (target.type() == Elf.SHT_RELA || target.type() == Elf.SHT_SYMTAB || target.type() == Elf.SHT_STRTAB || target.type() == Elf.SHT_NULL) {
            throw error(what, sh + 44, "applies to section " + target.index() + " (" + target.name() + ") of type " + Elf.sectionTypeName(target.type()));
        }
        int n = (int) (s.size() / Elf.RELA_SIZE);
        if (n > 0 && target.isNoBits()) {
            // SHT_NOBITS has no bytes in the file, so there is nothing a relocation could rewrite.
            throw error(what, sh + 44, "applies to section " + target.index() + " (" + target.name() + "), which is SHT_NOBITS");
        }
        // In a relocatable object r_offset is an offset into the target section; in a linked
        // image it is an address inside it (gABI, "Relocation").
        long base = h.isRelocatable() ? 0 : target.addr();
        List<Relocation> list = new ArrayList<>(n);
        Bytes d = s.data();
        for (int i = 0; i < n; i++) {
            int o = i * Elf.RELA_SIZE;
            long offset = d.u64(o);
            long info = d.u64(o + 8);
            long addend = d.u64(o + 16);
            long symIndex = info >>> 32;
            int type = (int) info;
            if (symIndex >= symbols.size()) {
                throw error(what + " entry " + i, s.offset() + o + 8, "symbol index " + symIndex + " is outside the " + symbols.size() + " symbols");
            }
            // Every field a relocation rewrites must lie inside the section it applies to:
            // otherwise the diff would carry (or drop) a reference into bytes that do not exist.
            int width = RelocationTypes.width(h.machine(), type);
            long rel = offset - base;
            if (Long.compareUnsigned(rel, target.size()) > 0 || target.size() - rel < width) {
                throw error(what + " entry " + i, s.offset() + o, "r_offset 0x%x (%s, %d bytes) lies outside section %d (%s) of 0x%x bytes"
                        .formatted(offset, RelocationTypes.name(h.machine(), type), width, target.index(), target.name(), target.size()));
            }
            list.add(new Relocation(offset, type, symbols.get((int) symIndex), addend));
        }
        return new RelocationSection(s, target, list);
    }

    private SectionGroup parseGroup(ElfHeader h, List<Section> sections, Section symtab, List<Symbol> symbols, Section s) throws ElfFormatException {
        String what = "section group " + s.index();
        long sh = sectionHeaderOffset(h, s.index());
        if (symtab == null || s.link() != symtab.index()) {
            throw error(what, sh + 40, "sh_link " + s.link() + " is not the symbol table");
        }
        if (s.info() <= 0 || s.info() >= symbols.size()) {
            throw error(what, sh + 44, "signature symbol " + Integer.toUnsignedString(s.info()) + " is outside the " + symbols.size() + " symbols");
        }
        if (s.size() < 4 || s.size() % 4 != 0) {
            throw error(what, s.offset(), "size " + s.size() + " is not a flag word followed by 4-byte section indexes");
        }
        Bytes d = s.data();
        int flags = d.s32(0);
        List<Section> members = new ArrayList<>();
        for (int o = 4; o < d.length(); o += 4) {
            long idx = d.u32(o);
            if (idx == 0 || idx >= sections.size() || idx == s.index()) {
                throw error(what, s.offset() + o, "member " + idx + " is not another section's index");
            }
            members.add(sections.get((int) idx));
        }
        return new SectionGroup(s, flags, symbols.get(s.info()), members);
    }

    private List<Note> parseNotes(Section s) throws ElfFormatException {
        List<Note> list = new ArrayList<>();
        Bytes d = s.data();
        int o = 0;
        while (o < d.length()) {
            if (d.length() - o < 12) {
                throw error("note in " + s.name(), s.offset() + o, "truncated note header");
            }
            long namesz = d.u32(o);
            long descsz = d.u32(o + 4);
            int type = d.s32(o + 8);
            long nameEnd = o + 12 + align4(namesz);
            long descEnd = nameEnd + align4(descsz);
            if (nameEnd > d.length() || nameEnd + descsz > d.length()) {
                throw error("note in " + s.name(), s.offset() + o, "name (" + namesz + ") and descriptor (" + descsz + ") run past the section end");
            }
            String name = namesz == 0 ? "" : d.cString(o + 12);
            if (name == null || (namesz > 0 && name.length() >= namesz)) {
                // namesz counts the terminating NUL (gABI): "GNU\0" has namesz 4.
                throw error("note in " + s.name(), s.offset() + o + 12, "note name is not NUL-terminated within namesz " + namesz);
            }
            list.add(new Note(name, type, d.slice((int) nameEnd, (int) descsz)));
            o = (int) Math.min(descEnd, d.length());
        }
        return list;
    }

    private static long align4(long v) {
        return (v + 3) & ~3L;
    }
}
