package org.livepatch.xenbuild;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The source patch parsed and applied in memory, case by case, with the expected files written
 * out: what {@code patch -p1 -N -F0} does with each (GnuPatchAgreementTest runs GNU patch itself on
 * generated cases).
 */
class SourcePatchApplyTest {
    @TempDir
    Path tmp;

    private SourcePatch patch(String text) throws Exception {
        Path p = tmp.resolve("t.patch");
        Files.write(p, text.getBytes(StandardCharsets.ISO_8859_1));
        return SourcePatch.parse(p);
    }

    private int trees;

    private Path tree(String... pathAndText) throws Exception {
        Path root = tmp.resolve("tree" + trees++);
        for (int i = 0; i < pathAndText.length; i += 2) {
            Path f = root.resolve(pathAndText[i]);
            Files.createDirectories(f.getParent());
            Files.write(f, pathAndText[i + 1].getBytes(StandardCharsets.ISO_8859_1));
        }
        Files.createDirectories(root);
        return root;
    }

    /** path -> new text, or "<deleted>". */
    private static Map<String, String> results(PatchApplier.Outcome o) {
        Map<String, String> m = new LinkedHashMap<>();
        for (PatchApplier.Result r : o.results()) {
            m.put(r.path(), r.text().orElse("<deleted>"));
        }
        return m;
    }

    private static void assertFailure(String message, String how, String expected) {
        assertTrue(how.equals("endsWith") ? message.endsWith(expected) : message.contains(expected), message);
    }

    private static String failure(SourcePatch p, Path root) {
        BuildException e = assertThrows(BuildException.class, () -> p.applyTo(root));
        assertEquals(BuildException.Reason.PATCH_DOES_NOT_APPLY, e.reason());
        assertEquals(20, org.livepatch.cli.ExitMapper.of(e.reason()).number());
        return e.getMessage();
    }

    private static final String GIT_TWO_HUNKS = """
            From 0123 Mon Sep 17 00:00:00 2001
            Subject: [PATCH] x86: a fix

            ---
             xen/common/a.c | 4 ++--
             1 file changed

            diff --git a/xen/common/a.c b/xen/common/a.c
            index 1111111..2222222 100644
            --- a/xen/common/a.c
            +++ b/xen/common/a.c
            @@ -1,4 +1,4 @@
             l1
            -l2
            +L2
             l3
             l4
            @@ -9,4 +9,4 @@
             l9
             l10
            -l11
            +L11
             l12
            --\s
            2.39.2
            """;
    private static final String TWELVE = "l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\nl11\nl12\n";

    @Test
    void gitFormatPatchWithTwoHunks() throws Exception {
        SourcePatch p = patch(GIT_TWO_HUNKS);
        assertEquals(List.of(new FileChange("xen/common/a.c", "xen/common/a.c")), p.changes());
        assertEquals(2, p.parts().get(0).hunks().size());
        assertEquals(Map.of("xen/common/a.c", "l1\nL2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\nL11\nl12\n"),
                results(p.applyTo(tree("xen/common/a.c", TWELVE))));
    }

    @Test
    void hunksAtAnOffsetApplyButAFuzzyContextDoesNot() throws Exception {
        SourcePatch p = patch(GIT_TWO_HUNKS.replace("@@ -1,4 +1,4 @@", "@@ -2,4 +2,4 @@"));
        // Three lines more at the top: both hunks found 3 (and 2) lines further down.
        PatchApplier.Outcome o = p.applyTo(tree("xen/common/a.c", "x\ny\nz\n" + TWELVE));
        assertEquals(Map.of("xen/common/a.c", "x\ny\nz\nl1\nL2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\nL11\nl12\n"), results(o));
        assertEquals(List.of("patching file xen/common/a.c", "Hunk #1 succeeded at 4 (offset 2 lines).",
                "Hunk #2 succeeded at 12 (offset 3 lines)."), o.log());
        // One context line different: GNU patch would need fuzz 1.
        String msg = failure(p, tree("xen/common/a.c", TWELVE.replace("l10\n", "l10 changed\n")));
        assertTrue(msg.endsWith("patch does not apply with zero fuzz: xen/common/a.c: Hunk #2 FAILED at 9."), msg);
    }

