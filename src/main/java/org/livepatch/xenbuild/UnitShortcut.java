package org.livepatch.xenbuild;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Which of the objects a patch reaches only through headers must be compiled: the decision a
 * series step ({@link SeriesTree}) and a single run ({@link PatchedBuild}) share. Each unit is
 * preprocessed before and after the patch and compared ({@link UnitChange}); a unit reached only
 * through headers that only gain {@code #define}s is preprocessed once, with {@code -dU}
 * ({@link AddedMacros}). {@code LPB_UNIT_SHORTCUT} ({@link #ENV}) turns it off or makes it prove
 * every verdict with GCC.
 */
final class UnitShortcut {
    /**
     * {@code on} (the default) leaves a unit uncompiled when its text changed only in
     * declarations it does not use; {@code off} compiles every unit whose text changed; {@code
     * prove} compiles both texts of every unit it would leave alone and compiles the unit after
     * all where GCC's objects differ (each verdict in {@code logs/units.log}).
     */
    static final String ENV = "LPB_UNIT_SHORTCUT";

    private UnitShortcut() {}

    static String mode(Map<String, String> environment) {
        return environment.getOrDefault(ENV, "on");
    }

    /** Writes the patch into the tree between the two passes (a series step); a no-op when it is written already. */
    interface BetweenPasses {
        void run() throws IOException, BuildException;
    }

    /**
     * The outcome.
     *
     * @param verdicts by object, for every object that has one (the others are compiled)
     * @param disproved under {@code prove}: the objects whose shortcut GCC disproved (compiled)
     * @param before each unit's text before the patch, as far as there is one
     * @param after each unit's text after the patch
     * @param timing one line for the log: what was preprocessed and how long it all took
     */
    record Decision(Map<String, UnitChange.Verdict> verdicts, List<String> disproved, Map<String, Path> before,
            Map<String, Path> after, String timing) {}

    /** The names each header of {@code newTexts} only adds as macros, reading the old text below {@code oldRoot}. */
    private static Map<String, Set<String>> addedMacros(Path oldRoot, Map<String, String> newTexts) throws IOException {
        Map<String, Set<String>> out = new TreeMap<>();
        for (var e : newTexts.entrySet()) {
            Path f = oldRoot.resolve(e.getKey());
            if (e.getKey().endsWith(".h") && Files.isRegularFile(f)) {
                AddedMacros.of(Files.readString(f, StandardCharsets.ISO_8859_1), e.getValue()).ifPresent(n -> out.put(e.getKey(), n));
            }
        }
        return out;
    }

    /**
     * The macros the patch adds to the headers through which it reaches each object, for the
     * objects whose every touched dependency is such a header ({@code newTexts}: the patched
     * files' texts, by tree-relative path; the old ones are read below {@code oldRoot}). None
     * with {@code mode} off.
     */
    static Map<String, Set<String>> macroOnly(String mode, Collection<String> objects, Map<String, Set<String>> deps,
            Set<String> touched, Path oldRoot, Map<String, String> newTexts) throws IOException {
        if (mode.equals("off")) {
            return Map.of();
        }
        Map<String, Set<String>> addedBy = addedMacros(oldRoot, newTexts);
        Map<String, Set<String>> out = new TreeMap<>();
        for (String o : objects) {
            Set<String> dependsOn = deps.getOrDefault(o, Set.of());
            Set<String> names = new TreeSet<>();
            boolean any = false;
            boolean all = true;
            for (String f : touched) {
                if (dependsOn.contains(f)) {
                    Set<String> added = addedBy.get(f);
                    if (added == null) {
                        all = false;
                        break;
                    }
                    names.addAll(added);
                    any = true;
                }
            }
            if (any && all) {
                out.put(o, names);
            }
        }
        return out;
    }

    /**
     * Decides for the units of {@code viaHeaders} (object to recorded compile command).
     * {@code known} are texts from before the patch kept from earlier; the others are
     * preprocessed in {@code beforeTree} into {@code beforeStore}, then {@code between} runs, then
     * every unit is preprocessed in {@code afterTree} into {@code afterStore}. {@code outlines}
     * are those of the texts before, where known (see {@link UnitOutline}); they are replaced by
     * those of the texts after.
     */
    static Decision decide(String mode, Path beforeTree, Map<String, Path> known, Path beforeStore, BetweenPasses between,
            Path afterTree, Path afterStore, Map<String, String> viaHeaders, Map<String, Set<String>> macroOnly,
            Map<String, String> env, int jobs, Path proofScratch, Map<String, UnitOutline> outlines)
            throws IOException, InterruptedException, BuildException {
        Map<String, String> unknown = new TreeMap<>(viaHeaders);
        unknown.keySet().removeAll(known.keySet());
        if (mode.equals("on")) {
            unknown.keySet().removeAll(macroOnly.keySet());
        }
        long t0 = System.nanoTime();
        Map<String, Path> before = new TreeMap<>(known);
        before.keySet().retainAll(viaHeaders.keySet());
        before.putAll(PreprocessedUnits.texts(beforeTree, unknown, env, jobs, beforeStore));
        long t1 = System.nanoTime();

        between.run();

        long t2 = System.nanoTime();
        Map<String, String> plain = new TreeMap<>(viaHeaders);
        plain.keySet().removeAll(macroOnly.keySet());
        Map<String, String> withMacros = new TreeMap<>(viaHeaders);
        withMacros.keySet().retainAll(macroOnly.keySet());
        Map<String, Set<String>> seen = new TreeMap<>();
        Map<String, Path> after = new TreeMap<>(PreprocessedUnits.texts(afterTree, plain, env, jobs, afterStore));
        after.putAll(PreprocessedUnits.texts(afterTree, withMacros, env, jobs, afterStore, seen));
        long t3 = System.nanoTime();
        Map<String, Path> comparable = new TreeMap<>(after);
        if (mode.equals("on")) {
            comparable.keySet().removeAll(macroOnly.keySet());
        }
        Map<String, UnitChange.Verdict> verdicts = PreprocessedUnits.compare(before, comparable, viaHeaders, jobs, outlines);
        List<String> disproved = new ArrayList<>();
        for (var e : macroOnly.entrySet()) {
            String o = e.getKey();
            if (!after.containsKey(o)) {
                continue; // no text: compiled
            }
            Set<String> used = new TreeSet<>(seen.getOrDefault(o, Set.of()));
            used.retainAll(e.getValue());
            UnitChange.Verdict textual = verdicts.get(o);
            String names = String.join(", ", e.getValue());
            if (!used.isEmpty()) {
                verdicts.put(o, UnitChange.Verdict.compile("it expands or tests " + String.join(", ", used) + ", which the patch defines"));
            } else if (textual == null) {
                verdicts.put(o, new UnitChange.Verdict(false, "the same text: it never expands or tests the macros the patch adds ("
                        + names + ")"));
            } else if (!textual.compile()) {
                verdicts.put(o, new UnitChange.Verdict(false, "the same text: it never expands or tests the macros the patch adds ("
                        + names + "; proven: " + textual.why() + ")"));
            } else if (mode.equals("prove")) {
                // -dU saw none of them, yet the text changed: the rule was wrong for this unit.
                disproved.add(o);
                verdicts.put(o, UnitChange.Verdict.compile("not taking the shortcut (it never expands or tests " + names
                        + "): its text changed all the same: " + textual.why()));
            }
        }
        long t4 = System.nanoTime();
        if (!mode.equals("on")) {
            List<String> skipped = verdicts.entrySet().stream()
                    .filter(e -> !e.getValue().compile() && !e.getValue().why().startsWith("the same text"))
                    .map(Map.Entry::getKey).toList();
            Map<String, Optional<String>> proofs = mode.equals("prove")
                    ? PreprocessedUnits.prove(afterTree, skipped, before, after, viaHeaders, env, jobs, proofScratch)
                    : Map.of();
            for (String o : skipped) {
                Optional<String> proof = proofs.getOrDefault(o, Optional.of(ENV + "=" + mode));
                String said = verdicts.get(o).why();
                if (proof.isEmpty()) {
                    verdicts.put(o, new UnitChange.Verdict(false, said + " (proven: GCC's objects are identical)"));
                } else {
                    if (mode.equals("prove")) {
                        disproved.add(o);
                    }
                    verdicts.put(o, UnitChange.Verdict.compile("not taking the shortcut (" + said + "): " + proof.get()));
                }
            }
        }
        String timing = String.format(Locale.ROOT,
                "# preprocessed %d unit(s) before the patch in %.2f s, %d after it in %.2f s; compared in %.2f s",
                unknown.size(), (t1 - t0) / 1e9, viaHeaders.size(), (t3 - t2) / 1e9, (t4 - t3) / 1e9);
        return new Decision(verdicts, disproved, before, after, timing);
    }

    /**
     * The units a replayed rebuild reaches only through headers (object to its recorded compile
     * command): those not derived from another object and whose own source the patch leaves alone.
     */
    static Map<String, String> viaHeaders(RecordedCommands commands, SourcePatch patch) {
        Map<String, String> out = new TreeMap<>();
        for (RecordedCommands.Step s : commands.commands()) {
            String stem = "xen/" + s.object().substring(0, s.object().length() - 2);
            boolean sourceTouched = patch.touchedFiles().stream().anyMatch(f -> f.equals(stem + ".c") || f.equals(stem + ".S"));
            if (!s.derived() && !sourceTouched) {
                out.put(s.object(), s.shellCommand());
            }
        }
        return out;
    }

    /**
     * The log's lines for {@code objects} (derived ones left out) and the set to compile: those
     * without a verdict (no text, or their source changed), those whose verdict says so, and the
     * objects of {@code objects} derived from any of them.
     */
    static List<String> logLines(List<String> objects, Map<String, String> derived, Map<String, String> viaHeaders,
            Decision d, Set<String> build) {
        List<String> why = new ArrayList<>();
        for (String o : objects) {
            if (derived.containsKey(o)) {
                continue;
            }
            UnitChange.Verdict v = d.verdicts().get(o);
            if (v == null) {
                build.add(o);
                why.add(o + ": compiled: " + (viaHeaders.containsKey(o) ? "no preprocessed text to compare" : "its source changed"));
            } else {
                if (v.compile()) {
                    build.add(o);
                }
                why.add(o + ": " + (v.compile() ? "compiled: " : "not compiled: ") + v.why());
            }
        }
        why.add(d.timing());
        boolean grew = true;
        while (grew) {
            grew = false;
            for (var e : derived.entrySet()) {
                if (objects.contains(e.getKey()) && build.contains(e.getValue()) && build.add(e.getKey())) {
                    grew = true;
                }
            }
        }
        return why;
    }
}
