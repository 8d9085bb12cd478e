package org.livepatch.xenbuild;

import com.github.difflib.DiffUtils;
import com.github.difflib.patch.AbstractDelta;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.livepatch.xenbuild.CTokens.Kind;
import org.livepatch.xenbuild.CTokens.Token;

/**
 * A preprocessed C unit cut into its top-level items (declarations, definitions, directive
 * lines), each classified as <em>inert</em> or not. An inert item is one that makes the compiler
 * emit nothing unless another part of the unit names what it declares: a function prototype, an
 * {@code extern} declaration, a typedef, a struct/union/enum definition that declares no object,
 * a {@code static inline} function definition (GCC emits one only when it is referenced, unless
 * {@code -fkeep-inline-functions}). Everything else (object definitions, other function
 * definitions, top-level {@code asm}, pragmas, static assertions, attributes outside a known
 * harmless set, declarations of names the compiler may call on its own such as {@code memcpy})
 * is not inert. {@link UnitChange} builds on this to decide that a header change cannot reach a
 * unit's code.
 *
 * <p>Anything this reader does not understand (unbalanced brackets, an unterminated item) is
 * reported as {@link CTokens.Unreadable}: the caller then compiles.
 */
final class TopLevelItems {
    /**
     * What one top-level item is, as far as the shortcut cares.
     *
     * @param shortText its first tokens, for the log
     * @param inertWhy empty when inert, else why not (for the log)
     * @param declares the file-scope names it declares (possibly more, never fewer)
     * @param enumerators for an enum whose every value this reader could compute, each
     *     enumerator's value; those names are then not in {@code declares}: {@link UnitChange}
     *     counts only the enumerators whose value a change really gives or takes away
     */
    record Item(String shortText, String inertWhy, Set<String> declares, Map<String, Long> enumerators) {
        boolean inert() {
            return inertWhy.isEmpty();
        }
    }

    /** C and GNU C keywords: never a declared name. */
    private static final Set<String> KEYWORDS = Set.of(
            "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum", "extern",
            "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return", "short", "signed",
            "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void", "volatile", "while", "_Bool",
            "_Complex", "_Imaginary", "_Alignas", "_Alignof", "_Atomic", "_Generic", "_Noreturn", "_Static_assert",
            "_Thread_local", "__attribute__", "__attribute", "__extension__", "__inline__", "__inline", "__restrict__",
            "__restrict", "__const__", "__const", "__volatile__", "__volatile", "__signed__", "__signed", "__typeof__",
            "__typeof", "typeof", "__asm__", "__asm", "asm", "__int128", "__label__", "__auto_type", "__thread",
            "_Float128", "_Float64", "_Float32", "__seg_fs", "__seg_gs", "__alignof__", "__real__", "__imag__");

    /** Words whose parenthesised argument is not a declarator: attributes, asm labels, typeof. */
    private static final Set<String> GROUP_WORDS = Set.of("__attribute__", "__attribute", "__asm__", "__asm", "asm",
            "__typeof__", "__typeof", "typeof", "typeof_unqual", "_Alignas", "alignas", "__alignof__", "_Alignof",
            "alignof", "_Static_assert", "static_assert", "sizeof");

    /**
     * Attributes that change nothing about what an unreferenced declaration emits. Any other
     * (section, used, alias, weak, visibility, constructor, ...) makes the item not inert.
     */
    private static final Set<String> HARMLESS_ATTRIBUTES = Set.of("noreturn", "const", "pure", "format", "format_arg",
            "nonnull", "returns_nonnull", "warn_unused_result", "malloc", "alloc_size", "alloc_align", "cold", "hot",
            "always_inline", "noinline", "noclone", "unused", "deprecated", "aligned", "packed", "may_alias", "cf_check",
            "nocf_check", "sentinel", "access", "error", "warning", "designated_init", "transparent_union", "mode",
            "vector_size", "regparm", "no_instrument_function", "nonstring", "flatten", "gnu_inline", "artificial",
            "fallthrough", "leaf", "nothrow", "no_stack_protector", "no_sanitize", "no_sanitize_address",
            "no_sanitize_undefined", "returns_twice", "counted_by", "indirect_return", "assume_aligned", "const_fn");

