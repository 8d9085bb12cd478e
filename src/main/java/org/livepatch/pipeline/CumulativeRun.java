package org.livepatch.pipeline;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.livepatch.io.FileTrees;
import org.livepatch.stage.StageClock;
import org.livepatch.stage.StageEvent;
import org.livepatch.stage.Progress;
import org.livepatch.xenbuild.BuildException;
import org.livepatch.xenbuild.BuildIdProof;
import org.livepatch.xenbuild.BuildOutcome;
import org.livepatch.xenbuild.BuildRequest;
import org.livepatch.xenbuild.CacheDamage;
import org.livepatch.xenbuild.CheckedRequest;
import org.livepatch.xenbuild.PatchName;
import org.livepatch.xenbuild.PatchedBuildResult;
import org.livepatch.xenbuild.ReferenceBuild;
import org.livepatch.xenbuild.ReferenceCache;
import org.livepatch.xenbuild.RequestChecks;
import org.livepatch.xenbuild.SeriesTree;
import org.livepatch.xenbuild.SkipStage;
import org.livepatch.xenbuild.SourcePatch;
import org.livepatch.xenbuild.ToolchainPackages;
import org.livepatch.xenbuild.XenSyms;

/**
 * {@code livepatch-build --batch DIR|LIST --cumulative}: the patches are a series (a release
 * branch's changesets, in order) and changeset k gets the payload that holds everything from the
 * base to k: changesets 1..k applied in order to the pristine source, diffed against the one
 * reference build. Each payload depends on the hypervisor's build-id, not on payload k-1, and is
 * named after changeset k, so that on a host {@code xen-livepatch replace} swaps k-1 for k.
 *
 * <p>How a step is made (see {@link SeriesTree}): the patched tree is kept from one step to the
 * next, changeset k is applied on top and only the objects made from the files it touches are
 * compiled; the payload then diffs every object compiled so far against the reference. Diffs of
 * objects whose patched bytes did not change since an earlier step are reused ({@link DiffStage.Memo}).
 *
 * <p>What a row can say:
 * <ul>
 * <li>{@code ok}: the cumulative payload is written.
 * <li>{@code no-change}: nothing of this build differs from the base yet (an Arm-only or tools-only
 *     changeset at the start of the series): no payload, and nothing wrong.
 * <li>{@code excluded}: left out by {@code --exclude}; never applied, so later payloads lack it.
 * <li>{@code refused}: this changeset makes the series unpatchable (does not apply on top of the
 *     earlier ones, does not compile, a change live patching cannot carry, ...): the first such
 *     row is the series' verdict.
 * <li>{@code blocked}: a later changeset, whose cumulative payload would hold the refused one.
 *     Its patch is still applied (and its failure to apply reported), but nothing is built.
 * </ul>
 * A changeset that touches nothing this build compiles (Arm sources on x86, tools/) is carried:
 * its payload is the previous one's content under its own name. One that changes the
 * hypervisor's build files and no source (the version number in {@code xen/Makefile}, a Kconfig
 * default) is refused: a live patch cannot carry it, the running hypervisor would claim a version
 * or configuration it does not have; exclude it and ship it with the next reboot-time update.
 */
public final class CumulativeRun {
    private static final String TREE_DIR = ".series";

    public enum Status {
        OK("ok"), NO_CHANGE("no-change"), EXCLUDED("excluded"), REFUSED("refused"), BLOCKED("blocked");

        private final String label;

        Status(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }

        /** The status a table or {@code batch.json} names with {@code label}. */
        public static Optional<Status> of(String label) {
            for (Status st : values()) {
                if (st.label.equals(label)) {
                    return Optional.of(st);
                }
            }
            return Optional.empty();
        }
    }

    /**
     * {@code --slice I/N}: part I (1-based) of the series cut into N contiguous parts whose sizes
     * differ by at most one. Contiguous, not interleaved, because a slice must build every
     * changeset before its part anyway (to know whether one of them made the series unpatchable,
     * and to reach the tree its first payload is made from): the later the part, the more it
     * repeats, and contiguous parts keep that repetition to what the order forces.
     */
    public record Slice(int index, int count) {
        public Slice {
            if (count < 1 || index < 1 || index > count) {
                throw new IllegalArgumentException("--slice " + index + "/" + count + ": I must be 1..N and N at least 1");
            }
        }

