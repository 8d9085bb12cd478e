package org.livepatch.xenbuild;

import org.livepatch.io.FileTrees;
import org.livepatch.stage.StageClock;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.livepatch.elf.ElfReader;
import org.livepatch.layout.DwarfException;
import org.livepatch.layout.DwarfReader;
import org.livepatch.layout.LayoutChange;
import org.livepatch.layout.LayoutDiff;
import org.livepatch.layout.TypeLayouts;

/**
 * Refuses a patch that changes the size or layout of a type the running hypervisor's code uses
 * (issue 15, item 2): every live instance of such a type (a {@code struct domain}, a grant
 * table, a static table of hooks) has the original layout, and patched code compiled for the new
 * one would read and write the wrong bytes.
 *
 * <p>How: the payload objects carry no debug information (Xen's release build has no
 * {@code -g}), so for every changed object the original and the patched translation unit are
 * compiled once more, with the command Xen's build recorded for them plus {@code -g} (see
 * {@link DebugCompile}), to files of our own; the payload objects are not touched. The type
 * layouts gcc records there are compared ({@link LayoutDiff}). Only changed objects are compiled:
 * a layout change that matters changes the code of some object that uses the type (an offset, a
 * size), so that object is among them; an object whose bytes did not change runs the same code
 * either way. The original unit is compiled in the reference tree (it only reads there: the
 * output and the dependency file are redirected), the patched one in the work tree, both up to
 * {@code -j} at a time. Types private to one {@code .c} file are compared like those of headers:
 * DWARF describes every type a unit uses, wherever it is defined.
 *
 * <p>Before compiling, each object's two units are preprocessed (a tenth of a compile): when the
 * texts prove every type alike ({@link LayoutTextProof}: only functions changed, and no type
 * definition names anything whose declaration changed), there is nothing to compile. With
 * {@code LPB_UNIT_SHORTCUT=off} the proof is not tried; with {@code prove} it is tried and the
 * -g compiles run all the same, the log ({@code logs/layout-check.log}) saying whether they agree.
 *
 * <p>A type named with {@code --allow-layout-change} is let through and recorded in the report;
 * every other change stops the build ({@code UNPATCHABLE_LAYOUT}) before anything is diffed or written, one line
 * per type naming its file, the fields and a few functions that use it. {@code -k build} does
 * not check again: it only accepts objects of a run that passed this check (the build record
 * is written after it, see {@link KeptBuild}).
 */
public final class LayoutCheck {
    public static final String STAGE = "layout-check";
    public static final String DIR = "layout-check";

    private LayoutCheck() {}

    /**
     * What the check found: every changed type an option let through (with the option's name),
     * and how many objects it compiled.
     */
    public record Report(List<LayoutChange> allowed, int objectsChecked) {
        public static final Report NONE = new Report(List.of(), 0);

        public Report {
            allowed = List.copyOf(allowed);
        }
    }

    /**
     * Checks the changed objects of {@code result}; {@code originalTree} and {@code patchedTree}
     * hold {@code xen/} with the sources and recorded commands of each side.
     */
    public static Report run(CheckedRequest req, Path originalTree, Path patchedTree, PatchedBuildResult result,
            StageClock clock) throws BuildException, InterruptedException {
        return run(req, originalTree, patchedTree, result, clock, new Originals());
    }

    /**
     * The original side's type layouts by object and compile command: the reference does not
     * change during a series, so each object's original unit is compiled with -g once per
     * series, not once per changeset that changes the object again.
     */
    public static final class Originals {
        private final Map<String, TypeLayouts> layouts = new java.util.concurrent.ConcurrentHashMap<>();
    }

