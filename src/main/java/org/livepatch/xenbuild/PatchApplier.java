package org.livepatch.xenbuild;

import com.github.difflib.patch.Patch;
import com.github.difflib.patch.PatchFailedException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Applies a {@link SourcePatch} to files it reads through a {@link Tree}, in memory, with the
 * semantics of {@code patch -p1 --forward --fuzz=0}: every line of a hunk's old side (context
 * included) must match exactly, but the hunk may sit at an offset from the line its header states.
 * java-diff-utils applies a patch only at the stated positions, so where each hunk goes is found
 * here, by the rules below; the edit itself is java-diff-utils' {@link Patch#applyTo}, which checks
 * the old side once more at the position found.
 *
 * <p>Where a hunk may go: the search starts at the stated line moved by the offset the file's
 * previous hunk was found at, and tries the nearest candidates first, after before before (+1, -1,
 * +2, -2, ...). A hunk never starts before the end of the previous one. A hunk with less context at
 * its start than at its end was made at the start of the file (diff had no more lines to show), so
 * when its header says line 1 it must match at line 1; one with less context at its end must end
 * at the file's last line.
 */
final class PatchApplier {

    /** Reads a file of the tree by its patch path; empty when there is none. */
    interface Tree {
        Optional<String> read(String path) throws IOException;
    }

    /** What the patch leaves: new text (ISO-8859-1) and permission bits, or the file removed. */
    record Result(String path, Optional<String> text, Optional<Integer> mode) {}

    /** The patch does not apply: one line naming the file and the hunk, like GNU patch's. */
    static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;

        Failure(String message) {
            super(message);
        }
    }

    private final Tree tree;
    /** Files as the patch has left them so far: a file may have several parts in one patch. */
    private final Map<String, Optional<List<String>>> state = new LinkedHashMap<>();
    private final Map<String, Optional<Integer>> modes = new LinkedHashMap<>();
    private final List<String> log = new ArrayList<>();

    private PatchApplier(Tree tree) {
        this.tree = tree;
    }

    /** The files the patch changes, in the order it first touches them, and a GNU-patch-like log. */
    record Outcome(List<Result> results, List<String> log) {}

    static Outcome apply(SourcePatch patch, Tree tree) throws Failure, IOException {
        PatchApplier a = new PatchApplier(tree);
        for (FilePatch part : patch.parts()) {
            a.apply(part);
        }
        List<Result> results = new ArrayList<>();
        for (Map.Entry<String, Optional<List<String>>> e : a.state.entrySet()) {
            results.add(new Result(e.getKey(), e.getValue().map(PatchLines::join),
                    a.modes.getOrDefault(e.getKey(), Optional.empty())));
        }
        return new Outcome(results, a.log);
    }

    private Optional<List<String>> current(String path) throws IOException {
        Optional<List<String>> s = state.get(path);
        if (s == null) {
            return tree.read(path).map(PatchLines::split);
        }
        return s;
    }

    private void apply(FilePatch part) throws Failure, IOException {
        FileChange c = part.change();
        if (part.problem().isPresent()) {
            throw new Failure(c.path() + ": " + part.problem().get());
        }
        String source = c.oldPath();
        if (source != null && !part.git() && c.newPath() != null && current(source).isEmpty()
                && current(c.newPath()).isPresent()) {
            source = c.newPath(); // a plain diff names the file it changes by either header
        }
        // Where the result goes: git names it (a rename, a copy); a plain diff changes the file it read.
        String target = c.newPath() == null ? source : (part.git() ? c.newPath() : source != null ? source : c.newPath());
        log.add("patching file " + target);
        List<String> lines;
        if (source == null) {
            if (current(target).isPresent()) {
                throw new Failure(target + ": the patch creates this file, but it already exists"
                        + " (reversed or previously applied patch?)");
            }
            lines = List.of();
        } else {
            Optional<List<String>> have = current(source);
            if (have.isEmpty()) {
                // GNU patch counts to the first hunk, where it knew it needed the file.
                int at = part.hunks().isEmpty() ? part.patchLine() : part.hunks().get(0).patchLine();
                throw new Failure("can't find file to patch at input line " + at + ": " + source);
            }
            lines = have.get();
        }
        List<String> result = applyHunks(target, part.hunks(), lines);
        if (c.newPath() == null) {
            if (!result.isEmpty()) {
                throw new Failure(source + ": not deleting the file, its content differs from the patch");
            }
            state.put(source, Optional.empty());
            return;
        }
        if (part.rename() && source != null && !source.equals(target)) {
            state.put(source, Optional.empty());
        }
        state.put(target, Optional.of(result));
        if (part.newMode().isPresent()) {
            modes.put(target, part.newMode());
        }
    }

    private List<String> applyHunks(String path, List<Hunk> hunks, List<String> lines) throws Failure {
        Patch<String> located = new Patch<>();
        int offset = 0;
        int notBefore = 0;
        for (int n = 0; n < hunks.size(); n++) {
            Hunk h = hunks.get(n);
            int at = locate(h.oldLines(), h, lines, offset, notBefore);
            if (at < 0) {
                // GNU patch names the line the header states, whatever offset it searched at.
                String why = "Hunk #" + (n + 1) + " FAILED at " + (h.statedStart() + 1) + "."
                        + (n == 0 && locate(h.newLines(), h, lines, offset, notBefore) >= 0
                                ? " (the patch looks reversed or already applied)" : "");
                throw new Failure(path + ": " + why);
            }
            int moved = at - h.statedStart();
            if (moved != offset || moved != 0) {
                log.add("Hunk #" + (n + 1) + " succeeded at " + (at + 1) + " (offset " + moved + " line"
                        + (Math.abs(moved) == 1 ? "" : "s") + ").");
            }
            offset = moved;
            notBefore = at + h.oldLines().size();
            located.addDelta(h.at(at));
        }
        try {
            return located.applyTo(lines);
        } catch (PatchFailedException e) {
            // Every position was checked above; the library disagreeing is a bug here, not a user error.
            throw new IllegalStateException(path + ": " + e.getMessage(), e);
        }
    }

    /** Index where {@code pattern} (a hunk's old or new side) sits by the rules above, or -1. */
    static int locate(List<String> pattern, Hunk h, List<String> lines, int offset, int notBefore) {
        int guess = h.statedStart() + offset;
        int last = lines.size() - pattern.size();
        if (pattern.isEmpty()) {
            return Math.max(notBefore, Math.min(guess, lines.size())); // nothing to match: it goes where it says
        }
        if (h.prefixContext() < h.suffixContext() && h.statedStart() == 0) {
            return notBefore == 0 && matches(pattern, lines, 0) ? 0 : -1;
        }
        if (h.suffixContext() < h.prefixContext()) {
            return last >= notBefore && matches(pattern, lines, last) ? last : -1;
        }
        for (int d = 0; guess + d <= last || guess - d >= notBefore; d++) {
            if (guess + d >= notBefore && guess + d <= last && matches(pattern, lines, guess + d)) {
                return guess + d;
            }
            if (d > 0 && guess - d >= notBefore && guess - d <= last && matches(pattern, lines, guess - d)) {
                return guess - d;
            }
        }
        return -1;
    }

    private static boolean matches(List<String> pattern, List<String> lines, int at) {
        if (at < 0 || at + pattern.size() > lines.size()) {
            return false;
        }
        for (int i = 0; i < pattern.size(); i++) {
            if (!pattern.get(i).equals(lines.get(at + i))) {
                return false;
            }
        }
        return true;
    }
}
