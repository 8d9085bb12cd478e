package org.livepatch.diff;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.livepatch.elf.Bytes;
import org.livepatch.elf.Relocation;
import org.livepatch.elf.RelocationTypes;
import org.livepatch.elf.Section;

/**
 * Decides, for every unit of the patched object, whether it is the same as its twin, changed, or
 * new, and why.
 *
 * <p>Two units are the same when their bytes are equal and their relocations, taken in order,
 * are at the same offsets, of the same type, and point at the same thing: the same twin symbol
 * at the same offset, a string with the same text, or a constant with the same value. For a
 * function, the exception-table, alternatives and bug-frame entries about it (with their
 * {@code .fixup} and replacement code) must match too. A function that uses read-only data that
 * changed is changed too: read-only data cannot be patched in place, so the new code must use a
 * new copy.
 *
 * <p>A function whose only differences are line numbers is the same, and remembered as "line
 * numbers only" for the report ({@link #lineOnly}): bug frames whose line bits alone differ
 * (the line is stored in the frame, not in the code, so the code did not change), and
 * {@code __LINE__} immediates passed to printk, as {@link LineNumberProof} shows them. A hunk
 * that adds lines shifts {@code __LINE__} for every function below it; patching those would
 * enlarge the payload and its apply-time risk for nothing. The cost of not patching is that
 * the running hypervisor reports the old line number in such a message.
 */
final class ChangeDetector {
    enum Status { SAME, CHANGED, NEW }

    private final DiffSide orig;
    private final DiffSide patched;
    private final SymbolCorrelation corr;
    private final Map<SectionSlice, Status> status = new IdentityHashMap<>();
    private final Map<SectionSlice, String> why = new IdentityHashMap<>();
    private final Map<SectionSlice, String> lineOnly = new IdentityHashMap<>();
    private final LineNumberProof origLines;
    private final LineNumberProof patchedLines;

    ChangeDetector(DiffSide orig, DiffSide patched, SymbolCorrelation corr) {
        this.orig = orig;
        this.patched = patched;
        this.corr = corr;
        this.origLines = new LineNumberProof(orig);
        this.patchedLines = new LineNumberProof(patched);
        for (SectionSlice p : patched.index.units()) {
            SectionSlice o = corr.twinOfPatched(p);
            if (o == null) {
                status.put(p, Status.NEW);
                why.put(p, "no counterpart in the original object");
                continue;
            }
            String diff = firstDifference(p, o);
            status.put(p, diff == null ? Status.SAME : Status.CHANGED);
            if (diff != null) {
                why.put(p, diff);
            } else if (lineOnly.containsKey(p) && XenNames.coldParent(p.symbol().name()) != null) {
                // A cold part stays changed, so that a changed parent still carries it (the
                // parent's new code must not jump into the old cold part, which returns into the
                // old parent); propagate() decides what it means for an unchanged parent.
                status.put(p, Status.CHANGED);
                why.put(p, "line numbers only (" + lineOnly.get(p) + ")");
            }
        }
        propagate();
    }

    /**
     * For a function that is the same but for line numbers, what differs ("printk \"%s:%d\"
     * argument 3 line 2815 -> 2818 at +0x71", "bug frame line numbers"); null for any other unit.
     * Cold parts are never listed: their parent is.
     */
    String lineOnly(SectionSlice p) {
        if (p.symbol() == null || XenNames.coldParent(p.symbol().name()) != null || status.get(p) != Status.SAME) {
            return null;
        }
        return lineOnly.get(p);
    }

    Status status(SectionSlice p) {
        return status.get(p);
    }

    String why(SectionSlice p) {
        return why.get(p);
    }

    /** The twin's identity for a patched unit, or a "new" identity; what references are compared by. */
    String keyOfPatched(SectionSlice u) {
        SectionSlice o = corr.twinOfPatched(u);
        return o != null ? keyOfOrig(o) : "new:" + (u.symbol() != null ? SymbolCorrelation.nameKey(u) : u.section().name() + "@" + u.start());
    }

    static String keyOfOrig(SectionSlice u) {
        return u.symbol() != null ? SymbolCorrelation.nameKey(u) : "anon:" + u.section().name() + "@" + u.start();
    }

