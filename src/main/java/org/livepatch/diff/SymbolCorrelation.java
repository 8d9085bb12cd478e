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
    private final Map<Unit, Unit> twinOfPatched = new IdentityHashMap<>();
    private final Map<Unit, Unit> twinOfOrig = new IdentityHashMap<>();
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

    Unit twinOfPatched(Unit u) {
        return twinOfPatched.get(u);
    }

    Unit twinOfOrig(Unit u) {
        return twinOfOrig.get(u);
    }

    List<Refusal> refusals() {
        return refusals;
    }

    List<String> notes() {
        return notes;
    }

    private void pair(Unit p, Unit o) {
        twinOfPatched.put(p, o);
        twinOfOrig.put(o, p);
    }

    static String nameKey(Unit u) {
        String kind = u.isFunction() ? "F" : "O";
        return kind + ":" + (u.symbol().isLocal() ? "L:" + u.file() + "#" : "G:") + u.symbol().name();
    }

    private static boolean isStaticLocal(Unit u) {
        return u.symbol() != null && u.symbol().isLocal() && u.symbol().isObject() && XenNames.hasNumberSuffix(u.symbol().name());
    }

    private void byExactName() {
        Map<String, Unit> origByName = new HashMap<>();
        for (Unit u : orig.units()) {
            if (u.symbol() != null && !XenNames.hasNumberSuffix(u.symbol().name())) {
                origByName.putIfAbsent(nameKey(u), u);
            }
        }
        for (Unit p : patched.units()) {
            if (p.symbol() == null || XenNames.hasNumberSuffix(p.symbol().name())) {
                continue;
            }
            Unit o = origByName.get(nameKey(p));
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
        Map<Unit, Map<Unit, Integer>> votes = new LinkedHashMap<>();
        for (Unit user : orig.units()) {
            Unit twinUser = twinOfOrig.get(user);
            if (user.symbol() == null || twinUser == null) {
                continue;
            }
            Map<String, List<Unit>> os = staticsByBase(orig, user);
            Map<String, List<Unit>> ps = staticsByBase(patched, twinUser);
            for (Map.Entry<String, List<Unit>> e : os.entrySet()) {
                List<Unit> ol = e.getValue();
                List<Unit> pl = ps.getOrDefault(e.getKey(), List.of());
                for (int i = 0; i < ol.size(); i++) {
                    // Same count: pair by order. Otherwise only a lone static on each side is certain.
                    Unit c = ol.size() == pl.size() ? pl.get(i) : (ol.size() == 1 && pl.size() == 1 ? pl.get(0) : null);
                    if (c != null) {
                        votes.computeIfAbsent(ol.get(i), k -> new LinkedHashMap<>()).merge(c, 1, Integer::sum);
                    }
                }
            }
        }
        for (Map.Entry<Unit, Map<Unit, Integer>> e : votes.entrySet()) {
            Unit s = e.getKey();
            int best = e.getValue().values().stream().max(Integer::compare).orElse(0);
            List<Unit> top = e.getValue().entrySet().stream().filter(x -> x.getValue() == best).map(Map.Entry::getKey).toList();
            boolean readOnly = orig.role(s.section()) == SectionRole.RODATA;
            if (top.size() > 1 && !readOnly) {
                refusals.add(new Refusal(patched.label, s.symbol().name(),
                        "static local of the original matches several patched statics ("
                                + String.join(", ", top.stream().map(Unit::describe).toList())
                                + "); cannot tell which one keeps its value"));
                continue;
            }
            Unit c = top.get(0);
            Unit already = twinOfPatched.get(c);
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
    private static Map<String, List<Unit>> staticsByBase(ObjectIndex idx, Unit u) {
        Map<String, List<Unit>> m = new LinkedHashMap<>();
        for (Unit s : staticsReferencedBy(idx, u)) {
            m.computeIfAbsent(XenNames.stripNumbers(s.symbol().name()) + "@" + s.file(), k -> new ArrayList<>()).add(s);
        }
        return m;
    }

    private static boolean sameFile(Unit a, Unit b) {
        return a.file() == null ? b.file() == null : a.file().equals(b.file());
    }

    private static Set<Unit> staticsReferencedBy(ObjectIndex idx, Unit u) {
        Set<Unit> out = new LinkedHashSet<>();
        if (u.section().isNoBits()) {
            return out;
        }
        for (var r : idx.relocations(u.section(), u.start(), u.end())) {
            RelocationTarget t = idx.resolve(u.section(), r);
            Unit target = switch (t) {
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
        Map<String, List<Unit>> o = new HashMap<>();
        Map<String, List<Unit>> p = new HashMap<>();
        for (Unit u : orig.units()) {
            if (u.symbol() != null && !twinOfOrig.containsKey(u)) {
                o.computeIfAbsent(strippedKey(u), k -> new ArrayList<>()).add(u);
            }
        }
        for (Unit u : patched.units()) {
            if (u.symbol() != null && !twinOfPatched.containsKey(u)) {
                p.computeIfAbsent(strippedKey(u), k -> new ArrayList<>()).add(u);
            }
        }
        for (Map.Entry<String, List<Unit>> e : p.entrySet()) {
            List<Unit> os = o.get(e.getKey());
            if (e.getValue().size() == 1 && os != null && os.size() == 1) {
                Unit pu = e.getValue().get(0);
                Unit ou = os.get(0);
                pair(pu, ou);
                if (!pu.symbol().name().equals(ou.symbol().name())) {
                    notes.add(pu.symbol().name() + " is the original's " + ou.symbol().name() + " (renumbered by the compiler)");
                }
            }
        }
    }

    private static String strippedKey(Unit u) {
        String kind = u.isFunction() ? "F" : "O";
        return kind + ":" + (u.symbol().isLocal() ? "L:" + u.file() + "#" : "G:") + XenNames.stripNumbers(u.symbol().name());
    }

    private void anonymousByPosition() {
        Map<String, Unit> o = new HashMap<>();
        for (Map.Entry<String, Unit> e : anonymousKeys(orig).entrySet()) {
            o.put(e.getKey(), e.getValue());
        }
        for (Map.Entry<String, Unit> e : anonymousKeys(patched).entrySet()) {
            Unit ou = o.get(e.getKey());
            if (ou != null) {
                pair(e.getValue(), ou);
            }
        }
    }

    /** Anonymous units keyed by section name, how many sections of that name came before, and their rank in the section. */
    private static Map<String, Unit> anonymousKeys(ObjectIndex idx) {
        Map<String, Integer> seen = new HashMap<>();
        Map<String, Unit> out = new HashMap<>();
        for (var s : idx.elf.sections()) {
            List<Unit> us = idx.unitsOf(s);
            if (us.isEmpty()) {
                continue;
            }
            int n = seen.merge(s.name(), 1, Integer::sum);
            int rank = 0;
            for (Unit u : us) {
                if (u.symbol() == null) {
                    out.put(s.name() + "#" + n + "/" + rank++, u);
                }
            }
        }
        return out;
    }
}