    /** As {@link #run(CheckedRequest, Path, Path, PatchedBuildResult, StageClock)}, reusing {@code originals}. */
    public static Report run(CheckedRequest req, Path originalTree, Path patchedTree, PatchedBuildResult result,
            StageClock clock, Originals originals) throws BuildException, InterruptedException {
        // A derived object (foo.init.o) is made from foo.o: its types are those of foo.o's unit.
        Set<String> objects = new LinkedHashSet<>();
        for (ObjectPair p : result.changed()) {
            objects.add(result.derived().getOrDefault(p.path(), p.path()));
        }
        clock.start(STAGE, objects.size(), String.join(" ", objects));
        Path dir = req.outputDir().resolve(DIR);
        Path log = req.logDir().resolve(STAGE + ".log");
        Checked checked;
        try {
            FileTrees.delete(dir);
            Files.createDirectories(dir);
            Files.createDirectories(log.getParent());
            checked = compareAll(req, List.copyOf(objects), originalTree.resolve("xen"), patchedTree.resolve("xen"), dir, log,
                    originals);
            // The debug objects are for this check only (kept with --debug, and after a failed
            // compile, whose log the message names).
            if (!req.request().debug()) {
                FileTrees.delete(dir);
            }
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.WORKSPACE, dir, e.getMessage(), e);
        }
        List<LayoutChange> found = checked.changes();
        List<LayoutChange> refused = new ArrayList<>();
        List<LayoutChange> allowed = new ArrayList<>();
        for (LayoutChange c : found) {
            (isAllowed(req, c) ? allowed : refused).add(c);
        }
        clock.finish(checked.count(), found.isEmpty() ? "no type layout changed"
                : found.size() + " type layout(s) changed, " + allowed.size() + " allowed by --allow-layout-change");
        for (LayoutChange c : allowed) {
            clock.notice("allowed by --allow-layout-change: " + c);
        }
        for (String name : req.request().allowedLayoutChanges()) {
            if (found.stream().noneMatch(c -> c.isNamed(name))) {
                // Most likely a misspelt type: say so rather than let the option look effective.
                clock.notice("--allow-layout-change " + name + ": no changed type of that name");
            }
        }
        if (!refused.isEmpty()) {
            StringBuilder sb = new StringBuilder(refused.size() + " type layout change(s) cannot be live-patched (live instances keep"
                    + " the old layout; --allow-layout-change TYPE overrides one at your own risk)"
                    + (checked.count() < objects.size() ? " [checked " + checked.count() + " of " + objects.size()
                            + " changed objects: the check stops at the first with a refused change]" : "") + ":");
            for (LayoutChange c : refused) {
                sb.append("\n  ").append(c);
            }
            throw new BuildException(BuildException.Reason.UNPATCHABLE_LAYOUT, null, sb.toString());
        }
        return new Report(allowed, objects.size());
    }

    private static boolean isAllowed(CheckedRequest req, LayoutChange c) {
        return req.request().allowedLayoutChanges().stream().anyMatch(c::isNamed);
    }

    /** The changes found and how many objects were compared to find them. */
    private record Checked(List<LayoutChange> changes, int count) {}

    /** Outcome of one object: its changes, or a failure to report. */
    private record Outcome(List<LayoutChange> changes, BuildException failure, String how) {
        Outcome(List<LayoutChange> changes, BuildException failure) {
            this(changes, failure, "");
        }
    }

    /**
     * Compares the objects in parallel, taking the results in the objects' order. The first object
     * (in that order) with a change no option allows ends the check: the run is refused anyway,
     * and a header type changed (struct domain) changes hundreds of objects, whose second and
     * third compile would double the time to the refusal. Which objects were compared depends only
     * on the order, never on timing, so the message is the same on every run.
     */
    private static Checked compareAll(CheckedRequest req, List<String> objects, Path origXen, Path patchedXen,
            Path dir, Path log, Originals originals) throws IOException, InterruptedException, BuildException {
        if (objects.isEmpty()) {
            return new Checked(List.of(), 0);
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(req.jobs(), objects.size())), r -> {
            Thread t = new Thread(r, "livepatch-build: layout check");
            t.setDaemon(true);
            return t;
        });
        Map<String, LayoutChange> merged = new LinkedHashMap<>();
        try {
            List<Future<Outcome>> futures = new ArrayList<>();
            for (String o : objects) {
                futures.add(pool.submit(() -> one(req, o, origXen, patchedXen, dir, originals)));
            }
            List<String> failures = new ArrayList<>();
            List<String> hows = new ArrayList<>();
            BuildException first = null;
            int count = 0;
            for (int i = 0; i < objects.size() && first == null; i++) {
                Outcome out;
                try {
                    out = futures.get(i).get();
                } catch (ExecutionException e) {
                    throw ExternalCommand.unwrap(e);
                }
                if (out.failure() != null) {
                    failures.add(out.failure().getMessage());
                    first = first == null ? out.failure() : first;
                    continue;
                }
                count++;
                if (!out.how().isEmpty()) {
                    hows.add(out.how());
                }
                for (LayoutChange c : out.changes()) {
                    // The same change seen from several objects (a header type): one line, all users.
                    String key = c.type() + "\n" + c.differences();
                    merged.merge(key, c, LayoutChange::merge);
                }
                if (out.changes().stream().anyMatch(c -> !isAllowed(req, c))) {
                    break;
                }
            }
            Files.write(log, (String.join("\n", hows) + (hows.isEmpty() ? "" : "\n")
                    + String.join("\n", failures) + (failures.isEmpty() ? "" : "\n")
                    + merged.values().stream().map(LayoutChange::toString).reduce("", (a, b) -> a + b + "\n"))
                    .getBytes(StandardCharsets.UTF_8), java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
            if (first != null) {
                throw first;
            }
            return new Checked(new ArrayList<>(merged.values()), count);
        } finally {
            // Stops (and kills the compilers of) the objects left unchecked after a refusal, and
            // waits for them: a task still creating its directories under DIR would race the
            // caller's removal of DIR (DirectoryNotEmptyException, seen on a loaded machine).
            pool.shutdownNow();
            if (!pool.awaitTermination(60, java.util.concurrent.TimeUnit.SECONDS)) {
                throw new BuildException(BuildException.Reason.WORKSPACE, dir, "layout check compilers did not stop within 60 s");
            }
        }
    }

    /**
     * Compiles both units of one object with -g (at the same time: a changeset often changes one
     * object, and the two compiles are the whole wait) and compares their types.
     */
    private static Outcome one(CheckedRequest req, String object, Path origXen, Path patchedXen, Path dir, Originals originals)
            throws IOException, InterruptedException {
        Path origOut = dir.resolve("original").resolve(object);
        Path patchedOut = dir.resolve("patched").resolve(object);
        Files.createDirectories(origOut.getParent());
        Files.createDirectories(patchedOut.getParent());
        String origCmd = recorded(origXen, object);
        String patchedCmd = recorded(patchedXen, object);
        if (patchedCmd == null) {
            patchedCmd = origCmd;
        }
        if (origCmd == null) {
            return failed(object, "no recorded compile command (" + RecordedCommands.dotName(object, ".cmd") + ")", null);
        }
        DebugCompile.Plan o = DebugCompile.of(origCmd, origOut.toAbsolutePath());
        DebugCompile.Plan p = DebugCompile.of(patchedCmd, patchedOut.toAbsolutePath());
        if (o.notC() && p.notC()) {
            return new Outcome(List.of(), null); // assembly: no C types
        }
        if (o.compile().isEmpty() || p.compile().isEmpty()) {
            return failed(object, "cannot derive a debug compile: " + (o.whyNot() != null ? o.whyNot() : p.whyNot()), null);
        }
        Path logFile = dir.resolve("logs").resolve(object + ".log");
        Path origLog = dir.resolve("logs").resolve(object + ".original.log");
        Files.createDirectories(logFile.getParent());
        // First the cheap way: the two preprocessed texts may prove the types alike (LayoutTextProof).
        String mode = UnitShortcut.mode(req.request().environment());
        String textual = mode.equals("off") ? "LPB_UNIT_SHORTCUT=off" : textProof(req, object, origCmd, patchedCmd, origXen, patchedXen, dir);
        if (textual.isEmpty() && mode.equals("on")) {
            return new Outcome(List.of(), null, object + ": types proven alike from the preprocessed texts (no -g compile)");
        }
        String key = origXen + "\n" + object + "\n" + String.join(" ", o.compile().get().argv());
        TypeLayouts known = originals.layouts.get(key);
        java.util.concurrent.FutureTask<Integer> origCompile = new java.util.concurrent.FutureTask<>(
                () -> known != null ? 0 : new ExternalCommand(o.compile().get().argv(), origXen, req.makeEnvironment()).run(origLog));
        Thread origThread = new Thread(origCompile, "livepatch-build: layout check (original)");
        origThread.setDaemon(true);
        origThread.start();
        int rcPatched;
        int rcOrig;
        try {
            rcPatched = new ExternalCommand(p.compile().get().argv(), patchedXen, req.makeEnvironment()).run(logFile);
            rcOrig = origCompile.get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw ExternalCommand.unwrap(e);
        } finally {
            origThread.interrupt(); // a no-op when it is done; kills the compiler when we were interrupted
            origThread.join();
        }
        for (var side : List.of(Map.entry(rcOrig, origLog), Map.entry(rcPatched, logFile))) {
            if (side.getKey() != 0) {
                String why = ExternalCommand.firstError(side.getValue());
                return new Outcome(List.of(), new BuildException(BuildException.Reason.PATCHED_BUILD_FAILED, side.getValue(),
                        "compiling " + object + " with -g to compare type layouts failed (exit " + side.getKey() + ")"
                                + (why.isEmpty() ? "" : ": " + why)));
            }
        }
        try {
            TypeLayouts before = known;
            if (before == null) {
                var beforeUnits = DwarfReader.read(ElfReader.read(origOut));
                if (beforeUnits.isEmpty()) {
                    return failed(object, "the -g compile has no debug information", null);
                }
                before = TypeLayouts.of(beforeUnits);
                originals.layouts.put(key, before);
            }
            var afterUnits = DwarfReader.read(ElfReader.read(patchedOut));
            if (afterUnits.isEmpty()) {
                // -g was on the command line: no .debug_info means a flag of the build turned it off.
                return failed(object, "the -g compile has no debug information", null);
            }
            List<LayoutChange> changes = LayoutDiff.compare(object, before, TypeLayouts.of(afterUnits));
            String how = object + ": compiled with -g" + (textual.isEmpty()
                    ? (changes.isEmpty() ? "; the text proof agrees (types alike)" : "; DISPROVED: the text proof said the types were alike")
                    : " (" + textual + ")");
            return new Outcome(changes, null, how);
        } catch (DwarfException | org.livepatch.elf.ElfFormatException e) {
            return failed(object, "cannot read its debug information: " + e.getMessage(), e);
        }
    }

    /**
     * Empty when the object's original and patched units, preprocessed with their (equal)
     * recorded commands, prove every type alike ({@link LayoutTextProof}); else why not.
     */
    private static String textProof(CheckedRequest req, String object, String origCmd, String patchedCmd, Path origXen,
            Path patchedXen, Path dir) throws IOException, InterruptedException {
        if (!origCmd.equals(patchedCmd)) {
            return "the compile command changed";
        }
        String[] texts = new String[2];
        for (int side = 0; side < 2; side++) {
            Path out = dir.resolve("text").resolve(side == 0 ? "original" : "patched").resolve(object + ".i").toAbsolutePath();
            Files.createDirectories(out.getParent());
            Optional<String> cmd = PreprocessedUnits.command(origCmd, out);
            if (cmd.isEmpty()) {
                return "no preprocessing command";
            }
            Path log = dir.resolve("logs").resolve(object + ".text.log");
            int rc = new ExternalCommand(List.of("/bin/sh", "-c", cmd.get()), side == 0 ? origXen : patchedXen, req.makeEnvironment()).run(log);
            if (rc != 0) {
                return "preprocessing failed (exit " + rc + ")";
            }
            texts[side] = Files.readString(out, StandardCharsets.ISO_8859_1);
            if (!req.request().debug()) {
                Files.delete(out);
            }
        }
        return LayoutTextProof.whyNot(texts[0], texts[1]).orElse("");
    }

    /**
     * A check that could not be done refuses like a change: a layout change we failed to see
     * would corrupt the running hypervisor, a refusal only costs a rebuild.
     */
    private static Outcome failed(String object, String why, Exception cause) {
        BuildException e = new BuildException(BuildException.Reason.UNPATCHABLE_LAYOUT, null,
                "cannot check the type layouts of " + object + ": " + why);
        if (cause != null) {
            e.initCause(cause);
        }
        return new Outcome(List.of(), e);
    }

    /** The recorded command of {@code object} ({@code cmd_<obj> := ...}), or null. */
    private static String recorded(Path xen, String object) throws IOException {
        return CommandFile.read(xen.resolve(object), object).flatMap(CommandFile::command).orElse(null);
    }
}