    @Test
    void aHunkWithLessLeadingContextIsTiedToTheStartOfTheFile() throws Exception {
        SourcePatch p = patch("--- a/x.c\n+++ b/x.c\n@@ -1,3 +1,3 @@\n-a\n+A\n b\n c\n");
        assertEquals(Map.of("x.c", "A\nb\nc\nd\n"), results(p.applyTo(tree("x.c", "a\nb\nc\nd\n"))));
        failure(p, tree("x.c", "new\na\nb\nc\nd\n"));
        // And less trailing context: the end of the file.
        SourcePatch end = patch("--- a/x.c\n+++ b/x.c\n@@ -2,3 +2,3 @@\n b\n c\n-d\n+D\n");
        assertEquals(Map.of("x.c", "new\na\nb\nc\nD\n"), results(end.applyTo(tree("x.c", "new\na\nb\nc\nd\n"))));
        failure(end, tree("x.c", "a\nb\nc\nd\nlast\n"));
    }

    @Test
    void newDeletedRenamedFilesAndModes() throws Exception {
        SourcePatch p = patch("""
                diff --git a/xen/common/new.c b/xen/common/new.c
                new file mode 100755
                index 0000000..1111111
                --- /dev/null
                +++ b/xen/common/new.c
                @@ -0,0 +1,2 @@
                +int x;
                +int y;
                diff --git a/xen/common/gone.c b/xen/common/gone.c
                deleted file mode 100644
                index 1111111..0000000
                --- a/xen/common/gone.c
                +++ /dev/null
                @@ -1 +0,0 @@
                -gone
                diff --git a/xen/common/old.c b/xen/common/moved.c
                similarity index 80%
                rename from xen/common/old.c
                rename to xen/common/moved.c
                index 1111111..2222222 100644
                --- a/xen/common/old.c
                +++ b/xen/common/moved.c
                @@ -1,2 +1,2 @@
                 keep
                -old
                +new
                """);
        assertEquals(List.of(new FileChange(null, "xen/common/new.c"), new FileChange("xen/common/gone.c", null),
                new FileChange("xen/common/old.c", "xen/common/moved.c")), p.changes());
        PatchApplier.Outcome o = p.applyTo(tree("xen/common/gone.c", "gone\n", "xen/common/old.c", "keep\nold\n"));
        assertEquals(Map.of("xen/common/new.c", "int x;\nint y;\n", "xen/common/gone.c", "<deleted>",
                "xen/common/old.c", "<deleted>", "xen/common/moved.c", "keep\nnew\n"), results(o));
        assertEquals(Optional.of(0755), o.results().get(0).mode());
        // A created file that exists already, a deletion of a file with more in it.
        assertTrue(failure(p, tree("xen/common/new.c", "int x;\nint y;\n")).contains("already exists"));
    }

    @Test
    void deletingAFileThatHoldsMoreIsRefused() throws Exception {
        SourcePatch p = patch("--- a/xen/gone.c\n+++ /dev/null\n@@ -1 +0,0 @@\n-gone\n");
        assertFailure(failure(p, tree("xen/gone.c", "gone\nmore\n")), "contains", "not deleting");
    }

    @Test
    void plainDiffWithTimestampsAndTheFileTwice() throws Exception {
        SourcePatch p = patch("""
                --- xen.orig/common/b.c\t2024-01-01 00:00:00.000000000 +0000
                +++ xen/common/b.c\t2024-01-02 00:00:00.000000000 +0000
                @@ -1,2 +1,2 @@
                -one
                +ONE
                 two
                --- xen.orig/common/b.c\t2024-01-01 00:00:00.000000000 +0000
                +++ xen/common/b.c\t2024-01-02 00:00:00.000000000 +0000
                @@ -1,2 +1,3 @@
                 ONE
                 two
                +three
                """);
        assertEquals(Map.of("common/b.c", "ONE\ntwo\nthree\n"), results(p.applyTo(tree("common/b.c", "one\ntwo\n"))));
    }

