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

    record Token(Kind kind, String text) {
        boolean is(String s) {
            return kind != Kind.STRING && kind != Kind.CHAR && kind != Kind.DIRECTIVE && text.equals(s);
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
        int n = s.length();
        int i = 0;
        boolean lineStart = true;
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
                out.add(new Token(Kind.DIRECTIVE, s.substring(i, e).strip().replaceAll("\\s+", " ")));
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
                    out.add(new Token(s.charAt(e) == '"' ? Kind.STRING : Kind.CHAR, s.substring(i, end)));
                    i = end;
                    continue;
                }
                out.add(new Token(Kind.IDENT, word));
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
                out.add(new Token(Kind.NUMBER, s.substring(i, e)));
                i = e;
                continue;
            }
            if (c == '"' || c == '\'') {
                int end = literalEnd(s, i);
                out.add(new Token(c == '"' ? Kind.STRING : Kind.CHAR, s.substring(i, end)));
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
            out.add(new Token(Kind.PUNCT, p));
            i += p.length();
        }
        return out;
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
