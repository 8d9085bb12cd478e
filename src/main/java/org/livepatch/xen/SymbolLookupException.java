package org.livepatch.xen;

import java.util.List;

/**
 * A name that does not resolve to exactly one hypervisor symbol. The two cases are told apart
 * by type because callers treat them differently: an unknown symbol may still come from a payload
 * loaded below this one, an ambiguous one never resolves (upstream's lookup refuses to guess, and
 * so do we).
 */
public abstract sealed class SymbolLookupException extends XenSymsException
        permits SymbolLookupException.Unknown, SymbolLookupException.Ambiguous {

    private final String symbol;

    SymbolLookupException(String symbol, String message) {
        super(message);
        this.symbol = symbol;
    }

    /** The name as it was looked up (plain, or {@code file#name}). */
    public String symbol() {
        return symbol;
    }

    /** No symbol by that name (in that file's run, for a local). */
    public static final class Unknown extends SymbolLookupException {
        private final List<XenSymbol> sameNameElsewhere;

        Unknown(String source, String symbol, List<XenSymbol> sameNameElsewhere) {
            super(symbol, source + ": symbol " + symbol + " not found" + hint(sameNameElsewhere));
            this.sameNameElsewhere = List.copyOf(sameNameElsewhere);
        }

        /** Symbols of the same bare name in other files or bindings, offered as a hint. */
        public List<XenSymbol> sameNameElsewhere() {
            return sameNameElsewhere;
        }

        private static String hint(List<XenSymbol> others) {
            if (others.isEmpty()) {
                return "";
            }
            StringBuilder sb = new StringBuilder(" (same name: ");
            int shown = Math.min(others.size(), 4);
            for (int i = 0; i < shown; i++) {
                sb.append(i == 0 ? "" : ", ").append(others.get(i).runtimeName());
            }
            if (others.size() > shown) {
                sb.append(", and ").append(others.size() - shown).append(" more");
            }
            return sb.append(')').toString();
        }
    }

    /** Two or more symbols answer to the name; the candidates are named with their files and addresses. */
    public static final class Ambiguous extends SymbolLookupException {
        private final List<XenSymbol> candidates;

        Ambiguous(String source, String symbol, List<XenSymbol> candidates) {
            super(symbol, source + ": symbol " + symbol + " is ambiguous: " + String.join(" and ",
                    candidates.stream().map(XenSymbol::describe).toList()));
            this.candidates = List.copyOf(candidates);
        }

        public List<XenSymbol> candidates() {
            return candidates;
        }
    }
}
