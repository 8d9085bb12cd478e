package org.livepatch.elf;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An ELF64 file read completely and checked: header, program headers, sections with their bytes,
 * the symbol table, every RELA section resolved to symbols and target sections, section groups and
 * notes. Immutable; made only by {@link ElfReader}, so every index inside is known to be valid.
 */
public final class ElfFile {
    private final Path path;
    private final ElfHeader header;
    private final List<ProgramHeader> programHeaders;
    private final List<Section> sections;
    private final Section symtab;
    private final List<Symbol> symbols;
    private final List<RelocationSection> relocationSections;
    private final List<SectionGroup> groups;
    private final Map<Integer, List<Note>> notes;

    // Lookup tables, built on first use; the file itself never changes.
    private volatile Map<String, List<Symbol>> symbolsByName;
    private volatile Map<String, List<Section>> sectionsByName;
    private volatile Map<Integer, RelocationSection> relaByTarget;

    ElfFile(Path path, ElfHeader header, List<ProgramHeader> programHeaders, List<Section> sections, Section symtab,
            List<Symbol> symbols, List<RelocationSection> relocationSections, List<SectionGroup> groups,
            Map<Integer, List<Note>> notes) {
        this.path = path;
        this.header = header;
        this.programHeaders = List.copyOf(programHeaders);
        this.sections = List.copyOf(sections);
        this.symtab = symtab;
        this.symbols = List.copyOf(symbols);
        this.relocationSections = List.copyOf(relocationSections);
        this.groups = List.copyOf(groups);
        this.notes = Collections.unmodifiableMap(new HashMap<>(notes));
    }

    public Path path() {
        return path;
    }

    public ElfHeader header() {
        return header;
    }

    public List<ProgramHeader> programHeaders() {
        return programHeaders;
    }

    /** All sections in header-table order, including the null section at index 0. */
    public List<Section> sections() {
        return sections;
    }

    public Section section(int index) {
        return sections.get(index);
    }

    /** The first section with that name, if any. Names are not unique in objects (e.g. {@code .group}). */
    public Optional<Section> section(String name) {
        List<Section> l = sectionsByName().get(name);
        return l == null ? Optional.empty() : Optional.of(l.get(0));
    }

    public List<Section> sectionsNamed(String name) {
        return sectionsByName().getOrDefault(name, List.of());
    }

    public Optional<Section> symtab() {
        return Optional.ofNullable(symtab);
    }

    /** The symbol table in order, index 0 (the null symbol) included; empty when there is no table. */
    public List<Symbol> symbols() {
        return symbols;
    }

    public Symbol symbol(int index) {
        return symbols.get(index);
    }

    /** Symbols with exactly this name, in table order (statics of several files may share a name). */
    public List<Symbol> symbolsNamed(String name) {
        Map<String, List<Symbol>> m = symbolsByName;
        if (m == null) {
            m = new HashMap<>(symbols.size() * 2);
            for (Symbol s : symbols) {
                if (!s.name().isEmpty()) {
                    m.computeIfAbsent(s.name(), k -> new ArrayList<>(1)).add(s);
                }
            }
            symbolsByName = m;
        }
        return m.getOrDefault(name, List.of());
    }

    /** The section a symbol is defined in, or empty for undefined, absolute and common symbols. */
    public Optional<Section> sectionOf(Symbol s) {
        return s.hasSection() ? Optional.of(sections.get(s.shndx())) : Optional.empty();
    }

    public List<RelocationSection> relocationSections() {
        return relocationSections;
    }

    /** The RELA section that applies to {@code target}, if any. */
    public Optional<RelocationSection> relocationsFor(Section target) {
        Map<Integer, RelocationSection> m = relaByTarget;
        if (m == null) {
            m = new HashMap<>();
            for (RelocationSection r : relocationSections) {
                m.putIfAbsent(r.target().index(), r);
            }
            relaByTarget = m;
        }
        return Optional.ofNullable(m.get(target.index()));
    }

    public List<SectionGroup> groups() {
        return groups;
    }

    /** Notes of a SHT_NOTE section (empty for any other section). */
    public List<Note> notes(Section s) {
        return notes.getOrDefault(s.index(), List.of());
    }

    /** The GNU build-id, from the first NT_GNU_BUILD_ID note of any note section. */
    public Optional<Bytes> buildId() {
        for (Section s : sections) {
            for (Note n : notes(s)) {
                if (n.isGnuBuildId()) {
                    return Optional.of(n.desc());
                }
            }
        }
        return Optional.empty();
    }

    /** The NUL-terminated string at {@code offset} in section {@code s} (a merge-string section, say). */
    public Optional<String> stringAt(Section s, long offset) {
        if (offset < 0 || offset > Integer.MAX_VALUE) {
            return Optional.empty();
        }
        return Optional.ofNullable(s.data().cString((int) offset));
    }

    private Map<String, List<Section>> sectionsByName() {
        Map<String, List<Section>> m = sectionsByName;
        if (m == null) {
            m = new HashMap<>();
            for (Section s : sections) {
                m.computeIfAbsent(s.name(), k -> new ArrayList<>(1)).add(s);
            }
            sectionsByName = m;
        }
        return m;
    }

    @Override
    public String toString() {
        return path.toString();
    }
}
