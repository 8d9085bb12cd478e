package org.livepatch.link;

import java.util.List;

/** A payload the target hypervisor would refuse to load, with its reason (the first, as the hypervisor stops there). */
public final class PayloadRejectedException extends LinkException {
    private final List<String> problems;

    public PayloadRejectedException(String payload, String target, List<String> problems) {
        super(payload + ": " + target + " would refuse this payload (" + problems.size() + " problem" + (problems.size() == 1 ? "" : "s") + "): "
                + String.join("; ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
