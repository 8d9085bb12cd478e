package org.livepatch.layout;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.livepatch.layout.DwarfReader.Die;
import org.livepatch.layout.DwarfReader.Unit;

/**
 * The layouts of the named types one compilation unit defines, and which of its functions use
 * each, read from its DWARF.
 *
 * <p>A type is named by its tag ({@code struct domain}, {@code union u}, {@code enum e}) or, for
 * an anonymous struct/union/enum given a name by a typedef ({@code typedef struct { ... }
 * spinlock_t}), by that typedef name. Anonymous types reached through a named one (Xen's
 * {@code union { ... } u} members) are not separate types: their fields are flattened into the
 * named type's layout with a dotted path and their absolute offset, so a change inside them is a
 * change of the type that embeds them.
 *
 * @param types the layouts, by name; usually one each, several when blocks define same-named types
 * @param users per type name, the functions whose return value, parameters or local variables
 *              have that type, directly or through pointers, arrays, qualifiers and typedefs
 */
public record TypeLayouts(Map<String, List<TypeLayout>> types, Map<String, Set<String>> users) {

    public TypeLayouts {
        // Sorted, not Map.copyOf: its iteration order varies between JVM runs, and the order of
        // the changes found (and of a refusal's lines) must not.
        types = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(types));
        users = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(users));
    }

    /** One field (or, for an enum, one enumerator: offset is then its value). */
    public record Field(String path, long offset, long bitOffset, long bitSize, long size, String type) {
        String position() {
            return "offset " + offset + (bitSize >= 0 ? " bits " + bitOffset + "+" + bitSize : "");
        }
    }

    /** One type's layout: its kind (struct, union, enum), byte size, defining file and fields in order. */
    public record TypeLayout(String name, String kind, String file, long size, List<Field> fields) {
        public TypeLayout {
            fields = List.copyOf(fields);
        }
    }

    private static final int MAX_DEPTH = 12;

    public static TypeLayouts of(List<Unit> units) {
        Map<String, List<TypeLayout>> types = new TreeMap<>();
        Map<String, Set<String>> users = new TreeMap<>();
        for (Unit u : units) {
            new Collector(u, types, users).walk(u.root(), 0);
        }
        return new TypeLayouts(types, users);
    }

    private static final class Collector {
        private final Unit unit;
        private final Map<String, List<TypeLayout>> types;
        private final Map<String, Set<String>> users;

        Collector(Unit unit, Map<String, List<TypeLayout>> types, Map<String, Set<String>> users) {
            this.unit = unit;
            this.types = types;
            this.users = users;
        }

        void walk(Die d, int depth) {
            if (depth > 64) {
                return;
            }
            String key = key(d);
            if (key != null) {
                TypeLayout t = layout(d, key);
                types.computeIfAbsent(key, k -> new ArrayList<>()).add(t);
            }
            if (d.tag() == DwarfReader.TAG_SUBPROGRAM && !d.has(DwarfReader.AT_DECLARATION)) {
                String fn = functionName(d);
                if (fn != null) {
                    Set<String> used = new TreeSet<>();
                    uses(d, used, 0);
                    for (String k : used) {
                        users.computeIfAbsent(k, x -> new TreeSet<>()).add(fn);
                    }
                }
            }
            for (Die c : d.children()) {
                walk(c, depth + 1);
            }
        }

        /** The name a subprogram has, itself or through the entry it completes (abstract origin, specification). */
        private String functionName(Die d) {
            Die cur = d;
            for (int i = 0; i < 4 && cur != null; i++) {
                if (cur.name() != null) {
                    return cur.name();
                }
                Integer next = cur.ref(DwarfReader.AT_ABSTRACT_ORIGIN);
                if (next == null) {
                    next = cur.ref(DwarfReader.AT_SPECIFICATION);
                }
                cur = next == null ? null : unit.byOffset().get(next);
            }
            return null;
        }

        /** Types a function's own entries (return type, parameters, variables, nested blocks) use. */
        private void uses(Die d, Set<String> out, int depth) {
            if (depth > MAX_DEPTH) {
                return;
            }
            Integer t = d.ref(DwarfReader.AT_TYPE);
            if (t != null) {
                reach(unit.byOffset().get(t), out, 0, new HashSet<>());
            }
            for (Die c : d.children()) {
                int tag = c.tag();
                if (tag == DwarfReader.TAG_FORMAL_PARAMETER || tag == DwarfReader.TAG_VARIABLE || tag == DwarfReader.TAG_LEXICAL_BLOCK) {
                    uses(c, out, depth + 1);
                }
            }
        }

        /** Named types reached from a type through pointers, arrays, qualifiers and typedefs. */
        private void reach(Die t, Set<String> out, int depth, Set<Integer> seen) {
            if (t == null || depth > MAX_DEPTH || !seen.add(t.offset)) {
                return;
            }
            String k = key(t);
            if (k == null && t.tag() == DwarfReader.TAG_TYPEDEF) {
                Die target = target(t);
                if (target != null && isAggregate(target) && target.name() == null) {
                    k = t.name();
                }
            }
            if (k == null && isAggregate(t) && t.name() != null) {
                k = prefix(t) + t.name(); // a declaration: the user of an incomplete type
            }
            if (k != null) {
                out.add(k);
            }
            if (!isAggregate(t)) {
                reach(target(t), out, depth + 1, seen);
            }
        }

        /** The name a type is known by, or null if it is not one we compare on its own. */
        private String key(Die d) {
            if (d.has(DwarfReader.AT_DECLARATION)) {
                return null;
            }
            if (isAggregate(d) && d.name() != null) {
                return prefix(d) + d.name();
            }
            if (d.tag() == DwarfReader.TAG_TYPEDEF && d.name() != null) {
                Die target = target(d);
                if (target != null && isAggregate(target) && target.name() == null && !target.has(DwarfReader.AT_DECLARATION)) {
                    return d.name();
                }
            }
            return null;
        }

        private TypeLayout layout(Die d, String key) {
            Die def = d.tag() == DwarfReader.TAG_TYPEDEF ? target(d) : d;
            List<Field> fields = new ArrayList<>();
            if (def.tag() == DwarfReader.TAG_ENUM) {
                for (Die c : def.children()) {
                    if (c.tag() == DwarfReader.TAG_ENUMERATOR) {
                        Long v = c.number(DwarfReader.AT_CONST_VALUE);
                        fields.add(new Field(c.name(), v == null ? 0 : v, -1, -1, -1, "enumerator"));
                    }
                }
            } else {
                flatten(def, "", 0, fields, 0);
            }
            String file = unit.file(d.number(DwarfReader.AT_DECL_FILE));
            return new TypeLayout(key, kind(def), file, size(def, 0), fields);
        }

        private void flatten(Die agg, String prefix, long base, List<Field> out, int depth) {
            if (depth > MAX_DEPTH) {
                return;
            }
            int anonymous = 0;
            for (Die m : agg.children()) {
                if (m.tag() != DwarfReader.TAG_MEMBER) {
                    continue;
                }
                Long loc = m.number(DwarfReader.AT_DATA_MEMBER_LOCATION);
                long offset = base + (loc == null ? 0 : loc);
                Long bitSize = m.number(DwarfReader.AT_BIT_SIZE);
                Long bitOffset = m.number(DwarfReader.AT_DATA_BIT_OFFSET);
                if (bitOffset == null) {
                    bitOffset = m.number(DwarfReader.AT_BIT_OFFSET);
                }
                Die type = m.ref(DwarfReader.AT_TYPE) == null ? null : unit.byOffset().get(m.ref(DwarfReader.AT_TYPE));
                // Anonymous members (C11 anonymous unions) are told apart by their rank among them.
                String name = m.name() != null ? m.name() : "<anonymous#" + ++anonymous + ">";
                String path = prefix + name;
                out.add(new Field(path, offset, bitOffset == null ? -1 : bitOffset, bitSize == null ? -1 : bitSize,
                        size(type, 0), describe(type, 0)));
                // Anonymous aggregates (and arrays of them) are part of this type's layout.
                Die inner = unqualified(type);
                String suffix = ".";
                if (inner != null && inner.tag() == DwarfReader.TAG_ARRAY) {
                    inner = unqualified(target(inner));
                    suffix = "[].";
                }
                if (inner != null && isAggregate(inner) && inner.name() == null) {
                    flatten(inner, m.name() == null ? prefix : path + suffix, offset, out, depth + 1);
                }
            }
        }

        private Die target(Die d) {
            Integer r = d == null ? null : d.ref(DwarfReader.AT_TYPE);
            return r == null ? null : unit.byOffset().get(r);
        }

        private Die unqualified(Die d) {
            Die cur = d;
            for (int i = 0; i < MAX_DEPTH && cur != null && isQualifier(cur.tag()); i++) {
                cur = target(cur);
            }
            return cur;
        }

        private long size(Die t, int depth) {
            if (t == null || depth > MAX_DEPTH) {
                return -1;
            }
            Long bs = t.number(DwarfReader.AT_BYTE_SIZE);
            if (bs != null) {
                return bs;
            }
            if (t.tag() == DwarfReader.TAG_TYPEDEF || isQualifier(t.tag())) {
                return size(target(t), depth + 1);
            }
            if (t.tag() == DwarfReader.TAG_ARRAY) {
                long elem = size(target(t), depth + 1);
                long n = 1;
                for (long c : counts(t)) {
                    n = c < 0 ? 0 : n * c;
                }
                return elem < 0 ? -1 : elem * n;
            }
            return -1;
        }

        private List<Long> counts(Die array) {
            List<Long> out = new ArrayList<>();
            for (Die s : array.children()) {
                if (s.tag() != DwarfReader.TAG_SUBRANGE) {
                    continue;
                }
                Long count = s.number(DwarfReader.AT_COUNT);
                Long upper = s.number(DwarfReader.AT_UPPER_BOUND);
                out.add(count != null ? count : upper != null ? upper + 1 : -1);
            }
            return out;
        }

        /** A C-like spelling of a type, enough to tell two field types apart in a message. */
        private String describe(Die t, int depth) {
            if (t == null) {
                return "void";
            }
            if (depth > MAX_DEPTH) {
                return "...";
            }
            return switch (t.tag()) {
                case DwarfReader.TAG_BASE, DwarfReader.TAG_TYPEDEF -> String.valueOf(t.name());
                case DwarfReader.TAG_POINTER -> describe(target(t), depth + 1) + " *";
                case DwarfReader.TAG_CONST -> "const " + describe(target(t), depth + 1);
                case DwarfReader.TAG_VOLATILE -> "volatile " + describe(target(t), depth + 1);
                case DwarfReader.TAG_RESTRICT -> describe(target(t), depth + 1) + " restrict";
                case DwarfReader.TAG_ATOMIC -> "_Atomic " + describe(target(t), depth + 1);
                case DwarfReader.TAG_ARRAY -> {
                    StringBuilder sb = new StringBuilder(describe(target(t), depth + 1));
                    for (long c : counts(t)) {
                        sb.append('[').append(c < 0 ? "" : Long.toString(c)).append(']');
                    }
                    yield sb.toString();
                }
                case DwarfReader.TAG_SUBROUTINE_TYPE -> "function";
                case DwarfReader.TAG_STRUCT, DwarfReader.TAG_UNION, DwarfReader.TAG_ENUM ->
                        prefix(t) + (t.name() == null ? "{...}" : t.name());
                default -> "tag 0x" + Integer.toHexString(t.tag());
            };
        }
    }

    static boolean isAggregate(Die d) {
        return d.tag() == DwarfReader.TAG_STRUCT || d.tag() == DwarfReader.TAG_UNION || d.tag() == DwarfReader.TAG_ENUM;
    }

    static boolean isQualifier(int tag) {
        return tag == DwarfReader.TAG_CONST || tag == DwarfReader.TAG_VOLATILE || tag == DwarfReader.TAG_RESTRICT
                || tag == DwarfReader.TAG_ATOMIC;
    }

    static String kind(Die d) {
        return switch (d.tag()) {
            case DwarfReader.TAG_STRUCT -> "struct";
            case DwarfReader.TAG_UNION -> "union";
            case DwarfReader.TAG_ENUM -> "enum";
            default -> "type";
        };
    }

    static String prefix(Die d) {
        return kind(d) + " ";
    }
}
