package org.livepatch.diff;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Pairs each unit of the patched object with its twin in the original.
 *
 * <p>Order of evidence, strongest first:
 * <ol>
 * <li>the same name in the same file (locals) or the same global name, when the name carries no
 *     compiler number;</li>
 * <li>static locals ({@code count.0}): GCC numbers them per file in order of appearance, so one
 *     new static renumbers all later ones. A static is paired through the functions that use it:
 *     if the original {@code fn_a} uses {@code count.1} and the patched {@code fn_a} uses
 *     {@code count.2}, those are the same variable. Pairing by name would silently bind a
 *     function to another function's counter;</li>
 * <li>the remaining numbered names ({@code foo.isra.0}, unreferenced statics), when the name
 *     without numbers is unique on both sides;</li>
 * <li>bytes no symbol covers, by section name and position.</li>
 * </ol>
 * A patched unit with no twin is new.
 */
final class SymbolCorrelation {
    private final ObjectIndex orig;
    private final ObjectIndex patched;
    private final Map<SectionSlice, SectionSlice> twinOfPatched = new IdentityHashMap<>();
    private final Map<SectionSlice, SectionSlice> twinOfOrig = new IdentityHashMap<>();
    private final List<Refusal> refusals = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

    SymbolCorrelation(ObjectIndex orig, ObjectIndex patched) {
        this.orig = orig;
        this.patched = patched;
        byExactName();
        staticLocalsByUse();
        byNameWithoutNumbers();
        anonymousByPosition();
    }

    SectionSlice twinOfPatched(SectionSlice u) {
        return twinOfPatched.get(u);
    }

    SectionSlice twinOfOrig(SectionSlice u) {
        return twinOfOrig.get(u);
    }

    List<Refusal> refusals() {
        return refusals;
    }

    List<String> notes() {
        return notes;
    }

    private void pair(SectionSlice p, SectionSlice o) {
        twinOfPatched.put(p, o);
        twinOfOrig.put(o, p);
    }

    static String nameKey(SectionSlice u) {
        String kind = u.isFunction() ? "F" : "O";
        return kind + ":" + (u.symbol().isLocal() ? "L:" + u.file() + "#" : "G:") + u.symbol().name();
    }

    private static boolean isStaticLocal(SectionSlice u) {
        return u.symbol() != null && u.symbol().isLocal() && u.symbol().isObject() && XenNames.hasNumberSuffix(u.symbol().name());
    }

    private void byExactName() {
        Map<String, SectionSlice> origByName = new HashMap<>();
        for (SectionSlice u : orig.units()) {
            if (u.symbol() != null && !XenNames.hasNumberSuffix(u.symbol().name())) {
                origByName.putIfAbsent(nameKey(u), u);
            }
        }
        for (SectionSlice p : patched.units()) {
            if (p.symbol() == null || XenNames.hasNumberSuffix(p.symbol().name())) {
                continue;
            }
            SectionSlice o = origByName.get(nameKey(p));
            if (o != null && !twinOfOrig.containsKey(o)) {
                pair(p, o);
            }
        }
    }

    private void staticLocalsByUse() {
        // Votes: for each original static, which patched static sits in the same place in the
        // twin of each function that uses it. Within one function, statics of the same base name
        // (two inlined copies of a WARN_ONCE, several __func__) are told apart by the order in
        // which the code first refers to them.
        Map<SectionSlice, Map<SectionSlice, Integer>> votes = new LinkedHashMap<>();
        for (SectionSlice user : orig.units()) {
            SectionSlice twinUser = twinOfOrig.get(user);
            if (user.symbol() == null || twinUser == null) {
                continue;
            }
            Map<String, List<SectionSlice>> os = staticsByBase(orig, user);
            Map<String, List<SectionSlice>> ps = staticsByBase(patched, twinUser);
            for (Map.Entry<String, List<SectionSlice>> e : os.entrySet()) {
                List<SectionSlice> ol = e.getValue();
                List<SectionSlice> pl = ps.getOrDefault(e.getKey(), List.of());
                for (int i = 0; i < ol.size(); i++) {
                    // Same count: pair by order. Otherwise only a lone static on each side is certain.
                    SectionSlice c = ol.size() == pl.size() ? pl.get(i) : (ol.size() == 1 && pl.size() == 1 ? pl.get(0) : null);
                    if (c != null) {
                        votes.computeIfAbsent(ol.get(i), k -> new LinkedHashMap<>()).merge(c, 1, Integer::sum);
                    }
                }
            }
        }
        for (Map.Entry<SectionSlice, Map<SectionSlice, Integer>> e : votes.entrySet()) {
            SectionSlice s = e.getKey();
            int best = e.getValue().values().stream().max(Integer::compare).orElse(0);
            List<SectionSlice> top = e.getValue().entrySet().stream().filter(x -> x.getValue() == best).map(Map.Entry::getKey).toList();
            boolean readOnly = orig.role(s.section()) == SectionRole.RODATA;
            if (top.size() > 1 && !readOnly) {
                refusals.add(new Refusal(patched.label, s.symbol().name(),
                        "static local of the original matches several patched statics ("
                                + String.join(", ", top.stream().map(SectionSlice::describe).toList())
                                + "); cannot tell which one keeps its value"));
                continue;
            }
            SectionSlice c = top.get(0);
            SectionSlice already = twinOfPatched.get(c);
            if (already != null) {
                if (!readOnly) {
                    refusals.add(new Refusal(patched.label, c.symbol().name(), "static local is used where both "
                            + already.symbol().name() + " and " + s.symbol().name()
                            + " were used in the original; cannot tell which variable it is"));
                }
                // A read-only static left unpaired is simply carried as a new copy if needed.
                continue;
            }
            pair(c, s);
        }
    }