    /**
     * Functions GCC may call without the unit naming them (a struct copy becomes {@code memcpy},
     * a stack check {@code __stack_chk_fail}): a changed declaration of one can reach code no
     * identifier leads to. Names starting with {@code __} are the compiler's and the C library's
     * reserved space, so they are treated alike.
     */
    private static final Set<String> IMPLICIT_CALLEES = Set.of("memcpy", "memmove", "memset", "memcmp", "bcmp",
            "strlen", "strnlen", "strcpy", "strncpy", "strcat", "strcmp", "strncmp", "strchr", "strrchr", "strstr",
            "abort", "printf", "puts", "putchar", "sprintf", "snprintf", "bzero", "mempcpy", "stpcpy");

    /** A depth-0 element of an item: one token, or a bracketed group [from, to] (inclusive). */
    private record Elem(int from, int to, char open) {
        boolean group() {
            return open != 0;
        }
    }

    private final List<Token> t;
    private final boolean stripLocalAbsolute;
    private final int[] from;
    private final int[] to;
    private final List<List<Elem>> shapes;
    private final long[] hashes;
    private Set<String> typedefNames;

    private TopLevelItems(List<Token> t, boolean stripLocalAbsolute, int[] from, int[] to, List<List<Elem>> shapes) {
        this.t = t;
        this.stripLocalAbsolute = stripLocalAbsolute;
        this.from = from;
        this.to = to;
        this.shapes = shapes;
        this.hashes = new long[from.length];
        for (int k = 0; k < from.length; k++) {
            long h = 1125899906842597L;
            for (int i = from[k]; i < to[k]; i++) {
                h = 31 * h + t.get(i).text().hashCode();
                h ^= h >>> 29;
            }
            hashes[k] = h;
        }
    }

    /**
     * The items of a unit; {@code stripLocalAbsolute} says the assembler drops local absolute
     * symbols ({@code -Wa,--strip-local-absolute}, as Xen builds), which makes a top-level
     * {@code asm(".equ NAME, NUMBER")} emit nothing. Only cutting is done here; an item is
     * classified when asked ({@link #item}), as only the changed ones are.
     */
    static TopLevelItems of(List<Token> t, boolean stripLocalAbsolute) throws CTokens.Unreadable {
        List<List<Elem>> shapes = new ArrayList<>();
        List<Integer> starts = new ArrayList<>();
        List<Integer> ends = new ArrayList<>();
        int i = 0;
        int n = t.size();
        while (i < n) {
            int start = i;
            List<Elem> elems = new ArrayList<>();
            boolean ended = false;
            if (t.get(i).kind() == Kind.DIRECTIVE) {
                elems.add(new Elem(i, i, (char) 0));
                shapes.add(elems);
                starts.add(i);
                ends.add(i + 1);
                i++;
                continue;
            }
            while (i < n) {
                Token k = t.get(i);
                char c = k.punct();
                if (c == '(' || c == '[' || c == '{') {
                    int close = match(t, i);
                    elems.add(new Elem(i, close, c));
                    i = close + 1;
                    if (c == '{' && functionBody(t, elems)) {
                        ended = true;
                        break;
                    }
                    continue;
                }
                if (c == ')' || c == ']' || c == '}') {
                    throw new CTokens.Unreadable("an unbalanced '" + k.text() + "'");
                }
                elems.add(new Elem(i, i, (char) 0));
                i++;
                if (c == ';') {
                    ended = true;
                    break;
                }
            }
            if (!ended) {
                throw new CTokens.Unreadable("an unterminated declaration at the end");
            }
            shapes.add(elems);
            starts.add(start);
            ends.add(i);
        }
        return new TopLevelItems(t, stripLocalAbsolute, starts.stream().mapToInt(Integer::intValue).toArray(),
                ends.stream().mapToInt(Integer::intValue).toArray(), shapes);
    }

    int size() {
        return from.length;
    }

