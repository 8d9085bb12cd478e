package org.livepatch.xenbuild;

import org.livepatch.io.FileTrees;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.livepatch.stage.StageClock;

/**
 * The patched tree of a cumulative series, kept from one changeset to the next: changeset k is
 * applied on top of what changesets 1..k-1 left (minus the excluded ones), and only the objects
 * made from the files k touches are compiled again. The objects compiled so far, compared with
 * the reference's, are the cumulative payload's inputs: every step diffs base against
 * base+1..k, never k-1 against k.
 *
 * <p>Why keep the tree: building step k from scratch recompiles every object changesets 1..k
 * touched, so a series of n costs O(n²) compiles; here each object is compiled once per
 * changeset that touches it, as an incremental make would.
 *
 * <p>The tree starts as a hard-linked image of the reference ({@link LinkedTree}); a patch
 * replaces the files it changes (never writes through a link) and a replayed command unlinks what
 * it writes, so the cache stays intact. Where commands cannot be replayed the whole tree is made
 * private once and make does the work. Dependencies of each recompiled object are read again
 * from what its compile wrote ({@link DependencyIndex#dependenciesOf}): a changeset may add an
 * {@code #include} that a later one's header change must reach.
 */
public final class SeriesTree implements AutoCloseable {
    private final ReferenceBuild ref;
    private final Path work;
    private final CheckedRequest base;
    private final boolean replay;
    private final Map<String, Set<String>> deps;
    private final Map<String, String> derived;
    /** Every object compiled so far (relative to xen/), in the reference's order of names. */
    private final Set<String> compiled = new TreeSet<>();
    /** Each unit's text as last preprocessed, for the objects a header change reached (see {@link #advance}). */
    private final Map<String, Path> units = new TreeMap<>();
    /** The outlines of those texts, where a comparison read them (the next one reads only what changed). */
    private final Map<String, UnitOutline> outlines = new java.util.concurrent.ConcurrentHashMap<>();
    /** Objects compiled since the last type-layout check: the others' layouts were checked with these bytes. */
    private final Set<String> uncheckedLayouts = new TreeSet<>();
    /** The reference's side of the type-layout check, kept for the whole series. */
    private final LayoutCheck.Originals originalLayouts = new LayoutCheck.Originals();
    /** SHA-256 of each object's bytes when its layouts were last checked (and passed, or were allowed). */
    private final Map<String, String> checkedBytes = new TreeMap<>();
    /** Changed layouts --allow-layout-change let through at earlier steps: still in every later payload. */
    private final Set<org.livepatch.layout.LayoutChange> allowedLayouts = new java.util.LinkedHashSet<>();
    private boolean allPrivate;

    private SeriesTree(ReferenceBuild ref, Path work, CheckedRequest base, boolean replay, DependencyIndex index) {
        this.ref = ref;
        this.work = work;
        this.base = base;
        this.replay = replay;
        this.deps = new TreeMap<>(index.objects());
        this.derived = index.derived();
    }

