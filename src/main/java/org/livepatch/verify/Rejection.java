package org.livepatch.verify;

/**
 * One refusal: which payload, the reason class (with its errno), a sentence naming the section,
 * symbol or function involved, and the release whose rules refused it.
 */
public record Rejection(String payload, RejectReason reason, String detail, HypervisorRules rules) {

    public Errno errno() {
        return reason.errno();
    }

    /** True when the release of {@link #rules} would not refuse the payload itself but crash or misbehave with it. */
    public boolean beyondXen() {
        return !rules.checksItself(reason);
    }

    /** The reason, its errno and the detail, without the payload: "UNKNOWN_SYMBOL, ENOENT (2): Unknown symbol: foo". */
    public String describe() {
        return reason + ", " + reason.errno().describe() + ": " + detail;
    }

    /** "xen_hello_world: UNKNOWN_SYMBOL, ENOENT (2): Unknown symbol: foo", plus a remark when the release would not check it. */
    public String message() {
        String s = payload + ": " + describe();
        if (beyondXen()) {
            s += " [Xen " + rules.name() + " does not check this and would misbehave]";
        }
        return s;
    }

    @Override
    public String toString() {
        return message();
    }
}