        /** Parses {@code I/N}; the message of the exception is the user's one line. */
        public static Slice parse(String text) {
            var m = java.util.regex.Pattern.compile("([0-9]{1,6})/([0-9]{1,6})").matcher(text.strip());
            if (!m.matches()) {
                throw new IllegalArgumentException("--slice " + text + ": expected I/N, e.g. 2/3 (part I of N, counted from 1)");
            }
            return new Slice(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
        }

        /** The first changeset (0-based) of this part in a series of {@code size}. */
        public int from(int size) {
            return (int) ((long) (index - 1) * size / count);
        }

        /** One past the last changeset of this part. */
        public int to(int size) {
            return (int) ((long) index * size / count);
        }

        /** The part (1-based) changeset {@code k} (0-based) belongs to. */
        public int owner(int k, int size) {
            for (int i = 1; i <= count; i++) {
                if (k < (int) ((long) i * size / count)) {
                    return i;
                }
            }
            throw new IllegalArgumentException("changeset " + k + " is outside a series of " + size);
        }

        /** A series shorter than N would leave parts empty: refused, as the CI job count is then wrong. */
        public void requireFits(int size) {
            if (count > size) {
                throw new IllegalArgumentException("--slice " + label() + ": the series has only " + size + " changeset(s), fewer than N");
            }
        }

        public String label() {
            return index + "/" + count;
        }
    }

    /**
     * One changeset's outcome.
     *
     * @param functions every function the cumulative payload patches (as Xen resolves them)
     * @param added     functions the previous payload of the series did not patch
     * @param own       what this changeset itself did to the tree ("2 object(s) compiled", "nothing this build compiles")
     * @param blockedBy the refused changeset a {@code blocked} row's payload would hold, else null
     */
    public record Row(String name, Path patch, Status status, int exitCode, List<String> functions, List<String> added,
            String own, Duration time, Path payload, String message, String blockedBy) {
        public Row {
            functions = List.copyOf(functions);
            added = List.copyOf(added);
        }
    }

    /**
     * @param rows     one per changeset, in series order
     * @param refused  the first changeset that made the series unpatchable, if any
     * @param excluded the names left out, in series order
     */
    public record Result(List<Row> rows, Optional<Row> refused, List<String> excluded, Path summary, Optional<Slice> slice,
            int from) {
        public Result {
            rows = List.copyOf(rows);
            excluded = List.copyOf(excluded);
        }

        public Result(List<Row> rows, Optional<Row> refused, List<String> excluded, Path summary) {
            this(rows, refused, excluded, summary, Optional.empty(), 0);
        }

        /**
         * The rows this run wrote payloads for: all of them, or with {@code --slice} those of its
         * part (the rows before it were built only to carry the series' state).
         */
        public List<Row> own() {
            return rows.subList(from, rows.size());
        }

        /** No changeset refused (excluded and no-change rows are fine). */
        public boolean ok() {
            return refused.isEmpty();
        }

        /** The last changeset whose cumulative payload was written, if any. */
        public Optional<Row> shipsThrough() {
            Row last = null;
            for (Row r : rows) {
                if (r.status() == Status.OK) {
                    last = r;
                }
            }
            return Optional.ofNullable(last);
        }
    }

    private CumulativeRun() {}

