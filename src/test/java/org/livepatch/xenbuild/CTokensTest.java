package org.livepatch.xenbuild;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CTokensTest {
    private static List<String> shape(List<CTokens.Token> tokens) {
        return tokens.stream().map(t -> t.kind() + " " + t.text()).toList();
    }

    @Test
    void readsWhatTheCompilerReads() throws Exception {
        assertEquals(List.of("IDENT a", "PUNCT -", "PUNCT --", "IDENT b", "PUNCT >>=", "NUMBER 0x1fUL", "PUNCT ;",
                "STRING L\"x\\\"y\"", "CHAR '\\n'", "NUMBER 1e+5", "PUNCT ...", "DIRECTIVE #pragma GCC visibility push(hidden)"),
                shape(CTokens.of("a - --b >>= 0x1fUL;\nL\"x\\\"y\" '\\n' 1e+5 ...\n  #pragma GCC   visibility push(hidden)\n")));
        assertThrows(CTokens.Unreadable.class, () -> CTokens.of("char *s = \"open\n"));
        assertThrows(CTokens.Unreadable.class, () -> CTokens.of("int \u00e9;"));
    }

    /**
     * Reading only the changed lines of the second text gives exactly the tokens of reading it
     * whole, for edits anywhere: at the start, the end, several places, lines added or removed,
     * and directives continued over a line end next to them.
     */
    @Test
    void sharingTheUnchangedLinesReadsTheSameTokensAsReadingAll() throws Exception {
        Random r = new Random(42);
        String[] lines = {"int f(int x);", "static inline int g(void) { return 1; }", "#pragma pack(1)",
            "struct s { int a; char b[3]; };", "enum { A = 1, B = 2 };", "asm(\".equ X, 3\");", "typedef long l_t;",
            "#pragma weak h \\", "  ", "", "x = \"a // b\" 'c';", "int y = 3 >> 1;"};
        for (int round = 0; round < 3000; round++) {
            List<String> a = new ArrayList<>();
            for (int i = 0; i < 1 + r.nextInt(30); i++) {
                a.add(lines[r.nextInt(lines.length)]);
            }
            List<String> b = new ArrayList<>(a);
            for (int e = 0; e < 1 + r.nextInt(3); e++) {
                int at = r.nextInt(b.size() + 1);
                switch (r.nextInt(3)) {
                    case 0 -> b.add(at, lines[r.nextInt(lines.length)]);
                    case 1 -> { if (at < b.size()) { b.remove(at); } }
                    default -> { if (at < b.size()) { b.set(at, b.get(at) + " int z;"); } }
                }
            }
            String ta = String.join("\n", a) + (r.nextBoolean() ? "\n" : "");
            String tb = String.join("\n", b) + (r.nextBoolean() ? "\n" : "");
            List<CTokens.Token> whole;
            try {
                whole = CTokens.of(tb);
            } catch (CTokens.Unreadable e) {
                continue;
            }
            List<CTokens.Token> aTokens;
            try {
                aTokens = CTokens.of(ta);
            } catch (CTokens.Unreadable e) {
                continue;
            }
            assertEquals(shape(whole), shape(CTokens.sharing(ta, aTokens, tb)), "round " + round + ":\n" + ta + "\n---\n" + tb);
        }
    }
}