    String key(DiffSide side, RelocationTarget t) {
        boolean isPatched = side == patched;
        return switch (t) {
            case RelocationTarget.SymbolTarget st -> {
                if (!st.symbol().hasSection()) {
                    yield "U:" + st.symbol().name() + "+" + st.offset();
                }
                SectionSlice u = side.index.unitOf(st.symbol());
                if (u == null) {
                    // A label in a table or piece of code (no unit): by name and offset.
                    yield "L:" + st.symbol().name() + "+" + st.offset();
                }
                long off = st.offset() + st.symbol().value() - u.start();
                yield (isPatched ? keyOfPatched(u) : keyOfOrig(u)) + "+" + off;
            }
            case RelocationTarget.StringTarget st -> "S:" + st.text();
            case RelocationTarget.ConstantTarget ct -> "C:" + ct.value().toHex();
            case RelocationTarget.SectionTarget st -> {
                if (st.unit() != null) {
                    yield (isPatched ? keyOfPatched(st.unit()) : keyOfOrig(st.unit())) + "+" + (st.offset() - st.unit().start());
                }
                OutOfLineCodePieces.Piece piece = side.pieces.pieceAt(st.section(), st.offset());
                if (piece != null) {
                    yield "P:" + pieceFingerprint(side, piece) + "+" + (st.offset() - piece.start());
                }
                yield "X:" + st.section().name() + "+" + st.offset();
            }
            case RelocationTarget.NoTarget n -> "0";
        };
    }

    private String firstDifference(SectionSlice p, SectionSlice o) {
        if (p.isFunction() != o.isFunction()) {
            return "symbol type changed";
        }
        long ps = p.end() - p.start();
        long os = o.end() - o.start();
        if (ps != os) {
            return "size changed from " + os + " to " + ps + " bytes";
        }
        if (p.section().isNoBits() != o.section().isNoBits()) {
            return "moved between initialised and zero-filled data";
        }
        String bytes = null;
        if (!p.section().isNoBits()) {
            Bytes pb = p.section().data().slice((int) p.start(), (int) ps);
            Bytes ob = o.section().data().slice((int) o.start(), (int) os);
            if (!pb.equals(ob)) {
                bytes = "bytes differ from offset 0x" + Long.toHexString(firstByteDifference(pb, ob));
            }
        }
        String r = relocationDifference(p, o);
        if (r != null) {
            return bytes != null ? bytes : r;
        }
        List<String> lines = new ArrayList<>();
        if (p.isFunction()) {
            List<String> pe = entryFingerprints(patched, p, false);
            List<String> oe = entryFingerprints(orig, o, false);
            if (!pe.equals(oe)) {
                return bytes != null ? bytes : "its exception-table, alternatives or bug-frame entries differ";
            }
            if (!entryFingerprints(patched, p, true).equals(entryFingerprints(orig, o, true))) {
                // Equal but for the line bits of bug frames: the code is untouched, only the line
                // a WARN/BUG/ASSERT reports moved.
                lines.add("bug frame line numbers");
            }
        }
        if (bytes != null) {
            List<LineNumberProof.LineChange> proven = LineNumberProof.explain(patchedLines, origLines, p, o);
            if (proven == null) {
                return bytes;
            }
            for (LineNumberProof.LineChange c : proven) {
                lines.add(c.toString());
            }
        }
        if (!lines.isEmpty()) {
            lineOnly.put(p, String.join("; ", lines));
        }
        return null;
    }

    private static long firstByteDifference(Bytes a, Bytes b) {
        for (int i = 0; i < Math.min(a.length(), b.length()); i++) {
            if (a.u8(i) != b.u8(i)) {
                return i;
            }
        }
        return Math.min(a.length(), b.length());
    }

    private String relocationDifference(SectionSlice p, SectionSlice o) {
        List<Relocation> pr = patched.index.relocations(p.section(), p.start(), p.end());
        List<Relocation> or = orig.index.relocations(o.section(), o.start(), o.end());
        int machine = patched.index.elf.header().machine();
        for (int i = 0; i < Math.min(pr.size(), or.size()); i++) {
            Relocation a = pr.get(i);
            Relocation b = or.get(i);
            long ao = a.offset() - p.start();
            if (ao != b.offset() - o.start() || a.type() != b.type()) {
                return "relocation at +0x" + Long.toHexString(ao) + " differs";
            }
            String ka = key(patched, patched.index.resolve(p.section(), a));
            String kb = key(orig, orig.index.resolve(o.section(), b));
            if (!ka.equals(kb)) {
                return "relocation at +0x" + Long.toHexString(ao) + " (" + RelocationTypes.name(machine, a.type()) + ") now refers to "
                        + printable(ka) + " instead of " + printable(kb);
            }
        }
        if (pr.size() != or.size()) {
            return "has " + pr.size() + " relocations instead of " + or.size();
        }
        return null;
    }

    private static String printable(String key) {
        String s = key.length() > 60 ? key.substring(0, 60) + "..." : key;
        return s.replace("\n", "\\n").replace("\0", "");
    }

