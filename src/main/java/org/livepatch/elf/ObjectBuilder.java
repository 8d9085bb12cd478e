package org.livepatch.elf;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Describes a relocatable object to be written by {@link ElfWriter}: sections, symbols,
 * relocations and groups that refer to one another by handle, never by index.
 *
 * <p>Indices are what make ELF editing fragile: removing one section renumbers every later one
 * and every symbol and relocation that names it. Here a section is a {@link SectionHandle} handle and a
 * symbol a {@link SymbolHandle} handle; the writer numbers them only when the bytes are produced (sections
 * in the order added, symbols with locals first as the gABI requires), so callers can add, remove
 * and rename freely. This is the only mutable type of the ELF model.
 */
public final class ObjectBuilder {

    /** What a section handle stands for: plain bytes, a RELA table, or a section group. */
    public enum Kind { DATA, RELA, GROUP }

    /** A section of the object being built. Identity is the handle; fields change only through the builder. */
    public static final class SectionHandle {
        private final Kind kind;
        private String name;
        private final int type;
        private long flags;
        private long addr;
        private long align;
        private long entsize;
        private Bytes data = Bytes.EMPTY;
        private long noBitsSize;
        private SectionHandle linkOrder;     // SHF_LINK_ORDER: the section this one describes
        private int rawLink;       // sh_link/sh_info of other section kinds, copied as they are
        private int rawInfo;
        private SectionHandle relaTarget;    // RELA: the section the entries apply to
        private List<RelaEntry> relocations = List.of();
        private int groupFlags;    // GROUP
        private SymbolHandle groupSignature;
        private List<SectionHandle> groupMembers = new ArrayList<>();
        private boolean removed;

        private SectionHandle(Kind kind, String name, int type, long flags, long align, long entsize) {
            this.kind = kind;
            this.name = name;
            this.type = type;
            this.flags = flags;
            this.align = align;
            this.entsize = entsize;
        }

        public Kind kind() { return kind; }
        public String name() { return name; }
        public int type() { return type; }
        public long flags() { return flags; }
        public long addr() { return addr; }
        public long align() { return align; }
        public long entsize() { return entsize; }
        public Bytes data() { return data; }
        public long size() { return type == Elf.SHT_NOBITS ? noBitsSize : data.length(); }
        public SectionHandle relaTarget() { return relaTarget; }
        public List<RelaEntry> relocations() { return relocations; }
        public SectionHandle linkOrder() { return linkOrder; }
        public List<SectionHandle> groupMembers() { return Collections.unmodifiableList(groupMembers); }
        public SymbolHandle groupSignature() { return groupSignature; }
        public int groupFlags() { return groupFlags; }
        public boolean isRemoved() { return removed; }
        int rawLink() { return rawLink; }
        int rawInfo() { return rawInfo; }

        @Override
        public String toString() { return name; }
    }

    /** A symbol of the object being built. {@code section == null} with shndx 0 means undefined. */
    public static final class SymbolHandle {
        private String name;
        private int bind;
        private final int type;
        private int other;
        private SectionHandle section;
        private int specialIndex;  // SHN_UNDEF, SHN_ABS or SHN_COMMON when section is null
        private long value;
        private long size;
        private boolean removed;

        private SymbolHandle(String name, int bind, int type, int other, SectionHandle section, int specialIndex, long value, long size) {
            this.name = name;
            this.bind = bind;
            this.type = type;
            this.other = other;
            this.section = section;
            this.specialIndex = specialIndex;
            this.value = value;
            this.size = size;
        }

        public String name() { return name; }
        public int bind() { return bind; }
        public int type() { return type; }
        public int other() { return other; }
        public SectionHandle section() { return section; }
        public int specialIndex() { return specialIndex; }
        public long value() { return value; }
        public long size() { return size; }
        public boolean isLocal() { return bind == Elf.STB_LOCAL; }
        public boolean isRemoved() { return removed; }

        @Override
        public String toString() { return name.isEmpty() && section != null ? section.name : name; }
    }

    /** One relocation to be written; {@code symbol == null} writes STN_UNDEF. */
    public record RelaEntry(long offset, int type, SymbolHandle symbol, long addend) {}

    /** Alignments above this are refused when copying: no object we handle needs more than a page. */
    public static final long MAX_ALIGN = 1L << 20;