    /**
     * The names {@code --exclude} and {@code --exclude-from} give, checked against the series: a
     * name is a changeset's payload name (what the table prints) or its file name. An unknown
     * name is refused (BAD_OPTION): a typo would otherwise ship the very changeset meant to be
     * left out, or block the series with no hint why. Returns payload names.
     */
    public static Set<String> exclusions(List<Path> series, List<String> names, Path file) throws BuildException {
        List<String> all = new ArrayList<>(names);
        if (file != null) {
            try {
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    // "0001-update-Xen-version.patch  # version bump: reboot-time update" is one name.
                    String t = line.replaceFirst("#.*", "").strip();
                    if (!t.isEmpty()) {
                        all.add(t.split("\\s+")[0]);
                    }
                }
            } catch (IOException e) {
                throw new BuildException(BuildException.Reason.BAD_OPTION, file, "--exclude-from: cannot read: " + e.getMessage(), e);
            }
        }
        Set<String> out = new LinkedHashSet<>();
        for (String n : all) {
            Optional<Path> p = series.stream()
                    .filter(s -> PatchName.of(s).equals(n) || s.getFileName().toString().equals(n)).findFirst();
            if (p.isEmpty()) {
                throw new BuildException(BuildException.Reason.BAD_OPTION, file,
                        "--exclude " + n + ": no changeset of the series has this name (the names are those of the table, e.g. "
                                + PatchName.of(series.get(0)) + ", or the patch file names)");
            }
            out.add(PatchName.of(p.get()));
        }
        return out;
    }

    /**
     * Builds the cumulative payload of every changeset of {@code series} (in this order) into
     * {@code OUTPUT/<name>/}, with {@code OUTPUT/batch.json}. Failures before any changeset is
     * built (OUTPUT not usable, two changesets with one name, the reference failing) throw; a
     * changeset's failure is its row.
     */
    public static Result run(BuildRequest template, List<Path> series, Set<String> excluded, PrintWriter progress,
            BatchRun.ExitCodes exitCodes) throws BuildException, InterruptedException {
        return run(template, series, excluded, Optional.empty(), progress, exitCodes);
    }