    @Test
    void noNewlineAtEndOfFileOnEitherSide() throws Exception {
        SourcePatch add = patch("--- a/x.c\n+++ b/x.c\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n");
        assertEquals(Map.of("x.c", "a\nb\n"), results(add.applyTo(tree("x.c", "a\nb"))));
        failure(add, tree("x.c", "a\nb\n")); // the old side says "no newline": a file with one is different
        SourcePatch drop = patch("--- a/x.c\n+++ b/x.c\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n\\ No newline at end of file\n");
        assertEquals(Map.of("x.c", "a\nc"), results(drop.applyTo(tree("x.c", "a\nb\n"))));
        SourcePatch context = patch("--- a/x.c\n+++ b/x.c\n@@ -1,2 +1,2 @@\n-a\n+A\n b\n\\ No newline at end of file\n");
        assertEquals(Map.of("x.c", "A\nb"), results(context.applyTo(tree("x.c", "a\nb"))));
    }

    @Test
    void carriageReturnsAreBytesOfTheLineUnlessThePatchItselfIsDos() throws Exception {
        // diff of a CRLF file: the hunk lines hold the CRs, the headers do not.
        SourcePatch crlfFile = patch("--- a/x.c\n+++ b/x.c\n@@ -1,2 +1,2 @@\n a\r\n-b\r\n+B\r\n");
        assertEquals(Map.of("x.c", "a\r\nB\r\n"), results(crlfFile.applyTo(tree("x.c", "a\r\nb\r\n"))));
        failure(crlfFile, tree("x.c", "a\nb\n"));
        // A patch saved with DOS line ends as a whole: the CRs are not part of the lines.
        SourcePatch dos = patch("--- a/x.c\r\n+++ b/x.c\r\n@@ -1,2 +1,2 @@\r\n a\r\n-b\r\n+B\r\n");
        assertEquals(Map.of("x.c", "a\nB\n"), results(dos.applyTo(tree("x.c", "a\nb\n"))));
    }

    @Test
    void anEmptyLineInAHunkIsBlankContext() throws Exception {
        SourcePatch p = patch("--- a/x.c\n+++ b/x.c\n@@ -1,3 +1,3 @@\n a\n\n-b\n+B\n");
        assertEquals(Map.of("x.c", "a\n\nB\n"), results(p.applyTo(tree("x.c", "a\n\nb\n"))));
    }

    @Test
    void alreadyAppliedMissingFileAndMalformed() throws Exception {
        SourcePatch p = patch("--- a/x.c\n+++ b/x.c\n@@ -1,2 +1,2 @@\n a\n-b\n+B\n");
        assertFailure(failure(p, tree("x.c", "a\nB\n")), "endsWith", "x.c: Hunk #1 FAILED at 1. (the patch looks reversed or already applied)");
        assertFailure(failure(p, tree()), "contains", "can't find file to patch at input line 3: x.c");
        SourcePatch bad = patch("--- a/x.c\n+++ b/x.c\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n?\n");
        assertFailure(failure(bad, tree("x.c", "a\nb\nc\n")), "endsWith", "x.c: malformed patch at line 7: ?");
    }

    @Test
    void whatIsNotAPatchAndWhatTouchesNoCompiledFile() throws Exception {
        for (String text : List.of("", "just text\n", "--- a/x.c\n+++ b/x.c\nno hunk\n")) {
            BuildException e = assertThrows(BuildException.class, () -> patch(text));
            assertEquals(BuildException.Reason.BAD_PATCH, e.reason());
            assertTrue(e.getMessage().endsWith("not a unified diff: no '--- a/...' / '+++ b/...' file headers"), e.getMessage());
        }
        BuildException e = assertThrows(BuildException.class,
                () -> patch("--- a/xen/README\n+++ b/xen/README\n@@ -1 +1 @@\n-a\n+b\n").requireHypervisorSource());
        assertEquals(BuildException.Reason.PATCH_NO_COMPILED_FILE, e.reason());
        assertTrue(e.getMessage().endsWith("patch changes no compiled file (only xen/README)"), e.getMessage());
    }

    @Test
    void bytesAreKeptAsTheyAre() throws Exception {
        String latin1 = "caf\u00e9\n\u00ff\u0000\n";
        SourcePatch p = patch("--- a/x.c\n+++ b/x.c\n@@ -1,2 +1,3 @@\n caf\u00e9\n \u00ff\u0000\n+\u00e0\n");
        assertEquals(Map.of("x.c", latin1 + "\u00e0\n"), results(p.applyTo(tree("x.c", latin1))));
        assertEquals(64, p.sha256().length());
    }

    static String show(Map<String, String> m) {
        return m.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining("|"));
    }
}