    /** The entries about a function, each as text independent of where the entry or the code sits. */
    List<String> entryFingerprints(DiffSide side, SectionSlice u) {
        return entryFingerprints(side, u, false);
    }

    /**
     * As {@link #entryFingerprints(DiffSide, SectionSlice)}; with {@code withLines}, the line-number bits
     * that bug frames keep in their displacements are part of the text too.
     */
    private List<String> entryFingerprints(DiffSide side, SectionSlice u, boolean withLines) {
        List<String> out = new ArrayList<>();
        for (DiffSide.OwnedEntry oe : side.entriesOf(u)) {
            SpecialTable t = oe.table();
            SpecialTable.Entry e = oe.entry();
            StringBuilder sb = new StringBuilder(t.section.name()).append('|');
            if (!t.section.isNoBits()) {
                byte[] raw = t.section.data().slice((int) e.start(), (int) (e.end() - e.start())).toArray();
                for (Relocation r : e.relocations()) {
                    for (int i = 0; i < 4 && r.offset() - e.start() + i < raw.length; i++) {
                        raw[(int) (r.offset() - e.start()) + i] = 0;
                    }
                }
                sb.append(Bytes.copyOf(raw).toHex());
            }
            for (Relocation r : e.relocations()) {
                sb.append('|').append(r.offset() - e.start()).append(':').append(r.type()).append(':')
                        .append(t.pointsAtEmptyReplacement(side.index, e, r) ? "P:empty" : key(side, t.target(side.index, e, r)));
                if (withLines && t.profile.lineBits()) {
                    sb.append(":line-bits=").append(Long.toHexString(r.addend() - t.profile.displacement(r.addend())));
                }
            }
            out.add(sb.toString());
        }
        out.sort(null);
        return out;
    }

    private String pieceFingerprint(DiffSide side, OutOfLineCodePieces.Piece piece) {
        Section s = piece.section();
        StringBuilder sb = new StringBuilder(s.data().slice((int) piece.start(), (int) (piece.end() - piece.start())).toHex());
        for (Relocation r : side.index.relocations(s, piece.start(), piece.end())) {
            RelocationTarget t = side.index.resolve(s, r);
            String k = t instanceof RelocationTarget.SectionTarget st && st.section() == s ? "self+" + (st.offset() - piece.start()) : key(side, t);
            sb.append('|').append(r.offset() - piece.start()).append(':').append(r.type()).append(':').append(k);
        }
        return sb.toString();
    }

    /**
     * Changes that spread: a unit using changed read-only data is changed (it must use a new copy),
     * and a function whose cold part ({@code foo.cold}) changed is changed (the cold part is only
     * reached from it; only the parent gets a funcs entry).
     */
    private void propagate() {
        boolean again = true;
        while (again) {
            again = false;
            for (SectionSlice p : patched.index.units()) {
                if (status.get(p) != Status.SAME && !lineOnly.containsKey(p)) {
                    continue; // (a line-only cold part is CHANGED, but not yet for this reason)
                }
                for (Relocation r : patched.index.relocations(p.section(), p.start(), p.end())) {
                    SectionSlice t = SpecialTable.unitOf(patched.index, patched.index.resolve(p.section(), r));
                    if (t != null && t != p && status.get(t) == Status.CHANGED && patched.index.role(t.section()) == SectionRole.RODATA) {
                        status.put(p, Status.CHANGED);
                        lineOnly.remove(p);
                        why.put(p, "uses read-only data " + t.describe() + ", which changed");
                        again = true;
                        break;
                    }
                }
            }
            for (SectionSlice p : patched.index.units()) {
                if (p.isFunction() && status.get(p) == Status.CHANGED) {
                    String parent = XenNames.coldParent(p.symbol().name());
                    if (parent == null) {
                        continue;
                    }
                    for (var s : patched.index.elf.symbolsNamed(parent)) {
                        SectionSlice pu = patched.index.unitOf(s);
                        if (pu == null || status.get(pu) != Status.SAME) {
                            continue;
                        }
                        if (lineOnly.containsKey(p)) {
                            // Only the cold part's line numbers moved: the parent is unchanged too.
                            String mine = lineOnly.get(pu);
                            String cold = "in " + p.symbol().name() + ": " + lineOnly.get(p);
                            if (mine == null || !mine.contains(cold)) {
                                lineOnly.put(pu, mine == null ? cold : mine + "; " + cold);
                            }
                            continue;
                        }
                        status.put(pu, Status.CHANGED);
                        lineOnly.remove(pu);
                        why.put(pu, "its cold part " + p.symbol().name() + " changed");
                        again = true;
                    }
                }
            }
        }
    }
}