    /**
     * As {@link #run(BuildRequest, List, Set, PrintWriter, BatchRun.ExitCodes)}, or with a slice
     * only part I's payloads and rows: the changesets before the part are applied, compiled,
     * diffed, assembled and checked exactly as the whole run does them (so a refusal among them
     * blocks this part, and this part's payloads are the whole run's bytes), but their payloads
     * are made in the work directory and not kept; those after the part are not looked at.
     */
    public static Result run(BuildRequest template, List<Path> series, Set<String> excluded, Optional<Slice> slice,
            PrintWriter progress, BatchRun.ExitCodes exitCodes) throws BuildException, InterruptedException {
        if (slice.isPresent()) {
            try {
                slice.get().requireFits(series.size());
            } catch (IllegalArgumentException e) {
                throw new BuildException(BuildException.Reason.BAD_OPTION, null, e.getMessage());
            }
        }
        int from = slice.map(x -> x.from(series.size())).orElse(0);
        int to = slice.map(x -> x.to(series.size())).orElse(series.size());
        Path root = template.outputDir();
        if (root == null) {
            throw new BuildException(BuildException.Reason.BAD_OUTPUT_DIR, null, "output directory not given (--output)");
        }
        if (template.skip() != SkipStage.NONE) {
            throw new BuildException(BuildException.Reason.BAD_OPTION, null,
                    "-k " + template.skip().name().toLowerCase(java.util.Locale.ROOT) + " does not combine with --cumulative");
        }
        root = root.toAbsolutePath().normalize();
        BatchRun.requireDistinctNames(series);
        RequestChecks.requireEmptyOutput(root);
        int cpus = Math.max(1, template.jobs());

        // The reference and everything the steps share, checked once (with the first changeset:
        // the checks that do not concern the patch are the same for all).
        CheckedRequest first = RequestChecks.checkSeriesStep(BatchRun.request(template, series.get(0), root.resolve(TREE_DIR),
                cpus), Optional.empty());
        ReferenceCache cache = new ReferenceCache(first.workspace());
        progress.printf("[series] reference build (cached or built once, -j%d)...%n", cpus);
        progress.flush();
        long r0 = System.nanoTime();
        ReferenceBuild ref = cache.obtain(first, new StageClock(notices(progress, "series")), root.resolve("logs"));
        // As the reference stage does: a build that must reproduce a shipped hypervisor (--debian)
        // is proven by its build-id before any changeset is diffed against it.
        Optional<BuildIdProof> proof = BuildIdProof.ifRequested(first, ref);
        progress.printf("[series] reference ready in %.1f s%n", (System.nanoTime() - r0) / 1e9);
        progress.flush();
        XenSyms symbols = first.xenSyms().isPresent() ? first.xenSyms().get() : XenSyms.open(ref.xenSyms());
        if (first.xenSyms().isEmpty() && !template.skipCompilerCheck()) {
            RequestChecks.checkCompiler(symbols, first.toolchain());
        }
        Optional<ToolchainPackages> packages = ToolchainPackages.fromEnvironment(template.environment());

        List<Row> rows = new ArrayList<>();
        Row refused = null;
        List<String> previous = List.of();
        DiffStage.Memo memo = new DiffStage.Memo();
        Map<String, Path> excludedPatches = new LinkedHashMap<>();
        try (SeriesTree tree = SeriesTree.create(first, ref, root.resolve(TREE_DIR).resolve("work"))) {
            for (int k = 0; k < to; k++) {
                Path p = series.get(k);
                String name = PatchName.of(p);
                // An earlier slice's payload is made where nothing ships it from.
                Path out = k < from ? root.resolve(TREE_DIR).resolve("elsewhere").resolve(name) : root.resolve(name);
                long t0 = System.nanoTime();
                if (excluded.contains(name)) {
                    excludedPatches.put(name, p);
                    rows.add(report(progress, new Row(name, p, Status.EXCLUDED, exitCodes.success(), List.of(), List.of(),
                            "left out (--exclude)", Duration.ZERO, null, "excluded: not applied, so no later payload holds it", null)));
                    continue;
                }
                Row row;
                if (refused != null) {
                    row = blocked(tree, p, refused, excludedPatches, root, exitCodes, t0);
                } else {
                    row = step(tree, template, p, out, cpus, first, symbols, proof, packages, memo, previous,
                            excludedPatches, cache, exitCodes, progress, t0);
                    if (row.status() == Status.REFUSED) {
                        refused = row;
                    } else if (row.status() == Status.OK) {
                        previous = row.functions();
                    }
                }
                rows.add(report(progress, row));
            }
            // The earlier parts' payloads were made only to check them: their slices ship them.
            FileTrees.delete(root.resolve(TREE_DIR).resolve("elsewhere"));
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.WORKSPACE, root.resolve(TREE_DIR), e.getMessage(), e);
        }
        Path summary = root.resolve("batch.json");
        Result result = new Result(rows, Optional.ofNullable(refused), List.copyOf(excludedPatches.keySet()), summary, slice, from);
        writeSummary(summary, result, slice.isPresent() ? Optional.of(SeriesFacts.of(series, excluded, slice.get())) : Optional.empty());
        return result;
    }

    /** One changeset, on top of the tree the earlier ones left. */
    private static Row step(SeriesTree tree, BuildRequest template, Path patch, Path out, int cpus, CheckedRequest first,
            XenSyms symbols, Optional<BuildIdProof> proof, Optional<ToolchainPackages> packages, DiffStage.Memo memo, List<String> previous,
            Map<String, Path> excludedPatches, ReferenceCache cache, BatchRun.ExitCodes exitCodes, PrintWriter progress,
            long t0) throws InterruptedException {
        String name = PatchName.of(patch);
        StageClock clock = new StageClock(notices(progress, name));
        String own = "";
        try {
            CheckedRequest c = RequestChecks.checkSeriesStep(BatchRun.request(template, patch, out, cpus), first.xenSyms());
            Files.createDirectories(c.logDir());
            Files.write(out.resolve(".config"), c.config().content());
            Set<String> xenFiles = c.patch().touchedHypervisorFiles();
            if (!xenFiles.isEmpty() && c.patch().touchedFiles().stream().filter(f -> f.startsWith("xen/")).noneMatch(CumulativeRun::compiled)) {
                throw new BuildException(BuildException.Reason.PATCH_NO_COMPILED_FILE, c.patch().file(),
                        "changes the hypervisor's build but no compiled file (" + String.join(", ", c.patch().touchedFiles())
                                + "): a live patch cannot carry it (exclude it; a reboot-time update ships it)");
            }
            SeriesTree.Step done;
            try {
                done = tree.advance(c.patch(), cpus, c.logDir());
            } catch (BuildException e) {
                if (e.reason() != BuildException.Reason.PATCH_DOES_NOT_APPLY) {
                    throw e;
                }
                throw new BuildException(e.reason(), c.patch().file(),
                        "does not apply on top of the earlier changesets: " + e.getMessage().substring(e.getMessage().indexOf(": ") + 2)
                                + overlap(c.patch(), excludedPatches));
            }
            own = done.affected().isEmpty() ? (xenFiles.isEmpty() ? "nothing in xen/" : "nothing this build compiles")
                    : done.compiled().size() + " of " + done.affected().size() + " affected object(s) compiled"
                            + (done.disproved().isEmpty() ? "" : " (GCC disproved the unit shortcut for "
                                    + String.join(", ", done.disproved()) + ": compiled after all)");
            if (tree.compiled().isEmpty()) {
                return new Row(name, patch, Status.NO_CHANGE, exitCodes.of(new PipelineException(PipelineException.Reason.NO_FUNCTIONAL_CHANGE, "")),
                        List.of(), List.of(), own, since(t0), null, "nothing of this build differs from the base yet", null);
            }
            PatchedBuildResult objs = tree.collect(c, clock);
            BuildOutcome built = new BuildOutcome(c, tree.reference(), objs, clock.times(), Optional.of(symbols), proof);
            Diffed diffed = new DiffStage(clock, memo).run(built);
            Assembled assembled = new AssembleStage(clock).run(diffed);
            Verified verified = new VerifyStage(clock).run(assembled);
            PipelineResult r = new ReportStage(clock, packages).run(verified);
            List<String> funcs = r.functions().stream().map(PatchedFunction::name).toList();
            List<String> added = funcs.stream().filter(f -> !previous.contains(f)).toList();
            return new Row(name, patch, Status.OK, exitCodes.success(), funcs, added, own, since(t0), r.payload(), "", null);
        } catch (BuildException e) {
            if (e.reason() == BuildException.Reason.NO_CHANGED_OBJECTS) {
                return new Row(name, patch, Status.NO_CHANGE, exitCodes.of(e), List.of(), List.of(), own, since(t0), null,
                        "every object compiled so far is identical to the base's", null);
            }
            return refusedRow(name, patch, exitCodes.of(e), own, t0, e.getMessage());
        } catch (PipelineException e) {
            if (e.reason() == PipelineException.Reason.NO_FUNCTIONAL_CHANGE) {
                return new Row(name, patch, Status.NO_CHANGE, exitCodes.of(e), List.of(), List.of(), own, since(t0), null, e.getMessage(), null);
            }
            return refusedRow(name, patch, exitCodes.of(e), own, t0, e.getMessage());
        } catch (CacheDamage d) {
            // The entry the earlier payloads were made from is damaged: drop it so the next run
            // builds it again; this run cannot go on from it.
            try {
                cache.discard(tree.reference(), d, clock);
            } catch (BuildException e) {
                // Reported below with the damage itself.
            }
            return refusedRow(name, patch, exitCodes.of(new BuildException(BuildException.Reason.WORKSPACE, d.file(), d.getMessage())),
                    own, t0, "the cached reference is damaged (" + d.getMessage() + "); it was discarded: run the series again");
        } catch (IOException e) {
            return refusedRow(name, patch, exitCodes.of(e), own, t0, e.getMessage());
        } catch (RuntimeException e) {
            // A bug, not the changeset's fault: the row says so; the series stops being built at it.
            return refusedRow(name, patch, exitCodes.of(e), own, t0, "internal error: " + e);
        }
    }

    private static Row refusedRow(String name, Path patch, int code, String own, long t0, String message) {
        return new Row(name, patch, Status.REFUSED, code, List.of(), List.of(), own, since(t0), null, message, null);
    }

    /**
     * A changeset after the refused one: its payload would hold that one, so none is built. Its
     * patch is still applied, so that the tree (and this row) stay true to the series.
     */
    private static Row blocked(SeriesTree tree, Path patch, Row refused, Map<String, Path> excludedPatches, Path root,
            BatchRun.ExitCodes exitCodes, long t0) {
        String name = PatchName.of(patch);
        String also = "";
        try {
            SourcePatch sp = SourcePatch.parse(patch);
            Path log = root.resolve(TREE_DIR).resolve("logs").resolve(name + ".apply-patch.log");
            Files.createDirectories(log.getParent());
            tree.applyOnly(sp, log);
        } catch (BuildException e) {
            also = "; besides, it " + (e.reason() == BuildException.Reason.PATCH_DOES_NOT_APPLY
                    ? "does not apply on top of the earlier changesets: " + e.getMessage().substring(e.getMessage().indexOf(": ") + 2)
                    : "fails: " + e.getMessage());
        } catch (IOException e) {
            also = "; besides, " + e.getMessage();
        }
        return new Row(name, patch, Status.BLOCKED, refused.exitCode(), List.of(), List.of(), "", since(t0), null,
                "its payload would hold " + refused.name() + ", refused (exit " + refused.exitCode() + "); --exclude "
                        + refused.name() + " to ship it" + also, refused.name());
    }

    /** Why a changeset may not apply after an exclusion: the excluded ones that touch its files. */
    private static String overlap(SourcePatch patch, Map<String, Path> excludedPatches) {
        List<String> hints = new ArrayList<>();
        for (var e : excludedPatches.entrySet()) {
            try {
                Set<String> common = new TreeSet<>(SourcePatch.parse(e.getValue()).touchedFiles());
                common.retainAll(patch.touchedFiles());
                if (!common.isEmpty()) {
                    hints.add(e.getKey() + " (" + String.join(", ", common) + ")");
                }
            } catch (BuildException ignored) {
                // An excluded patch that does not parse touches nothing we can name.
            }
        }
        return hints.isEmpty() ? "" : " (excluded changesets touch the same files: " + String.join("; ", hints)
                + "; this one probably needs them: exclude it too, or ship them)";
    }

    private static boolean compiled(String path) {
        return path.endsWith(".c") || path.endsWith(".h") || path.endsWith(".S") || path.endsWith(".s") || path.endsWith(".inc");
    }

    private static Duration since(long t0) {
        return Duration.ofNanos(System.nanoTime() - t0);
    }

    private static Progress notices(PrintWriter progress, String name) {
        return e -> {
            if (e.phase() == StageEvent.Phase.NOTICE) {
                progress.printf("[%s] %s%n", name, e.detail());
                progress.flush();
            }
        };
    }

    private static Row report(PrintWriter progress, Row r) {
        progress.printf("[%s] %s in %.1f s%s%n", r.name(), r.status().label(), r.time().toMillis() / 1000.0,
                r.status() == Status.OK ? ": " + r.functions().size() + " function(s)" + (r.added().isEmpty() ? "" : ", new: " + String.join(", ", r.added()))
                        : r.message().isEmpty() ? "" : ": " + BatchRun.firstLine(r.message()));
        progress.flush();
        return r;
    }

    /**
     * What {@code --collect} checks the slices against each other with, recorded in a slice's
     * {@code batch.json}: the whole series (names and the SHA-256 of each patch file, in order),
     * every exclusion (also those after the part) and the slice.
     */
    record SeriesFacts(List<Map<String, Object>> series, List<String> exclusions, Slice slice) {
        static SeriesFacts of(List<Path> patches, Set<String> excluded, Slice slice) throws BuildException {
            List<Map<String, Object>> list = new ArrayList<>();
            List<String> ex = new ArrayList<>();
            for (Path p : patches) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("name", PatchName.of(p));
                try {
                    m.put("sha256", java.util.HexFormat.of().formatHex(
                            java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
                } catch (IOException e) {
                    throw new BuildException(BuildException.Reason.BAD_PATCH, p, "cannot read: " + e.getMessage(), e);
                } catch (java.security.NoSuchAlgorithmException e) {
                    throw new IllegalStateException(e);
                }
                list.add(m);
                if (excluded.contains(PatchName.of(p))) {
                    ex.add(PatchName.of(p));
                }
            }
            return new SeriesFacts(list, ex, slice);
        }
    }

    static void writeSummary(Path file, Result result, Optional<SeriesFacts> facts) throws BuildException {
        List<Object> list = new ArrayList<>();
        for (int k = 0; k < result.rows().size(); k++) {
            Row e = result.rows().get(k);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", e.name());
            m.put("patch", e.patch().toString());
            m.put("status", e.status().label());
            m.put("exit_code", e.exitCode());
            m.put("functions", e.functions());
            m.put("new_functions", e.added());
            m.put("changeset", e.own());
            m.put("seconds", e.time().toMillis() / 1000.0);
            m.put("payload", e.payload() == null || k < result.from() ? null : e.payload().toString());
            m.put("message", e.message());
            m.put("blocked_by", e.blockedBy());
            if (facts.isPresent()) {
                // The part that ships this row; a row of an earlier part keeps its status here so
                // that --collect can check the slices agree on it.
                m.put("slice", facts.get().slice().owner(k, facts.get().series().size()));
            }
            list.add(m);
        }
        Map<String, Object> top = new LinkedHashMap<>();
        top.put("mode", "cumulative");
        if (facts.isPresent()) {
            Map<String, Object> sl = new LinkedHashMap<>();
            sl.put("index", facts.get().slice().index());
            sl.put("count", facts.get().slice().count());
            sl.put("first_row", result.from());
            top.put("slice", sl);
            top.put("series", facts.get().series());
            top.put("exclusions", facts.get().exclusions());
        }
        top.put("patches", list);
        top.put("excluded", result.excluded());
        top.put("ships_through", result.shipsThrough().map(Row::name).orElse(null));
        if (result.refused().isPresent()) {
            Row r = result.refused().get();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", r.name());
            m.put("exit_code", r.exitCode());
            m.put("reason", r.message());
            top.put("first_unpatchable", m);
        } else {
            top.put("first_unpatchable", null);
        }
        BatchRun.writeJson(file, top);
    }

    /**
     * The table printed at the end: one row per changeset (status, exit code, time, what its
     * payload adds or why there is none), then the series' verdict: how far it ships, which
     * changeset first made it unpatchable and why, and what was left out.
     */
    public static void printTable(Result r, PrintWriter out) {
        int w = Math.max(9, r.rows().stream().mapToInt(e -> e.name().length()).max().orElse(9));
        if (r.slice().isPresent()) {
            out.printf("slice %s: changesets %d..%d; the %d before them were built to carry the series, not written%n",
                    r.slice().get().label(), r.from() + 1, r.rows().size(), r.from());
        }
        out.printf("%-" + w + "s  %-9s  %5s  %8s  %s%n", "changeset", "status", "exit", "time", "cumulative payload / reason");
        for (Row e : r.own()) {
            String what = switch (e.status()) {
                case OK -> e.functions().size() + " function(s)" + (e.added().isEmpty() ? "" : "; new: " + String.join(", ", e.added()))
                        + (e.own().startsWith("nothing") ? " (this changeset: " + e.own() + ")" : "");
                case BLOCKED -> "blocked by " + e.blockedBy() + (e.message().contains("; besides, ")
                        ? BatchRun.firstLine(e.message()).substring(BatchRun.firstLine(e.message()).indexOf("; besides, ")) : "");
                default -> BatchRun.firstLine(e.message());
            };
            out.printf("%-" + w + "s  %-9s  %5d  %7.1fs  %s%n", e.name(), e.status().label(), e.exitCode(),
                    e.time().toMillis() / 1000.0, what);
        }
        long ok = r.own().stream().filter(e -> e.status() == Status.OK).count();
        out.printf("%d of %d changesets have a cumulative payload; ships through %s%n", ok, r.own().size(),
                r.shipsThrough().map(Row::name).orElse("none"));
        if (r.refused().isPresent()) {
            Row f = r.refused().get();
            out.printf("first unpatchable: %s (exit %d): %s%n", f.name(), f.exitCode(), BatchRun.firstLine(f.message()));
        } else {
            out.println("first unpatchable: none");
        }
        out.printf("excluded: %s%n", r.excluded().isEmpty() ? "none" : String.join(", ", r.excluded()));
        out.printf("summary %s%n", r.summary());
        out.flush();
    }
}
