package org.livepatch.pipeline;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.livepatch.xenbuild.BuildException;
import org.livepatch.xenbuild.BuildRequest;
import org.livepatch.xenbuild.CheckedRequest;
import org.livepatch.xenbuild.PatchName;
import org.livepatch.stage.Progress;
import org.livepatch.xenbuild.ReferenceCache;
import org.livepatch.xenbuild.RequestChecks;
import org.livepatch.xenbuild.XenSyms;
import org.livepatch.stage.StageClock;
import org.livepatch.io.AtomicFile;
import org.livepatch.io.Json;

/**
 * {@code livepatch-build --batch}: many patches (one per changeset, say) against one reference
 * build, as CI runs them. Every patch gets its own OUTPUT ({@code ROOT/<patch name>/}: payload,
 * report, logs) and its own outcome; a patch that fails costs only itself. The reference is built
 * (or found in the cache) once, first, with every CPU; then the patches run in parallel, each
 * with its share of the CPUs for its (small) rebuild.
 */
public final class BatchRun {
    /** The outcome of one patch. {@code exitCode} is what the single-patch command would return. */
    public record Entry(String name, Path patch, Status status, int exitCode, List<String> functions, Duration time,
            Path payload, String message) {}

    public enum Status {
        OK("ok"), NO_CHANGE("no-change"), FAILED("failed");

        private final String label;

        Status(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /**
     * The exit code each outcome is recorded with (table, {@code batch.json}): the command line's
     * numbers, which it passes in, so a patch's code is the one its single-patch run exits with.
     */
    public interface ExitCodes {
        int success();

        int of(Throwable failure);
    }

    /** Every entry, in the order of the patch list; {@code ok()} when all produced a payload. */
    public record Result(List<Entry> entries, Path summary) {
        public boolean ok() {
            return entries.stream().allMatch(e -> e.status() == Status.OK);
        }
    }

    private BatchRun() {}

    /**
     * The patches a batch names: every {@code *.patch} / {@code *.diff} of a directory (sorted by
     * name), or the lines of a list file (paths relative to the file; blank lines and {@code #}
     * comments skipped).
     */
    public static List<Path> patches(Path dirOrList) throws BuildException {
        try {
            if (Files.isDirectory(dirOrList)) {
                try (Stream<Path> s = Files.list(dirOrList)) {
                    List<Path> l = s.filter(p -> {
                        String n = p.getFileName().toString();
                        return (n.endsWith(".patch") || n.endsWith(".diff")) && Files.isRegularFile(p);
                    }).sorted().toList();
                    if (l.isEmpty()) {
                        throw new BuildException(BuildException.Reason.BAD_PATCH, dirOrList, "no *.patch or *.diff files in this directory");
                    }
                    return l;
                }
            }
            if (!Files.isRegularFile(dirOrList)) {
                throw new BuildException(BuildException.Reason.BAD_PATCH, dirOrList, "batch: neither a directory nor a list file");
            }
            List<Path> l = new ArrayList<>();
            Path base = dirOrList.toAbsolutePath().getParent();
            for (String line : Files.readAllLines(dirOrList, StandardCharsets.UTF_8)) {
                String t = line.strip();
                if (!t.isEmpty() && !t.startsWith("#")) {
                    l.add(base.resolve(t).normalize());
                }
            }
            if (l.isEmpty()) {
                throw new BuildException(BuildException.Reason.BAD_PATCH, dirOrList, "the list names no patch");
            }
            return l;
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.BAD_PATCH, dirOrList, e.getMessage(), e);
        }
    }

