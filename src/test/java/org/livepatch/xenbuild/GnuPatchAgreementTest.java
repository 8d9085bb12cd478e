package org.livepatch.xenbuild;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.difflib.DiffUtils;
import com.github.difflib.UnifiedDiffUtils;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.testsupport.XenTree;

/**
 * The product applies patches itself; GNU {@code patch -p1 -N -f --fuzz=0} is what it replaced. Where
 * GNU patch is installed, both get the same inputs and must agree: apply or not, and byte for byte
 * what they write. The generated files repeat a few short lines, so a hunk often fits at several
 * places and the search order decides; the targets are the diffed file moved by inserted and
 * deleted lines, so hunks land at offsets or no longer fit.
 */
class GnuPatchAgreementTest {
    @TempDir
    Path tmp;

    private static final List<String> WORDS = List.of("{", "}", "a", "b", "c", "return 0;", "");

    @Test
    void generatedPatchesOnMovedFiles() throws Exception {
        Assumptions.assumeTrue(gnuPatch(), "GNU patch is not installed: nothing to compare with");
        Random r = new Random(16);
        int applied = 0;
        int refused = 0;
        int offsets = 0;
        for (int n = 0; n < 400; n++) {
            List<String> base = lines(r, 3 + r.nextInt(40));
            List<String> changed = edit(r, base, 1 + r.nextInt(3));
            if (changed.equals(base)) {
                continue;
            }
            int context = r.nextInt(4) == 0 ? r.nextInt(3) : 3;
            List<String> diff = UnifiedDiffUtils.generateUnifiedDiff("a/x/f.c", "b/x/f.c", base,
                    DiffUtils.diff(base, changed), context);
            String patchText = String.join("\n", diff) + "\n";
            List<String> target = r.nextInt(5) == 0 ? base : moved(r, base, 1 + r.nextInt(3));
            String targetText = target.stream().map(l -> l + "\n").reduce("", String::concat);

            Path dir = tmp.resolve("case" + n);
            Files.createDirectories(dir.resolve("gnu/x"));
            Files.createDirectories(dir.resolve("ours/x"));
            Path p = dir.resolve("t.patch");
            Files.writeString(p, patchText, StandardCharsets.ISO_8859_1);
            Files.writeString(dir.resolve("gnu/x/f.c"), targetText, StandardCharsets.ISO_8859_1);
            Files.writeString(dir.resolve("ours/x/f.c"), targetText, StandardCharsets.ISO_8859_1);

            Optional<String> gnu = runGnu(dir.resolve("gnu"), p, "x/f.c");
            Optional<String> ours = ours(SourcePatch.parse(p), dir.resolve("ours"), "x/f.c");
            assertEquals(gnu, ours, "case " + n + "\n--- patch\n" + patchText + "--- file\n" + targetText);
            if (ours.isPresent()) {
                applied++;
                offsets += target.equals(base) ? 0 : 1;
            } else {
                refused++;
            }
        }
        // The generator must exercise both outcomes and the offset search, or the test proves little.
        assertTrue(applied > 100 && refused > 50 && offsets > 50, applied + " applied, " + refused + " refused, " + offsets + " on moved files");
    }

    @Test
    void noNewlineCrlfAndAnchoredHunksAgree() throws Exception {
        Assumptions.assumeTrue(gnuPatch(), "GNU patch is not installed: nothing to compare with");
        String[][] cases = {
            {"a\nb", "--- a/x/f.c\n+++ b/x/f.c\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n"},
            {"a\nb\n", "--- a/x/f.c\n+++ b/x/f.c\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n"},
            {"a\nb\n", "--- a/x/f.c\n+++ b/x/f.c\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n\\ No newline at end of file\n"},
            {"a\nb", "--- a/x/f.c\n+++ b/x/f.c\n@@ -1,2 +1,2 @@\n-a\n+A\n b\n\\ No newline at end of file\n"},
            {"a\nb", "--- a/x/f.c\n+++ b/x/f.c\n@@ -1,2 +1,2 @@\n-a\n+A\n b\n"},
            {"a\r\nb\r\n", "--- a/x/f.c\n+++ b/x/f.c\n@@ -1,2 +1,2 @@\n a\r\n-b\r\n+B\r\n"},
            {"a\nb\n", "--- a/x/f.c\n+++ b/x/f.c\n@@ -1,2 +1,2 @@\n a\r\n-b\r\n+B\r\n"},
            {"a\nb\n", "--- a/x/f.c\r\n+++ b/x/f.c\r\n@@ -1,2 +1,2 @@\r\n a\r\n-b\r\n+B\r\n"},
            {"a\r\nb\r\n", "--- a/x/f.c\r\n+++ b/x/f.c\r\n@@ -1,2 +1,2 @@\r\n a\r\n-b\r\n+B\r\n"},
            {"a\n\nb\n", "--- a/x/f.c\n+++ b/x/f.c\n@@ -1,3 +1,3 @@\n a\n\n-b\n+B\n"},
            {"new\na\nb\nc\nd\n", "--- a/x/f.c\n+++ b/x/f.c\n@@ -1,3 +1,3 @@\n-a\n+A\n b\n c\n"},
            {"a\nb\nc\nd\nlast\n", "--- a/x/f.c\n+++ b/x/f.c\n@@ -2,3 +2,3 @@\n b\n c\n-d\n+D\n"},
            {"a\nB\n", "--- a/x/f.c\n+++ b/x/f.c\n@@ -1,2 +1,2 @@\n a\n-b\n+B\n"},
            {"x\ny\n", "--- a/x/f.c\n+++ b/x/f.c\n@@ -0,0 +1,2 @@\n+p\n+q\n"},
        };
        for (int n = 0; n < cases.length; n++) {
            Path dir = tmp.resolve("fixed" + n);
            Files.createDirectories(dir.resolve("gnu/x"));
            Files.createDirectories(dir.resolve("ours/x"));
            Path p = dir.resolve("t.patch");
            Files.writeString(p, cases[n][1], StandardCharsets.ISO_8859_1);
            Files.writeString(dir.resolve("gnu/x/f.c"), cases[n][0], StandardCharsets.ISO_8859_1);
            Files.writeString(dir.resolve("ours/x/f.c"), cases[n][0], StandardCharsets.ISO_8859_1);
            assertEquals(runGnu(dir.resolve("gnu"), p, "x/f.c"), ours(SourcePatch.parse(p), dir.resolve("ours"), "x/f.c"),
                    "case " + n + ": " + cases[n][1]);
        }
    }

