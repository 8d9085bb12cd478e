package org.livepatch.xenbuild;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A unified diff against the Xen tree, as {@code patch -p1} from the directory holding {@code xen/}
 * reads it. Parsed only far enough to know which files it touches: the hunks are applied by GNU
 * patch, with upstream's flags, so a patch behaves exactly as it does with the tool we replace.
 */
public record SourcePatch(Path file, List<FileChange> changes) {

    /** Suffixes of files that end up in an object: C, headers, assembly, included fragments. */
    private static final List<String> COMPILED_SUFFIXES = List.of(".c", ".h", ".S", ".s", ".inc");

    public SourcePatch {
        changes = List.copyOf(changes);
    }

    public static SourcePatch parse(Path file) throws BuildException {
        if (file == null) {
            throw new BuildException(BuildException.Reason.BAD_PATCH, null, "patch file not given (--patch)");
        }
        if (!Files.isRegularFile(file)) {
            throw new BuildException(BuildException.Reason.BAD_PATCH, file, "patch file does not exist");
        }
        String text;
        try {
            // ISO-8859-1 maps every byte to a char: a patch in any encoding parses, and paths
            // are ASCII in practice.
            text = Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.BAD_PATCH, file, "cannot read patch: " + e.getMessage(), e);
        }
        List<FileChange> changes = parseText(text);
        if (changes.isEmpty()) {
            throw new BuildException(BuildException.Reason.BAD_PATCH, file,
                    "not a unified diff: no '--- a/...' / '+++ b/...' file headers");
        }
        return new SourcePatch(file, changes);
    }

    /** The file headers of a unified diff, in order, merged by path (a file may appear twice). */
    static List<FileChange> parseText(String text) {
        Map<String, FileChange> byPath = new LinkedHashMap<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i + 1 < lines.length; i++) {
            String minus = lines[i];
            String plus = lines[i + 1];
            // A header pair is "--- old" directly followed by "+++ new" and then a hunk. Checking
            // for the "@@" line avoids reading a removed line that starts with "-- " as a header.
            if (minus.startsWith("--- ") && plus.startsWith("+++ ") && i + 2 < lines.length
                    && lines[i + 2].startsWith("@@")) {
                String oldPath = stripComponent(headerPath(minus));
                String newPath = stripComponent(headerPath(plus));
                FileChange c = new FileChange(oldPath, newPath);
                byPath.putIfAbsent(c.path(), c);
                i++;
            }
        }
        return new ArrayList<>(byPath.values());
    }

    private static String headerPath(String headerLine) {
        String p = headerLine.substring(4);
        int tab = p.indexOf('\t');
        if (tab >= 0) {
            p = p.substring(0, tab); // diff -u appends a tab and a timestamp
        }
        p = p.strip();
        if (p.startsWith("\"") && p.endsWith("\"") && p.length() >= 2) {
            p = p.substring(1, p.length() - 1); // git quotes names with unusual characters
        }
        return p;
    }

    /** {@code patch -p1}: drop everything up to the first '/'; /dev/null means no file. */
    private static String stripComponent(String p) {
        if (p.equals("/dev/null")) {
            return null;
        }
        int slash = p.indexOf('/');
        String rest = slash < 0 ? p : p.substring(slash + 1);
        while (rest.startsWith("./")) {
            rest = rest.substring(2);
        }
        return rest;
    }

    /** Every path the patch reads or writes, sorted. */
    public Set<String> touchedFiles() {
        Set<String> s = new TreeSet<>();
        for (FileChange c : changes) {
            if (c.oldPath() != null) {
                s.add(c.oldPath());
            }
            if (c.newPath() != null) {
                s.add(c.newPath());
            }
        }
        return s;
    }

    /** Touched paths below {@code xen/}, relative to {@code xen/} (how Xen's dependency files name them). */
    public Set<String> touchedHypervisorFiles() {
        Set<String> s = new TreeSet<>();
        for (String p : touchedFiles()) {
            if (p.startsWith("xen/")) {
                s.add(p.substring(4));
            }
        }
        return s;
    }

    /** New C or assembly files, relative to {@code xen/}: their objects do not exist in the reference. */
    public Set<String> addedHypervisorSources() {
        Set<String> s = new TreeSet<>();
        for (FileChange c : changes) {
            if (c.isAdded() && c.newPath().startsWith("xen/")
                    && (c.newPath().endsWith(".c") || c.newPath().endsWith(".S"))) {
                s.add(c.newPath().substring(4));
            }
        }
        return s;
    }

    /**
     * The checks that need no build: the patch must touch the hypervisor, and at least one
     * touched file must be something a compiler reads. A patch to README or to tools/ could only
     * ever produce an empty payload, so it is refused before anything is built.
     */
    public void requireHypervisorSource() throws BuildException {
        if (touchedFiles().stream().noneMatch(SourcePatch::isCompiledSuffix)) {
            throw new BuildException(BuildException.Reason.PATCH_NO_COMPILED_FILE, file,
                    "patch changes no compiled file (only " + String.join(", ", touchedFiles()) + ")");
        }
        if (touchedHypervisorFiles().stream().noneMatch(SourcePatch::isCompiledSuffix)) {
            throw new BuildException(BuildException.Reason.PATCH_OUTSIDE_HYPERVISOR, file,
                    "patch only changes sources outside xen/ (" + String.join(", ", touchedFiles())
                            + "): nothing in the hypervisor to live-patch");
        }
    }

    static boolean isCompiledSuffix(String path) {
        return COMPILED_SUFFIXES.stream().anyMatch(path::endsWith);
    }
}
