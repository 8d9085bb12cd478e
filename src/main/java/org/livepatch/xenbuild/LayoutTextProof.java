package org.livepatch.xenbuild;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Proves from a unit's two preprocessed texts that every type it defines has the same layout,
 * so that the type-layout check ({@link LayoutCheck}) need not compile both units once more
 * with {@code -g} and compare their DWARF.
 *
 * <p>Why: most fixes change function bodies only, and the two debug compiles per changed object
 * cost more than everything else of a warm payload build (a third of a whole series).
 *
 * <p>The rule: every item that differs is a function (a definition or a prototype) that defines
 * no type, not even inside its body, an assembler constant ({@code asm(".equ X, 3")}) or an
 * anonymous enum that defines no object (its enumerators whose value changed count as changed
 * names); and no item that defines a type (a struct, union or enum
 * body, or a typedef, anywhere) mentions a name whose declaration may have changed. Those are
 * the names the differing items declare, closed over every other item whose head (what precedes
 * a function body) mentions one of them: a declaration's type can depend on another's only
 * through a name in its head ({@code __typeof__(f())}). Then every type definition is the same
 * tokens, and every name in it means what it meant, so GCC lays the types out alike (the
 * compile commands being equal, which the caller checks). Anything else gives the reason and
 * the caller compiles.
 */
final class LayoutTextProof {
    private LayoutTextProof() {}

    /** Empty when {@code before} and {@code after} are proven to define every type alike, else why not. */
    static Optional<String> whyNot(String before, String after) {
        TopLevelItems a;
        TopLevelItems b;
        try {
            List<CTokens.Token> tokensBefore = CTokens.of(before);
            a = TopLevelItems.of(tokensBefore, false);
            b = TopLevelItems.of(CTokens.sharing(before, tokensBefore, after), false);
        } catch (CTokens.Unreadable e) {
            return Optional.of("its preprocessed text has " + e.getMessage());
        }
        BitSet[] changed = TopLevelItems.changed(a, b);
        List<TopLevelItems> sides = List.of(a, b);
        Set<String> names = new TreeSet<>();
        List<Map<String, Long>> enumerators = List.of(new HashMap<>(), new HashMap<>());
        for (int s = 0; s < 2; s++) {
            TopLevelItems items = sides.get(s);
            for (int i = changed[s].nextSetBit(0); i >= 0; i = changed[s].nextSetBit(i + 1)) {
                if (items.shape(i) != TopLevelItems.Shape.OTHER) {
                    names.addAll(items.headNames(i));
                    continue;
                }
                // Two more kinds of change define no named type: an assembler constant, and an
                // anonymous enum that defines no object (Xen's X86_FEATURE_* list, which a CPU
                // feature changes in every unit): only its enumerators whose value changed count.
                Optional<String> symbol = items.absoluteSymbol(i);
                if (symbol.isPresent()) {
                    names.add(symbol.get());
                    continue;
                }
                TopLevelItems.Item item = items.item(i);
                if (item.inert() && item.declares().isEmpty() && !item.enumerators().isEmpty()) {
                    enumerators.get(s).putAll(item.enumerators());
                    continue;
                }
                return Optional.of("a changed item is not a function, or defines a type: " + item.shortText());
            }
        }
        for (int s = 0; s < 2; s++) {
            for (var e : enumerators.get(s).entrySet()) {
                if (!e.getValue().equals(enumerators.get(1 - s).get(e.getKey()))) {
                    names.add(e.getKey());
                }
            }
        }
        if (names.isEmpty()) {
            return Optional.empty();
        }
        boolean grew = true;
        while (grew) {
            grew = false;
            List<String> nameList = new ArrayList<>(names);
            for (TopLevelItems items : sides) {
                for (int i = 0; i < items.size(); i++) {
                    if (!items.definesType(i) && !items.headMentions(i, names, nameList).isEmpty()) {
                        grew |= names.addAll(items.headNames(i));
                    }
                }
            }
        }
        List<String> nameList = new ArrayList<>(names);
        for (int s = 0; s < 2; s++) {
            TopLevelItems items = sides.get(s);
            for (int i = 0; i < items.size(); i++) {
                // A changed item that defines a type is one of the enums accepted above: it names
                // only its own enumerators, with literal values.
                if (items.definesType(i) && !changed[s].get(i)) {
                    Set<String> used = items.mentions(i, names, nameList);
                    if (!used.isEmpty()) {
                        return Optional.of("a type definition uses " + String.join(", ", used)
                                + ", whose declaration may have changed: " + items.item(i).shortText());
                    }
                }
            }
        }
        return Optional.empty();
    }
}