    /** Every real Xen fix, alone on the 4.17.5 base: the same verdict and the same files as GNU patch. */
    @Test
    @Tag("xen")
    void realXenFixesAgree() throws Exception {
        Assumptions.assumeTrue(gnuPatch(), "GNU patch is not installed: nothing to compare with");
        Path src = XenTree.source();
        List<Path> fixes;
        try (Stream<Path> s = Files.list(org.livepatch.testsupport.XenFixes.directory())) {
            fixes = s.filter(f -> f.toString().endsWith(".patch")).sorted().toList();
        }
        int applied = 0;
        for (Path fix : fixes) {
            SourcePatch p = SourcePatch.parse(fix);
            Path gnu = tmp.resolve(fix.getFileName().toString());
            for (String f : p.touchedFiles()) {
                if (Files.isRegularFile(src.resolve(f))) {
                    Files.createDirectories(gnu.resolve(f).getParent());
                    Files.copy(src.resolve(f), gnu.resolve(f));
                }
            }
            Files.createDirectories(gnu);
            boolean gnuOk = Tools.exit(gnu, "patch", "-p1", "-N", "-f", "--fuzz=0", "--no-backup-if-mismatch", "-s", "-i",
                    fix.toString()) == 0;
            PatchApplier.Outcome ours;
            try {
                ours = p.applyTo(src);
            } catch (BuildException e) {
                assertTrue(!gnuOk, fix.getFileName() + ": GNU patch applies it, we refuse: " + e.getMessage());
                continue;
            }
            assertTrue(gnuOk, fix.getFileName() + ": we apply it, GNU patch does not");
            // Every file the patch names: as GNU patch left it, and as ours leaves it (changed or not).
            for (String f : p.touchedFiles()) {
                Path g = gnu.resolve(f);
                Optional<String> mine = ours.results().stream().filter(r -> r.path().equals(f)).findFirst()
                        .map(PatchApplier.Result::text)
                        .orElse(Files.isRegularFile(src.resolve(f)) ? Optional.of(Files.readString(src.resolve(f), StandardCharsets.ISO_8859_1)) : Optional.empty());
                assertEquals(Files.isRegularFile(g) ? Optional.of(Files.readString(g, StandardCharsets.ISO_8859_1)) : Optional.empty(),
                        mine, fix.getFileName() + ": " + f);
            }
            applied++;
        }
        assertEquals(54, fixes.size());
        assertEquals(27, applied, "the fixes that apply to the base alone (README, Real fixes)");
    }

    private static Optional<String> ours(SourcePatch p, Path root, String file) throws IOException {
        try {
            PatchApplier.Outcome o = p.applyTo(root);
            return o.results().stream().filter(r -> r.path().equals(file)).findFirst().orElseThrow().text();
        } catch (BuildException e) {
            assertEquals(BuildException.Reason.PATCH_DOES_NOT_APPLY, e.reason(), e.getMessage());
            return Optional.empty();
        }
    }

    private static Optional<String> runGnu(Path root, Path patch, String file) throws Exception {
        int rc = Tools.exit(root, "patch", "-p1", "-N", "-f", "--fuzz=0", "--no-backup-if-mismatch", "-s", "-i", patch.toString());
        return rc == 0 ? Optional.of(Files.readString(root.resolve(file), StandardCharsets.ISO_8859_1)) : Optional.empty();
    }

    private static boolean gnuPatch() {
        try {
            return Tools.exit(null, "patch", "--version") == 0;
        } catch (Exception e) {
            return false;
        }
    }

    private static List<String> lines(Random r, int n) {
        List<String> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(WORDS.get(r.nextInt(WORDS.size())));
        }
        return l;
    }

    /** Replaces, inserts or deletes a few short runs of lines. */
    private static List<String> edit(Random r, List<String> base, int edits) {
        List<String> l = new ArrayList<>(base);
        for (int e = 0; e < edits; e++) {
            int at = r.nextInt(l.size() + 1);
            switch (r.nextInt(3)) {
                case 0 -> l.add(at, "new " + r.nextInt(100));
                case 1 -> { if (at < l.size()) l.remove(at); }
                default -> { if (at < l.size()) l.set(at, "changed " + r.nextInt(100)); }
            }
        }
        return l;
    }

    /** The file the patch was made from with lines inserted or deleted elsewhere (or anywhere). */
    private static List<String> moved(Random r, List<String> base, int moves) {
        List<String> l = new ArrayList<>(base);
        for (int m = 0; m < moves; m++) {
            int at = r.nextInt(l.size() + 1);
            if (r.nextBoolean() || at == l.size()) {
                l.add(at, WORDS.get(r.nextInt(WORDS.size())));
            } else {
                l.remove(at);
            }
        }
        return l;
    }

    /** GNU patch's exit code, its output discarded. */
    private static final class Tools {
        static int exit(Path dir, String... cmd) throws IOException, InterruptedException {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
            if (dir != null) {
                pb.directory(dir.toFile());
            }
            return pb.start().waitFor();
        }
    }
}