    private final int machine;
    private final int osAbi;
    private final long flags;
    private final List<SectionHandle> sections = new ArrayList<>();
    private final List<SymbolHandle> symbols = new ArrayList<>();

    public ObjectBuilder(int machine, int osAbi, long flags) {
        this.machine = machine;
        this.osAbi = osAbi;
        this.flags = flags;
    }

    /** A builder for an object of the same machine, OS ABI and flags as {@code like}. */
    public static ObjectBuilder like(ElfHeader like) {
        return new ObjectBuilder(like.machine(), like.osAbi(), like.flags());
    }

    public int machine() { return machine; }
    public int osAbi() { return osAbi; }
    public long elfFlags() { return flags; }

    public List<SectionHandle> sections() {
        return sections.stream().filter(s -> !s.removed).toList();
    }

    public List<SymbolHandle> symbols() {
        return symbols.stream().filter(s -> !s.removed).toList();
    }

    public SectionHandle addSection(String name, int type, long flags, long align, long entsize, Bytes data) {
        if (type == Elf.SHT_RELA || type == Elf.SHT_GROUP || type == Elf.SHT_SYMTAB) {
            throw new IllegalArgumentException("section " + name + ": type " + Elf.sectionTypeName(type) + " is made by the builder itself");
        }
        SectionHandle s = new SectionHandle(Kind.DATA, name, type, flags, align, entsize);
        s.data = Objects.requireNonNull(data);
        sections.add(s);
        return s;
    }

    public SectionHandle addNoBits(String name, long flags, long align, long size) {
        SectionHandle s = new SectionHandle(Kind.DATA, name, Elf.SHT_NOBITS, flags, align, 0);
        s.noBitsSize = size;
        sections.add(s);
        return s;
    }

    /** A RELA section for {@code target}, placed after the sections added so far. */
    public SectionHandle addRelocations(SectionHandle target, String name, long flags, List<RelaEntry> relocations) {
        requireLive(target);
        SectionHandle s = new SectionHandle(Kind.RELA, name, Elf.SHT_RELA, flags, 8, Elf.RELA_SIZE);
        s.relaTarget = target;
        s.relocations = List.copyOf(relocations);
        sections.add(s);
        return s;
    }

    public SectionHandle addGroup(String name, int groupFlags, SymbolHandle signature, List<SectionHandle> members) {
        SectionHandle s = new SectionHandle(Kind.GROUP, name, Elf.SHT_GROUP, 0, 4, 4);
        s.groupFlags = groupFlags;
        s.groupSignature = signature;
        s.groupMembers = new ArrayList<>(members);
        sections.add(s);
        return s;
    }

    public SymbolHandle addSymbol(String name, int bind, int type, int other, SectionHandle section, long value, long size) {
        requireLive(section);
        SymbolHandle s = new SymbolHandle(name, bind, type, other, section, 0, value, size);
        symbols.add(s);
        return s;
    }

    /** A symbol with a reserved section index such as {@link Elf#SHN_UNDEF}, {@link Elf#SHN_ABS} or {@link Elf#SHN_COMMON}. */
    public SymbolHandle addSpecialSymbol(String name, int bind, int type, int other, int shndx, long value, long size) {
        if (shndx != Elf.SHN_UNDEF && (shndx < Elf.SHN_LORESERVE || shndx == Elf.SHN_XINDEX)) {
            throw new IllegalArgumentException("symbol " + name + ": " + shndx + " is not a reserved section index");
        }
        SymbolHandle s = new SymbolHandle(name, bind, type, other, null, shndx, value, size);
        symbols.add(s);
        return s;
    }

    public void rename(SectionHandle s, String name) {
        s.name = Objects.requireNonNull(name);
    }

    public void rename(SymbolHandle s, String name) {
        s.name = Objects.requireNonNull(name);
    }

    public void setData(SectionHandle s, Bytes data) {
        if (s.kind != Kind.DATA || s.type == Elf.SHT_NOBITS) {
            throw new IllegalArgumentException("section " + s.name + " holds no plain bytes");
        }
        s.data = Objects.requireNonNull(data);
    }

    public void setAlign(SectionHandle s, long align) {
        s.align = align;
    }

    public void setFlags(SectionHandle s, long flags) {
        s.flags = flags;
    }

