package org.livepatch.verify;

/**
 * One refusal: which payload, the reason class (with its errno), and a sentence naming the
 * section, symbol or function involved.
 */
public record Rejection(String payload, RejectReason reason, String detail) {

    public Errno errno() {
        return reason.errno();
    }

    /** "xen_hello_world: UNKNOWN_SYMBOL, ENOENT (2): Unknown symbol: foo". */
    public String message() {
        String s = payload + ": " + reason + ", " + reason.errno().describe() + ": " + detail;
        if (reason.beyondXen()) {
            s += " [Xen 4.17.5 does not check this and would misbehave]";
        }
        return s;
    }

    @Override
    public String toString() {
        return message();
    }
}
