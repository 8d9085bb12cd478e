package org.livepatch.diff;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.livepatch.elf.Bytes;
import org.livepatch.elf.Elf;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.Relocation;
import org.livepatch.elf.RelocationSection;
import org.livepatch.elf.RelocationTypes;
import org.livepatch.elf.Section;
import org.livepatch.elf.Symbol;

/**
 * One input object seen the way the diff needs it: every allocatable section cut into
 * {@link SectionSlice}s, every symbol tied to the STT_FILE it follows, and every relocation resolvable
 * to a {@link RelocationTarget}.
 */
final class ObjectIndex {
    final ElfFile elf;
    /** The object's own name for messages (its file name). */
    final String label;
    /** The first STT_FILE name: what Xen's symbol table prefixes this object's locals with. */
    final String primaryFile;

    private final String[] fileOfSymbol;
    private final SectionRole[] roles;
    private final Map<Integer, List<Symbol>> namedBySection = new HashMap<>();
    private final List<SectionSlice> units = new ArrayList<>();
    private final Map<Integer, SectionSlice> unitOfSymbol = new HashMap<>();
    private final Map<Integer, List<SectionSlice>> unitsOfSection = new HashMap<>();
    private final Map<Integer, List<Relocation>> sortedRelocations = new HashMap<>();

    ObjectIndex(ElfFile elf) {
        this.elf = elf;
        this.label = elf.path().getFileName() == null ? elf.path().toString() : elf.path().getFileName().toString();
        this.fileOfSymbol = new String[elf.symbols().size()];
        String current = null;
        String first = null;
        for (Symbol s : elf.symbols()) {
            if (s.isFile()) {
                current = s.name();
                if (first == null) {
                    first = s.name();
                }
            }
            fileOfSymbol[s.index()] = current;
        }
        this.primaryFile = first == null ? "" : first;
        this.roles = new SectionRole[elf.sections().size()];
        for (Section s : elf.sections()) {
            roles[s.index()] = SectionRole.of(s);
        }
        for (Symbol s : elf.symbols()) {
            if (s.hasSection() && s.shndx() < roles.length && isNamed(s)) {
                namedBySection.computeIfAbsent(s.shndx(), k -> new ArrayList<>()).add(s);
            }
        }
        for (List<Symbol> l : namedBySection.values()) {
            l.sort(Comparator.comparingLong(Symbol::value).thenComparingInt(Symbol::index));
        }
        for (Section s : elf.sections()) {
            SectionRole r = roles[s.index()];
            if (r == SectionRole.TEXT || r == SectionRole.RODATA || r == SectionRole.DATA || r == SectionRole.BSS
                    || r == SectionRole.INIT) {
                cutIntoUnits(s);
            }
        }
    }

    /** Symbols that name something: not the null, section or file symbols and not assembler-local {@code .L} labels. */
    static boolean isNamed(Symbol s) {
        return !s.name().isEmpty() && !s.isSectionSymbol() && !s.isFile() && !s.name().startsWith(".L");
    }

    private static boolean isPrimary(Symbol s) {
        return s.isFunction() || s.isObject();
    }

