package org.livepatch.xenbuild;

import org.livepatch.io.FileTrees;
import org.livepatch.stage.StageClock;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The patched half of a run: an image of the built reference tree (hard links, see
 * {@link LinkedTree}, or a copy), the patch applied to it, only the objects whose inputs the
 * patch touched rebuilt (by replaying their recorded commands, see {@link RecordedCommands}, or
 * by make), each paired with its original.
 *
 * <p>Because the copy keeps the reference's modification times and every object's recorded
 * command line, make sees exactly the patched files as newer and rebuilds exactly what depends
 * on them, with the same commands; nothing is relinked. Upstream instead applies the patch and
 * runs an incremental build through a compiler wrapper that copies out each object it compiles,
 * then reverts the patch and builds again for the originals of those objects, relinking
 * {@code xen-syms} both times. Here the originals are already in the reference tree, so one
 * rebuild of the touched objects and no link are enough.
 *
 * <p>OUTPUT afterwards, upstream's layout: {@code original/xen/<obj>}, {@code patched/xen/<obj>}
 * for the changed objects (with the {@code .<obj>.cmd} command line the build recorded, when it did), {@code xen-syms} (the reference's), {@code logs/}. The work tree
 * ({@code OUTPUT/work}) is removed after success unless {@code --debug}.
 */
public final class PatchedBuild {
    public static final String ORIGINAL_DIR = "original";
    public static final String PATCHED_DIR = "patched";
    public static final String WORK_DIR = "work";
    /**
     * Environment variable: {@code 0} turns off the fast path (hard-linked work tree, replayed
     * commands) and copies the tree and asks make, as before; for comparisons and as an escape hatch.
     */
    public static final String REPLAY_ENV = "LPB_REPLAY";

    public static final String STAGE_COPY = "copy-reference";
    public static final String STAGE_APPLY = "apply-patch";
    public static final String STAGE_AFFECTED = "find-affected";
    public static final String STAGE_COMPILE = "patched-build";
    public static final String STAGE_COLLECT = "collect-objects";

    private PatchedBuild() {}

    public static PatchedBuildResult run(CheckedRequest req, ReferenceBuild ref, StageClock clock)
            throws BuildException, InterruptedException, CacheDamage {
        Path out = req.outputDir();
        Path work = out.resolve(WORK_DIR);
        Path logs = req.logDir();
        boolean linked = false;
        try {
            // Hard links instead of a copy where the rebuild can name every file it writes
            // (replayed commands on a Kbuild tree); see LinkedTree for the rule that keeps the
            // cache intact.
            linked = !"0".equals(req.request().environment().get(REPLAY_ENV))
                    && new XenMake(ref.tree(), Map.of(), List.of()).isKbuild()
                    && LinkedTree.sameFileSystem(ref.tree(), out);
            clock.start(STAGE_COPY, 0, ref.tree() + " -> " + work + (linked ? " (hard links)" : ""));
            if (linked) {
                LinkedTree.link(ref.tree(), work);
            } else {
                copyTree(ref.tree(), work, req, logs.resolve(STAGE_COPY + ".log"));
            }
            clock.finish(0, null);

            clock.start(STAGE_APPLY, 0, req.patch().file().toString());
            if (linked) {
                for (String f : req.patch().touchedFiles()) {
                    LinkedTree.makePrivate(work, f);
                }
            }
            applyPatch(req.patch(), work, logs.resolve(STAGE_APPLY + ".log"));
            clock.finish(0, null);

            clock.start(STAGE_AFFECTED, 0, null);
            DependencyIndex deps = DependencyIndexFile.load(ref.tree());
            Set<String> affected = new LinkedHashSet<>(deps.affectedBy(req.patch().touchedFiles()));
            List<String> fresh = new ArrayList<>();
            for (String s : req.patch().addedHypervisorSources()) {
                String obj = s.substring(0, s.lastIndexOf('.')) + ".o";
                if (!Files.exists(ref.object(obj))) {
                    fresh.add(obj);
                    affected.add(obj);
                }
            }
            if (affected.isEmpty()) {
                throw new BuildException(BuildException.Reason.PATCH_NO_COMPILED_FILE, req.patch().file(),
                        "no object of this build (config " + req.config().file().getFileName() + ") is made from "
                                + String.join(", ", req.patch().touchedFiles()));
            }
            List<String> objects = List.copyOf(affected);

            RecordedCommands.Plan plan = linked ? RecordedCommands.plan(ref.tree(), objects, deps.derived())
                    : new RecordedCommands.Plan(java.util.Optional.empty(), "copied tree");
            // Before anything is compiled: the cached files this payload is made from must be the
            // ones the reference build left (see ReferenceEntry). make may read any file.
            long v0 = System.nanoTime();
            int verified;
            if (plan.commands().isPresent()) {
                List<String> read = readSet(req.patch().touchedFiles(), deps, objects);
                ref.entry().verify(read);
                verified = read.size();
            } else {
                verified = ref.entry().verifyAll();
            }
            clock.finish(objects.size(), String.join(" ", objects) + " (verified " + verified + " cached file(s) in "
                    + (System.nanoTime() - v0) / 1_000_000 + " ms)");
            if (plan.commands().isPresent()) {
                // Objects reached only through headers are compiled only when their units changed in
                // a way that can reach their code (UnitShortcut, as a series step does).
                List<String> build = unitsToCompile(req, ref, work, deps, objects, plan.commands().get());
                if (build.size() < objects.size()) {
                    objects = build;
                    plan = RecordedCommands.plan(ref.tree(), objects, deps.derived());
                }
            }
            clock.start(STAGE_COMPILE, objects.size(), String.join(" ", objects));
            Path compileLog = logs.resolve(STAGE_COMPILE + ".log");
            if (plan.commands().isPresent()) {
                RecordedCommands replay = plan.commands().get();
                for (String w : replay.writes()) {
                    LinkedTree.unlink(work.resolve("xen"), w);
                }
                replay.run(work, req.makeEnvironment(), req.jobs(), compileLog);
            } else {
                if (linked) {
                    // make may write anywhere (a regenerated header, a .cmd file): no shared files.
                    LinkedTree.makeAllPrivate(work);
                }
                XenMake make = new XenMake(work, req.makeEnvironment(), req.makeArgs());
                make.buildObjects(objects, req.jobs(), out, compileLog);
            }
            clock.finish(objects.size(), plan.commands().isPresent() ? "replayed recorded commands" : "make (" + plan.whyNot() + ")");

            clock.start(STAGE_COLLECT, objects.size(), null);
            PatchedBuildResult result = collect(req, ref, work, objects, deps.derived(), clock);
            clock.finish(result.changed().size() + result.added().size(), String.join(" ", result.changedPaths()));
            // While both trees are still there: a changed type layout stops the run here (exit 30).
            LayoutCheck.Report layout = LayoutCheck.run(req, ref.tree(), work, result, clock);

            if (!req.request().debug()) {
                FileTrees.delete(work);
                Files.deleteIfExists(out.resolve("livepatch-objects.mk"));
            } else if (linked) {
                // Kept for the user, who may edit it: no file of it may still be the cache's.
                LinkedTree.makeAllPrivate(work);
            }
            return new PatchedBuildResult(result.changed(), result.added(), result.rebuilt(), result.derived(),
                    result.referenceXenSyms(), result.xenSyms(), clock.times(), layout);
        } catch (IOException e) {
            unshare(linked, work, req);
            throw new BuildException(BuildException.Reason.WORKSPACE, out, e.getMessage(), e);
        } catch (BuildException | RuntimeException | InterruptedException | CacheDamage e) {
            unshare(linked, work, req);
            throw e;
        }
    }

    /**
     * The objects of {@code objects} to compile: those whose source the patch changes, new ones,
     * and those reached through headers whose units changed in a way that can reach their code
     * ({@link UnitShortcut}; each verdict in {@code logs/units.log}), with what derives from them.
     * The units before the patch are preprocessed in the reference tree (only read there).
     */
    private static List<String> unitsToCompile(CheckedRequest req, ReferenceBuild ref, Path work, DependencyIndex deps,
            List<String> objects, RecordedCommands commands) throws IOException, InterruptedException, BuildException {
        Map<String, String> viaHeaders = UnitShortcut.viaHeaders(commands, req.patch());
        if (viaHeaders.isEmpty()) {
            return objects;
        }
        String mode = UnitShortcut.mode(req.request().environment());
        Map<String, String> newTexts = new java.util.TreeMap<>();
        for (String f : req.patch().touchedFiles()) {
            if (f.endsWith(".h") && Files.isRegularFile(work.resolve(f))) {
                newTexts.put(f, Files.readString(work.resolve(f), StandardCharsets.ISO_8859_1));
            }
        }
        Map<String, Set<String>> macroOnly = UnitShortcut.macroOnly(mode, viaHeaders.keySet(), deps.objects(),
                req.patch().touchedFiles(), ref.tree(), newTexts);
        Path units = req.outputDir().resolve("units");
        FileTrees.delete(units);
        try {
            UnitShortcut.Decision d = UnitShortcut.decide(mode, ref.tree(), Map.of(), units.resolve("before"), () -> { },
                    work, units.resolve("after"), viaHeaders, macroOnly, req.makeEnvironment(), req.jobs(), units.resolve("proof"),
                    new java.util.concurrent.ConcurrentHashMap<>());
            Set<String> build = new java.util.TreeSet<>();
            Files.write(req.logDir().resolve("units.log"), UnitShortcut.logLines(objects, deps.derived(), viaHeaders, d, build));
            return objects.stream().filter(build::contains).toList();
        } finally {
            if (!req.request().debug()) {
                FileTrees.delete(units);
            }
        }
    }

    /**
     * The reference files a run with replayed commands reads to make the payload, relative to the
     * tree root: the files the patch changes (before the change), for each rebuilt object the
     * original object (diffed against), its recorded command and every file it was compiled from,
     * and the config and {@code xen-syms} (linked against). {@code dependencies.idx} is checked on
     * every use already.
     */
    static List<String> readSet(java.util.Collection<String> touched, DependencyIndex deps, List<String> objects) {
        Set<String> files = new java.util.TreeSet<>(touched);
        files.add("xen/.config");
        files.add("xen/xen-syms");
        for (String o : objects) {
            files.add("xen/" + o);
            files.add("xen/" + RecordedCommands.dotName(o, ".cmd"));
            files.addAll(deps.objects().getOrDefault(o, Set.of()));
        }
        return List.copyOf(files);
    }

    /**
     * A failed run leaves OUTPUT/work for the user to look at (and perhaps to fix and rebuild in):
     * a hard-linked one must not share files with the cache then. Kept with --debug, else removed.
     */
    private static void unshare(boolean linked, Path work, CheckedRequest req) {
        if (!linked || !Files.exists(work)) {
            return;
        }
        try {
            if (req.request().debug()) {
                LinkedTree.makeAllPrivate(work);
            } else {
                FileTrees.delete(work);
            }
        } catch (IOException e) {
            // Best effort; the run's own error is the one to report.
        }
    }

    /**
     * {@code cp -a}: keeps modification times (make must see only the patched files as new) and
     * the relative symlinks Xen's build made (arch/x86/efi/*.c, xen/source).
     */
    private static void copyTree(Path from, Path to, CheckedRequest req, Path log)
            throws IOException, InterruptedException, BuildException {
        Files.createDirectories(to.getParent());
        int rc = new ExternalCommand(List.of("cp", "-a", from.toString(), to.toString()), to.getParent(),
                req.makeEnvironment()).run(log);
        if (rc != 0) {
            throw new BuildException(BuildException.Reason.WORKSPACE, log, "copying the reference build failed (exit " + rc + ")");
        }
    }

    /**
     * The patch applied to the copy (upstream: {@code patch -p1 -N -F0}; see {@link PatchApplier}).
     * Each changed file is written beside itself and renamed over the old name, so a file that is
     * still a hard link into the cache is replaced, never written through; it keeps its permission
     * bits unless git's header gives new ones.
     */
    static void applyPatch(SourcePatch patch, Path work, Path log) throws IOException, BuildException {
        writePatch(patch, patch.applyTo(work), work, log);
    }

    /** Writes what {@link SourcePatch#applyTo} computed for {@code work}, logging the applier's lines to {@code log}. */
    static void writePatch(SourcePatch patch, PatchApplier.Outcome outcome, Path work, Path log) throws IOException, BuildException {
        Files.createDirectories(log.getParent());
        Files.write(log, outcome.log(), StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        patch.write(outcome, work);
    }

    static PatchedBuildResult collect(CheckedRequest req, ReferenceBuild ref, Path work, List<String> objects,
            Map<String, String> derived, StageClock clock) throws IOException, BuildException {
        Path out = req.outputDir();
        List<ObjectPair> changed = new ArrayList<>();
        List<NewObject> added = new ArrayList<>();
        for (String o : objects) {
            Path patched = work.resolve("xen").resolve(o);
            Path original = ref.object(o);
            if (!Files.isRegularFile(patched)) {
                throw new BuildException(BuildException.Reason.PATCHED_BUILD_FAILED, patched,
                        "the patched build did not produce this object (is it listed in a Makefile?)");
            }
            if (!isElf64Relocatable(patched)) {
                continue; // 32-bit boot code, PE objects: not part of the hypervisor image a payload patches
            }
            Path patchedCopy = out.resolve(PATCHED_DIR).resolve("xen").resolve(o);
            if (!Files.exists(original)) {
                copy(patched, patchedCopy);
                copyCommand(patched, patchedCopy);
                added.add(new NewObject(o, patchedCopy));
            } else if (Files.mismatch(original, patched) != -1) {
                Path originalCopy = out.resolve(ORIGINAL_DIR).resolve("xen").resolve(o);
                copy(original, originalCopy);
                copy(patched, patchedCopy);
                copyCommand(patched, patchedCopy);
                changed.add(new ObjectPair(o, originalCopy, patchedCopy));
            }
        }
        if (changed.isEmpty() && added.isEmpty()) {
            throw new BuildException(BuildException.Reason.NO_CHANGED_OBJECTS, req.patch().file(),
                    "no changed objects found: the rebuilt " + String.join(", ", objects) + " are identical to the originals");
        }
        // OUTPUT/xen-syms: copied there by the reference stage (ReferenceStage), which opens it.
        Path syms = out.resolve(ReferenceStage.XEN_SYMS);
        Map<String, String> relevantDerived = new TreeMap<>();
        derived.forEach((d, base) -> {
            if (objects.contains(d)) {
                relevantDerived.put(d, base);
            }
        });
        return new PatchedBuildResult(changed, added, objects, relevantDerived, syms,
                req.xenSyms().map(XenSyms::file).orElse(syms), clock.times());
    }

    /** Keeps the object's recorded command next to its copy in OUTPUT, for the report (also with -k build). */
    private static void copyCommand(Path object, Path copy) throws IOException {
        if (Files.isRegularFile(CommandFile.of(object))) {
            copy(CommandFile.of(object), CommandFile.of(copy));
        }
    }

    static void copy(Path from, Path to) throws IOException {
        Files.createDirectories(to.getParent());
        Files.copy(from, to, StandardCopyOption.COPY_ATTRIBUTES, StandardCopyOption.REPLACE_EXISTING);
    }

    /** ELF64, little-endian, ET_REL: what create-diff-object can read. */
    static boolean isElf64Relocatable(Path p) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            byte[] h = in.readNBytes(18);
            return h.length == 18 && Arrays.equals(Arrays.copyOf(h, 4), new byte[] {0x7f, 'E', 'L', 'F'})
                    && h[4] == 2 && h[5] == 1 && h[16] == 1 && h[17] == 0;
        }
    }

    /**
     * {@code -k build}: the objects a previous run left in OUTPUT, paired the same way
     * (upstream reuses {@code $OUTPUT/original} and {@code $OUTPUT/patched} alike).
     */
    public static PatchedBuildResult readBack(CheckedRequest req) throws BuildException {
        Path out = req.outputDir();
        Path pxen = out.resolve(PATCHED_DIR).resolve("xen");
        Path oxen = out.resolve(ORIGINAL_DIR).resolve("xen");
        List<ObjectPair> changed = new ArrayList<>();
        List<NewObject> added = new ArrayList<>();
        try (Stream<Path> s = Files.walk(pxen)) {
            for (Path p : s.filter(f -> f.toString().endsWith(".o") && Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)).sorted().toList()) {
                String rel = pxen.relativize(p).toString();
                Path o = oxen.resolve(rel);
                if (Files.isRegularFile(o)) {
                    changed.add(new ObjectPair(rel, o, p));
                } else {
                    added.add(new NewObject(rel, p));
                }
            }
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.BAD_OUTPUT_DIR, out, "cannot read the previous build: " + e.getMessage(), e);
        }
        Path syms = out.resolve(ReferenceStage.XEN_SYMS);
        return new PatchedBuildResult(changed, added, List.of(), Map.of(), syms, req.xenSyms().map(XenSyms::file).orElse(syms), List.of());
    }
}
