package org.livepatch.xenbuild;

import java.util.ArrayList;
import java.util.List;

/**
 * The tokens of a preprocessed C unit ({@code gcc -E -P} output), as the compiler proper sees
 * them: identifiers, numbers, string and character literals, punctuators (longest match), and
 * each remaining directive line ({@code #pragma}, {@code #ident}) as one token.
 *
 * <p>Why tokens and not text: two texts that differ only in spacing are the same program, and
 * the declaration-level comparison ({@link UnitChange}) needs to know where an identifier is a
 * name, which a textual diff cannot tell.
 */
final class CTokens {
    enum Kind { IDENT, NUMBER, STRING, CHAR, PUNCT, DIRECTIVE }

    /** One token; {@code end} is the offset just past it in the text it was read from. */
    record Token(Kind kind, String text, int end) {
        boolean is(String s) {
            return kind != Kind.STRING && kind != Kind.CHAR && kind != Kind.DIRECTIVE && text.equals(s);
        }

        /** The punctuator's character when it is one character long, else 0: for the hot loops. */
        char punct() {
            return kind == Kind.PUNCT && text.length() == 1 ? text.charAt(0) : 0;
        }

        boolean ident() {
            return kind == Kind.IDENT;
        }
    }

    /** Text the tokenizer cannot read as C; the caller compiles the unit instead of guessing. */
    static final class Unreadable extends Exception {
        Unreadable(String why) {
            super(why, null, false, false);
        }
    }

    /** Longest first, so that maximal munch is a first-match scan. */
    private static final String[] PUNCTUATORS = {
        "...", "<<=", ">>=", "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "*=", "/=", "%=",
        "+=", "-=", "&=", "^=", "|=", "##", "<:", ":>", "<%", "%>",
    };

    /** Every second character of a longer punctuator: only then is the list above searched. */
    private static final String MULTI_SECOND = ".<>=-+&|#:%";
    private static final String SINGLE = "{}[]();,.:?~!+-*/%<>=&|^#@\\";
    private static final String[] SINGLES = SINGLE.chars().mapToObj(ch -> String.valueOf((char) ch)).toArray(String[]::new);

    private CTokens() {}

    static List<Token> of(String s) throws Unreadable {
        List<Token> out = new ArrayList<>(s.length() / 5);
        scan(s, 0, s.length(), out);
        return out;
    }

    /**
     * The tokens of {@code b}, given {@code a} and its tokens: the lines {@code b} shares with
     * {@code a} at its start and at its end are not read again, their tokens are {@code a}'s.
     * Why: the two texts of a unit before and after a header change are the same but for a few
     * lines, and reading a megabyte of text costs more than all the rest of the comparison.
     * A shared part starts and ends at a line start, where the reader is in the same state in
     * both texts; where a directive continues over a line end there, nothing is shared.
     */
    static List<Token> sharing(String a, List<Token> aTokens, String b) throws Unreadable {
        if (a.contains("/*") || b.contains("/*")) {
            return of(b); // a comment could span a shared line start (gcc -E leaves none, but -C would)
        }
        int n = Math.min(a.length(), b.length());
        // ISO-8859-1: the texts were read that way, one byte per char, and byte arrays compare fast.
        byte[] ab = a.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        byte[] bb = b.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        int d = java.util.Arrays.mismatch(ab, bb);
        if (d < 0) {
            return aTokens;
        }
        d = Math.min(d, n);
        int cut = a.lastIndexOf('\n', d - 1) + 1; // a line start, before the first difference
        int k = 0; // aTokens[0, k) end at or before cut
        while (k < aTokens.size() && aTokens.get(k).end() <= cut) {
            k++;
        }
        if (cut >= 2 && a.charAt(cut - 2) == '\\') {
            return of(b);
        }
        // The common end, not reaching into the common start.
        int suffix = 0;
        while (suffix < n - cut && ab[ab.length - 1 - suffix] == bb[bb.length - 1 - suffix]) {
            suffix++;
        }
        int sa = a.length() - suffix;
        int nl = a.indexOf('\n', sa);
        List<Token> out = new ArrayList<>(aTokens.size() + 16);
        out.addAll(aTokens.subList(0, k));
        if (nl < 0 || nl + 1 >= a.length()) {
            scan(b, cut, b.length(), out);
            return out;
        }
        int saLine = nl + 1;
        int sbLine = b.length() - (a.length() - saLine);
        int m = k; // first token of a at or after saLine
        while (m < aTokens.size() && aTokens.get(m).end() <= saLine) {
            m++;
        }
        // A directive continued over the shared line start (in either text) would straddle it.
        boolean clean = sbLine >= cut && (sbLine < 2 || b.charAt(sbLine - 2) != '\\') && (saLine < 2 || a.charAt(saLine - 2) != '\\');
        if (!clean) {
            scan(b, cut, b.length(), out);
            return out;
        }
        scan(b, cut, sbLine, out);
        out.addAll(aTokens.subList(m, aTokens.size()));
        return out;
    }

