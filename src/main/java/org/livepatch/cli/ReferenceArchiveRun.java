package org.livepatch.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import org.livepatch.io.IoErrors;
import org.livepatch.io.ScratchDir;
import org.livepatch.stage.StageClock;
import org.livepatch.xenbuild.BuildException;
import org.livepatch.xenbuild.BuildRequest;
import org.livepatch.xenbuild.CheckedRequest;
import org.livepatch.xenbuild.ReferenceCache;
import org.livepatch.xenbuild.ReferenceKey;
import org.livepatch.xenbuild.ReferenceTransfer;
import org.livepatch.xenbuild.RequestChecks;
import org.livepatch.xenbuild.Workspace;

/**
 * {@code livepatch-build --export-reference FILE} and {@code --import-reference FILE}: the option
 * rules of the two and their one-line results, over {@link ReferenceTransfer}. Kept out of
 * {@link LivepatchBuildCommand}, which only hands over.
 */
final class ReferenceArchiveRun {
    /** {@code $LPB_CACHE/tmp/export-*}: the reference build's log of an export without {@code -o}. */
    private static final String EXPORT_SCRATCH = "export-";

    private ReferenceArchiveRun() {}

    /** An export, or an import without a payload to build. */
    static int run(LivepatchBuildCommand c, PrintWriter err, PrintWriter out) throws BuildException, InterruptedException {
        if (c.exportReference != null && c.importReference != null) {
            throw new CommandRunner.UserError(ExitCode.USAGE, "--export-reference and --import-reference exclude each other");
        }
        if (c.exportReference != null) {
            return export(c, err, out);
        }
        if ((c.srcDir == null) != (c.config == null)) {
            throw new CommandRunner.UserError(ExitCode.USAGE,
                    "--import-reference takes -s and -c together (the archive is then checked against them) or neither");
        }
        return importArchive(c, err, out);
    }

    /** Before a payload build of the same run: the archive must hold this run's reference. */
    static void importFirst(LivepatchBuildCommand c, PrintWriter err, PrintWriter out) throws BuildException, InterruptedException {
        importArchive(c, err, out);
    }

    private static int export(LivepatchBuildCommand c, PrintWriter err, PrintWriter out) throws BuildException, InterruptedException {
        if (c.patch != null || c.batch != null) {
            throw new CommandRunner.UserError(ExitCode.USAGE, "--export-reference builds no payload: leave out -p and --batch");
        }
        requireSource(c, "--export-reference");
        if (java.nio.file.Files.exists(c.exportReference, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            // Before anything is checked or created: ReferenceTransfer says the same, later.
            throw new BuildException(BuildException.Reason.BAD_OUTPUT_DIR, c.exportReference,
                    "exists (an archive is never overwritten: remove it or choose another name)");
        }
        BuildRequest req = c.request().build();
        Workspace ws = Workspace.fromEnvironment(req.environment());
        StageClock clock = new StageClock(LivepatchBuildCommand.progress(err));
        ScratchDir scratch = null;
        Path outputDir;
        if (c.output != null) {
            RequestChecks.requireEmptyOutput(c.output.toAbsolutePath());
            outputDir = c.output;
        } else {
            try {
                ScratchDir.sweep(ws.root().resolve("tmp"), EXPORT_SCRATCH);
                scratch = ScratchDir.create(ws.root().resolve("tmp"), EXPORT_SCRATCH);
            } catch (IOException e) {
                throw new BuildException(BuildException.Reason.WORKSPACE, ws.root(), "cannot write the cache: " + IoErrors.describe(e), e);
            }
            outputDir = scratch.dir();
        }
        ReferenceTransfer.Exported e;
        try {
            CheckedRequest checked = RequestChecks.checkReference(req, outputDir);
            e = ReferenceTransfer.export(checked, new ReferenceCache(checked.workspace()), c.exportReference, clock);
        } catch (BuildException failure) {
            if (failure.reason() != BuildException.Reason.REFERENCE_BUILD_FAILED) {
                close(scratch);
            } // else kept: the error names the build log in it (swept by a later export once this process is gone)
            throw failure;
        }
        close(scratch);
        out.printf("livepatch-build: reference %s %s to %s (%d bytes, %.1f s)%n", e.key().hex(),
                e.built() ? "built and exported" : "exported", e.file(), e.bytes(), e.time().toMillis() / 1000.0);
        out.flush();
        return ExitCode.OK.number();
    }

    private static int importArchive(LivepatchBuildCommand c, PrintWriter err, PrintWriter out) throws BuildException, InterruptedException {
        // --xen-syms is no input of the key: not opened here (a payload run opens it in its own check).
        BuildRequest req = c.request().xenSyms(null).build();
        StageClock clock = new StageClock(LivepatchBuildCommand.progress(err));
        Workspace ws = Workspace.fromEnvironment(req.environment());
        Optional<ReferenceKey> expected = Optional.empty();
        if (c.srcDir != null) {
            // Only SRC's digest and the tools' versions: nothing is built or written but the digest's record.
            CheckedRequest checked = RequestChecks.checkReference(req, ws.root().resolve("tmp"));
            ws = checked.workspace();
            expected = Optional.of(new ReferenceCache(ws).currentKey(checked));
        }
        ReferenceTransfer.Imported i = ReferenceTransfer.importArchive(ws, c.importReference, expected, clock);
        out.printf("livepatch-build: reference %s %s (%d entries, %d bytes, %.1f s)%n", i.key().hex(),
                i.alreadyCached() ? "checked, already in the cache at " + i.entry() : "imported into " + i.entry(),
                i.entries(), i.bytes(), i.time().toMillis() / 1000.0);
        out.flush();
        return ExitCode.OK.number();
    }

    private static void close(ScratchDir scratch) {
        if (scratch == null) {
            return;
        }
        try {
            scratch.close();
        } catch (IOException ignored) {
            // swept by the next export
        }
    }

    private static void requireSource(LivepatchBuildCommand c, String option) {
        if (c.srcDir == null || c.config == null) {
            throw new CommandRunner.UserError(ExitCode.USAGE, option + " needs -s DIR and -c FILE (the reference is the build of SRC with CONFIG)");
        }
    }
}
