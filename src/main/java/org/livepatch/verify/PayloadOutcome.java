package org.livepatch.verify;

import java.util.List;

/**
 * What happened to one payload of a stack: loaded (and applied, unless upload-only) or rejected.
 *
 * @param payload  the loaded payload; null when the upload itself was refused
 * @param applied  true once the apply checks passed too
 * @param rejection the first failed check, or null
 * @param reverted payloads a REPLACE reverted
 */
public record PayloadOutcome(String name, LoadedPayload payload, boolean applied, Rejection rejection, List<String> reverted) {

    public PayloadOutcome {
        reverted = List.copyOf(reverted);
    }

    public boolean accepted() {
        return rejection == null;
    }
}
