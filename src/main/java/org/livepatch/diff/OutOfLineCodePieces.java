package org.livepatch.diff;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.livepatch.elf.Relocation;
import org.livepatch.elf.Section;

/**
 * {@code .fixup} and {@code .altinstr_replacement} cut into pieces that can be carried on their
 * own, so a payload carries only the pieces of the functions it patches.
 *
 * <p>What a table entry needs of such a section: an alternatives entry the {@code repl_len}
 * bytes from where its second field points (possibly none); an exception-table entry the fixup
 * code from where its second field points up to the next such start (fixup code is emitted in
 * order, one run per faulting instruction, and normally ends by jumping back).
 *
 * <p>Those ranges are not independent, and cutting them apart would give wrong code without
 * any error: several entries may point into one replacement (the empty replacements of
 * {@code alternative("lfence", "", ...)} land wherever the section happens to be, on the first
 * byte of a neighbour's {@code stac}, say), ranges may overlap, and the assembler resolves a
 * jump from one piece of the section to another without a relocation, so a piece copied alone
 * would jump into whatever follows it in the payload. So a piece is the smallest set of bytes
 * closed under all of that:
 * <ol>
 *   <li>ranges that share a byte are one piece;</li>
 *   <li>a relative branch inside a piece whose target the assembler resolved (no relocation on
 *       it) to another byte of the section joins the piece containing the target, and
 *       everything in between (a replacement jumping to its own end jumps to the original code
 *       that follows it once it is in place, and needs nothing);</li>
 *   <li>fixup code whose last instruction falls through joins the piece that follows (an
 *       alternative's replacement falling off its end is normal: it runs in place of the
 *       original instruction, followed by the original code);</li>
 *   <li>code that cannot be decoded, or a branch to a byte no entry describes, makes the whole
 *       section one piece: carrying more is safe, guessing is not.</li>
 * </ol>
 * Pieces are then disjoint, so each byte of the section has one place in the payload. An
 * empty range outside every piece is an empty piece of its own (its entry copies nothing).
 */
final class OutOfLineCodePieces {
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

    /** Per section index: pieces sorted by start, disjoint (an empty piece may sit where a non-empty one ends). */
    private final Map<Integer, List<Piece>> bySection = new HashMap<>();
    /** Per section index: why the section is one piece, when it had to be. */
    private final Map<Integer, String> wholeBecause = new HashMap<>();

    private OutOfLineCodePieces() {}

    static OutOfLineCodePieces of(ObjectIndex idx, List<SpecialTable> tables) {
        OutOfLineCodePieces p = new OutOfLineCodePieces();
        Map<Integer, List<long[]>> ranges = new HashMap<>();
        Map<Integer, TreeSet<Long>> fixupStarts = new HashMap<>();
        Map<Integer, Section> sections = new HashMap<>();
        Set<Integer> fallThroughJoins = new HashSet<>();
        for (SpecialTable t : tables) {
            if (t.profile.auxSection() == null) {
                continue;
            }
            for (SpecialTable.Entry e : t.entries) {
                for (Relocation r : e.relocations()) {
                    if (r == e.anchor()) {
                        continue;
                    }
                    RelocationTarget target = t.target(idx, e, r);
                    if (!(target instanceof RelocationTarget.SectionTarget st) || !st.section().name().equals(t.profile.auxSection())) {
                        continue;
                    }
                    int key = st.section().index();
                    sections.put(key, st.section());
                    int len = t.replacementLength(e);
                    if (len >= 0) {
                        ranges.computeIfAbsent(key, k -> new ArrayList<>()).add(new long[] {st.offset(), st.offset() + len});
                    } else {
                        fixupStarts.computeIfAbsent(key, k -> new TreeSet<>()).add(st.offset());
                        fallThroughJoins.add(key);
                    }
                }
            }
        }
        for (Map.Entry<Integer, TreeSet<Long>> e : fixupStarts.entrySet()) {
            Section s = sections.get(e.getKey());
            List<Long> starts = new ArrayList<>(e.getValue());
            List<long[]> l = ranges.computeIfAbsent(e.getKey(), k -> new ArrayList<>());
            for (int i = 0; i < starts.size(); i++) {
                long end = i + 1 < starts.size() ? starts.get(i + 1) : s.size();
                l.add(new long[] {starts.get(i), end});
            }
        }
        for (Map.Entry<Integer, List<long[]>> e : ranges.entrySet()) {
            Section s = sections.get(e.getKey());
            p.close(idx, s, e.getValue(), fallThroughJoins.contains(e.getKey()));
        }
        return p;
    }