    public void setAddress(SectionHandle s, long addr) {
        s.addr = addr;
    }

    public void setRelocations(SectionHandle rela, List<RelaEntry> relocations) {
        if (rela.kind != Kind.RELA) {
            throw new IllegalArgumentException("section " + rela.name + " is not a RELA section");
        }
        rela.relocations = List.copyOf(relocations);
    }

    public void setGroup(SectionHandle group, int groupFlags, SymbolHandle signature, List<SectionHandle> members) {
        if (group.kind != Kind.GROUP) {
            throw new IllegalArgumentException("section " + group.name + " is not a group");
        }
        group.groupFlags = groupFlags;
        group.groupSignature = signature;
        group.groupMembers = new ArrayList<>(members);
    }

    /** For SHF_LINK_ORDER sections (e.g. {@code __patchable_function_entries}): the section they annotate. */
    public void setLinkOrder(SectionHandle s, SectionHandle linked) {
        s.linkOrder = linked;
    }

    /** sh_link and sh_info of a section whose links we do not interpret; written as given. */
    public void setRawLinkInfo(SectionHandle s, int link, int info) {
        s.rawLink = link;
        s.rawInfo = info;
    }

    public void setValue(SymbolHandle s, long value) {
        s.value = value;
    }

    public void setBind(SymbolHandle s, int bind) {
        s.bind = bind;
    }

    public void setOther(SymbolHandle s, int other) {
        s.other = other;
    }

    /** Makes a defined symbol undefined (its definition lives elsewhere, e.g. in the running hypervisor). */
    public void makeUndefined(SymbolHandle s) {
        s.section = null;
        s.specialIndex = Elf.SHN_UNDEF;
        s.value = 0;
        s.size = 0;
    }

    /** Turns a symbol into an absolute one at {@code value}, as prelinking does. */
    public void makeAbsolute(SymbolHandle s, long value) {
        s.section = null;
        s.specialIndex = Elf.SHN_ABS;
        s.value = value;
    }

    /**
     * Removes a section, the RELA sections that apply to it and its group membership. Symbols
     * must have been moved or removed first: a dangling definition is a caller's bug.
     */
    public void removeSection(SectionHandle s) {
        for (SymbolHandle sym : symbols) {
            if (!sym.removed && sym.section == s) {
                throw new IllegalStateException("section " + s.name + " still defines symbol " + sym);
            }
        }
        s.removed = true;
        for (SectionHandle other : sections) {
            if (other.removed) {
                continue;
            }
            if (other.kind == Kind.RELA && other.relaTarget == s) {
                other.removed = true;
            }
            if (other.kind == Kind.GROUP) {
                other.groupMembers.remove(s);
            }
            if (other.linkOrder == s) {
                throw new IllegalStateException("section " + other.name + " is linked to removed section " + s.name);
            }
        }
    }

    /** Removes a symbol; relocations must no longer name it. */
    public void removeSymbol(SymbolHandle s) {
        for (SectionHandle sec : sections) {
            if (sec.removed) {
                continue;
            }
            for (RelaEntry r : sec.relocations) {
                if (r.symbol() == s) {
                    throw new IllegalStateException("relocation at 0x" + Long.toHexString(r.offset()) + " in " + sec.name + " still names symbol " + s);
                }
            }
            if (sec.groupSignature == s) {
                throw new IllegalStateException("group " + sec.name + " is signed by symbol " + s);
            }
        }
        s.removed = true;
    }

    private static void requireLive(SectionHandle s) {
        if (s != null && s.removed) {
            throw new IllegalStateException("section " + s.name + " was removed");
        }
    }

    public byte[] toBytes() {
        return ElfWriter.write(this);
    }

    /** The result of {@link #copyOf}: the builder and the handles standing for each original index. */
    public record EditableCopy(ObjectBuilder builder, Map<Section, SectionHandle> sections, List<SymbolHandle> symbols) {
        public SectionHandle section(Section s) {
            return sections.get(s);
        }

        /** The handle for symbol {@code index} of the original; index 0 (the null symbol) maps to null. */
        public SymbolHandle symbol(int index) {
            return symbols.get(index);
        }
    }

