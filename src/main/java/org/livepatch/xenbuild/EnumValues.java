package org.livepatch.xenbuild;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.livepatch.xenbuild.CTokens.Kind;
import org.livepatch.xenbuild.CTokens.Token;

/**
 * The value of every enumerator of an enum body, when each is a constant this class can compute
 * (integer literals and arithmetic, or the previous value plus one) and fits in an {@code int}.
 *
 * <p>Why: Xen declares its CPU features as one anonymous enum ({@code X86_FEATURE_*}), so a
 * changeset adding a feature changes that enum in every unit, and nearly every unit uses some
 * feature. What such a unit's code depends on is the values of the enumerators it names; in C an
 * enumerator whose value fits in {@code int} has type {@code int} whatever its neighbours, so
 * comparing name by name is exact. Anything else (a value naming another constant, sizeof, a cast,
 * an attribute) gives no answer, and the whole enum counts as changed.
 */
final class EnumValues {
    private EnumValues() {}

    /** The enumerators of {@code body} (the tokens between the braces) in order, with their values. */
    static Optional<Map<String, Long>> of(List<Token> body) {
        Map<String, Long> out = new LinkedHashMap<>();
        long next = 0;
        for (List<Token> part : split(body)) {
            if (part.isEmpty() || !part.get(0).ident()) {
                return Optional.empty();
            }
            long value;
            if (part.size() == 1) {
                value = next;
            } else if (part.get(1).is("=") && part.size() > 2) {
                Optional<Long> v = new Expr(part.subList(2, part.size())).value();
                if (v.isEmpty()) {
                    return Optional.empty();
                }
                value = v.get();
            } else {
                return Optional.empty();
            }
            if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE || out.put(part.get(0).text(), value) != null) {
                return Optional.empty();
            }
            next = value + 1;
        }
        return out.isEmpty() ? Optional.empty() : Optional.of(out);
    }

    /** The comma-separated parts at depth 0 (a trailing comma leaves no empty part). */
    private static List<List<Token>> split(List<Token> body) {
        List<List<Token>> out = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < body.size(); i++) {
            Token k = body.get(i);
            if (k.is("(") || k.is("[") || k.is("{")) {
                depth++;
            } else if (k.is(")") || k.is("]") || k.is("}")) {
                depth--;
            } else if (depth == 0 && k.is(",")) {
                out.add(body.subList(start, i));
                start = i + 1;
            }
        }
        if (start < body.size()) {
            out.add(body.subList(start, body.size()));
        }
        return out;
    }

    /** Integer constant expressions of literals, parentheses and arithmetic; empty when anything else appears. */
    private static final class Expr {
        private final List<Token> t;
        private int i;
        private boolean failed;

        Expr(List<Token> t) {
            this.t = t;
        }

        Optional<Long> value() {
            long v = or();
            return failed || i != t.size() ? Optional.empty() : Optional.of(v);
        }

        private boolean at(String s) {
            if (i < t.size() && t.get(i).is(s)) {
                i++;
                return true;
            }
            return false;
        }

        private long or() {
            long v = xor();
            while (at("|")) {
                v |= xor();
            }
            return v;
        }

        private long xor() {
            long v = and();
            while (at("^")) {
                v ^= and();
            }
            return v;
        }

        private long and() {
            long v = shift();
            while (at("&")) {
                v &= shift();
            }
            return v;
        }

        private long shift() {
            long v = sum();
            while (true) {
                if (at("<<")) {
                    long s = sum();
                    v = s < 0 || s > 31 ? fail() : bounded(v << s);
                } else if (at(">>")) {
                    long s = sum();
                    v = s < 0 || s > 31 ? fail() : v >> s;
                } else {
                    return v;
                }
            }
        }

        private long sum() {
            long v = product();
            while (true) {
                if (at("+")) {
                    v = bounded(v + product());
                } else if (at("-")) {
                    v = bounded(v - product());
                } else {
                    return v;
                }
            }
        }

        private long product() {
            long v = unary();
            while (true) {
                if (at("*")) {
                    v *= unary();
                } else if (at("/")) {
                    long d = unary();
                    v = d == 0 ? fail() : v / d;
                } else if (at("%")) {
                    long d = unary();
                    v = d == 0 ? fail() : v % d;
                } else {
                    return v;
                }
                v = bounded(v);
            }
        }

        private long unary() {
            if (at("-")) {
                return -unary();
            }
            if (at("+")) {
                return unary();
            }
            if (at("~")) {
                return ~unary();
            }
            if (at("(")) {
                long v = or();
                if (!at(")")) {
                    fail();
                }
                return v;
            }
            if (i < t.size() && t.get(i).kind() == Kind.NUMBER) {
                return literal(t.get(i++).text());
            }
            return fail();
        }

        private long literal(String s) {
            String digits = s.replaceAll("[uUlL]+$", "");
            try {
                long v;
                if (digits.startsWith("0x") || digits.startsWith("0X")) {
                    v = Long.parseLong(digits.substring(2), 16);
                } else if (digits.length() > 1 && digits.startsWith("0")) {
                    v = Long.parseLong(digits.substring(1), 8);
                } else {
                    v = Long.parseLong(digits);
                }
                return v > Integer.MAX_VALUE * 4L ? fail() : v;
            } catch (NumberFormatException e) {
                return fail();
            }
        }

        /** Keeps every intermediate far from long overflow: no wider arithmetic is modelled. */
        private long bounded(long v) {
            return v < Integer.MIN_VALUE * 4L || v > Integer.MAX_VALUE * 4L ? fail() : v;
        }

        private long fail() {
            failed = true;
            i = t.size() + 1; // stops every loop: nothing matches past the end
            return 0;
        }
    }
}
