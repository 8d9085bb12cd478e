package org.livepatch.xenbuild;

import org.livepatch.io.FileTrees;
import java.io.IOException;
import org.livepatch.stage.StageClock;

/**
 * Stage 3, {@code patched build}: a {@link Reference} in, a {@link BuildOutcome} out: the patch
 * applied to an image of the reference and the affected objects rebuilt and paired with their
 * originals ({@link PatchedBuild}); with {@code -k build}, the pairs a previous run left in OUTPUT.
 * A cached file found damaged on the way has the reference stage build it again, once.
 */
public final class PatchedBuildStage {
    private final ReferenceStage reference;
    private final StageClock clock;

    public PatchedBuildStage(ReferenceStage reference, StageClock clock) {
        this.reference = reference;
        this.clock = clock;
    }

    public BuildOutcome run(Reference ref) throws BuildException, InterruptedException {
        CheckedRequest checked = ref.request();
        if (checked.request().skip() == SkipStage.BUILD) {
            return new BuildOutcome(checked, null, PatchedBuild.readBack(checked), clock.times(), ref.xenSyms(), ref.proof());
        }
        PatchedBuildResult objects;
        try {
            objects = PatchedBuild.run(checked, ref.build(), clock);
        } catch (CacheDamage damage) {
            // A file the payload would be made from is not what the reference build left: build
            // the reference again and start over, once. Nothing was written to OUTPUT but logs
            // (and, with --debug, the work tree, which a new one replaces).
            try {
                FileTrees.delete(checked.outputDir().resolve(PatchedBuild.WORK_DIR));
            } catch (IOException e) {
                throw new BuildException(BuildException.Reason.WORKSPACE, checked.outputDir(), e.getMessage(), e);
            }
            ref = reference.rebuild(ref, damage);
            try {
                objects = PatchedBuild.run(checked, ref.build(), clock);
            } catch (CacheDamage again) {
                throw again.asBuildException();
            }
        }
        KeptBuild.record(checked, ref.build(), objects);
        return new BuildOutcome(checked, ref.build(), objects, clock.times(), ref.xenSyms(), ref.proof());
    }
}