    /**
     * A builder holding everything of a relocatable object, to be edited and written back. The
     * symbol table, its string table and the section-name table are not copied: the writer makes
     * them anew from the handles.
     */
    public static EditableCopy copyOf(ElfFile elf) throws ElfFormatException {
        ObjectBuilder b = like(elf.header());
        Section symtab = elf.symtab().orElse(null);
        int strtab = symtab == null ? -1 : symtab.link();
        int shstrndx = elf.header().shstrndx();
        Map<Section, SectionHandle> map = new IdentityHashMap<>();
        for (Section s : elf.sections()) {
            if (s.index() == 0 || s == symtab || s.index() == strtab || s.index() == shstrndx) {
                continue;
            }
            SectionHandle h;
            switch (s.type()) {
                case Elf.SHT_RELA -> {
                    h = new SectionHandle(Kind.RELA, s.name(), Elf.SHT_RELA, s.flags(), s.addralign(), s.entsize());
                    b.sections.add(h);
                }
                case Elf.SHT_GROUP -> {
                    h = new SectionHandle(Kind.GROUP, s.name(), Elf.SHT_GROUP, s.flags(), s.addralign(), s.entsize());
                    b.sections.add(h);
                }
                case Elf.SHT_NOBITS -> {
                    h = b.addNoBits(s.name(), s.flags(), s.addralign(), s.size());
                    h.entsize = s.entsize();
                }
                default -> h = b.addSection(s.name(), s.type(), s.flags(), s.addralign(), s.entsize(), s.data());
            }
            if (s.addralign() > MAX_ALIGN) {
                throw new ElfFormatException(elf.path(), "section " + s.index() + " (" + s.name() + ")", elf.header().shoff() + (long) s.index() * Elf.SHDR_SIZE + 48,
                        "sh_addralign " + s.addralign() + " is larger than the " + MAX_ALIGN + " we lay out");
            }
            h.addr = s.addr();
            map.put(s, h);
        }
        for (Section s : elf.sections()) {
            SectionHandle h = map.get(s);
            if (h == null || h.kind != Kind.DATA) {
                continue;
            }
            if ((s.flags() & Elf.SHF_LINK_ORDER) != 0 && s.link() != 0) {
                h.linkOrder = map.get(elf.section(s.link()));
            } else {
                h.rawLink = s.link();
                h.rawInfo = s.info();
            }
        }
        List<SymbolHandle> syms = new ArrayList<>();
        syms.add(null);
        for (Symbol s : elf.symbols()) {
            if (s.index() == 0) {
                continue;
            }
            SymbolHandle h;
            if (s.hasSection()) {
                SectionHandle sec = map.get(elf.section(s.shndx()));
                if (sec == null) {
                    throw new ElfFormatException(elf.path(), "symbol " + s.index() + " (" + s.name() + ")", elf.symtab().orElseThrow().offset() + (long) s.index() * Elf.SYM_SIZE,
                            "defined in section " + s.shndx() + " (" + elf.section(s.shndx()).name() + "), a symbol or string table");
                }
                h = b.addSymbol(s.name(), s.bind(), s.type(), s.other(), sec, s.value(), s.size());
            } else {
                h = b.addSpecialSymbol(s.name(), s.bind(), s.type(), s.other(), s.shndx(), s.value(), s.size());
            }
            syms.add(h);
        }
        for (RelocationSection r : elf.relocationSections()) {
            SectionHandle h = map.get(r.section());
            h.relaTarget = map.get(r.target());
            List<RelaEntry> rels = new ArrayList<>(r.relocations().size());
            for (Relocation rel : r.relocations()) {
                rels.add(new RelaEntry(rel.offset(), rel.type(), syms.get(rel.symbol().index()), rel.addend()));
            }
            h.relocations = List.copyOf(rels);
        }
        for (SectionGroup g : elf.groups()) {
            SectionHandle h = map.get(g.section());
            for (Section m : g.members()) {
                if (!map.containsKey(m)) {
                    throw new ElfFormatException(elf.path(), "section group " + g.section().index(), g.section().offset(),
                            "member " + m.index() + " (" + m.name() + ") is a symbol or string table");
                }
            }
            h.groupFlags = g.flags();
            h.groupSignature = syms.get(g.signature().index());
            h.groupMembers = new ArrayList<>(g.members().stream().map(map::get).toList());
        }
        return new EditableCopy(b, map, Collections.unmodifiableList(syms));
    }
}
