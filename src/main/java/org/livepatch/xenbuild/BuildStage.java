package org.livepatch.xenbuild;

import org.livepatch.stage.Progress;
import org.livepatch.stage.StageClock;

/**
 * The build half of livepatch-build alone (what {@code -k diff} keeps): the check, reference and
 * patched-build stages in order. Callable from Java and tests; the pipeline runs the same three
 * stages before its own.
 */
public final class BuildStage {
    public static final String STAGE_CHECK = CheckStage.NAME;

    private BuildStage() {}

    /** Checks the request, then builds. The cache is the request's (or LPB_CACHE / ~/.cache). */
    public static BuildOutcome run(BuildRequest request, Progress progress) throws BuildException, InterruptedException {
        StageClock clock = new StageClock(progress);
        CheckedRequest checked = new CheckStage(clock).run(request);
        return run(checked, new ReferenceCache(checked.workspace()), clock);
    }

    /**
     * Builds a checked request with a given cache object (batch mode shares one across patches;
     * tests read its counter).
     */
    public static BuildOutcome run(CheckedRequest checked, ReferenceCache cache, StageClock clock)
            throws BuildException, InterruptedException {
        ReferenceStage reference = new ReferenceStage(cache, clock);
        return new PatchedBuildStage(reference, clock).run(reference.run(checked));
    }
}
