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
        return compare(before, null, after, command).verdict();
    }

    /**
     * The verdict, and the outline of {@code after} for the next comparison against it (empty
     * when this one had to read it another way).
     */
    record Result(Verdict verdict, java.util.Optional<UnitOutline> after) {
        static Result of(Verdict v) {
            return new Result(v, java.util.Optional.empty());
        }
    }

    /**
     * As {@link #between}, given the outline of {@code before} when it is known (from the
     * comparison that produced that text): then only the lines that changed are read.
     * Why: reading a whole megabyte unit twice costs more than everything else of the
     * comparison, and most units of a header change are compared again at later changesets.
     */
    static Result compare(String before, UnitOutline known, String after, String command) {
        java.util.regex.Matcher source = SOURCE.matcher(command);
        if (!source.find() || !source.group(1).endsWith(".c")) {
            return Result.of(Verdict.compile("not a C unit (assembly is not read here)"));
        }
        if (command.contains("-fkeep-inline-functions") || command.contains("-fkeep-static-functions")) {
            return Result.of(Verdict.compile("compiled with -fkeep-inline-functions or -fkeep-static-functions"));
        }
        boolean strip = command.contains("--strip-local-absolute");
        byte[] ab = UnitOutline.bytes(before);
        if (known != null && known.describes(ab)) {
            try {
                java.util.Optional<Result> r = windowed(before, ab, known, after, strip);
                if (r.isPresent()) {
                    return r.get();
                }
            } catch (CTokens.Unreadable e) {
                // the whole texts, below, say what cannot be read
            }
        }
        return whole(before, after, strip, true);
    }

    /** The comparison of the whole texts, item by item (what the windows stand for). */
    static Verdict whole(String before, String after, boolean strip) {
        return whole(before, after, strip, false).verdict();
    }

    /**
     * Both texts read whole; with {@code outline}, the text after is read on its own (not
     * sharing the lines it has in common with the text before) so that its outline can be kept.
     */
    private static Result whole(String before, String after, boolean strip, boolean outline) {
        TopLevelItems a;
        TopLevelItems b;
        try {
            List<CTokens.Token> tokensBefore = CTokens.of(before);
            a = TopLevelItems.of(tokensBefore, strip);
            b = TopLevelItems.of(outline ? CTokens.of(after) : CTokens.sharing(before, tokensBefore, after), strip);
        } catch (CTokens.Unreadable e) {
            return Result.of(Verdict.compile("its preprocessed text has " + e.getMessage()));
        }
        BitSet[] changed = TopLevelItems.changed(a, b);
        Verdict v = judge(a, changed[0], b, changed[1], n -> false);
        return new Result(v, outline ? java.util.Optional.of(b.outline(after.length(), UnitOutline.digest(UnitOutline.bytes(after))))
                : java.util.Optional.empty());
    }

    /**
     * The comparison of the lines that changed only: from the end of the last item before the
     * first difference to the end of the first item after the last one (both at a blank, so no
     * token is cut), in both texts. Empty when the windows cannot be read as whole items (a
     * change that joins an item to its neighbour): the caller reads the whole texts.
     */
    private static java.util.Optional<Result> windowed(String before, byte[] ab, UnitOutline oa, String after, boolean strip)
            throws CTokens.Unreadable {
        byte[] bb = UnitOutline.bytes(after);
        int d = java.util.Arrays.mismatch(ab, bb);
        if (d < 0) {
            return java.util.Optional.of(new Result(new Verdict(false, "the same text"), java.util.Optional.of(oa)));
        }
        int[] ends = oa.ends();
        int n = ends.length;
        // Items [0, p) lie before the first difference, each followed by a blank.
        int p = java.util.Arrays.binarySearch(ends, d);
        p = p >= 0 ? p : -p - 1; // first item ending at or after d
        while (p > 0 && !(ends[p - 1] < d && isBlank(ab[ends[p - 1]]))) {
            p--;
        }
        int wa0 = p == 0 ? 0 : ends[p - 1];
        int shorter = Math.min(ab.length, bb.length);
        int suffix = 0;
        while (suffix < shorter - d && ab[ab.length - 1 - suffix] == bb[bb.length - 1 - suffix]) {
            suffix++;
        }
        int common = ab.length - suffix; // a[common..] == b[common + delta..]
        int delta = bb.length - ab.length;
        // Items [q, n) lie in the common end, the item before them ending at a blank there.
        int q = p;
        while (q < n && !(ends[q] >= common && ends[q] < ab.length && isBlank(ab[ends[q]]))) {
            q++;
        }
        int wa1;
        if (q < n) {
            wa1 = ends[q];
            q++; // the item ending there belongs to the window
        } else {
            wa1 = ab.length;
        }
        int wb0 = wa0;
        int wb1 = wa1 + delta;
        if (wb1 < wb0 || wa1 < wa0) {
            return java.util.Optional.empty();
        }
        List<CTokens.Token> ta = CTokens.window(before, wa0, wa1);
        List<CTokens.Token> tb = CTokens.window(after, wb0, wb1);
        if ((!ta.isEmpty() && ta.get(ta.size() - 1).end() > wa1) || (!tb.isEmpty() && tb.get(tb.size() - 1).end() > wb1)) {
            return java.util.Optional.empty();
        }
        TopLevelItems wa;
        TopLevelItems wb;
        try {
            wa = TopLevelItems.of(ta, strip);
            wb = TopLevelItems.of(tb, strip);
        } catch (CTokens.Unreadable e) {
            return java.util.Optional.empty();
        }
        if (wa.size() != q - p) {
            return java.util.Optional.empty(); // the window of the text read before is not its items: read it all
        }
        for (int k = 0; k < wa.size(); k++) {
            if (wa.hash(k) != oa.hashes()[p + k]) {
                return java.util.Optional.empty();
            }
        }
        Map<String, Integer> typedefs = new HashMap<>(oa.typedefCounts());
        wa.typedefCounts().forEach((name, c) -> typedefs.merge(name, -c, Integer::sum));
        wb.typedefCounts().forEach((name, c) -> typedefs.merge(name, c, Integer::sum));
        wa.useTypedefNames(oa.typedefNames());
        UnitOutline ob = outlineAfter(oa, p, q, wb, delta, typedefs, bb);
        wb.useTypedefNames(ob.typedefNames());
        BitSet[] changed = TopLevelItems.changed(wa, wb);
        // Outside the windows both texts are the same: a name is used there if it is a word of it.
        java.util.function.Predicate<String> outside = name -> wordIn(ab, name, 0, wa0) || wordIn(ab, name, wa1, ab.length);
        return java.util.Optional.of(new Result(judge(wa, changed[0], wb, changed[1], outside), java.util.Optional.of(ob)));
    }

    private static UnitOutline outlineAfter(UnitOutline oa, int p, int q, TopLevelItems wb, int delta,
            Map<String, Integer> typedefs, byte[] after) {
        int n = oa.ends().length;
        int m = p + wb.size() + (n - q);
        int[] ends = new int[m];
        long[] hashes = new long[m];
        System.arraycopy(oa.ends(), 0, ends, 0, p);
        System.arraycopy(oa.hashes(), 0, hashes, 0, p);
        for (int k = 0; k < wb.size(); k++) {
            ends[p + k] = wb.end(k);
            hashes[p + k] = wb.hash(k);
        }
        for (int k = q; k < n; k++) {
            ends[p + wb.size() + k - q] = oa.ends()[k] + delta;
            hashes[p + wb.size() + k - q] = oa.hashes()[k];
        }
        return new UnitOutline(after.length, UnitOutline.digest(after), ends, hashes, typedefs);
    }

    private static boolean isBlank(byte c) {
        return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == 0x0b;
    }

    /** Whether {@code name} occurs in {@code text[from, to)} with no identifier character on either side. */
    static boolean wordIn(byte[] text, String name, int from, int to) {
        byte[] w = name.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        outer:
        for (int i = from; i + w.length <= to; i++) {
            if (text[i] != w[0]) {
                continue;
            }
            for (int j = 1; j < w.length; j++) {
                if (text[i + j] != w[j]) {
                    continue outer;
                }
            }
            boolean before = i > 0 && identChar(text[i - 1]);
            boolean after = i + w.length < text.length && identChar(text[i + w.length]);
            if (!before && !after) {
                return true;
            }
        }
        return false;
    }

    private static boolean identChar(byte c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$';
    }

    /**
     * The verdict on items {@code a} and {@code b} (whole texts or windows of them) and which of
     * them changed; {@code usedOutside} says whether a name is used in the text outside them.
     */
    private static Verdict judge(TopLevelItems a, BitSet changedA, TopLevelItems b, BitSet changedB,
            java.util.function.Predicate<String> usedOutside) {
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
        for (String n : names) {
            if (usedOutside.test(n)) {
                return Verdict.compile("it uses " + n + ", whose declaration changed");
            }
        }
        return new Verdict(false, "only declarations it does not use changed: " + String.join(", ", names));
    }

    private record Side(TopLevelItems items, BitSet changed, Map<Integer, TopLevelItems.Item> classified) {}
}