    /** Merges {@code ranges} of {@code s} into disjoint closed pieces (see the class comment). */
    private void close(ObjectIndex idx, Section s, List<long[]> ranges, boolean joinFallThrough) {
        List<long[]> empties = new ArrayList<>();
        // Non-empty ranges by start, merged while they share a byte; re-merged after every join.
        TreeMap<Long, Long> pieces = new TreeMap<>();
        for (long[] r : ranges) {
            if (r[1] <= r[0]) {
                empties.add(r);
            } else {
                add(pieces, r[0], r[1]);
            }
        }
        String whole = null;
        boolean joined = true;
        while (joined && whole == null) {
            joined = false;
            for (Map.Entry<Long, Long> piece : new ArrayList<>(pieces.entrySet())) {
                long start = piece.getKey();
                long end = piece.getValue();
                if (!Long.valueOf(end).equals(pieces.get(start))) {
                    continue; // merged away by an earlier join of this round
                }
                if (s.isNoBits()) {
                    break;
                }
                List<X86Insn> code = X86Decoder.decode(s.data(), start, end);
                if (code == null) {
                    whole = "bytes at +0x" + Long.toHexString(start) + " do not decode as x86 code";
                    break;
                }
                for (X86Insn i : code) {
                    long t = i.immSize() > 0 && idx.relocations(s, i.offset() + i.immAt(), i.offset() + i.immAt() + i.immSize()).isEmpty()
                            ? i.localBranchTarget(s.data()) : -1;
                    // A replacement may jump to its own end: that is the code after it in place
                    // (svm/entry.o's "je" over a wrmsr). Fixup code jumping there runs the next piece.
                    if (t < 0 || (t >= start && t < end) || (t == end && !joinFallThrough)) {
                        continue;
                    }
                    Map.Entry<Long, Long> other = pieces.floorEntry(t);
                    if (other == null || t >= other.getValue()) {
                        whole = "a jump at +0x" + Long.toHexString(i.offset()) + " goes to +0x" + Long.toHexString(t)
                                + ", which no table entry describes";
                        break;
                    }
                    add(pieces, Math.min(start, other.getKey()), Math.max(end, other.getValue()));
                    joined = true;
                    break;
                }
                if (whole != null || joined) {
                    break;
                }
                X86Insn last = code.get(code.size() - 1);
                if (joinFallThrough && last.fallsThrough() && end < s.size()) {
                    Map.Entry<Long, Long> next = pieces.ceilingEntry(end);
                    add(pieces, start, next == null ? s.size() : next.getValue());
                    joined = true;
                    break;
                }
            }
        }
        List<Piece> out = new ArrayList<>();
        if (whole != null) {
            wholeBecause.put(s.index(), whole);
            out.add(new Piece(s, 0, s.size()));
        } else {
            for (Map.Entry<Long, Long> e : pieces.entrySet()) {
                out.add(new Piece(s, e.getKey(), e.getValue()));
            }
            for (long[] r : empties) {
                if (choose(out, r[0]) == null) {
                    out.add(new Piece(s, r[0], r[0]));
                }
            }
            out.sort(java.util.Comparator.comparingLong(Piece::start).thenComparingLong(Piece::end));
        }
        bySection.put(s.index(), out);
    }

    /** Adds {@code [start, end)} to disjoint {@code pieces}, merging every piece it shares a byte with. */
    private static void add(TreeMap<Long, Long> pieces, long start, long end) {
        long s = start;
        long e = end;
        Map.Entry<Long, Long> before = pieces.floorEntry(s);
        if (before != null && before.getValue() > s) {
            s = before.getKey();
            e = Math.max(e, before.getValue());
        }
        for (Map.Entry<Long, Long> m : new ArrayList<>(pieces.subMap(s, true, e, false).entrySet())) {
            e = Math.max(e, m.getValue());
            pieces.remove(m.getKey());
        }
        pieces.put(s, e);
    }

    /**
     * The piece byte {@code offset} belongs to: the one holding it, else one ending there (an
     * empty replacement just after a non-empty one, or a pointer to the end of the section).
     * Since pieces are disjoint, a non-empty range always resolves to the piece that holds all of it.
     */
    static Piece choose(Collection<Piece> pieces, long offset) {
        Piece atEnd = null;
        for (Piece p : pieces) {
            if (offset >= p.start() && offset < p.end()) {
                return p;
            }
            if (p.covers(offset) && (atEnd == null || p.start() == offset)) {
                atEnd = p;
            }
        }
        return atEnd;
    }

    /** The piece holding {@code offset} (see {@link #choose}), or null when no table entry describes it. */
    Piece pieceAt(Section s, long offset) {
        List<Piece> l = bySection.get(s.index());
        return l == null ? null : choose(l, offset);
    }

    /** Why {@code s} could only be cut as one piece, or null. */
    String wholeBecause(Section s) {
        return wholeBecause.get(s.index());
    }
}
