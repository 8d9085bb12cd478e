package org.livepatch.diff;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.livepatch.elf.Relocation;
import org.livepatch.elf.Section;

/**
 * {@code .fixup} and {@code .altinstr_replacement} cut into the pieces that belong to single
 * table entries, so a payload carries only the pieces of the functions it patches.
 *
 * <p>A {@code .fixup} piece starts where an exception-table entry's second field points and runs
 * to the next such start (fixup code is emitted in order, one run per faulting instruction, and
 * ends by jumping back). A replacement piece is exactly {@code repl_len} bytes from where an
 * alternatives entry points (possibly empty).
 */
final class AuxPieces {
    record Piece(Section section, long start, long end) {
        boolean covers(long offset) {
            return offset >= start && offset <= end;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Piece p && p.section.index() == section.index() && p.start == start && p.end == end;
        }

        @Override
        public int hashCode() {
            return Long.hashCode(start * 31 + end) ^ section.index();
        }
    }

    private final Map<Integer, List<Piece>> bySection = new HashMap<>();

    private AuxPieces() {}

    static AuxPieces of(ObjectIndex idx, List<SpecialTable> tables) {
        AuxPieces p = new AuxPieces();
        Map<Integer, TreeSet<Long>> fixupStarts = new HashMap<>();
        Map<Integer, Section> sections = new HashMap<>();
        for (SpecialTable t : tables) {
            if (t.profile.auxSection() == null) {
                continue;
            }
            for (SpecialTable.Entry e : t.entries) {
                for (Relocation r : e.relocations()) {
                    if (r == e.anchor()) {
                        continue;
                    }
                    Target target = t.target(idx, e, r);
                    if (!(target instanceof Target.SectionTarget st) || !st.section().name().equals(t.profile.auxSection())) {
                        continue;
                    }
                    int len = t.replacementLength(e);
                    if (len >= 0) {
                        p.bySection.computeIfAbsent(st.section().index(), k -> new ArrayList<>())
                                .add(new Piece(st.section(), st.offset(), st.offset() + len));
                    } else {
                        fixupStarts.computeIfAbsent(st.section().index(), k -> new TreeSet<>()).add(st.offset());
                        sections.put(st.section().index(), st.section());
                    }
                }
            }
        }
        for (Map.Entry<Integer, TreeSet<Long>> e : fixupStarts.entrySet()) {
            Section s = sections.get(e.getKey());
            List<Long> starts = new ArrayList<>(e.getValue());
            List<Piece> l = p.bySection.computeIfAbsent(e.getKey(), k -> new ArrayList<>());
            for (int i = 0; i < starts.size(); i++) {
                long end = i + 1 < starts.size() ? starts.get(i + 1) : s.size();
                l.add(new Piece(s, starts.get(i), end));
            }
        }
        return p;
    }

    /** The piece that starts at {@code offset} or, failing that, contains it. */
    Piece pieceAt(Section s, long offset) {
        List<Piece> l = bySection.get(s.index());
        if (l == null) {
            return null;
        }
        for (Piece p : l) {
            if (p.start() == offset) {
                return p;
            }
        }
        for (Piece p : l) {
            if (offset >= p.start() && offset < p.end()) {
                return p;
            }
        }
        return null;
    }
}
