package org.livepatch.diff;

import java.util.ArrayList;
import java.util.List;
import org.livepatch.elf.Relocation;
import org.livepatch.elf.Section;

/**
 * One special section of one object cut into its entries, the entry size found from the section
 * itself: the first candidate size that divides the section and puts every relocation on a field
 * of the layout. Debug info is never needed (a default Xen build has none).
 */
final class SpecialTable {

    /** One entry (or a group of entries that belong together, like an assertion's two frames). */
    record Entry(long start, long end, List<Relocation> relocations) {
        Relocation anchor() {
            for (Relocation r : relocations) {
                if (r.offset() == start) {
                    return r;
                }
            }
            return null;
        }
    }

    final Section section;
    final SpecialSectionProfile profile;
    final int entrySize;
    final List<Entry> entries;

    private SpecialTable(Section section, SpecialSectionProfile profile, int entrySize, List<Entry> entries) {
        this.section = section;
        this.profile = profile;
        this.entrySize = entrySize;
        this.entries = entries;
    }

    static SpecialTable parse(ObjectIndex idx, Section s) {
        SpecialSectionProfile p = SpecialSectionProfile.forSection(s.name());
        List<Relocation> rels = idx.relocations(s);
        int size = -1;
        for (int n : p.candidateSizes()) {
            if (s.size() % n != 0) {
                continue;
            }
            boolean fits = true;
            for (Relocation r : rels) {
                if (!p.fields().contains((int) (r.offset() % n))) {
                    fits = false;
                    break;
                }
            }
            if (fits) {
                size = n;
                break;
            }
        }
        if (size < 0) {
            throw new DiffInputException(idx.label + ": " + s.name() + ": " + s.size() + " bytes with relocations at "
                    + rels.stream().limit(4).map(r -> "0x" + Long.toHexString(r.offset())).toList()
                    + " do not fit the Xen " + p.kind() + " layout (entries of " + p.candidateSizes() + " bytes)");
        }
        List<Entry> entries = new ArrayList<>();
        int ri = 0;
        for (long off = 0; off < s.size(); off += size) {
            List<Relocation> mine = new ArrayList<>();
            while (ri < rels.size() && rels.get(ri).offset() < off + size) {
                mine.add(rels.get(ri++));
            }
            final long at = off;
            boolean anchored = mine.stream().anyMatch(r -> r.offset() == at);
            if (p.continuation() && !anchored && !entries.isEmpty()) {
                Entry prev = entries.remove(entries.size() - 1);
                List<Relocation> joined = new ArrayList<>(prev.relocations());
                joined.addAll(mine);
                entries.add(new Entry(prev.start(), off + size, List.copyOf(joined)));
            } else {
                entries.add(new Entry(off, off + size, List.copyOf(mine)));
            }
        }
        SpecialTable t = new SpecialTable(s, p, size, List.copyOf(entries));
        t.checkTargets(idx);
        return t;
    }

    /**
     * Every field of every entry must point at a byte of the section it names: an entry is kept
     * or dropped by where its first field points, and its {@code .fixup} or replacement piece is
     * cut where the second one points, so a field pointing anywhere else would silently drop an
     * exception-table entry of carried code or cut bytes that do not exist. A replacement may be
     * empty and then sit at the very end of {@code .altinstr_replacement}.
     */
    private void checkTargets(ObjectIndex idx) {
        for (Entry e : entries) {
            for (Relocation r : e.relocations()) {
                Located at = locate(idx, target(idx, e, r));
                if (at == null) {
                    continue;
                }
                if (at.section().isNoBits()) {
                    // Every field of these tables points at code or a message; neither can be bytes the file does not hold.
                    throw new DiffInputException(idx.label + ": " + section.name() + " entry at 0x" + Long.toHexString(e.start())
                            + ": the field at 0x" + Long.toHexString(r.offset()) + " points into " + at.section().name()
                            + ", which is SHT_NOBITS (no code or text in the file)");
                }
                int len = r != e.anchor() && at.section().name().equals(profile.auxSection()) ? replacementLength(e) : -1;
                long end = len >= 0 ? at.offset() + len : at.offset() + 1;
                if (at.offset() < 0 || end > at.section().size() || end < at.offset()) {
                    throw new DiffInputException(idx.label + ": " + section.name() + " entry at 0x" + Long.toHexString(e.start())
                            + ": the field at 0x" + Long.toHexString(r.offset()) + " points to " + at.section().name() + "+0x"
                            + Long.toHexString(at.offset()) + (len >= 0 ? " (" + len + " bytes of replacement)" : "")
                            + ", outside that section of 0x" + Long.toHexString(at.section().size()) + " bytes");
                }
            }
        }
    }

    /** A byte of a section a target names, or null for a target outside this object (undefined symbol, no symbol). */
    private record Located(Section section, long offset) {}

    private static Located locate(ObjectIndex idx, RelocationTarget t) {
        return switch (t) {
            case RelocationTarget.SectionTarget st -> new Located(st.section(), st.offset());
            case RelocationTarget.StringTarget st -> new Located(st.section(), st.offset());
            case RelocationTarget.ConstantTarget ct -> new Located(ct.section(), ct.offset());
            case RelocationTarget.SymbolTarget st -> st.symbol().hasSection() && st.symbol().shndx() < idx.elf.sections().size()
                    ? new Located(idx.elf.section(st.symbol().shndx()), st.symbol().value() + st.offset()) : null;
            case RelocationTarget.NoTarget n -> null;
        };
    }

    /** What a field of an entry points at. */
    RelocationTarget target(ObjectIndex idx, Entry e, Relocation r) {
        long off = profile.displacement(r.addend());
        if (profile.frameRelative() && ObjectIndex.isPcRelative(idx.elf.header().machine(), r.type())) {
            off -= r.offset() - e.start();
        }
        return idx.resolve(r.symbol(), off);
    }

    /** The unit an entry is about (the code its first field points into), or null. */
    SectionSlice owner(ObjectIndex idx, Entry e) {
        Relocation a = e.anchor();
        if (a == null) {
            return null;
        }
        return unitOf(idx, target(idx, e, a));
    }

    static SectionSlice unitOf(ObjectIndex idx, RelocationTarget t) {
        return switch (t) {
            case RelocationTarget.SymbolTarget st -> st.symbol().hasSection() ? idx.unitOf(st.symbol()) : null;
            case RelocationTarget.SectionTarget st -> st.unit();
            default -> null;
        };
    }

    /**
     * True when {@code r} is the replacement field of an alternatives entry whose replacement is
     * empty ({@code alternative("lfence", "", ...)}): it needs no bytes, and wherever it points
     * (the first byte of some other entry's replacement, typically) says nothing about it.
     */
    boolean pointsAtEmptyReplacement(ObjectIndex idx, Entry e, Relocation r) {
        return r != e.anchor() && replacementLength(e) == 0 && target(idx, e, r) instanceof RelocationTarget.SectionTarget st
                && st.section().name().equals(profile.auxSection());
    }

    /** For an alternatives entry, the length of its replacement code (repl_len). */
    int replacementLength(Entry e) {
        if (profile.replacementLength() < 0 || section.isNoBits()) {
            return -1;
        }
        return section.data().u8((int) (e.start() + profile.replacementLength()));
    }
}
