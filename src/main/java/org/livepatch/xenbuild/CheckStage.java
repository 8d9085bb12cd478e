package org.livepatch.xenbuild;

import org.livepatch.stage.StageClock;

/**
 * Stage 1, {@code check}: a {@link BuildRequest} in, a {@link CheckedRequest} out, or the first
 * refusal ({@link RequestChecks}); {@code --xen-syms} is opened and indexed here, once.
 */
public final class CheckStage {
    public static final String NAME = "check";

    private final StageClock clock;

    public CheckStage(StageClock clock) {
        this.clock = clock;
    }

    public CheckedRequest run(BuildRequest request) throws BuildException, InterruptedException {
        clock.start(NAME, 0, null);
        CheckedRequest checked = RequestChecks.check(request);
        clock.finish(0, null);
        return checked;
    }
}