    /**
     * Which items of {@code a} and of {@code b} differ: the same items at both ends first (a
     * header change is one place in a long unit), then a longest common subsequence of the rest;
     * every pairing is checked token by token, so a hash collision only costs a "changed".
     */
    static BitSet[] changed(TopLevelItems a, TopLevelItems b) {
        BitSet changedA = new BitSet(a.size());
        BitSet changedB = new BitSet(b.size());
        int head = 0;
        while (head < a.size() && head < b.size() && a.hash(head) == b.hash(head) && a.sameTokens(head, b, head)) {
            head++;
        }
        int tail = 0;
        while (tail < a.size() - head && tail < b.size() - head && a.hash(a.size() - 1 - tail) == b.hash(b.size() - 1 - tail)
                && a.sameTokens(a.size() - 1 - tail, b, b.size() - 1 - tail)) {
            tail++;
        }
        List<Long> midA = new ArrayList<>();
        for (int i = head; i < a.size() - tail; i++) {
            midA.add(a.hash(i));
        }
        List<Long> midB = new ArrayList<>();
        for (int i = head; i < b.size() - tail; i++) {
            midB.add(b.hash(i));
        }
        changedA.set(head, a.size() - tail);
        changedB.set(head, b.size() - tail);
        int ia = 0;
        int ib = 0;
        for (AbstractDelta<Long> d : DiffUtils.diff(midA, midB).getDeltas()) {
            // Between deltas the items are paired one to one.
            for (; ia < d.getSource().getPosition(); ia++, ib++) {
                if (a.sameTokens(head + ia, b, head + ib)) {
                    changedA.clear(head + ia);
                    changedB.clear(head + ib);
                }
            }
            ia += d.getSource().size();
            ib += d.getTarget().size();
        }
        for (; ia < midA.size() && ib < midB.size(); ia++, ib++) {
            if (a.sameTokens(head + ia, b, head + ib)) {
                changedA.clear(head + ia);
                changedB.clear(head + ib);
            }
        }
        return new BitSet[] {changedA, changedB};
    }

    /**
     * What the next comparison against this text needs of it ({@link UnitOutline}); every token
     * must come from that one text, of {@code length} chars and digest {@code textHash}.
     */
    UnitOutline outline(int length, int textHash) {
        int[] ends = new int[from.length];
        for (int k = 0; k < from.length; k++) {
            ends[k] = end(k);
        }
        return new UnitOutline(length, textHash, ends, hashes.clone(), typedefCounts());
    }

    /** The offset just past item k's last token, in the text that token was read from. */
    int end(int k) {
        return t.get(to[k] - 1).end();
    }

    /** How many typedef items declare each name. */
    Map<String, Integer> typedefCounts() {
        Map<String, Integer> out = new java.util.HashMap<>();
        for (List<Elem> e : shapes) {
            if (hasWord(t, e, "typedef")) {
                for (String n : declarators(t, e, Set.of())) {
                    out.merge(n, 1, Integer::sum);
                }
            }
        }
        return out;
    }

    /** The unit's typedef names, when these items are only a window of it. */
    void useTypedefNames(Set<String> names) {
        typedefNames = Set.copyOf(names);
    }

    /** A digest of item k's tokens: equal items have equal hashes ({@link #sameTokens} decides). */
    long hash(int k) {
        return hashes[k];
    }

    /** Whether item k here and item j of {@code other} are the same tokens. */
    boolean sameTokens(int k, TopLevelItems other, int j) {
        if (to[k] - from[k] != other.to[j] - other.from[j]) {
            return false;
        }
        for (int i = 0; i < to[k] - from[k]; i++) {
            Token a = t.get(from[k] + i);
            Token b = other.t.get(other.from[j] + i);
            if (a.kind() != b.kind() || !a.text().equals(b.text())) {
                return false;
            }
        }
        return true;
    }

    /**
     * Which of {@code names} item k mentions: as an identifier anywhere in it, or as a word of
     * a string or directive (#pragma weak NAME names a declaration, and so can a string: an alias
     * attribute's target, a symbol an asm statement calls).
     */
    Set<String> mentions(int k, Set<String> names, List<String> nameList) {
        return mentions(from[k], to[k], names, nameList);
    }

    /**
     * As {@link #mentions(int, Set, List)}, but a name right after {@code struct}, {@code union} or
     * {@code enum} is a tag, of another name space than functions, objects and enumerators,
     * and does not count.
     */
    Set<String> ordinaryMentions(int k, Set<String> names, List<String> nameList) {
        return mentions(from[k], to[k], names, nameList, true);
    }

    private Set<String> mentions(int start, int end, Set<String> names, List<String> nameList) {
        return mentions(start, end, names, nameList, false);
    }

