package org.livepatch.xenbuild;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Whether a change to a unit's preprocessed text can change the code compiled from it.
 *
 * <p>Why: a changeset that edits a widely included header (a prototype renamed in
 * {@code xen/domain.h}, a {@code static inline} hook in {@code xsm/dummy.h}) changes the
 * preprocessed text of hundreds of units, most of which never name what changed. Compiling all
 * of them made the stable-4.17 series cost 2.5 full builds.
 *
 * <p>The rule, and why it is sound: the two texts are cut into top-level items
 * ({@link TopLevelItems}) and aligned (a longest common subsequence of whole items). The unit
 * needs no compile when every item that differs is <em>inert</em> (it emits nothing by itself)
 * and no other item, in either text, mentions a name a differing item declares. C reaches a
 * declaration only through its name, so a unit that never names it compiles to the same code:
 * an unreferenced prototype, typedef, struct or {@code static inline} function leaves no trace
 * in the object (debug information for unused types aside, which no payload carries). Every
 * doubt falls on the side of compiling: an item this reader cannot classify, an attribute it
 * does not know, a name it cannot place, or a compiler flag that keeps unused inline functions.
 */
final class UnitChange {
    /**
     * The verdict.
     *
     * @param compile whether the unit must be compiled
     * @param why one line for the log: what decided it
     */
    record Verdict(boolean compile, String why) {
        static Verdict compile(String why) {
            return new Verdict(true, why);
        }
    }

    /** The file a compile command compiles. */
    private static final java.util.regex.Pattern SOURCE = java.util.regex.Pattern.compile(" -c (\\S+)");

    private UnitChange() {}

    /**
     * Compares the unit's preprocessed text before and after; {@code command} is its compile
     * command (flags that make GCC emit unreferenced inline functions rule the shortcut out).
     */
    static Verdict between(String before, String after, String command) {
        java.util.regex.Matcher source = SOURCE.matcher(command);
        if (!source.find() || !source.group(1).endsWith(".c")) {
            return Verdict.compile("not a C unit (assembly is not read here)");
        }
        if (command.contains("-fkeep-inline-functions") || command.contains("-fkeep-static-functions")) {
            return Verdict.compile("compiled with -fkeep-inline-functions or -fkeep-static-functions");
        }
        TopLevelItems a;
        TopLevelItems b;
        try {
            boolean strip = command.contains("--strip-local-absolute");
            List<CTokens.Token> tokensBefore = CTokens.of(before);
            a = TopLevelItems.of(tokensBefore, strip);
            b = TopLevelItems.of(CTokens.sharing(before, tokensBefore, after), strip);
        } catch (CTokens.Unreadable e) {
            return Verdict.compile("its preprocessed text has " + e.getMessage());
        }
        BitSet[] changed = TopLevelItems.changed(a, b);
        BitSet changedA = changed[0];
        BitSet changedB = changed[1];
        if (changedA.isEmpty() && changedB.isEmpty()) {
            return new Verdict(false, "the same tokens");
        }
        Set<String> names = new TreeSet<>();
        List<Map<String, Long>> enumerators = new ArrayList<>();
        List<Side> sides = List.of(new Side(a, changedA, new HashMap<>()), new Side(b, changedB, new HashMap<>()));
        for (Side side : sides) {
            Map<String, Long> values = new HashMap<>();
            for (int i = side.changed.nextSetBit(0); i >= 0; i = side.changed.nextSetBit(i + 1)) {
                TopLevelItems.Item item = side.items.item(i);
                if (!item.inert()) {
                    return Verdict.compile("a changed item is " + item.inertWhy() + ": " + item.shortText());
                }
                side.classified.put(i, item);
                names.addAll(item.declares());
                values.putAll(item.enumerators());
            }
            enumerators.add(values);
        }
        // An enumerator is changed when a change gives it, takes it away or moves its value.
        for (int k = 0; k < 2; k++) {
            for (var e : enumerators.get(k).entrySet()) {
                if (!e.getValue().equals(enumerators.get(1 - k).get(e.getKey()))) {
                    names.add(e.getKey());
                }
            }
        }
        List<String> nameList = List.copyOf(names);
        for (Side side : sides) {
            for (int i = 0; i < side.items.size(); i++) {
                if (side == sides.get(1) && !side.changed.get(i)) {
                    continue; // the same tokens as an unchanged item before, already read
                }
                TopLevelItems.Item declaring = side.classified.get(i);
                for (String n : side.items.mentions(i, names, nameList)) {
                    if (declaring == null || !(declaring.declares().contains(n) || declaring.enumerators().containsKey(n))) {
                        return Verdict.compile("it uses " + n + ", whose declaration changed");
                    }
                }
            }
        }
        return new Verdict(false, "only declarations it does not use changed: " + String.join(", ", names));
    }

    private record Side(TopLevelItems items, BitSet changed, Map<Integer, TopLevelItems.Item> classified) {}
}