    private void cutIntoUnits(Section s) {
        List<Symbol> named = namedBySection.getOrDefault(s.index(), List.of());
        List<Symbol> primaries = named.stream().filter(ObjectIndex::isPrimary).toList();
        long size = s.size();
        List<SectionSlice> list = new ArrayList<>();
        // Aliases (same value and size) share one unit; the first global one names it.
        Map<Long, List<Symbol>> byStart = new java.util.TreeMap<>();
        for (Symbol p : primaries) {
            byStart.computeIfAbsent(p.value(), k -> new ArrayList<>()).add(p);
        }
        if (byStart.size() == 1) {
            List<Symbol> al = byStart.values().iterator().next();
            Symbol main = pickName(al);
            // The usual -ffunction-sections case, and assembly whose one function starts part-way
            // into its section (arch/x86/indirect-thunk.S: the thunk body precedes the symbol and
            // is reached by a jump the assembler resolved, so the section only works whole).
            SectionSlice u = new SectionSlice(s, 0, size, main, fileOf(main), true);
            list.add(u);
            for (Symbol a : al) {
                unitOfSymbol.put(a.index(), u);
            }
        } else if (byStart.isEmpty()) {
            if (size > 0) {
                list.add(new SectionSlice(s, 0, size, null, null, true));
            }
        } else {
            long pos = 0;
            List<Long> starts = new ArrayList<>(byStart.keySet());
            for (int i = 0; i < starts.size(); i++) {
                long start = starts.get(i);
                List<Symbol> al = byStart.get(start);
                Symbol main = pickName(al);
                long next = i + 1 < starts.size() ? starts.get(i + 1) : size;
                long end = main.size() > 0 ? Math.min(start + main.size(), Math.max(next, start)) : next;
                if (start > pos && !isPadding(s, pos, start)) {
                    list.add(new SectionSlice(s, pos, start, null, null, false));
                }
                SectionSlice u = new SectionSlice(s, start, Math.max(end, start), main, fileOf(main), false);
                list.add(u);
                for (Symbol a : al) {
                    unitOfSymbol.put(a.index(), u);
                }
                pos = Math.max(pos, u.end());
            }
            if (pos < size && !isPadding(s, pos, size)) {
                list.add(new SectionSlice(s, pos, size, null, null, false));
            }
        }
        units.addAll(list);
        unitsOfSection.put(s.index(), list);
    }

    private static Symbol pickName(List<Symbol> aliases) {
        for (Symbol a : aliases) {
            if (!a.isLocal()) {
                return a;
            }
        }
        return aliases.get(0);
    }

    /**
     * Alignment filler between two symbols: no relocation and only bytes the assembler pads
     * with (zero, int3, nop forms). Such gaps change length whenever a neighbour grows, and
     * mean nothing, so they are not units.
     */
    private boolean isPadding(Section s, long from, long to) {
        if (to - from >= 64) {
            return false;
        }
        if (!relocations(s, from, to).isEmpty()) {
            return false;
        }
        if (s.isNoBits()) {
            return true;
        }
        Bytes d = s.data();
        for (long i = from; i < to; i++) {
            int b = d.u8((int) i);
            if (b != 0x00 && b != 0x90 && b != 0xcc && b != 0x66 && b != 0x0f && b != 0x1f && b != 0x2e
                    && b != 0x40 && b != 0x44 && b != 0x80 && b != 0x84) {
                return false;
            }
        }
        return true;
    }

    String fileOf(Symbol s) {
        return s.index() < fileOfSymbol.length ? fileOfSymbol[s.index()] : null;
    }

    SectionRole role(Section s) {
        return roles[s.index()];
    }

    List<SectionSlice> units() {
        return units;
    }

    SectionSlice unitOf(Symbol s) {
        return unitOfSymbol.get(s.index());
    }

    List<SectionSlice> unitsOf(Section s) {
        return unitsOfSection.getOrDefault(s.index(), List.of());
    }

    List<Symbol> namedSymbolsIn(Section s) {
        return namedBySection.getOrDefault(s.index(), List.of());
    }

    /** The unit holding byte {@code offset}, or the one ending exactly there (a pointer one past an array). */
    SectionSlice unitAt(Section s, long offset) {
        List<SectionSlice> l = unitsOf(s);
        // Units of a section are sorted and disjoint: binary search for the last one starting at or before offset.
        int lo = 0;
        int hi = l.size() - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (l.get(mid).start() <= offset) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if (found >= 0) {
            SectionSlice u = l.get(found);
            if (u.contains(offset)) {
                return u;
            }
            if (u.end() == offset && u.symbol() != null) {
                return u;
            }
        }
        if (found >= 1) {
            SectionSlice prev = l.get(found - 1);
            if (prev.end() == offset && prev.symbol() != null) {
                return prev;
            }
        }
        return null;
    }

