package org.livepatch.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.livepatch.debian.DebianStock;
import org.livepatch.debian.DebianVersion;
import org.livepatch.debian.StockHypervisor;
import org.livepatch.xenbuild.BuildException;
import org.livepatch.xenbuild.BuildRequest;
import org.livepatch.stage.Progress;
import org.livepatch.xenbuild.SkipStage;
import org.livepatch.xenbuild.Workspace;
import org.livepatch.stage.StageEvent;
import org.livepatch.pipeline.BatchRun;
import org.livepatch.pipeline.CumulativeRun;
import org.livepatch.pipeline.SliceCollect;
import org.livepatch.pipeline.LivepatchPipeline;
import org.livepatch.pipeline.PipelineException;
import org.livepatch.pipeline.PipelineResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code livepatch-build}: the options of Xen's livepatch-build-tools script, with the same
 * meaning, driving {@link LivepatchPipeline}. The stages' failures reach {@link CommandRunner} as
 * they are thrown; {@link ExitMapper} gives each its {@link ExitCode} (SIGINT and SIGTERM: see
 * {@link Interrupts}).
 */
@Command(name = "livepatch-build", mixinStandardHelpOptions = true, version = "livepatch-build 0.1",
        sortOptions = false,
        description = {"Build a Xen live-patch payload from a Xen source tree and a source patch.",
                "SRC is never modified: the original is built once in a cache, the patch is applied to a copy."})
public final class LivepatchBuildCommand implements Callable<Integer> {
    @Option(names = {"-s", "--srcdir"}, paramLabel = "DIR", description = "Xen source tree (the directory holding xen/); required unless --debian")
    @HostPath(HostPath.Use.INPUT)
    Path srcDir;

    @Option(names = {"-p", "--patch"}, paramLabel = "FILE", description = "source patch (unified diff, -p1)")
    @HostPath(HostPath.Use.INPUT)
    Path patch;

    @Option(names = "--batch", paramLabel = "DIR|LIST", description = {
            "instead of -p: every *.patch/*.diff of DIR, or the patches a LIST file names (one a line),",
            "built against one reference, up to -j at a time; OUTPUT/<patch name>/ for each, a summary table",
            "at the end and OUTPUT/batch.json; exit 0 only if every patch produced a payload"})
    @HostPath(HostPath.Use.PATCH_SET)
    Path batch;

    @Option(names = "--cumulative", description = {
            "with --batch: the patches are a series, in name (or LIST) order; OUTPUT/<patch name>/ gets the",
            "payload of everything from the base to that changeset (named after it, depending on the",
            "hypervisor's build-id, for xen-livepatch replace); the table says which changeset first made",
            "the series unpatchable and why; exit 0 only if none did"})
    boolean cumulative;

    @Option(names = "--exclude", paramLabel = "NAME", description = {
            "with --cumulative: leave out this changeset (its name in the table, or its file name;",
            "repeatable), e.g. one that a reboot-time update ships; the later ones are built without it"})
    java.util.List<String> exclude = new java.util.ArrayList<>();

    @Option(names = "--exclude-from", paramLabel = "FILE", description = {
            "with --cumulative: more changesets to leave out, one name a line ('#' starts a comment)"})
    @HostPath(HostPath.Use.INPUT)
    Path excludeFrom;

    @Option(names = "--slice", paramLabel = "I/N", description = {
            "with --cumulative: write only part I (from 1) of the series cut into N contiguous parts of",
            "nearly equal count (one CI job each); the changesets before the part are built as the whole",
            "run builds them (a refusal there blocks this part) but not written; payloads are the whole",
            "run's bytes; --collect merges the N OUTPUT directories"})
    String slice;