    /** The statics {@code u} refers to, grouped by name without numbers, each group in order of first reference. */
    private static Map<String, List<SectionSlice>> staticsByBase(ObjectIndex idx, SectionSlice u) {
        Map<String, List<SectionSlice>> m = new LinkedHashMap<>();
        for (SectionSlice s : staticsReferencedBy(idx, u)) {
            m.computeIfAbsent(XenNames.stripNumbers(s.symbol().name()) + "@" + s.file(), k -> new ArrayList<>()).add(s);
        }
        return m;
    }

    private static boolean sameFile(SectionSlice a, SectionSlice b) {
        return a.file() == null ? b.file() == null : a.file().equals(b.file());
    }

    private static Set<SectionSlice> staticsReferencedBy(ObjectIndex idx, SectionSlice u) {
        Set<SectionSlice> out = new LinkedHashSet<>();
        if (u.section().isNoBits()) {
            return out;
        }
        for (var r : idx.relocations(u.section(), u.start(), u.end())) {
            RelocationTarget t = idx.resolve(u.section(), r);
            SectionSlice target = switch (t) {
                case RelocationTarget.SymbolTarget st -> st.symbol().hasSection() ? idx.unitOf(st.symbol()) : null;
                case RelocationTarget.SectionTarget st -> st.unit();
                default -> null;
            };
            if (target != null && target != u && isStaticLocal(target)) {
                out.add(target);
            }
        }
        return out;
    }

    private void byNameWithoutNumbers() {
        Map<String, List<SectionSlice>> o = new HashMap<>();
        Map<String, List<SectionSlice>> p = new HashMap<>();
        for (SectionSlice u : orig.units()) {
            if (u.symbol() != null && !twinOfOrig.containsKey(u)) {
                o.computeIfAbsent(strippedKey(u), k -> new ArrayList<>()).add(u);
            }
        }
        for (SectionSlice u : patched.units()) {
            if (u.symbol() != null && !twinOfPatched.containsKey(u)) {
                p.computeIfAbsent(strippedKey(u), k -> new ArrayList<>()).add(u);
            }
        }
        for (Map.Entry<String, List<SectionSlice>> e : p.entrySet()) {
            List<SectionSlice> os = o.get(e.getKey());
            if (e.getValue().size() == 1 && os != null && os.size() == 1) {
                SectionSlice pu = e.getValue().get(0);
                SectionSlice ou = os.get(0);
                pair(pu, ou);
                if (!pu.symbol().name().equals(ou.symbol().name())) {
                    notes.add(pu.symbol().name() + " is the original's " + ou.symbol().name() + " (renumbered by the compiler)");
                }
            }
        }
    }

    private static String strippedKey(SectionSlice u) {
        String kind = u.isFunction() ? "F" : "O";
        return kind + ":" + (u.symbol().isLocal() ? "L:" + u.file() + "#" : "G:") + XenNames.stripNumbers(u.symbol().name());
    }

    private void anonymousByPosition() {
        Map<String, SectionSlice> o = new HashMap<>();
        for (Map.Entry<String, SectionSlice> e : anonymousKeys(orig).entrySet()) {
            o.put(e.getKey(), e.getValue());
        }
        for (Map.Entry<String, SectionSlice> e : anonymousKeys(patched).entrySet()) {
            SectionSlice ou = o.get(e.getKey());
            if (ou != null) {
                pair(e.getValue(), ou);
            }
        }
    }

    /** Anonymous units keyed by section name, how many sections of that name came before, and their rank in the section. */
    private static Map<String, SectionSlice> anonymousKeys(ObjectIndex idx) {
        Map<String, Integer> seen = new HashMap<>();
        Map<String, SectionSlice> out = new HashMap<>();
        for (var s : idx.elf.sections()) {
            List<SectionSlice> us = idx.unitsOf(s);
            if (us.isEmpty()) {
                continue;
            }
            int n = seen.merge(s.name(), 1, Integer::sum);
            int rank = 0;
            for (SectionSlice u : us) {
                if (u.symbol() == null) {
                    out.put(s.name() + "#" + n + "/" + rank++, u);
                }
            }
        }
        return out;
    }
}
