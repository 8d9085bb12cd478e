package org.livepatch.pipeline;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;
import org.livepatch.io.IoErrors;
import org.livepatch.stage.Progress;
import org.livepatch.stage.StageClock;
import org.livepatch.xenbuild.BuildException;
import org.livepatch.xenbuild.BuildOutcome;
import org.livepatch.xenbuild.BuildRequest;
import org.livepatch.xenbuild.CheckStage;
import org.livepatch.xenbuild.CheckedRequest;
import org.livepatch.xenbuild.OutputClaim;
import org.livepatch.xenbuild.PatchedBuildStage;
import org.livepatch.xenbuild.ReferenceCache;
import org.livepatch.xenbuild.ReferenceStage;
import org.livepatch.xenbuild.SkipStage;
import org.livepatch.xenbuild.ToolchainPackages;

/**
 * livepatch-build from top to bottom, in the order of upstream's script. Each stage is an
 * object with a typed input and output, the output of one the input of the next:
 * <pre>
 * BuildRequest   -> CheckStage        -> CheckedRequest  (xenbuild; --xen-syms opened and indexed)
 * CheckedRequest -> ReferenceStage    -> Reference       (xenbuild; else the reference's xen-syms opened)
 * Reference      -> PatchedBuildStage -> BuildOutcome    (xenbuild; -k diff stops here)
 * BuildOutcome   -> DiffStage         -> Diffed          (payload objects in memory)
 * Diffed         -> AssembleStage     -> Assembled       (ld -r, notes, build-id, limits)
 * Assembled      -> VerifyStage       -> Verified        (loaded as the hypervisor would)
 * Verified       -> ReportStage       -> PipelineResult  (report and payload published together)
 * </pre>
 * The stages report to one {@link StageClock}; a test can run any of them without the CLI.
 */
public final class LivepatchPipeline {
    public static final String STAGE_DIFF = DiffStage.NAME;
    public static final String STAGE_ASSEMBLE = AssembleStage.NAME;
    public static final String STAGE_VERIFY = VerifyStage.NAME;

    private LivepatchPipeline() {}

    public static PipelineResult run(BuildRequest request, Progress progress)
            throws BuildException, PipelineException, InterruptedException {
        StageClock clock = new StageClock(progress);
        CheckedRequest checked = new CheckStage(clock).run(request);
        OutputClaim claim = OutputClaim.take(checked.outputDir(), checked.patchName());
        try {
            PipelineResult r = run(checked, new ReferenceCache(checked.workspace()), clock);
            release(claim);
            return r;
        } catch (BuildException | PipelineException | InterruptedException | RuntimeException | Error e) {
            if (OutputClaim.isInterruption(e)) {
                // Ctrl-C, SIGTERM: the user stopped the run, so what it wrote is worth nothing;
                // OUTPUT is left as it was found, ready for the same -o again.
                try {
                    claim.abandon();
                } catch (IOException ignored) {
                    // The lock file stays; the next run on OUTPUT removes what is left.
                }
            } else {
                // An ordinary failure keeps its logs for the user to read.
                try {
                    claim.release();
                } catch (IOException ignored) {
                    // The run's own error is the one to report.
                }
            }
            throw e;
        }
    }

    /** Runs a checked request with a given cache (batch mode shares one across patches). */
    public static PipelineResult run(CheckedRequest checked, ReferenceCache cache, StageClock clock)
            throws BuildException, PipelineException, InterruptedException {
        // Read before anything is built: a broken list in the image fails the run at once.
        ReportStage report = new ReportStage(clock, ToolchainPackages.fromEnvironment(checked.request().environment()));
        ReferenceStage reference = new ReferenceStage(cache, clock);
        BuildOutcome built = new PatchedBuildStage(reference, clock).run(reference.run(checked));
        if (checked.request().skip() == SkipStage.DIFF) {
            return new PipelineResult(null, null, checked.depends().hex(), null, List.of(), List.of(), List.of(),
                    built.objects().changedPaths(), clock.times(), null);
        }
        Diffed diffed = new DiffStage(clock).run(built);
        Assembled assembled = new AssembleStage(clock).run(diffed);
        Verified verified = new VerifyStage(clock).run(assembled);
        return report.run(verified);
    }

    private static void release(OutputClaim claim) throws PipelineException {
        try {
            claim.release();
        } catch (IOException e) {
            throw new PipelineException(PipelineException.Reason.OUTPUT, IoErrors.describe(e), e);
        }
    }

    /** The human summary printed at the end of a run. */
    public static void printSummary(PipelineResult r, PrintWriter out) {
        out.printf("payload %s (build-id %s)%n", r.payload(), r.buildId());
        out.printf("  depends %s, xen_depends %s%n", r.depends(), r.xenDepends());
        for (PatchedFunction f : r.functions()) {
            out.printf("  patched %-40s old %5d bytes -> new %5d bytes  (%s)%n", f.name(), f.oldSize(), f.newSize(), f.object());
        }
        for (String f : r.newFunctions()) {
            out.printf("  new     %s%n", f);
        }
        for (LineOnlyFunction f : r.lineOnly()) {
            out.printf("  line numbers only, not patched: %s (%s)%n", f.name(), f.object());
        }
        out.printf("  report %s%n", r.report());
        out.flush();
    }

}