    /**
     * Runs every patch with the options of {@code template} (its {@code patch} is ignored, its
     * {@code outputDir} is the root, its {@code jobs} the CPUs to share). Failures before any work
     * (root not usable, two patches with one name, the reference build failing) throw; a failure
     * of one patch is recorded in its entry.
     */
    public static Result run(BuildRequest template, List<Path> patches, PrintWriter progress, ExitCodes exitCodes)
            throws BuildException, InterruptedException {
        Path root = template.outputDir();
        if (root == null) {
            throw new BuildException(BuildException.Reason.BAD_OUTPUT_DIR, null, "output directory not given (--output)");
        }
        root = root.toAbsolutePath().normalize();
        requireDistinctNames(patches);
        RequestChecks.requireEmptyOutput(root);

        int cpus = Math.max(1, template.jobs());
        int parallel = Math.min(patches.size(), cpus);
        int jobsEach = Math.max(1, cpus / parallel);

        // The reference first, alone and with every CPU: the patches would otherwise queue on its
        // lock while the first of them builds it with only its share. Checking the first patch's
        // request is the cheapest way to the cache key; any patch would do.
        ReferenceCache cache = null;
        List<CheckedRequest> checked = new ArrayList<>();
        Map<Integer, Entry> early = new HashMap<>();
        // --xen-syms, opened and indexed by the first check and shared by the others.
        Optional<XenSyms> xenSyms = Optional.empty();
        for (int i = 0; i < patches.size(); i++) {
            Path p = patches.get(i);
            long t0 = System.nanoTime();
            try {
                CheckedRequest c = RequestChecks.check(request(template, p, root.resolve(PatchName.of(p)), jobsEach), xenSyms);
                checked.add(c);
                xenSyms = c.xenSyms();
                if (cache == null) {
                    cache = new ReferenceCache(c.workspace());
                    primeReference(template, p, root, cpus, cache, c.xenSyms(), progress);
                }
            } catch (BuildException e) {
                checked.add(null);
                early.put(i, failed(p, exitCodes.of(e), e.getMessage(), Duration.ofNanos(System.nanoTime() - t0)));
                progress.printf("[%s] failed: %s%n", PatchName.of(p), e.getMessage());
                progress.flush();
            }
        }

        ExecutorService pool = Executors.newFixedThreadPool(parallel, r -> {
            Thread t = new Thread(r, "livepatch-build: batch");
            t.setDaemon(true);
            return t;
        });
        List<Entry> entries = new ArrayList<>();
        try {
            List<Future<Entry>> futures = new ArrayList<>();
            for (int i = 0; i < patches.size(); i++) {
                CheckedRequest c = checked.get(i);
                Path p = patches.get(i);
                ReferenceCache shared = cache;
                futures.add(c == null ? null : pool.submit(() -> runOne(c, p, shared, progress, exitCodes)));
            }
            for (int i = 0; i < patches.size(); i++) {
                if (futures.get(i) == null) {
                    entries.add(early.get(i));
                    continue;
                }
                try {
                    entries.add(futures.get(i).get());
                } catch (ExecutionException e) {
                    // A bug, not a user error: keep the batch going, say what happened in that entry.
                    entries.add(failed(patches.get(i), exitCodes.of(e.getCause()), "internal error: " + e.getCause(), Duration.ZERO));
                }
            }
        } finally {
            pool.shutdownNow();
        }
        Path summary = root.resolve("batch.json");
        writeSummary(summary, entries);
        return new Result(entries, summary);
    }

    /** Each patch's OUTPUT (and payload) is named after it: two patches with one name would share them. */
    static void requireDistinctNames(List<Path> patches) throws BuildException {
        Map<String, Path> byName = new LinkedHashMap<>();
        for (Path p : patches) {
            Path prev = byName.put(PatchName.of(p), p);
            if (prev != null) {
                throw new BuildException(BuildException.Reason.BAD_PATCH, p,
                        "has the same output name (" + PatchName.of(p) + ") as " + prev + "; rename one");
            }
        }
    }