    /** Reads {@code s[from, to)}, which starts at a line start, into {@code out}. */
    private static void scan(String s, int from, int to, List<Token> out) throws Unreadable {
        scan(s, from, to, out, true);
    }

    /**
     * The tokens of {@code s[from, to)}; {@code from} must be where no token is cut (a token's
     * end), and a directive is seen only at a line start: at {@code from} when nothing but blanks
     * precede it on its line. A token running past {@code to} (a literal) ends the list where it
     * ends: the caller checks.
     */
    static List<Token> window(String s, int from, int to) throws Unreadable {
        int line = s.lastIndexOf('\n', from - 1) + 1;
        boolean lineStart = s.substring(line, from).isBlank();
        List<Token> out = new ArrayList<>();
        scan(s, from, to, out, lineStart);
        return out;
    }

    private static void scan(String s, int from, int to, List<Token> out, boolean atLineStart) throws Unreadable {
        int n = to;
        int i = from;
        boolean lineStart = atLineStart;
        while (i < n) {
            char c = s.charAt(i);
            if (c == '\n') {
                lineStart = true;
                i++;
                continue;
            }
            if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == 0x0b) {
                i++;
                continue;
            }
            if (c == '/' && i + 1 < n && s.charAt(i + 1) == '*') {
                int e = s.indexOf("*/", i + 2);
                if (e < 0) {
                    throw new Unreadable("an unterminated comment");
                }
                i = e + 2;
                continue;
            }
            if (c == '/' && i + 1 < n && s.charAt(i + 1) == '/') {
                int e = s.indexOf('\n', i);
                i = e < 0 ? n : e;
                continue;
            }
            if (c == '#' && lineStart) {
                int e = i;
                while (e < n && s.charAt(e) != '\n') {
                    e = s.charAt(e) == '\\' && e + 1 < n && s.charAt(e + 1) == '\n' ? e + 2 : e + 1;
                }
                out.add(new Token(Kind.DIRECTIVE, s.substring(i, e).strip().replaceAll("\\s+", " "), e));
                i = e;
                continue;
            }
            lineStart = false;
            if (identStart(c)) {
                int e = i + 1;
                while (e < n && identPart(s.charAt(e))) {
                    e++;
                }
                String word = s.substring(i, e);
                if (e < n && (s.charAt(e) == '"' || s.charAt(e) == '\'')
                        && (word.equals("L") || word.equals("u") || word.equals("U") || word.equals("u8"))) {
                    int end = literalEnd(s, e);
                    out.add(new Token(s.charAt(e) == '"' ? Kind.STRING : Kind.CHAR, s.substring(i, end), end));
                    i = end;
                    continue;
                }
                out.add(new Token(Kind.IDENT, word, e));
                i = e;
                continue;
            }
            if (Character.isDigit(c) || (c == '.' && i + 1 < n && Character.isDigit(s.charAt(i + 1)))) {
                int e = i + 1;
                while (e < n) {
                    char d = s.charAt(e);
                    if ((d == '+' || d == '-') && "eEpP".indexOf(s.charAt(e - 1)) >= 0) {
                        e++;
                    } else if (identPart(d) || d == '.' || d == '\'') {
                        e++;
                    } else {
                        break;
                    }
                }
                out.add(new Token(Kind.NUMBER, s.substring(i, e), e));
                i = e;
                continue;
            }
            if (c == '"' || c == '\'') {
                int end = literalEnd(s, i);
                out.add(new Token(c == '"' ? Kind.STRING : Kind.CHAR, s.substring(i, end), end));
                i = end;
                continue;
            }
            String p = null;
            if (i + 1 < n && MULTI_SECOND.indexOf(s.charAt(i + 1)) >= 0) {
                for (String q : PUNCTUATORS) {
                    if (s.startsWith(q, i)) {
                        p = q;
                        break;
                    }
                }
            }
            if (p == null) {
                int single = SINGLE.indexOf(c);
                if (single < 0) {
                    throw new Unreadable("an unexpected character U+" + Integer.toHexString(c));
                }
                p = SINGLES[single];
            }
            out.add(new Token(Kind.PUNCT, p, i + p.length()));
            i += p.length();
        }
    }

    private static int literalEnd(String s, int quote) throws Unreadable {
        char q = s.charAt(quote);
        int i = quote + 1;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '\\') {
                i += 2;
            } else if (c == q) {
                return i + 1;
            } else if (c == '\n') {
                break;
            } else {
                i++;
            }
        }
        throw new Unreadable("an unterminated literal");
    }

    private static boolean identStart(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
    }

    private static boolean identPart(char c) {
        return identStart(c) || (c >= '0' && c <= '9');
    }
}
