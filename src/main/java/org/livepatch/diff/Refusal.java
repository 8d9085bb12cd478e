package org.livepatch.diff;

/**
 * A difference the payload cannot apply safely, with the object, the symbol (or section) and why.
 * {@link #toString()} is the one line a user sees.
 */
public record Refusal(String object, String symbol, String reason) {
    @Override
    public String toString() {
        return object + ": " + symbol + ": " + reason;
    }
}