    private static void primeReference(BuildRequest template, Path patch, Path root, int cpus, ReferenceCache cache,
            Optional<XenSyms> xenSyms, PrintWriter progress) throws BuildException, InterruptedException {
        // Only the reference is wanted here: a request whose OUTPUT is a scratch directory of the root.
        Path scratch = root.resolve(".reference");
        CheckedRequest c = RequestChecks.check(request(template, patch, scratch, cpus), xenSyms);
        progress.printf("[batch] reference build (cached or built once, -j%d)...%n", cpus);
        progress.flush();
        long t0 = System.nanoTime();
        cache.obtain(c, new StageClock(notices(progress, "batch")), root.resolve("logs"));
        progress.printf("[batch] reference ready in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        progress.flush();
    }

    private static Entry runOne(CheckedRequest c, Path patch, ReferenceCache cache, PrintWriter progress, ExitCodes exitCodes)
            throws InterruptedException {
        String name = PatchName.of(patch);
        long t0 = System.nanoTime();
        try {
            Files.createDirectories(c.outputDir());
            PipelineResult r = LivepatchPipeline.run(c, cache, new StageClock(notices(progress, name)));
            Duration d = Duration.ofNanos(System.nanoTime() - t0);
            List<String> funcs = r.functions().stream().map(PatchedFunction::name).toList();
            synchronized (progress) {
                progress.printf("[%s] ok in %.1f s: %s%s%n", name, d.toMillis() / 1000.0, String.join(", ", funcs),
                        r.lineOnly().isEmpty() ? "" : "; line numbers only, not patched: "
                                + String.join(", ", r.lineOnly().stream().map(LineOnlyFunction::name).toList()));
                progress.flush();
            }
            return new Entry(name, patch, Status.OK, exitCodes.success(), funcs, d, r.payload(), "");
        } catch (BuildException e) {
            return report(progress, failed(patch, exitCodes.of(e), e.getMessage(), Duration.ofNanos(System.nanoTime() - t0)));
        } catch (PipelineException e) {
            Status s = e.reason() == PipelineException.Reason.NO_FUNCTIONAL_CHANGE ? Status.NO_CHANGE : Status.FAILED;
            Entry f = new Entry(name, patch, s, exitCodes.of(e), List.of(), Duration.ofNanos(System.nanoTime() - t0),
                    null, e.getMessage());
            return report(progress, f);
        } catch (IOException e) {
            return report(progress, failed(patch, exitCodes.of(e), e.getMessage(), Duration.ofNanos(System.nanoTime() - t0)));
        }
    }

    /** Only the one-line notices (a damaged cache entry rebuilt, ...): stage progress would interleave. */
    private static Progress notices(PrintWriter progress, String name) {
        return e -> {
            if (e.phase() == org.livepatch.stage.StageEvent.Phase.NOTICE) {
                synchronized (progress) {
                    progress.printf("[%s] %s%n", name, e.detail());
                    progress.flush();
                }
            }
        };
    }

    private static Entry report(PrintWriter progress, Entry e) {
        synchronized (progress) {
            progress.printf("[%s] %s (exit %d): %s%n", e.name(), e.status().label(), e.exitCode(), e.message());
            progress.flush();
        }
        return e;
    }

    private static Entry failed(Path patch, int code, String message, Duration d) {
        return new Entry(PatchName.of(patch), patch, Status.FAILED, code, List.of(), d, null, message);
    }

    /** The template with one patch, its own OUTPUT and its share of the CPUs. */
    static BuildRequest request(BuildRequest t, Path patch, Path out, int jobs) {
        return new BuildRequest(t.srcDir(), patch, t.config(), out, jobs, t.skip(), t.debug(), t.xenDebug(), t.xenSyms(),
                t.depends(), t.xenDepends(), t.prelink(), t.strip(), t.skipCompilerCheck(), t.cacheDir(), t.environment(),
                t.allowedLayoutChanges(), t.extraMakeArgs(), t.reproduce());
    }

    private static void writeSummary(Path file, List<Entry> entries) throws BuildException {
        List<Object> list = new ArrayList<>();
        for (Entry e : entries) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", e.name());
            m.put("patch", e.patch().toString());
            m.put("status", e.status().label());
            m.put("exit_code", e.exitCode());
            m.put("functions", e.functions());
            m.put("seconds", e.time().toMillis() / 1000.0);
            m.put("payload", e.payload() == null ? null : e.payload().toString());
            m.put("message", e.message());
            list.add(m);
        }
        Map<String, Object> top = new LinkedHashMap<>();
        top.put("patches", list);
        writeJson(file, top);
    }

    /** {@code OUTPUT/batch.json} of either batch mode, written whole or not at all. */
    static void writeJson(Path file, Map<String, Object> top) throws BuildException {
        try {
            Files.createDirectories(file.getParent());
            AtomicFile.write(file, Json.write(top).getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.BAD_OUTPUT_DIR, file, e.getMessage(), e);
        }
    }

    /** The summary table printed at the end: patch, status, functions, time, exit code. */
    public static void printTable(Result r, PrintWriter out) {
        int w = Math.max(5, r.entries().stream().mapToInt(e -> e.name().length()).max().orElse(5));
        out.printf("%-" + w + "s  %-9s  %5s  %8s  %s%n", "patch", "status", "exit", "time", "functions / reason");
        for (Entry e : r.entries()) {
            String what = e.status() == Status.OK ? String.join(", ", e.functions()) : firstLine(e.message());
            out.printf("%-" + w + "s  %-9s  %5d  %7.1fs  %s%n", e.name(), e.status().label(), e.exitCode(),
                    e.time().toMillis() / 1000.0, what);
        }
        long ok = r.entries().stream().filter(e -> e.status() == Status.OK).count();
        out.printf("%d of %d patches produced a payload; summary %s%n", ok, r.entries().size(), r.summary());
        out.flush();
    }

    static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        String[] lines = s.split("\n");
        // "N change(s) cannot be live-patched safely:" says little without its first item.
        return lines.length > 1 && lines[0].endsWith(":") ? lines[0] + " " + lines[1].strip() : lines[0];
    }
}
