package org.livepatch.io;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the JSON {@link Json} writes (RFC 8259, strictly): objects become insertion-ordered maps,
 * arrays lists, numbers {@link BigDecimal}, and {@code true}/{@code false}/{@code null} what they
 * say. Anything else (a trailing comma, a duplicate key, text after the value, a lone surrogate
 * escape, a control character in a string) is a {@link Malformed} naming the offset: the reader
 * exists for files this project wrote ({@code batch.json} of the slices {@code --collect}
 * merges), so a file it cannot read exactly was damaged or not ours, never guessed at.
 */
public final class JsonReader {
    /** Not JSON, or not the JSON a caller expects; the message names the offset or the field. */
    public static final class Malformed extends Exception {
        public Malformed(String message) {
            super(message);
        }
    }

    private final String s;
    private int i;

    private JsonReader(String s) {
        this.s = s;
    }

    public static Object read(String text) throws Malformed {
        JsonReader r = new JsonReader(text);
        r.space();
        Object v = r.value(0);
        r.space();
        if (r.i != text.length()) {
            throw r.error("text after the value");
        }
        return v;
    }

    private Object value(int depth) throws Malformed {
        if (depth > 64) {
            throw error("nested too deep");
        }
        if (i >= s.length()) {
            throw error("unexpected end");
        }
        char c = s.charAt(i);
        return switch (c) {
            case '{' -> object(depth);
            case '[' -> array(depth);
            case '"' -> string();
            case 't' -> literal("true", Boolean.TRUE);
            case 'f' -> literal("false", Boolean.FALSE);
            case 'n' -> literal("null", null);
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) {
                    yield number();
                }
                throw error("unexpected '" + c + "'");
            }
        };
    }

    private Map<String, Object> object(int depth) throws Malformed {
        i++;
        Map<String, Object> m = new LinkedHashMap<>();
        space();
        if (peek('}')) {
            i++;
            return Collections.unmodifiableMap(m);
        }
        while (true) {
            space();
            if (!peek('"')) {
                throw error("expected a key");
            }
            int at = i;
            String k = string();
            space();
            expect(':');
            space();
            Object v = value(depth + 1);
            if (m.containsKey(k)) {
                i = at;
                throw error("duplicate key \"" + k + "\"");
            }
            m.put(k, v);
            space();
            if (peek(',')) {
                i++;
                continue;
            }
            expect('}');
            return Collections.unmodifiableMap(m);
        }
    }

    private List<Object> array(int depth) throws Malformed {
        i++;
        List<Object> l = new ArrayList<>();
        space();
        if (peek(']')) {
            i++;
            return Collections.unmodifiableList(l);
        }
        while (true) {
            space();
            l.add(value(depth + 1));
            space();
            if (peek(',')) {
                i++;
                continue;
            }
            expect(']');
            return Collections.unmodifiableList(l);
        }
    }

    private String string() throws Malformed {
        i++;
        StringBuilder b = new StringBuilder();
        while (true) {
            if (i >= s.length()) {
                throw error("unterminated string");
            }
            char c = s.charAt(i++);
            if (c == '"') {
                break;
            }
            if (c < 0x20) {
                i--;
                throw error("control character in a string");
            }
            if (c != '\\') {
                b.append(c);
                continue;
            }
            if (i >= s.length()) {
                throw error("unterminated string");
            }
            char e = s.charAt(i++);
            switch (e) {
                case '"', '\\', '/' -> b.append(e);
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'u' -> b.append(unicode());
                default -> {
                    i--;
                    throw error("bad escape \\" + e);
                }
            }
        }
        // Surrogates must pair up: a lone one is no character (and would not survive UTF-8).
        for (int k = 0; k < b.length(); k++) {
            char c = b.charAt(k);
            if (Character.isHighSurrogate(c) && k + 1 < b.length() && Character.isLowSurrogate(b.charAt(k + 1))) {
                k++;
            } else if (Character.isSurrogate(c)) {
                throw error("lone surrogate in a string");
            }
        }
        return b.toString();
    }

    private char unicode() throws Malformed {
        if (i + 4 > s.length()) {
            throw error("short \\u escape");
        }
        int v = 0;
        for (int k = 0; k < 4; k++) {
            int d = Character.digit(s.charAt(i + k), 16);
            if (d < 0) {
                throw error("bad \\u escape");
            }
            v = v * 16 + d;
        }
        i += 4;
        return (char) v;
    }

    private BigDecimal number() throws Malformed {
        int start = i;
        if (peek('-')) {
            i++;
        }
        if (peek('0')) {
            i++;
        } else if (i < s.length() && s.charAt(i) >= '1' && s.charAt(i) <= '9') {
            digits();
        } else {
            throw error("bad number");
        }
        if (peek('.')) {
            i++;
            if (digits() == 0) {
                throw error("bad number");
            }
        }
        if (peek('e') || peek('E')) {
            i++;
            if (peek('+') || peek('-')) {
                i++;
            }
            if (digits() == 0) {
                throw error("bad number");
            }
        }
        return new BigDecimal(s.substring(start, i));
    }

    private int digits() {
        int n = 0;
        while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
            i++;
            n++;
        }
        return n;
    }

    private Object literal(String word, Object v) throws Malformed {
        if (!s.startsWith(word, i)) {
            throw error("unexpected '" + s.charAt(i) + "'");
        }
        i += word.length();
        return v;
    }

    private void space() {
        while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\n' || s.charAt(i) == '\r' || s.charAt(i) == '\t')) {
            i++;
        }
    }

    private boolean peek(char c) {
        return i < s.length() && s.charAt(i) == c;
    }

    private void expect(char c) throws Malformed {
        if (!peek(c)) {
            throw error(i >= s.length() ? "unexpected end, expected '" + c + "'" : "expected '" + c + "' at '" + s.charAt(i) + "'");
        }
        i++;
    }

    private Malformed error(String what) {
        return new Malformed("JSON: " + what + " at offset " + i);
    }
}
