package org.livepatch.layout;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.livepatch.layout.TypeLayouts.Field;
import org.livepatch.layout.TypeLayouts.TypeLayout;

/**
 * Compares the type layouts of the original and the patched compilation unit of one object.
 *
 * <p>Only types the original unit has are compared: those are the types the running
 * hypervisor's code was compiled against, whose live instances (in domains, vCPUs, static data)
 * have the original layout. A type only the patched unit has is new, and no live instance of it
 * exists. A type that differs in its size, or in any field's name, position, size or type, is a
 * change; so is an enumerator whose value changed (stored values would change meaning). Adding
 * an enumerator without changing the enum's size is not.
 */
public final class LayoutDiff {
    private LayoutDiff() {}

    /** The changed types of one object, in name order; {@code object} is only carried into the result. */
    public static List<LayoutChange> compare(String object, TypeLayouts original, TypeLayouts patched) {
        List<LayoutChange> out = new ArrayList<>();
        for (var e : original.types().entrySet()) {
            String name = e.getKey();
            List<TypeLayout> before = e.getValue();
            List<TypeLayout> after = patched.types().get(name);
            if (after == null || same(before, after)) {
                continue;
            }
            Set<String> users = new TreeSet<>(original.users().getOrDefault(name, Set.of()));
            users.addAll(patched.users().getOrDefault(name, Set.of()));
            TypeLayout o = before.get(0);
            if (before.size() != 1 || after.size() != 1) {
                out.add(new LayoutChange(name, o.file(), List.of(), List.of("the unit's " + before.size()
                        + " definition(s) of this name differ from the patched unit's " + after.size()), users, Set.of(object)));
                continue;
            }
            TypeLayout p = after.get(0);
            List<String> fields = new ArrayList<>();
            List<String> what = new ArrayList<>();
            describe(o, p, fields, what);
            out.add(new LayoutChange(name, o.file(), fields, what, users, Set.of(object)));
        }
        return out;
    }

    private static boolean same(List<TypeLayout> a, List<TypeLayout> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            TypeLayout x = a.get(i);
            TypeLayout y = b.get(i);
            if (x.size() != y.size() || !x.kind().equals(y.kind()) || !sameFields(x, y)) {
                return false;
            }
        }
        return true;
    }

    private static boolean sameFields(TypeLayout x, TypeLayout y) {
        if (!"enum".equals(x.kind())) {
            return x.fields().equals(y.fields());
        }
        Map<String, Long> after = values(y);
        for (Field f : x.fields()) {
            Long v = after.get(f.path());
            if (v == null || v != f.offset()) {
                return false;
            }
        }
        return true;
    }

    private static Map<String, Long> values(TypeLayout t) {
        Map<String, Long> m = new LinkedHashMap<>();
        t.fields().forEach(f -> m.put(f.path(), f.offset()));
        return m;
    }

    /** Fills the changed field names (first the added/removed ones) and one phrase per difference. */
    private static void describe(TypeLayout o, TypeLayout p, List<String> fields, List<String> what) {
        if (!o.kind().equals(p.kind())) {
            what.add("was a " + o.kind() + ", now a " + p.kind());
        }
        Map<String, Field> before = new LinkedHashMap<>();
        o.fields().forEach(f -> before.putIfAbsent(f.path(), f));
        Map<String, Field> after = new LinkedHashMap<>();
        p.fields().forEach(f -> after.putIfAbsent(f.path(), f));
        String noun = "enum".equals(o.kind()) ? "enumerator" : "field";
        for (Field f : p.fields()) {
            if (!before.containsKey(f.path()) && !"enum".equals(o.kind())) {
                fields.add(f.path());
                what.add(noun + " '" + f.path() + "' added at " + f.position() + " (" + f.type() + ")");
            }
        }
        for (Field f : o.fields()) {
            if (!after.containsKey(f.path())) {
                fields.add(f.path());
                what.add(noun + " '" + f.path() + "' removed (was at " + f.position() + ")");
            }
        }
        List<String> moved = new ArrayList<>();
        for (Field f : o.fields()) {
            Field g = after.get(f.path());
            if (g == null || g.equals(f)) {
                continue;
            }
            if ("enum".equals(o.kind())) {
                fields.add(f.path());
                what.add("enumerator '" + f.path() + "' value " + f.offset() + " -> " + g.offset());
            } else if (g.bitSize() != f.bitSize()) {
                fields.add(f.path());
                what.add(noun + " '" + f.path() + "' width " + (f.bitSize() < 0 ? "whole" : f.bitSize() + " bits") + " -> "
                        + (g.bitSize() < 0 ? "whole" : g.bitSize() + " bits") + " (" + f.position() + " -> "
                        + g.position().substring("offset ".length()) + ")");
            } else if (!g.type().equals(f.type()) || g.size() != f.size()) {
                fields.add(f.path());
                what.add(noun + " '" + f.path() + "' " + f.type() + " (" + f.size() + " bytes) -> " + g.type() + " (" + g.size() + " bytes)");
            } else {
                moved.add(f.path() + " " + f.position() + " -> " + g.position().substring("offset ".length()));
            }
        }
        if (!moved.isEmpty()) {
            if (fields.isEmpty()) {
                fields.add(moved.get(0).substring(0, moved.get(0).indexOf(' ')));
            }
            what.add(moved.size() + " field(s) moved (" + String.join(", ", moved.subList(0, Math.min(2, moved.size())))
                    + (moved.size() > 2 ? ", ..." : "") + ")");
        }
        if (o.size() != p.size()) {
            what.add("size " + o.size() + " -> " + p.size() + " bytes");
        }
    }
}
