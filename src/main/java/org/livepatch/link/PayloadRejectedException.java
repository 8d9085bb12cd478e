package org.livepatch.link;

import org.livepatch.verify.Rejection;

/**
 * A payload the target hypervisor would refuse to load, or would take and then crash or misbehave
 * with: the loader's one refusal (it stops at the first problem, as Xen does).
 */
public final class PayloadRejectedException extends LinkException {
    private final transient Rejection rejection;

    /** @param target the hypervisor as the message names it ("Xen 4.20.4") */
    public PayloadRejectedException(String payload, String target, Rejection rejection) {
        super(payload + ": " + (rejection.beyondXen()
                ? target + " would take this payload and then crash or misbehave (Xen " + rejection.rules().name() + " does not check this); refused: "
                : target + " would refuse this payload: ") + rejection.describe());
        this.rejection = rejection;
    }

    /** The reason, its errno and the detail. */
    public Rejection rejection() {
        return rejection;
    }
}