    private Set<String> mentions(int start, int end, Set<String> names, List<String> nameList, boolean skipTags) {
        Set<String> out = new LinkedHashSet<>();
        for (int i = start; i < end; i++) {
            Token tok = t.get(i);
            if (tok.ident()) {
                if (skipTags && i > start && (t.get(i - 1).is("struct") || t.get(i - 1).is("union") || t.get(i - 1).is("enum"))) {
                    continue;
                }
                if (names.contains(tok.text())) {
                    out.add(tok.text());
                }
            } else if (tok.kind() == Kind.DIRECTIVE || tok.kind() == Kind.STRING) {
                for (String n : nameList) {
                    if (tok.text().contains(n)) {
                        for (String w : WORDS.split(tok.text())) {
                            if (w.equals(n)) {
                                out.add(n);
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    private static final java.util.regex.Pattern WORDS = java.util.regex.Pattern.compile("[^A-Za-z0-9_$]+");

    /**
     * Whether item k defines a named type anywhere in it, even inside a function: a
     * {@code typedef}, or a type body with a tag ({@code struct|union|enum TAG [attributes] {}).
     * An anonymous body names no type (the DWARF check compares only named types and those a
     * typedef names or a named type embeds): {@code sizeof(struct { _Static_assert(...); })} in
     * Xen's ARRAY_SIZE is everywhere.
     */
    boolean definesType(int k) {
        for (int i = from[k]; i < to[k]; i++) {
            Token tok = t.get(i);
            if (tok.is("typedef")) {
                return true;
            }
            if (tok.is("struct") || tok.is("union") || tok.is("enum")) {
                // Attributes may stand before the tag too: Xen's "struct __packed dmi_eps {".
                int j = pastAttributes(i + 1, to[k]);
                if (j < 0) {
                    return true;
                }
                if (j >= to[k] || !t.get(j).ident()) {
                    continue; // no tag: an anonymous body, or no body
                }
                j = pastAttributes(j + 1, to[k]);
                if (j < 0 || (j < to[k] && t.get(j).is("{"))) {
                    return true;
                }
            }
        }
        return false;
    }

    private int pastAttributes(int j, int end) {
        return pastAttributes(t, j, end);
    }

    /** The index past the {@code __attribute__((...))} groups starting at {@code j}; -1 when one does not close. */
    private static int pastAttributes(List<Token> t, int j, int end) {
        while (j + 1 < end && t.get(j).text().startsWith("__attribute") && t.get(j + 1).is("(")) {
            try {
                j = match(t, j + 1) + 1;
            } catch (CTokens.Unreadable e) {
                return -1;
            }
        }
        return j;
    }

    /** Whether item k holds an anonymous {@code enum {}} body: its enumerators are names too. */
    boolean hasAnonymousEnum(int k) {
        for (int i = from[k]; i + 1 < to[k]; i++) {
            if (t.get(i).is("enum")) {
                int j = pastAttributes(i + 1, to[k]);
                if (j < 0 || (j < to[k] && t.get(j).is("{"))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Every identifier inside the {@code enum} bodies of item k: the enumerators it declares, and more. */
    Set<String> enumNames(int k) {
        Set<String> out = new LinkedHashSet<>();
        for (int i = from[k]; i < to[k]; i++) {
            if (!t.get(i).is("enum")) {
                continue;
            }
            int j = i + 1;
            while (j < to[k] && !t.get(j).is("{") && !t.get(j).is(";") && !t.get(j).is(")")) {
                j++;
            }
            if (j >= to[k] || !t.get(j).is("{")) {
                continue;
            }
            try {
                int close = match(t, j);
                for (int m = j + 1; m < close; m++) {
                    if (t.get(m).ident() && !KEYWORDS.contains(t.get(m).text())) {
                        out.add(t.get(m).text());
                    }
                }
            } catch (CTokens.Unreadable e) {
                // a body that does not close was refused when the items were cut
            }
        }
        return out;
    }

    /** Whether item k is a top-level {@code asm(".equ NAME, NUMBER");} ({@link AbsoluteSymbol}), and which NAME. */
    Optional<String> absoluteSymbol(int k) {
        if (!topLevelAsm(k)) {
            return Optional.empty();
        }
        Elem operand = shapes.get(k).get(1);
        return AbsoluteSymbol.defined(t.subList(operand.from() + 1, operand.to()));
    }

    /** Item k's elements before a function body (all of them when it has none). */
    private List<Elem> head(int k) {
        List<Elem> elems = shapes.get(k);
        Elem last = elems.get(elems.size() - 1);
        return last.open() == '{' && functionBody(t, elems) ? elems.subList(0, elems.size() - 1) : elems;
    }

    /**
     * The names item k's head declares, over-inclusively: every identifier at its top level that
     * is not a keyword, a known typedef name or a tag reference, and those of nested declarators.
     */
    Set<String> headNames(int k) {
        List<Elem> head = head(k);
        Set<String> out = new LinkedHashSet<>(declarators(t, head, typedefNames()));
        out.addAll(outsideNames(t, head, typedefNames()));
        return out;
    }

    /** Which of {@code names} item k mentions before its function body (anywhere when it has none), tags aside. */
    Set<String> headMentions(int k, Set<String> names, List<String> nameList) {
        List<Elem> head = head(k);
        int end = head.size() == shapes.get(k).size() ? to[k] : shapes.get(k).get(head.size()).from();
        return mentions(from[k], end, names, nameList, true);
    }

    /** Whether item k is a directive line ({@code #pragma}). */
    boolean directive(int k) {
        return t.get(from[k]).kind() == Kind.DIRECTIVE;
    }

    /** Whether item k is a top-level {@code asm(...)} statement. */
    boolean topLevelAsm(int k) {
        List<Elem> e = shapes.get(k);
        return e.size() == 3 && !e.get(0).group() && t.get(e.get(0).from()).text().contains("asm") && e.get(1).open() == '(';
    }

    private Set<String> typedefNames() {
        if (typedefNames == null) {
            Set<String> names = new LinkedHashSet<>();
            for (List<Elem> e : shapes) {
                if (hasWord(t, e, "typedef")) {
                    names.addAll(declarators(t, e, Set.of()));
                }
            }
            typedefNames = names;
        }
        return typedefNames;
    }

    /** Item k, classified. */
    Item item(int k) {
        // Typedef names first: a typedef name used as a type is a reference, not a declaration.
        return classify(t, from[k], to[k], shapes.get(k), typedefNames(), stripLocalAbsolute);
    }

    /** Index of the bracket closing the one at {@code open}, checking that kinds nest. */
    private static int match(List<Token> t, int open) throws CTokens.Unreadable {
        char[] stack = new char[16];
        int depth = 0;
        for (int i = open; i < t.size(); i++) {
            char c = t.get(i).punct();
            if (c == 0) {
                continue;
            }
            if (c == '(' || c == '[' || c == '{') {
                if (depth == stack.length) {
                    stack = java.util.Arrays.copyOf(stack, depth * 2);
                }
                stack[depth++] = c;
            } else if (c == ')' || c == ']' || c == '}') {
                char want = c == ')' ? '(' : c == ']' ? '[' : '{';
                if (depth == 0 || stack[depth - 1] != want) {
                    throw new CTokens.Unreadable("an unbalanced '" + c + "'");
                }
                if (--depth == 0) {
                    return i;
                }
            }
        }
        throw new CTokens.Unreadable("an unclosed '" + t.get(open).text() + "'");
    }

    /**
     * Whether the brace group just added to {@code elems} is a function body: what precedes it,
     * past attribute groups, is a parameter list (a parenthesised group after a name or
     * declarator, not after {@code __attribute__}), and there is no {@code =} (an initializer).
     */
    private static boolean functionBody(List<Token> t, List<Elem> elems) {
        int k = elems.size() - 2;
        while (k >= 1 && elems.get(k).open() == '(' && groupWord(t, elems, k)) {
            k -= 2;
        }
        if (k < 1 || elems.get(k).open() != '(') {
            return false;
        }
        for (Elem e : elems) {
            if (!e.group() && t.get(e.from()).is("=")) {
                return false;
            }
        }
        return true;
    }

    /** Whether the group at elems[k] is the argument of an attribute, asm label, typeof, ... */
    private static boolean groupWord(List<Token> t, List<Elem> elems, int k) {
        if (k == 0) {
            return false;
        }
        Elem before = elems.get(k - 1);
        return !before.group() && t.get(before.from()).ident() && GROUP_WORDS.contains(t.get(before.from()).text());
    }

    private static boolean hasWord(List<Token> t, List<Elem> elems, String word) {
        for (Elem e : elems) {
            if (!e.group() && t.get(e.from()).is(word)) {
                return true;
            }
        }
        return false;
    }

    private static Item classify(List<Token> t, int from, int to, List<Elem> elems, Set<String> typedefNames,
            boolean stripLocalAbsolute) {
        StringBuilder text = new StringBuilder();
        for (int i = from; i < to && text.length() <= 80; i++) {
            text.append(i > from ? " " : "").append(t.get(i).text());
        }
        String shortText = text.length() <= 80 ? text.toString() : text.substring(0, 77) + "...";
        Set<String> declares = new LinkedHashSet<>();
        Map<String, Long> enumerators = new LinkedHashMap<>();
        String why = inertWhy(t, elems, typedefNames, declares, enumerators, stripLocalAbsolute);
        if (why.isEmpty()) {
            for (String d : declares) {
                if (d.startsWith("__") || IMPLICIT_CALLEES.contains(d)) {
                    why = "it declares " + d + ", a name the compiler may use without the unit naming it";
                    break;
                }
            }
        }
        return new Item(shortText, why, Set.copyOf(declares), Map.copyOf(enumerators));
    }

    /**
     * Empty when the item is inert (filling {@code declares}), else why not. See the class
     * comment for the rules.
     */
    private static String inertWhy(List<Token> t, List<Elem> elems, Set<String> typedefNames, Set<String> declares,
            Map<String, Long> enumerators, boolean stripLocalAbsolute) {
        Elem first = elems.get(0);
        if (!first.group() && t.get(first.from()).kind() == Kind.DIRECTIVE) {
            return "a directive (" + t.get(first.from()).text() + ")";
        }
        Elem last = elems.get(elems.size() - 1);
        boolean body = last.open() == '{' && functionBody(t, elems);
        List<Elem> head = body ? elems.subList(0, elems.size() - 1) : elems;
        boolean typedef = hasWord(t, head, "typedef");
        boolean extern = hasWord(t, head, "extern");
        boolean isStatic = hasWord(t, head, "static");
        boolean inline = hasWord(t, head, "inline") || hasWord(t, head, "__inline__") || hasWord(t, head, "__inline");
        if (hasWord(t, head, "=")) {
            return "a definition with an initializer";
        }
        if (hasWord(t, head, "_Static_assert") || hasWord(t, head, "static_assert")) {
            return "a static assertion";
        }
        for (int k = 0; k < head.size(); k++) {
            Elem e = head.get(k);
            if (e.open() != '(' || !groupWord(t, head, k)) {
                continue;
            }
            String word = t.get(head.get(k - 1).from()).text();
            if (word.contains("asm")) {
                if (k == 1 && head.size() == 3 && stripLocalAbsolute) {
                    Optional<String> name = AbsoluteSymbol.defined(t.subList(e.from() + 1, e.to()));
                    if (name.isPresent()) {
                        declares.add(name.get());
                        return "";
                    }
                }
                return k == 1 ? "top-level asm" : "an asm label";
            }
            if (word.contains("attribute")) {
                // A section says where a function goes if it is emitted; an unreferenced static
                // inline one is not (Xen marks inline init helpers __init).
                String bad = unknownAttribute(t, e, body && isStatic && inline);
                if (bad != null) {
                    return "attribute " + bad;
                }
            }
        }
        if (body && !(isStatic && inline)) {
            return "a function definition that is not static inline";
        }
        List<Elem> braces = head.stream().filter(e -> e.open() == '{').toList();
        if (body && !braces.isEmpty()) {
            return "a function definition whose head defines a type";
        }
        if (!braces.isEmpty()) {
            // struct/union/enum bodies: each must follow the keyword or the keyword and a tag.
            int lastBrace = -1;
            for (int k = 0; k < head.size(); k++) {
                Elem e = head.get(k);
                if (e.open() != '{') {
                    continue;
                }
                int p = k - 1;
                while (p >= 1 && head.get(p).open() == '(' && groupWord(t, head, p)) {
                    p -= 2;
                }
                String tag = null;
                if (p >= 0 && !head.get(p).group() && t.get(head.get(p).from()).ident()
                        && !isAggregateWord(t.get(head.get(p).from()).text())) {
                    tag = t.get(head.get(p).from()).text();
                    p--;
                    while (p >= 1 && head.get(p).open() == '(' && groupWord(t, head, p)) {
                        p -= 2;
                    }
                }
                if (p < 0 || head.get(p).group() || !isAggregateWord(t.get(head.get(p).from()).text())) {
                    return "a braced initializer or body it cannot read";
                }
                if (tag != null) {
                    declares.add(tag);
                }
                boolean isEnum = t.get(head.get(p).from()).text().equals("enum");
                Optional<Map<String, Long>> values = isEnum ? EnumValues.of(t.subList(e.from() + 1, e.to())) : Optional.empty();
                if (values.isPresent()) {
                    enumerators.putAll(values.get());
                    lastBrace = k;
                    continue;
                }
                String innerWhy = bodyNames(t, e, isEnum, declares);
                if (!innerWhy.isEmpty()) {
                    return innerWhy;
                }
                lastBrace = k;
            }
            if (!typedef) {
                for (int k = lastBrace + 1; k < head.size(); k++) {
                    Elem e = head.get(k);
                    boolean attr = (e.open() == '(' && groupWord(t, head, k))
                            || (!e.group() && GROUP_WORDS.contains(t.get(e.from()).text()) && k + 1 < head.size()
                                    && head.get(k + 1).open() == '(')
                            || (!e.group() && t.get(e.from()).is(";"));
                    if (!attr) {
                        return "a type definition that also defines an object";
                    }
                }
                return "";
            }
            declares.addAll(declarators(t, head.subList(lastBrace + 1, head.size()), typedefNames));
            return "";
        }
        // No braces: a forward tag declaration, a typedef, or a declaration of functions or
        // extern objects.
        if (head.size() >= 2 && !head.get(0).group() && isAggregateWord(t.get(head.get(0).from()).text())
                && !head.get(1).group() && t.get(head.get(1).from()).ident() && onlyAttributesThenSemicolon(t, head, 2)) {
            declares.add(t.get(head.get(1).from()).text());
            return "";
        }
        Set<String> names = declarators(t, head, typedefNames);
        if (!typedef && !extern && !body && !allFunctionDeclarators(t, head, typedefNames)) {
            return "a definition of an object";
        }
        declares.addAll(names);
        declares.addAll(outsideNames(t, head, typedefNames));
        return "";
    }

    private static boolean isAggregateWord(String s) {
        return s.equals("struct") || s.equals("union") || s.equals("enum");
    }

    private static boolean onlyAttributesThenSemicolon(List<Token> t, List<Elem> head, int from) {
        for (int k = from; k < head.size(); k++) {
            Elem e = head.get(k);
            if (e.open() == '(' && groupWord(t, head, k)) {
                continue;
            }
            if (!e.group() && (t.get(e.from()).text().startsWith("__attribute") || t.get(e.from()).is(";"))) {
                continue;
            }
            return false;
        }
        return true;
    }

    /** The first attribute name in {@code __attribute__((...))} not known to be harmless, or null. */
    private static String unknownAttribute(List<Token> t, Elem group, boolean sectionHarmless) {
        int depth = 0;
        for (int i = group.from(); i <= group.to(); i++) {
            Token k = t.get(i);
            if (k.is("(")) {
                depth++;
            } else if (k.is(")")) {
                depth--;
            } else if (depth == 2 && k.ident()) {
                String name = k.text();
                String bare = name.startsWith("__") && name.endsWith("__") && name.length() > 4
                        ? name.substring(2, name.length() - 2) : name;
                if (!HARMLESS_ATTRIBUTES.contains(bare) && !(sectionHarmless && bare.equals("section"))) {
                    return name;
                }
            }
        }
        return null;
    }

    /**
     * Names a struct/union/enum body declares at file scope: every enumerator of an enum (and,
     * conservatively, every identifier in its values), and the tags of nested aggregates.
     * Members are not file-scope names: code reaches them only through the type's name.
     * An enum nested in a struct declares its enumerators at file scope; such a body is refused.
     */
    private static String bodyNames(List<Token> t, Elem body, boolean isEnum, Set<String> declares) {
        for (int i = body.from() + 1; i < body.to(); i++) {
            Token k = t.get(i);
            if (isEnum) {
                if (k.ident() && !KEYWORDS.contains(k.text())) {
                    declares.add(k.text());
                }
                continue;
            }
            if (k.is("enum")) {
                return "an enum inside a struct or union";
            }
            if (k.is("struct") || k.is("union")) {
                int j = pastAttributes(t, i + 1, body.to()); // "struct __packed inner {" has its tag after
                if (j >= 0 && j < body.to() && t.get(j).ident()) {
                    declares.add(t.get(j).text());
                }
            }
        }
        return "";
    }

    /**
     * Whether every comma-separated declarator of the item declares a function: its name is
     * followed directly by a parameter list. A nested declarator ({@code (*fp)(void)}) declares
     * a pointer, an object, so it counts as not a function.
     */
    private static boolean allFunctionDeclarators(List<Token> t, List<Elem> head, Set<String> typedefNames) {
        boolean sawParams = false;
        for (int k = 0; k < head.size(); k++) {
            Elem e = head.get(k);
            if (!e.group() && (t.get(e.from()).is(",") || t.get(e.from()).is(";"))) {
                if (!sawParams) {
                    return false;
                }
                sawParams = false;
            } else if (e.open() == '(' && !groupWord(t, head, k)) {
                Elem before = k > 0 ? head.get(k - 1) : null;
                if (sawParams || before == null || before.group() || !t.get(before.from()).ident()
                        || KEYWORDS.contains(t.get(before.from()).text()) || typedefNames.contains(t.get(before.from()).text())) {
                    return false;
                }
                sawParams = true;
            } else if (e.group() && !(e.open() == '(' && groupWord(t, head, k))) {
                return false; // an array declarator, or something this reader does not know
            }
        }
        return true;
    }

    /** A parenthesised group is a parameter list when it follows a name or another declarator group. */
    private static boolean paramsPosition(List<Token> t, List<Elem> head, int k) {
        Elem before = head.get(k - 1);
        if (before.group()) {
            return before.open() == '(' && !groupWord(t, head, k - 1) || before.open() == '[';
        }
        Token b = t.get(before.from());
        return b.ident() && !KEYWORDS.contains(b.text());
    }

    /**
     * The declarator names of a declaration: in each comma-separated part, the last depth-0
     * identifier that is not a keyword, plus every identifier inside a nested declarator group
     * ({@code (*fp)}). Over-inclusive by design.
     */
    private static Set<String> declarators(List<Token> t, List<Elem> head, Set<String> typedefNames) {
        Set<String> out = new LinkedHashSet<>();
        String lastName = null;
        for (int k = 0; k < head.size(); k++) {
            Elem e = head.get(k);
            if (!e.group()) {
                Token tok = t.get(e.from());
                if (tok.is(",") || tok.is(";")) {
                    if (lastName != null) {
                        out.add(lastName);
                    }
                    lastName = null;
                } else if (tok.ident() && !KEYWORDS.contains(tok.text()) && !tok.text().startsWith("__builtin_")
                        && !(k > 0 && !head.get(k - 1).group() && isAggregateWord(t.get(head.get(k - 1).from()).text()))) {
                    lastName = tok.text();
                }
                continue;
            }
            if (e.open() == '(' && !groupWord(t, head, k) && !(k > 0 && paramsPosition(t, head, k)
                    && !typedefNames.contains(t.get(head.get(k - 1).from()).text()))) {
                for (int i = e.from(); i <= e.to(); i++) {
                    Token in = t.get(i);
                    if (in.ident() && !KEYWORDS.contains(in.text())) {
                        out.add(in.text());
                    }
                }
            }
        }
        if (lastName != null) {
            out.add(lastName);
        }
        return out;
    }

    /**
     * Depth-0 identifiers that are neither keywords, tag references nor known typedef names: in
     * a declaration, anything else at depth 0 can only be a declared name, so all of them count.
     */
    private static Set<String> outsideNames(List<Token> t, List<Elem> head, Set<String> typedefNames) {
        Set<String> out = new LinkedHashSet<>();
        for (int k = 0; k < head.size(); k++) {
            Elem e = head.get(k);
            if (e.group()) {
                continue;
            }
            Token tok = t.get(e.from());
            if (!tok.ident() || KEYWORDS.contains(tok.text()) || tok.text().startsWith("__builtin_")
                    || typedefNames.contains(tok.text())) {
                continue;
            }
            if (k > 0 && !head.get(k - 1).group() && isAggregateWord(t.get(head.get(k - 1).from()).text())) {
                continue;
            }
            out.add(tok.text());
        }
        return out;
    }
}