    @Option(names = "--collect", paramLabel = "DIR", description = {
            "instead of a build: merge the OUTPUT directories of the N --slice runs of one series into",
            "-o OUT (absent or empty); DIR (repeatable) is one slice's OUTPUT or a directory of them (as CI",
            "artifacts arrive); checks they are slices 1..N of the same series, exclusions and N",
            "(exit 42 otherwise), copies each PART/<name>/, writes OUT/batch.json and prints the one",
            "summary table; exit 0 only if no changeset made the series unpatchable"})
    @HostPath(HostPath.Use.INPUT)
    java.util.List<Path> collect;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "Xen .config of the running hypervisor (CONFIG_LIVEPATCH=y); required unless --debian")
    @HostPath(HostPath.Use.INPUT)
    Path config;

    @Option(names = "--debian", paramLabel = "VERSION", description = {
            "instead of -s and -c: Debian's hypervisor of this package version (e.g. 4.17.5+72-g01140da4e8-1):",
            "its source package (deb-src), xen-hypervisor-X.Y-amd64 and its -dbg package are fetched with apt",
            "into the cache, the reference is built as Debian's rules build it, and must have the stock",
            "build-id before anything is diffed (exit 36 names the first differing section otherwise);",
            "--xen-syms defaults to the -dbg package's, --depends to the stock build-id"})
    String debian;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR", description = "output directory; the payload is OUTPUT/<patch name>.livepatch (with --batch: OUTPUT/<patch name>/<patch name>.livepatch)")
    @HostPath(HostPath.Use.OUTPUT_DIR)
    Path output;

    @Option(names = {"-j", "--cpus"}, paramLabel = "N", description = "parallel make jobs (default: number of CPUs)")
    Integer cpus;

    @Option(names = {"-k", "--skip"}, paramLabel = "build|diff", description = "build: reuse OUTPUT's objects, only diff and link; diff: build only")
    String skip;

    @Option(names = {"-d", "--debug"}, description = "keep intermediate files and write detailed stage logs")
    boolean debug;

    @Option(names = "--xen-debug", description = "the hypervisor is a debug build (checks CONFIG_DEBUG=y)")
    boolean xenDebug;

    @Option(names = "--xen-syms", paramLabel = "FILE", description = "xen-syms of the running hypervisor (default: the reference build's)")
    @HostPath(HostPath.Use.INPUT)
    Path xenSyms;

    @Option(names = "--depends", paramLabel = "BUILDID", description = {"build-id this payload applies on top of (hypervisor or previous payload), 40 hex digits;",
            "required unless --debian (default there: the stock hypervisor's)"})
    String depends;

    @Option(names = "--xen-depends", paramLabel = "BUILDID", description = "build-id of the running hypervisor (default: that of --xen-syms)")
    String xenDepends;

    @Option(names = "--prelink", description = "resolve hypervisor symbols now, so the payload needs no run-time lookup")
    boolean prelink;

    @Option(names = "--strip", description = "strip everything relocations do not need")
    boolean strip;

    @Option(names = "--skip-compiler-check", description = "build even if xen-syms names another gcc (in .comment) than the one on PATH")
    boolean skipCompilerCheck;

    @Option(names = "--allow-layout-change", paramLabel = "TYPE", description = {
            "build even though the patch changes the size or layout of TYPE (e.g. 'struct grant_table' or",
            "grant_table; repeatable): live instances keep the old layout, so only for a type you know no",
            "patched code reads or writes in its old form; recorded in the report"})
    java.util.List<String> allowLayoutChange = new java.util.ArrayList<>();

    @Option(names = "--export-reference", paramLabel = "FILE", description = {
            "instead of a payload: write the reference build of -s/-c (built now unless cached) to FILE,",
            "a reference archive that --import-reference adds to another cache (FILE must not exist)"})
    @HostPath(HostPath.Use.OUTPUT_FILE)
    Path exportReference;

    @Option(names = "--import-reference", paramLabel = "FILE", description = {
            "check the reference archive FILE and add it to the cache, then build as asked (alone: only",
            "import); with -s/-c, an archive of another source, config or toolchain is refused"})
    @HostPath(HostPath.Use.INPUT)
    Path importReference;

    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        Interrupts.install(Thread.currentThread(), "livepatch-build", System.err);
        System.exit(CommandRunner.run(new LivepatchBuildCommand(), args));
    }

    /**
     * Runs the build; after SIGINT or SIGTERM (see {@link Interrupts}) whatever the unwinding
     * threw, and even a run that completed meanwhile, ends in {@link ExitCode#INTERRUPTED} and one
     * line that says whether the payload was published.
     */
    @Override
    public Integer call() throws Exception {
        Integer code;
        try {
            code = build();
        } catch (Exception e) {
            if (Interrupts.received() == null) {
                throw e;
            }
            throw interrupted(batch != null ? "the patches finished before it are kept" : "nothing was published");
        }
        if (Interrupts.received() != null) {
            throw interrupted(batch != null ? "the patches finished before it are kept" : "the run had completed: its output is kept");
        }
        return code;
    }

    private static CommandRunner.UserError interrupted(String what) {
        Interrupts.claimFinalWordOrAwaitHalt();
        return new CommandRunner.UserError(ExitCode.INTERRUPTED, Interrupts.message(Interrupts.received(), what));
    }

    private Integer build() throws BuildException, PipelineException, InterruptedException {
        PrintWriter err = spec.commandLine().getErr();
        boolean payload = patch != null || batch != null;
        if (!cumulative && (!exclude.isEmpty() || excludeFrom != null)) {
            throw new CommandRunner.UserError(ExitCode.USAGE, "--exclude and --exclude-from need --batch ... --cumulative");
        }
        if (slice != null && !cumulative) {
            throw new CommandRunner.UserError(ExitCode.USAGE, "--slice needs --batch ... --cumulative");
        }
        if (collect != null) {
            return collect();
        }
        if (cumulative && batch == null) {
            throw new CommandRunner.UserError(ExitCode.USAGE, "--cumulative needs --batch DIR|LIST (the series)");
        }
        if (debian != null && (exportReference != null || importReference != null)) {
            // Debian's reference is rebuilt and proven by its build-id on each machine; an archive
            // of it would carry the build without the proof.
            throw new CommandRunner.UserError(ExitCode.USAGE, "--debian is not used with --export-reference or --import-reference");
        }
        if (exportReference != null || (importReference != null && !payload)) {
            return ReferenceArchiveRun.run(this, err, spec.commandLine().getOut());
        }
        requireOptions();
        if (importReference != null) {
            ReferenceArchiveRun.importFirst(this, err, spec.commandLine().getOut());
        }
        if ((patch == null) == (batch == null)) {
            throw new CommandRunner.UserError(ExitCode.USAGE,
                    patch == null ? "a patch is needed: -p FILE, or --batch DIR|LIST" : "-p and --batch exclude each other");
        }
        BuildRequest.Builder b = BuildRequest.builder();
        if (debian != null) {
            debianRequest(b, err);
        } else {
            b.srcDir(srcDir).config(config).depends(depends).xenSyms(xenSyms);
        }
        b.patch(patch).outputDir(output)
                .skip(SkipStage.parse(skip)).debug(debug).xenDebug(xenDebug)
                .xenDepends(xenDepends).prelink(prelink).strip(strip)
                .skipCompilerCheck(skipCompilerCheck).allowedLayoutChanges(allowLayoutChange);
        if (cpus != null) {
            b.jobs(cpus);
        }
        if (cumulative) {
            java.util.List<Path> series = BatchRun.patches(batch);
            java.util.Optional<CumulativeRun.Slice> part = java.util.Optional.empty();
            if (slice != null) {
                try {
                    part = java.util.Optional.of(CumulativeRun.Slice.parse(slice));
                    part.get().requireFits(series.size());
                } catch (IllegalArgumentException e) {
                    throw new CommandRunner.UserError(ExitCode.USAGE, e.getMessage());
                }
            }
            CumulativeRun.Result r = CumulativeRun.run(b.build(), series, CumulativeRun.exclusions(series, exclude, excludeFrom),
                    part, err, ExitMapper.batch());
            CumulativeRun.printTable(r, spec.commandLine().getOut());
            return (r.ok() ? ExitCode.OK : ExitCode.BATCH_FAILED).number();
        }
        if (batch != null) {
            BatchRun.Result r = BatchRun.run(b.build(), BatchRun.patches(batch), err, ExitMapper.batch());
            BatchRun.printTable(r, spec.commandLine().getOut());
            return (r.ok() ? ExitCode.OK : ExitCode.BATCH_FAILED).number();
        }
        PipelineResult r = LivepatchPipeline.run(b.build(), progress(err));
        if (r.payload() == null) {
            err.println("livepatch-build: built only (-k diff); changed objects: " + String.join(" ", r.objects()));
            err.flush();
            return ExitCode.OK.number();
        }
        LivepatchPipeline.printSummary(r, spec.commandLine().getOut());
        return ExitCode.OK.number();
    }

    /** {@code --collect PART... -o OUT}: only -o goes with it (the parts carry everything else). */
    private Integer collect() throws BuildException {
        if (output == null) {
            throw new CommandRunner.UserError(ExitCode.USAGE, "--collect needs -o OUT (the merged output directory)");
        }
        if (patch != null || batch != null || srcDir != null || config != null || debian != null || exportReference != null
                || importReference != null || depends != null) {
            throw new CommandRunner.UserError(ExitCode.USAGE, "--collect takes only the parts and -o OUT");
        }
        SliceCollect.Result r = SliceCollect.run(collect, output);
        CumulativeRun.printTable(r.merged(), spec.commandLine().getOut());
        return (r.merged().ok() ? ExitCode.OK : ExitCode.BATCH_FAILED).number();
    }

    /**
     * What a payload run needs and picocli no longer checks (an archive run needs fewer options):
     * OUTPUT always; SRC, the config and the dependency unless {@code --debian} provides them.
     */
    private void requireOptions() {
        List<String> missing = new ArrayList<>();
        if (debian == null && srcDir == null) {
            missing.add("'--srcdir=DIR'");
        }
        if (debian == null && config == null) {
            missing.add("'--config=FILE'");
        }
        if (output == null) {
            missing.add("'--output=DIR'");
        }
        if (debian == null && depends == null) {
            missing.add("'--depends=BUILDID'");
        }
        if (!missing.isEmpty()) {
            boolean debianWouldDo = debian == null && (srcDir == null || config == null || depends == null);
            throw new CommandRunner.UserError(ExitCode.USAGE, "Missing required option" + (missing.size() > 1 ? "s" : "")
                    + ": " + String.join(", ", missing) + (debianWouldDo ? " (or --debian VERSION)" : ""));
        }
    }

    /** The request of the options given, for the reference archive's runs ({@link ReferenceArchiveRun}). */
    BuildRequest.Builder request() {
        BuildRequest.Builder b = BuildRequest.builder()
                .srcDir(srcDir).config(config).outputDir(output).debug(debug).xenDebug(xenDebug).xenSyms(xenSyms)
                .skipCompilerCheck(skipCompilerCheck);
        if (cpus != null) {
            b.jobs(cpus);
        }
        return b;
    }

    /**
     * {@code --debian VERSION}: Debian's packages fetched and prepared (once, in the cache), and
     * the request made from them: Debian's source as SRC, the shipped config, Debian's build
     * environment and make arguments, the stock build-id to reproduce.
     */
    private void debianRequest(BuildRequest.Builder b, PrintWriter err) throws BuildException, InterruptedException {
        if (srcDir != null || config != null) {
            throw new CommandRunner.UserError(ExitCode.USAGE,
                    "--debian VERSION builds Debian's source with its shipped config: -s and -c are not used with it");
        }
        DebianVersion v = DebianVersion.parse(debian);
        Map<String, String> env = System.getenv();
        Workspace ws = Workspace.fromEnvironment(env);
        StockHypervisor stock = DebianStock.obtain(v, ws, env,
                ws.root().resolve("debian").resolve("logs"), line -> {
                    err.println("livepatch-build: " + line);
                    err.flush();
                });
        b.srcDir(stock.sourceTree()).config(stock.config())
                .xenSyms(xenSyms != null ? xenSyms : stock.xenSyms())
                .depends(depends != null ? depends : stock.buildId().hex())
                .environment(stock.recipe().applyTo(env))
                .extraMakeArgs(stock.recipe().makeArgs())
                .reproduce(stock.target());
    }

    /** Stage progress on stderr: the stage, its object count and elapsed time. */
    static Progress progress(PrintWriter err) {
        return e -> {
            Interrupts.during(e.stage());
            if (e.phase() == StageEvent.Phase.NOTICE) {
                err.println("livepatch-build: " + e.detail());
            } else if (e.phase() == StageEvent.Phase.FINISHED) {
                err.printf("[%-9s] %5.1f s  %s%s%n", e.stage(), e.elapsed().toMillis() / 1000.0,
                        e.objectCount() > 0 ? e.objectCount() + " object(s)" : "",
                        e.detail() == null ? "" : "  " + e.detail());
            } else {
                err.printf("[%-9s] ...%s%n", e.stage(), e.detail() == null ? "" : " " + e.detail());
            }
            err.flush();
        };
    }
}
