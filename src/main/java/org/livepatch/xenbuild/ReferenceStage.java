package org.livepatch.xenbuild;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.livepatch.io.IoErrors;
import org.livepatch.stage.StageClock;

/**
 * Stage 2, {@code reference}: a {@link CheckedRequest} in, a {@link Reference} out. The original
 * build comes from the cache ({@link ReferenceCache}: built once per key, checked on every use);
 * with {@code -k build} the previous run's OUTPUT is checked instead ({@link KeptBuild}). Its
 * {@code xen-syms} is copied to {@code OUTPUT/xen-syms} (upstream's layout) and, unless
 * {@code --xen-syms} was given, opened and indexed there, the one time this run reads it; the
 * compiler check reads the model. A request that must reproduce a shipped hypervisor
 * ({@link ReproductionTarget}) stops here unless the rebuilt build-id is the stock one
 * ({@link BuildIdProof}).
 */
public final class ReferenceStage {
    /** {@code OUTPUT/xen-syms}: the reference build's, kept for {@code -k build}. */
    public static final String XEN_SYMS = "xen-syms";

    private final ReferenceCache cache;
    private final StageClock clock;

    public ReferenceStage(ReferenceCache cache, StageClock clock) {
        this.cache = cache;
        this.clock = clock;
    }

    public ReferenceCache cache() {
        return cache;
    }

    public Reference run(CheckedRequest checked) throws BuildException, InterruptedException {
        Path outputSyms = checked.outputDir().resolve(XEN_SYMS);
        if (checked.request().skip() == SkipStage.BUILD) {
            KeptBuild.check(checked, cache);
            return new Reference(checked, null, symbols(checked, outputSyms), Optional.empty());
        }
        try {
            Files.createDirectories(checked.logDir());
            // Upstream keeps the config next to the payload; handy to rebuild the same hypervisor.
            Files.write(checked.outputDir().resolve(".config"), checked.config().content());
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.BAD_OUTPUT_DIR, checked.outputDir(), "cannot create: " + IoErrors.describe(e), e);
        }
        ReferenceBuild ref = cache.obtain(checked, clock, checked.logDir());
        // Before anything reads the reference: a build that is not the shipped binary must not be diffed.
        Optional<BuildIdProof> proof = BuildIdProof.ifRequested(checked, ref);
        try {
            PatchedBuild.copy(ref.xenSyms(), outputSyms);
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.WORKSPACE, checked.outputDir(), e.getMessage(), e);
        }
        return new Reference(checked, ref, symbols(checked, outputSyms), proof);
    }

    /**
     * After the patched build found a cached file damaged ({@link CacheDamage}): the entry is
     * removed and the reference obtained again.
     */
    public Reference rebuild(Reference damaged, CacheDamage damage) throws BuildException, InterruptedException {
        cache.discard(damaged.build(), damage, clock);
        return run(damaged.request());
    }

    /**
     * {@code --xen-syms} as the check stage opened it, else {@code file} opened here, and the
     * compiler that built it checked (a payload must be compiled by the hypervisor's gcc).
     */
    private static Optional<XenSyms> symbols(CheckedRequest checked, Path file) throws BuildException {
        if (checked.xenSyms().isPresent()) {
            return checked.xenSyms();
        }
        if (checked.request().skip() == SkipStage.DIFF) {
            return Optional.empty(); // nothing after the build reads them
        }
        XenSyms opened = XenSyms.open(file);
        if (!checked.request().skipCompilerCheck()) {
            RequestChecks.checkCompiler(opened, checked.toolchain());
        }
        return Optional.of(opened);
    }
}