    /**
     * An image of {@code ref} at {@code work} (which must not exist), for the requests of one
     * series: {@code base} gives the environment, make arguments and CPUs.
     */
    public static SeriesTree create(CheckedRequest base, ReferenceBuild ref, Path work) throws BuildException, InterruptedException {
        try {
            boolean linked = !"0".equals(base.request().environment().get(PatchedBuild.REPLAY_ENV))
                    && new XenMake(ref.tree(), Map.of(), List.of()).isKbuild()
                    && LinkedTree.sameFileSystem(ref.tree(), work.getParent());
            if (linked) {
                LinkedTree.link(ref.tree(), work);
            } else {
                Files.createDirectories(work.getParent());
                int rc = new ExternalCommand(List.of("cp", "-a", ref.tree().toString(), work.toString()), work.getParent(),
                        base.makeEnvironment()).run(work.resolveSibling("copy-reference.log"));
                if (rc != 0) {
                    throw new BuildException(BuildException.Reason.WORKSPACE, work, "copying the reference build failed (exit " + rc + ")");
                }
            }
            SeriesTree t = new SeriesTree(ref, work, base, linked, DependencyIndexFile.load(ref.tree()));
            t.allPrivate = !linked;
            return t;
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.WORKSPACE, work, e.getMessage(), e);
        }
    }

    public Path work() {
        return work;
    }

    /**
     * What one changeset did to the tree.
     *
     * @param affected the objects made from the files it touches (as the tree's dependencies stood)
     * @param compiled those compiled again: the others preprocess to the same text as before, or
     *     to one that differs only in declarations they do not use ({@link UnitChange})
     * @param disproved with {@code LPB_UNIT_SHORTCUT=prove}: objects the shortcut would have left
     *     alone but whose code GCC changed (compiled all the same); empty when it was right
     */
    public record Step(List<String> affected, List<String> compiled, List<String> disproved) {
        public Step {
            affected = List.copyOf(affected);
            compiled = List.copyOf(compiled);
            disproved = List.copyOf(disproved);
        }
    }

    /** {@code LPB_UNIT_SHORTCUT}: see {@link UnitShortcut#ENV}. */
    public static final String SHORTCUT_ENV = UnitShortcut.ENV;

    /**
     * Applies {@code patch} to the tree as it stands (zero fuzz, forward only) and compiles what
     * it changed. When it does not apply, nothing of the tree changes and PATCH_DOES_NOT_APPLY is
     * thrown. A cached file found damaged on the way is thrown as it is: a single run would build
     * the reference again and start over, but a series half-way through has made its earlier
     * payloads from this entry.
     *
     * <p>An object affected only through a header is compiled when its unit, preprocessed with
     * its own flags, differs from before the patch in a way that can reach its code
     * ({@link PreprocessedUnits}, {@link UnitChange}; each object's verdict is in
     * {@code logDir/units.log}); one whose source file the patch changes is compiled without asking.
     */
    public Step advance(SourcePatch patch, int jobs, Path logDir) throws BuildException, InterruptedException, CacheDamage {
        List<String> objects = affectedBy(patch);
        try {
            Files.createDirectories(logDir);
            // Verified before they are read, as a single run does (ReferenceEntry): the originals
            // the payload is diffed against and the files they were made from.
            ref.entry().verify(PatchedBuild.readSet(patch.touchedFiles(), new DependencyIndex(deps, derived), objects));
            RecordedCommands.Plan plan = allPrivate || objects.isEmpty() ? RecordedCommands.Plan.none("copied tree")
                    : RecordedCommands.plan(ref.tree(), objects, derived);
            Map<String, String> viaHeaders = plan.commands().isPresent()
                    ? UnitShortcut.viaHeaders(plan.commands().get(), patch) : new TreeMap<>();
            String mode = UnitShortcut.mode(base.request().environment());
            // The patch is applied in memory first: the headers it only adds #defines to let a
            // unit reached through nothing else go without its "before" text (AddedMacros).
            PatchApplier.Outcome outcome = patch.applyTo(work);
            Map<String, String> newTexts = new TreeMap<>();
            for (PatchApplier.Result r : outcome.results()) {
                r.text().ifPresent(t -> newTexts.put(r.path(), t));
            }
            Map<String, Set<String>> macroOnly = UnitShortcut.macroOnly(mode, viaHeaders.keySet(), deps, patch.touchedFiles(), work,
                    newTexts);
            // The units as last preprocessed are kept (work/../units): the text after one
            // changeset is the text before the next.
            Path store = work.resolveSibling("units");
            Path fresh = work.resolveSibling("units-after");
            FileTrees.delete(fresh);
            UnitShortcut.Decision decision = UnitShortcut.decide(mode, work, units, store,
                    () -> PatchedBuild.writePatch(patch, outcome, work, logDir.resolve("apply-patch.log")),
                    work, fresh, viaHeaders, macroOnly, base.makeEnvironment(), jobs, work.resolveSibling("units-proof"), outlines);
            units.putAll(decision.before());
            Map<String, Path> after = decision.after();
            List<String> disproved = decision.disproved();
            Set<String> build = new TreeSet<>();
            List<String> why = UnitShortcut.logLines(objects, derived, viaHeaders, decision, build);
            Files.write(logDir.resolve("units.log"), why);
            for (String o : viaHeaders.keySet()) {
                Path kept = store.resolve(o + ".i");
                if (after.containsKey(o)) {
                    Files.createDirectories(kept.getParent());
                    Files.move(after.get(o), kept, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    units.put(o, kept);
                } else {
                    Files.deleteIfExists(kept); // compiled without a text: the next change asks again
                    units.remove(o);
                }
            }
            FileTrees.delete(fresh);
            for (String o : objects) {
                if (!viaHeaders.containsKey(o) && units.remove(o) != null) {
                    Files.deleteIfExists(store.resolve(o + ".i")); // its source changed: that text is stale
                }
            }
            List<String> toBuild = List.copyOf(build);
            compile(toBuild, jobs, logDir.resolve("patched-build.log"));
            return new Step(objects, toBuild, disproved);
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.WORKSPACE, work, e.getMessage(), e);
        }
    }

    /**
     * Applies {@code patch} and compiles nothing: for the changesets after a refused one, whose
     * payloads are not built but whose patches the tree must still follow (and report on).
     */
    public void applyOnly(SourcePatch patch, Path log) throws BuildException {
        try {
            PatchedBuild.applyPatch(patch, work, log);
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.WORKSPACE, work, e.getMessage(), e);
        }
    }

    /**
     * The objects of this build made from the files {@code patch} touches (as the tree's
     * dependencies stand now), with what is derived from them, and the objects of new sources.
     */
    List<String> affectedBy(SourcePatch patch) {
        // The same closure as a single run's, over the dependencies as the earlier steps left them.
        Set<String> out = new TreeSet<>(new DependencyIndex(deps, derived).affectedBy(patch.touchedFiles()));
        for (String s : patch.addedHypervisorSources()) {
            String obj = s.substring(0, s.lastIndexOf('.')) + ".o";
            if (!Files.exists(ref.object(obj))) {
                out.add(obj);
            }
        }
        return List.copyOf(out);
    }

    /** Compiles {@code objects} in the tree as it stands: recorded commands where they replay, else make. */
    private void compile(List<String> objects, int jobs, Path log) throws BuildException, InterruptedException, IOException {
        if (objects.isEmpty()) {
            return;
        }
        RecordedCommands.Plan plan = allPrivate ? RecordedCommands.Plan.none("copied tree")
                : RecordedCommands.plan(ref.tree(), objects, derived);
        if (plan.commands().isPresent()) {
            RecordedCommands replayed = plan.commands().get();
            for (String w : replayed.writes()) {
                LinkedTree.unlink(work.resolve("xen"), w);
            }
            replayed.run(work, base.makeEnvironment(), jobs, log);
        } else {
            if (!allPrivate) {
                LinkedTree.makeAllPrivate(work);
                allPrivate = true;
            }
            new XenMake(work, base.makeEnvironment(), base.makeArgs()).buildObjects(objects, jobs, work.getParent(), log);
        }
        compiled.addAll(objects);
        uncheckedLayouts.addAll(objects);
        for (String o : objects) {
            Set<String> now = DependencyIndex.dependenciesOf(work, o);
            if (!now.isEmpty()) {
                deps.put(o, now);
            }
        }
    }

    /** Every object compiled so far (relative to xen/). */
    public Set<String> compiled() {
        return Set.copyOf(compiled);
    }

    /**
     * The cumulative step into {@code step}'s OUTPUT: every object compiled so far whose bytes
     * differ from the reference's, paired with it under {@code original/} and {@code patched/},
     * then the type-layout check on them. NO_CHANGED_OBJECTS when none differs.
     */
    public PatchedBuildResult collect(CheckedRequest step, StageClock clock) throws BuildException, InterruptedException {
        List<String> objects = new ArrayList<>(compiled);
        try {
            clock.start(PatchedBuild.STAGE_COLLECT, objects.size(), null);
            PatchedBuildResult r = PatchedBuild.collect(step, ref, work, objects, derived, clock);
            r = new PatchedBuildResult(r.changed(), r.added(), r.rebuilt(), r.derived(), ref.xenSyms(),
                    step.xenSyms().map(XenSyms::file).orElse(ref.xenSyms()), r.times());
            clock.finish(r.changed().size() + r.added().size(), String.join(" ", r.changedPaths()));
            // Only what was compiled since the last check: an object's layouts are a function of
            // its bytes' sources, and the others were checked (and passed) at an earlier step.
            // And of those, only the ones whose bytes differ from when they were last checked: a
            // recompile that produced the same object (an enumerator added to a header the unit
            // uses, say) has the same layouts.
            Map<String, String> digests = new TreeMap<>();
            List<ObjectPair> fresh = new ArrayList<>();
            for (ObjectPair p : r.changed()) {
                if (uncheckedLayouts.contains(p.path())) {
                    String d = ReferenceEntry.sha256(p.patched());
                    digests.put(p.path(), d);
                    if (!d.equals(checkedBytes.get(p.path()))) {
                        fresh.add(p);
                    }
                }
            }
            PatchedBuildResult toCheck = new PatchedBuildResult(fresh, r.added(), r.rebuilt(), r.derived(), r.referenceXenSyms(),
                    r.xenSyms(), r.times());
            LayoutCheck.Report layout = LayoutCheck.run(step, ref.tree(), work, toCheck, clock, originalLayouts);
            uncheckedLayouts.clear();
            checkedBytes.putAll(digests);
            allowedLayouts.addAll(layout.allowed());
            return new PatchedBuildResult(r.changed(), r.added(), r.rebuilt(), r.derived(), r.referenceXenSyms(),
                    r.xenSyms(), clock.times(), new LayoutCheck.Report(List.copyOf(allowedLayouts), layout.objectsChecked()));
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.WORKSPACE, step.outputDir(), e.getMessage(), e);
        }
    }

    /** The reference this tree was made from. */
    public ReferenceBuild reference() {
        return ref;
    }

    /** Which of {@code files} (tree-relative) exist in the tree now; for messages about what a patch expected. */
    public Optional<String> missing(Collection<String> files) {
        return files.stream().filter(f -> !Files.exists(work.resolve(f))).findFirst();
    }

    /**
     * Removes the tree and the kept preprocessed units (both kept with --debug, the tree made
     * private first so no file of it is the cache's).
     */
    @Override
    public void close() throws IOException {
        if (!base.request().debug()) {
            FileTrees.delete(work.resolveSibling("units-proof"));
            FileTrees.delete(work.resolveSibling("units"));
            FileTrees.delete(work.resolveSibling("units-after"));
        }
        if (!Files.exists(work)) {
            return;
        }
        if (base.request().debug()) {
            if (!allPrivate) {
                LinkedTree.makeAllPrivate(work);
            }
        } else {
            FileTrees.delete(work);
        }
    }
}
