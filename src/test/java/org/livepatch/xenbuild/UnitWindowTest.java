package org.livepatch.xenbuild;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Reading only the changed lines (with the outline of the text before) must decide exactly as
 * reading both texts whole, and leave the outline that reading the text after whole would give:
 * random edits of a unit made of the kinds of items Xen's have, a few thousand times.
 */
class UnitWindowTest {
    private static final String COMMAND = "gcc -O2 -Wa,--strip-local-absolute -c u.c -o u.o";

    private static final String[] LINES = {
        "typedef unsigned long mfn_t;", "struct domain { int id; long pages; };", "int domain_id(const struct domain *d);",
        "static inline __attribute__((__always_inline__)) int helper(struct domain *d) { return d->id + 1; }",
        "void vnuma_destroy(struct vnuma_info *v);", "extern unsigned int counter;", "enum { F_A = 0*32+1, F_B = 1*32+3, };",
        "asm(\".equ F_A, 0*32+1\");", "int use(struct domain *d, mfn_t m) { return helper(d) + domain_id(d) + (int)m; }",
        "#pragma GCC visibility push(hidden)", "static int table[2];", "typedef struct { int a; } pair_t;",
        "int f(void) { return F_B; }", "mfn_t g(void);", "struct vcpu; struct vcpu *get(void);", "",
        "static inline int unused(void) { return 2; }", "int x = 3; int y = 4;",
    };

    @Test
    void theWindowDecidesAsTheWholeTextsAndLeavesTheSameOutline() throws Exception {
        Random r = new Random(7);
        int windowed = 0;
        for (int round = 0; round < 3000; round++) {
            List<String> a = new ArrayList<>();
            for (int i = 0; i < 5 + r.nextInt(40); i++) {
                a.add(LINES[r.nextInt(LINES.length)]);
            }
            List<String> b = new ArrayList<>(a);
            for (int e = 0; e < 1 + r.nextInt(3); e++) {
                int at = r.nextInt(b.size() + 1);
                switch (r.nextInt(4)) {
                    case 0 -> b.add(at, LINES[r.nextInt(LINES.length)]);
                    case 1 -> { if (at < b.size()) { b.remove(at); } }
                    case 2 -> { if (at < b.size()) { b.set(at, b.get(at).replace("1", "2")); } }
                    default -> { if (at < b.size()) { b.set(at, b.get(at) + " void added_" + round + "(void);"); } }
                }
            }
            String ta = String.join("\n", a) + "\n";
            String tb = String.join("\n", b) + "\n";
            UnitOutline oa;
            try {
                oa = UnitOutline.of(ta, true);
            } catch (CTokens.Unreadable e) {
                continue;
            }
            UnitChange.Result got = UnitChange.compare(ta, oa, tb, COMMAND);
            UnitChange.Verdict whole = UnitChange.whole(ta, tb, true);
            String where = "round " + round + ":\n" + ta + "---\n" + tb;
            if (!whole.why().equals("the same tokens") || !got.verdict().why().equals("the same text")) {
                assertEquals(whole.compile(), got.verdict().compile(), where + "\nwhole: " + whole + "\nwindow: " + got.verdict());
            }
            if (got.after().isPresent()) {
                windowed++;
                UnitOutline want = UnitOutline.of(tb, true);
                UnitOutline have = got.after().get();
                assertArrayEquals(want.ends(), have.ends(), where);
                assertArrayEquals(want.hashes(), have.hashes(), where);
                assertEquals(want.typedefNames(), have.typedefNames(), where);
                assertTrue(have.describes(UnitOutline.bytes(tb)));
            }
            // Without an outline both texts are read whole, and the outline after is kept.
            UnitChange.Result first = UnitChange.compare(ta, null, tb, COMMAND);
            assertEquals(whole, first.verdict(), where);
            if (first.after().isPresent()) {
                assertArrayEquals(UnitOutline.of(tb, true).ends(), first.after().get().ends(), where);
            }
        }
        assertTrue(windowed > 2000, "the window was used " + windowed + " times");
    }
}
