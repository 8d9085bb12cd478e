package org.livepatch.xenbuild;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.pipeline.LivepatchPipeline;
import org.livepatch.pipeline.PipelineResult;
import org.livepatch.cli.ExitMapper;

/**
 * Issue 14, item 4: {@code -k build} uses OUTPUT's objects only if they were built from the same
 * patch against the same reference, unchanged since; otherwise one line and exit 18.
 */
class KeptBuildTest {
    @TempDir
    Path tmp;

    private static final Path PATCH_A = BuildFixtures.patch("minixen-extra-version.patch");
    private static final Path PATCH_B = BuildFixtures.patch("minixen-extra-version-2.patch");

    private BuildRequest.Builder request(Path src, Path patch, SkipStage skip) {
        return BuildFixtures.request(src, patch, tmp).skip(skip);
    }

    @Test
    void anotherPatchIsRefusedTheSamePatchGivesTheFullRunsPayload() throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        PipelineResult diffOnly = LivepatchPipeline.run(request(src, PATCH_A, SkipStage.DIFF).build(), e -> { });
        assertNull(diffOnly.payload(), "-k diff writes no payload");

        BuildException e = assertThrows(BuildException.class,
                () -> LivepatchPipeline.run(request(src, PATCH_B, SkipStage.BUILD).build(), e2 -> { }));
        assertEquals(18, ExitMapper.of(e.reason()).number(), "bad output directory, as README documents");
        assertTrue(e.getMessage().contains("built from another patch"), e.getMessage());
        assertTrue(e.getMessage().contains("minixen-extra-version.patch"), "names the patch that made them: " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line");
        assertFalse(Files.exists(tmp.resolve("out/minixen-extra-version-2.livepatch")), "nothing written");

        PipelineResult same = LivepatchPipeline.run(request(src, PATCH_A, SkipStage.BUILD).build(), e2 -> { });
        PipelineResult full = LivepatchPipeline.run(request(src, PATCH_A, SkipStage.NONE).outputDir(tmp.resolve("full")).build(), e2 -> { });
        assertArrayEquals(Files.readAllBytes(full.payload()), Files.readAllBytes(same.payload()));
    }

    @Test
    void anEditedPatchWithTheSameNameIsAnotherPatch() throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        Path patch = tmp.resolve("fix.patch");
        Files.copy(PATCH_A, patch);
        LivepatchPipeline.run(request(src, patch, SkipStage.DIFF).build(), e -> { });
        Files.copy(PATCH_B, patch, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        BuildException e = assertThrows(BuildException.class,
                () -> LivepatchPipeline.run(request(src, patch, SkipStage.BUILD).build(), e2 -> { }));
        assertEquals(BuildException.Reason.BAD_OUTPUT_DIR, e.reason());
        assertTrue(e.getMessage().contains("built from another patch"), e.getMessage());
    }

    @Test
    void anotherReferenceIsRefused() throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        LivepatchPipeline.run(request(src, PATCH_A, SkipStage.DIFF).build(), e -> { });
        // Same patch, another config: another reference build, so the kept originals are not its objects.
        Path debugConfig = tmp.resolve("debug.config");
        Files.writeString(debugConfig, Files.readString(src.resolve("xen/.config")).replace("# CONFIG_DEBUG is not set", "CONFIG_DEBUG=y"));
        BuildException e = assertThrows(BuildException.class,
                () -> LivepatchPipeline.run(request(src, PATCH_A, SkipStage.BUILD).config(debugConfig).build(), e2 -> { }));
        assertEquals(BuildException.Reason.BAD_OUTPUT_DIR, e.reason());
        assertTrue(e.getMessage().contains("another reference"), e.getMessage());
    }

    @Test
    void aKeptObjectChangedSinceIsRefused() throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        LivepatchPipeline.run(request(src, PATCH_A, SkipStage.DIFF).build(), e -> { });
        Path obj = tmp.resolve("out/patched/xen/common/version.o");
        Files.copy(tmp.resolve("out/original/xen/common/version.o"), obj, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        BuildException e = assertThrows(BuildException.class,
                () -> LivepatchPipeline.run(request(src, PATCH_A, SkipStage.BUILD).build(), e2 -> { }));
        assertEquals(BuildException.Reason.BAD_OUTPUT_DIR, e.reason());
        assertEquals(obj, e.file());
    }

    @Test
    void outputWithoutARecordIsRefused() throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        LivepatchPipeline.run(request(src, PATCH_A, SkipStage.DIFF).build(), e -> { });
        Path record = tmp.resolve("out/build-record.txt");
        assertTrue(Files.isRegularFile(record), "the build recorded what made its objects");
        Files.delete(record);
        BuildException e = assertThrows(BuildException.class,
                () -> LivepatchPipeline.run(request(src, PATCH_A, SkipStage.BUILD).build(), e2 -> { }));
        assertEquals(18, ExitMapper.of(e.reason()).number());
        assertTrue(e.getMessage().contains("build-record.txt: missing"), e.getMessage());
    }
}
