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
 * <p>The rule: no item that differs defines a named type (a typedef, or a struct, union or enum
 * body with a tag, anywhere in it, even inside a function) or is a directive or a top-level
 * {@code asm} other than an assembler constant ({@code asm(".equ X, 3")}); an anonymous enum in
 * a differing item is Xen's feature list kind (top level, literal values: its enumerators whose
 * value changed count as changed names) or the proof gives up; and no item that defines a named
 * type mentions (tags aside) a name whose declaration may have changed. Those are
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
                Optional<String> symbol = items.absoluteSymbol(i);
                if (symbol.isPresent()) {
                    names.add(symbol.get()); // an assembler constant: no type at all
                    continue;
                }
                if (items.directive(i) || items.topLevelAsm(i) || items.definesType(i)) {
                    return Optional.of("a changed item defines a type, or is a directive or asm: " + items.item(i).shortText());
                }
                if (items.hasAnonymousEnum(i)) {
                    // Only Xen's kind (X86_FEATURE_*): a top-level anonymous enum defining no
                    // object, every value a literal; its enumerators whose value changed count.
                    TopLevelItems.Item item = items.item(i);
                    if (!item.inert() || !item.declares().isEmpty() || item.enumerators().isEmpty()) {
                        return Optional.of("a changed item holds an enum it cannot compare: " + item.shortText());
                    }
                    enumerators.get(s).putAll(item.enumerators());
                    continue;
                }
                // A function, a prototype, an object: what it declares may be named by a type.
                names.addAll(items.headNames(i));
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
        // Closed over every declaration whose head names one of them: its own names (and the
        // enumerators of an enum whose values do) may change meaning too.
        boolean grew = true;
        while (grew) {
            grew = false;
            List<String> nameList = new ArrayList<>(names);
            for (int s = 0; s < 2; s++) {
                TopLevelItems items = sides.get(s);
                for (int i = 0; i < items.size(); i++) {
                    // The changed items gave their names above (an enum only those whose value moved).
                    if (!changed[s].get(i) && !items.definesType(i) && !items.headMentions(i, names, nameList).isEmpty()) {
                        grew |= names.addAll(items.headNames(i));
                        grew |= names.addAll(items.enumNames(i));
                    }
                }
            }
        }
        List<String> nameList = new ArrayList<>(names);
        for (TopLevelItems items : sides) {
            for (int i = 0; i < items.size(); i++) {
                if (items.definesType(i)) {
                    Set<String> used = items.ordinaryMentions(i, names, nameList);
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