    /** Relocations that apply to {@code s}, by offset. */
    List<Relocation> relocations(Section s) {
        return sortedRelocations.computeIfAbsent(s.index(), k -> {
            List<Relocation> l = new ArrayList<>(elf.relocationsFor(s).map(RelocationSection::relocations).orElse(List.of()));
            l.sort(Comparator.comparingLong(Relocation::offset));
            return l;
        });
    }

    /** Relocations inside {@code [from, to)} of {@code s}. */
    List<Relocation> relocations(Section s, long from, long to) {
        List<Relocation> all = relocations(s);
        int lo = 0;
        int hi = all.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (all.get(mid).offset() < from) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        int end = lo;
        while (end < all.size() && all.get(end).offset() < to) {
            end++;
        }
        return all.subList(lo, end);
    }

    static boolean isPcRelative(int machine, int type) {
        return machine == Elf.EM_X86_64 && (type == RelocationTypes.R_X86_64_PC32 || type == RelocationTypes.R_X86_64_PLT32
                || type == RelocationTypes.R_X86_64_PC64);
    }

    /**
     * The byte a relocation refers to, as an offset from its symbol, before any special-table
     * adjustment. A PC-relative field in code is relative to the end of the instruction, so the
     * assembler subtracted the field size and any immediate that follows; that is added back.
     */
    long pointedOffset(Section from, Relocation r) {
        long a = r.addend();
        if (isPcRelative(elf.header().machine(), r.type()) && from.isExec()) {
            a += 4 + RipRelativeTail.of(from.data(), r.offset());
        }
        return a;
    }

    /** Resolves a relocation of code or data (not a special table entry). */
    RelocationTarget resolve(Section from, Relocation r) {
        return resolve(r.symbol(), pointedOffset(from, r));
    }

    /** Resolves a reference to {@code offset} bytes past {@code sym}. */
    RelocationTarget resolve(Symbol sym, long offset) {
        if (sym.index() == 0) {
            return new RelocationTarget.NoTarget();
        }
        if (!sym.hasSection() || sym.shndx() >= roles.length) {
            return new RelocationTarget.SymbolTarget(sym, offset);
        }
        Section sec = elf.section(sym.shndx());
        if (isNamed(sym) && role(sec) != SectionRole.STRINGS && role(sec) != SectionRole.CONSTANTS) {
            return new RelocationTarget.SymbolTarget(sym, offset);
        }
        long t = sym.value() + offset;
        switch (role(sec)) {
            case STRINGS -> {
                return new RelocationTarget.StringTarget(sec, t, stringAt(sec, t));
            }
            case CONSTANTS -> {
                long n = Math.max(1, sec.entsize());
                long start = Math.max(0, Math.min(t, sec.size()));
                long len = Math.min(n, sec.size() - start);
                return new RelocationTarget.ConstantTarget(sec, t, sec.data().slice((int) start, (int) len));
            }
            default -> {
                SectionSlice u = unitAt(sec, t);
                if (u != null && u.symbol() != null) {
                    return new RelocationTarget.SymbolTarget(u.symbol(), t - u.symbol().value());
                }
                return new RelocationTarget.SectionTarget(sec, t, u);
            }
        }
    }

    /**
     * The string at {@code offset}, up to the next NUL strictly after it: a reference that lands
     * on a terminator (an empty string, or an offset we misjudged) then still captures the text
     * that follows, so two different strings never look equal by accident.
     */
    private static String stringAt(Section s, long offset) {
        Bytes d = s.data();
        if (offset < 0 || offset >= d.length()) {
            return "@" + offset;
        }
        int end = (int) offset + 1;
        while (end < d.length() && d.u8(end) != 0) {
            end++;
        }
        return new String(d.slice((int) offset, end - (int) offset).toArray(), java.nio.charset.StandardCharsets.ISO_8859_1);
    }
}
