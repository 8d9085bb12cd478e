package org.livepatch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.xenbuild.BuildException;
import org.livepatch.xenbuild.BuildFixtures;
import org.livepatch.xenbuild.BuildRequest;
import org.livepatch.cli.ExitMapper;

/**
 * {@code --batch} on minixen: the good patches give payloads while the bad ones (does not apply,
 * changes no compiled file, does not compile) fail alone, each with its single-patch exit code.
 */
class BatchRunTest {

    /** A patch that applies but does not compile: the failure comes late, inside the parallel part. */
    private static final String BROKEN = """
            Make version.c fail to compile.

            --- a/xen/common/version.c
            +++ b/xen/common/version.c
            @@ -49,7 +49,7 @@
             
             const char *xen_extra_version(void)
             {
            -    return XEN_EXTRAVERSION;
            +    return this does not compile;
             }
             
             const char *xen_changeset(void)
            """;

    private static Path patchDir(Path tmp) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("patches"));
        for (String p : List.of("minixen-extra-version.patch", "minixen-extra-version-2.patch", "minixen-not-applying.patch",
                "minixen-no-compiled-file.patch")) {
            Files.copy(BuildFixtures.patch(p), dir.resolve(p));
        }
        Files.writeString(dir.resolve("minixen-broken.patch"), BROKEN);
        Files.writeString(dir.resolve("README.txt"), "not a patch: ignored\n");
        return dir;
    }

    private static BuildRequest.Builder template(Path src, Path tmp) {
        return BuildFixtures.request(src, null, tmp).outputDir(tmp.resolve("out")).jobs(2);
    }

    @Test
    void goodPatchesGivePayloadsAndFailuresStayWithTheirPatch(@TempDir Path tmp) throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        Map<String, String> before = BuildFixtures.checksums(src);
        StringWriter progress = new StringWriter();

        BatchRun.Result r = BatchRun.run(template(src, tmp).build(), BatchRun.patches(patchDir(tmp)), new PrintWriter(progress), ExitMapper.batch());

        Map<String, BatchRun.Entry> by = r.entries().stream().collect(Collectors.toMap(BatchRun.Entry::name, e -> e));
        assertEquals(List.of("minixen-broken", "minixen-extra-version-2", "minixen-extra-version", "minixen-no-compiled-file",
                "minixen-not-applying"), r.entries().stream().map(BatchRun.Entry::name).toList(), "sorted by file name");
        for (String ok : List.of("minixen-extra-version", "minixen-extra-version-2")) {
            BatchRun.Entry e = by.get(ok);
            assertEquals(BatchRun.Status.OK, e.status(), e.message());
            assertEquals(tmp.resolve("out").resolve(ok).resolve(ok + ".livepatch"), e.payload());
            assertTrue(Files.isRegularFile(e.payload()));
            assertTrue(Files.isRegularFile(tmp.resolve("out").resolve(ok).resolve(ok + ".json")), "one report per patch");
            assertTrue(e.functions().contains("xen_extra_version"), e.functions().toString());
        }
        assertEquals(20, by.get("minixen-not-applying").exitCode(), "patch does not apply");
        assertEquals(21, by.get("minixen-no-compiled-file").exitCode(), "no compiled file");
        BatchRun.Entry broken = by.get("minixen-broken");
        assertEquals(24, broken.exitCode(), "patched build failed: " + broken.message());
        assertTrue(broken.message().contains("version"), broken.message());
        assertFalse(r.ok());
        assertTrue(Files.readString(r.summary()).contains("\"status\": \"failed\""), "batch.json written");
        assertEquals(before, BuildFixtures.checksums(src), "SRC untouched");
        try (var s = Files.list(tmp.resolve("cache/refs"))) {
            assertEquals(1, s.filter(p -> !p.getFileName().toString().endsWith(".lock")).count(), "one reference for the batch");
        }
    }

    @Test
    void commandLinePrintsTheTableAndFailsIfAnyPatchFailed(@TempDir Path tmp) throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        Path list = tmp.resolve("changesets.txt");
        Files.copy(BuildFixtures.patch("minixen-extra-version.patch"), tmp.resolve("a.patch"));
        Files.copy(BuildFixtures.patch("minixen-not-applying.patch"), tmp.resolve("b.patch"));
        Files.writeString(list, "# one patch per changeset\na.patch\n\nb.patch\n");
        StringWriter out = new StringWriter();
        int rc = run(out, "--batch", list.toString(), "-s", src.toString(), "-c", src.resolve("xen/.config").toString(),
                "-o", tmp.resolve("out").toString(), "--depends", BuildFixtures.ZERO_ID, "-j", "2");
        assertEquals(1, rc, "a patch of the batch failed: " + out);
        String table = out.toString();
        assertTrue(table.lines().anyMatch(l -> l.startsWith("a ") && l.contains(" ok ") && l.contains("xen_extra_version")), table);
        assertTrue(table.lines().anyMatch(l -> l.startsWith("b ") && l.contains(" failed ")
                && l.contains(" 20 ")), table);
        assertTrue(Files.isRegularFile(tmp.resolve("out/a/a.livepatch")));

        Files.delete(list);
        Files.writeString(list, "a.patch\n");
        StringWriter out2 = new StringWriter();
        assertEquals(0, run(out2, "--batch", list.toString(), "-s", src.toString(), "-c", src.resolve("xen/.config").toString(),
                "-o", tmp.resolve("out2").toString(), "--depends", BuildFixtures.ZERO_ID), out2.toString());
    }

    @Test
    void batchAndPatchTogetherIsAUsageError(@TempDir Path tmp) throws Exception {
        StringWriter out = new StringWriter();
        assertEquals(64, run(out, "--batch", tmp.toString(), "-p", "x.patch", "-s", tmp.toString(),
                "-c", "c", "-o", tmp.resolve("o").toString(), "--depends", BuildFixtures.ZERO_ID));
        assertTrue(out.toString().contains("exclude each other"), out.toString());
    }

    @Test
    void twoPatchesWithOneOutputNameAreRefusedUpFront(@TempDir Path tmp) throws Exception {
        Path a = Files.createDirectories(tmp.resolve("a")).resolve("fix.patch");
        Path b = Files.createDirectories(tmp.resolve("b")).resolve("fix.diff");
        Files.copy(BuildFixtures.patch("minixen-extra-version.patch"), a);
        Files.copy(BuildFixtures.patch("minixen-extra-version.patch"), b);
        BuildException e = assertThrows(BuildException.class,
                () -> BatchRun.run(template(tmp, tmp).build(), List.of(a, b), new PrintWriter(new StringWriter()), ExitMapper.batch()));
        assertTrue(e.getMessage().contains("same output name"), e.getMessage());
    }

    private static int run(StringWriter out, String... args) {
        return BuildCommandInProcess.run(out, args);
    }
}
