package org.livepatch.xenbuild;

import org.livepatch.stage.Progress;
import org.livepatch.stage.StageClock;
import java.io.IOException;
import java.nio.file.Files;

/**
 * The build half of livepatch-build, top to bottom like upstream's script: check everything,
 * get the original build (from the cache or by building a copy of SRC once), then the patched
 * objects. Callable from Java and tests; the CLI adds printing and exit codes.
 */
public final class BuildStage {
    public static final String STAGE_CHECK = "check";

    private BuildStage() {}

    /** Checks the request, then builds. The cache is the request's (or LPB_CACHE / ~/.cache). */
    public static BuildOutcome run(BuildRequest request, Progress progress) throws BuildException, InterruptedException {
        StageClock clock = new StageClock(progress);
        clock.start(STAGE_CHECK, 0, null);
        CheckedRequest checked = RequestChecks.check(request);
        clock.finish(0, null);
        return run(checked, new ReferenceCache(checked.workspace()), clock);
    }

    /**
     * Builds a checked request with a given cache object (batch mode shares one across patches;
     * tests read its counter).
     */
    public static BuildOutcome run(CheckedRequest checked, ReferenceCache cache, StageClock clock)
            throws BuildException, InterruptedException {
        if (checked.request().skip() == SkipStage.BUILD) {
            KeptBuild.check(checked, cache);
            PatchedBuildResult previous = PatchedBuild.readBack(checked);
            return new BuildOutcome(checked, null, previous, clock.times());
        }
        try {
            Files.createDirectories(checked.logDir());
            // Upstream keeps the config next to the payload; handy to rebuild the same hypervisor.
            Files.write(checked.outputDir().resolve(".config"), checked.config().content());
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.BAD_OUTPUT_DIR, checked.outputDir(), "cannot create: " + org.livepatch.io.IoErrors.describe(e), e);
        }
        ReferenceBuild ref = cache.obtain(checked, clock, checked.logDir());
        PatchedBuildResult objects;
        try {
            objects = PatchedBuild.run(checked, ref, clock);
        } catch (CacheDamage damage) {
            // A file the payload would be made from is not what the reference build left: build
            // the reference again and start over, once. Nothing was written to OUTPUT but logs
            // (and, with --debug, the work tree, which a new one replaces).
            cache.discard(ref, damage, clock);
            try {
                ReferenceCache.deleteTree(checked.outputDir().resolve(PatchedBuild.WORK_DIR));
            } catch (IOException e) {
                throw new BuildException(BuildException.Reason.WORKSPACE, checked.outputDir(), e.getMessage(), e);
            }
            ref = cache.obtain(checked, clock, checked.logDir());
            try {
                objects = PatchedBuild.run(checked, ref, clock);
            } catch (CacheDamage again) {
                throw again.asBuildException();
            }
        }
        KeptBuild.record(checked, ref, objects);
        return new BuildOutcome(checked, ref, objects, clock.times());
    }
}
