package org.livepatch.xenbuild;

import org.livepatch.io.FileTrees;
import org.livepatch.stage.Progress;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.testsupport.Tools;
import org.livepatch.cli.ExitMapper;

/**
 * Every up-front refusal: each gives its own reason (so its own exit code), a one-line message
 * naming the file, and happens before anything is built (the cache stays empty, SRC untouched).
 */
class RequestChecksTest {
    @TempDir
    Path tmp;
    Path src;
    Map<String, String> srcBefore;

    @BeforeEach
    void setUp() throws Exception {
        src = BuildFixtures.copyMinixen(tmp);
        srcBefore = BuildFixtures.checksums(src);
    }

    private BuildRequest.Builder ok() {
        return BuildFixtures.request(src, BuildFixtures.patch("minixen-extra-version.patch"), tmp);
    }

    private BuildException refused(BuildRequest r, BuildException.Reason reason) throws Exception {
        BuildException e = assertThrows(BuildException.class, () -> BuildStage.run(r, Progress.NONE));
        assertEquals(reason, e.reason(), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        assertFalse(Files.exists(tmp.resolve("cache/refs")), "nothing built");
        assertFalse(Files.exists(tmp.resolve("out")), "no output written");
        assertEquals(srcBefore, BuildFixtures.checksums(src));
        return e;
    }

    @Test
    void aPatchFileNameThatGivesNoPayloadNameIsRefusedBeforeAnything() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("patches"));
        Path patch = Files.copy(BuildFixtures.patch("minixen-extra-version.patch"), dir.resolve(".patch"));
        BuildException e = refused(ok().patch(patch).build(), BuildException.Reason.BAD_PATCH);
        assertEquals(19, ExitMapper.of(e.reason()).number());
        assertTrue(e.getMessage().startsWith(patch + ": ") && e.getMessage().contains("an empty name"), e.getMessage());
        Path dashes = Files.copy(BuildFixtures.patch("minixen-extra-version.patch"), dir.resolve("+.diff"));
        assertTrue(refused(ok().patch(dashes).build(), BuildException.Reason.BAD_PATCH).getMessage().contains("gives '-'"));
    }

    @Test
    void anUnknownUnitShortcutModeIsRefusedBeforeAnything() throws Exception {
        Map<String, String> env = new java.util.HashMap<>(System.getenv());
        env.put(UnitShortcut.ENV, "yes");
        BuildException e = refused(ok().environment(env).build(), BuildException.Reason.BAD_OPTION);
        assertEquals("LPB_UNIT_SHORTCUT=yes: expected on (the default), off or prove", e.getMessage());
    }

    @Test
    void validRequestPassesAndDerivesTheNames() throws Exception {
        CheckedRequest c = RequestChecks.check(ok().build());
        assertEquals("minixen-extra-version", c.patchName());
        assertEquals(tmp.resolve("out/minixen-extra-version.livepatch"), c.payloadFile());
        assertEquals(src.toRealPath(), c.srcDir());
        assertEquals(Set.of("xen/common/version.c"), c.patch().touchedFiles());
        assertTrue(c.makeEnvironment().get("XEN_BUILD_DATE").startsWith("Thu Jan  1"));
    }

    @Test
    void configWithoutLivepatch() throws Exception {
        Path cfg = tmp.resolve("nolp.config");
        Files.writeString(cfg, Files.readString(src.resolve("xen/.config")).replace("CONFIG_LIVEPATCH=y", "# CONFIG_LIVEPATCH is not set"));
        BuildException e = refused(ok().config(cfg).build(), BuildException.Reason.CONFIG_NO_LIVEPATCH);
        assertTrue(e.getMessage().startsWith(cfg + ": "), e.getMessage());
    }

    @Test
    void missingConfig() throws Exception {
        refused(ok().config(tmp.resolve("nope.config")).build(), BuildException.Reason.BAD_CONFIG);
    }

    @Test
    void xenDebugWithoutConfigDebug() throws Exception {
        BuildException e = refused(ok().xenDebug(true).build(), BuildException.Reason.BAD_CONFIG);
        assertTrue(e.getMessage().contains("--xen-debug"), e.getMessage());
    }

    @Test
    void malformedBuildIds() throws Exception {
        for (String bad : List.of("1234", "g123456789abcdef0123456789abcdef01234567", BuildFixtures.ZERO_ID + "00", "")) {
            BuildException e = refused(ok().depends(bad).build(), BuildException.Reason.BAD_BUILD_ID);
            assertTrue(e.getMessage().contains("--depends"), e.getMessage());
            refused(ok().xenDepends(bad).build(), BuildException.Reason.BAD_BUILD_ID);
        }
        refused(ok().depends(null).build(), BuildException.Reason.BAD_BUILD_ID);
    }

    /** A tiny linked ELF with a known build-id, made with the host toolchain. */
    private Path elfWithBuildId() throws Exception {
        Path c = tmp.resolve("t.c");
        Files.writeString(c, "void _start(void) { for (;;); }\n");
        Path exe = tmp.resolve("t-syms");
        Tools.run(tmp, "gcc", "-nostdlib", "-static", "-Wl,--build-id=sha1", "-o", exe.toString(), c.toString());
        return exe;
    }

    @Test
    void xenSymsChecks() throws Exception {
        Path syms = elfWithBuildId();
        String id = RequestChecks.readBuildId(syms).hex();
        assertEquals(40, id.length());
        // matching build-id: accepted
        RequestChecks.check(ok().xenSyms(syms).xenDepends(id.toUpperCase()).build());
        FileTrees.delete(tmp.resolve("cache"));
        // another build-id: refused
        BuildException e = refused(ok().xenSyms(syms).xenDepends(BuildFixtures.ZERO_ID).build(), BuildException.Reason.XEN_SYMS_MISMATCH);
        assertTrue(e.getMessage().contains(id), e.getMessage());
        // not ELF, missing
        Path text = tmp.resolve("notelf");
        Files.writeString(text, "hello");
        refused(ok().xenSyms(text).build(), BuildException.Reason.BAD_XEN_SYMS);
        refused(ok().xenSyms(tmp.resolve("missing")).build(), BuildException.Reason.BAD_XEN_SYMS);
    }

    @Test
    void xenSymsBuiltByAnotherGccIsRefusedUnlessTheCheckIsSkipped() throws Exception {
        Path syms = elfWithBuildId();
        String gcc = RequestChecks.gccComments(org.livepatch.elf.ElfReader.read(syms)).get(0);
        assertTrue(Toolchain.locate(System.getenv()).gccVersion().endsWith(gcc), "a gcc-built file names this gcc: " + gcc);
        RequestChecks.check(ok().xenSyms(syms).build());
        FileTrees.delete(tmp.resolve("cache"));

        Path other = BuildFixtures.withGccComment(syms, tmp.resolve("other-syms"), "(Test) 1.2.3");
        assertEquals(List.of("(Test) 1.2.3"), RequestChecks.gccComments(org.livepatch.elf.ElfReader.read(other)));
        BuildException e = refused(ok().xenSyms(other).build(), BuildException.Reason.COMPILER_MISMATCH);
        assertEquals(29, ExitMapper.of(e.reason()).number());
        assertTrue(e.getMessage().startsWith(other + ": built by gcc (Test) 1.2.3 (its .comment), but the payload would be built by gcc"),
                e.getMessage());
        assertTrue(e.getMessage().contains(gcc) && e.getMessage().endsWith("--skip-compiler-check"), e.getMessage());

        RequestChecks.check(ok().xenSyms(other).skipCompilerCheck(true).build());
    }

    @Test
    void patchThatDoesNotApply() throws Exception {
        BuildException e = refused(ok().patch(BuildFixtures.patch("minixen-not-applying.patch")).build(),
                BuildException.Reason.PATCH_DOES_NOT_APPLY);
        assertTrue(e.getMessage().contains("FAILED"), e.getMessage());
    }

    @Test
    void patchAlreadyAppliedIsRefused() throws Exception {
        Tools.run(src, "patch", "-p1", "-s", "-i", BuildFixtures.patch("minixen-extra-version.patch").toString());
        srcBefore = BuildFixtures.checksums(src);
        refused(ok().build(), BuildException.Reason.PATCH_DOES_NOT_APPLY);
    }

    @Test
    void patchTouchingNoCompiledFile() throws Exception {
        refused(ok().patch(BuildFixtures.patch("minixen-no-compiled-file.patch")).build(), BuildException.Reason.PATCH_NO_COMPILED_FILE);
    }

    @Test
    void patchOutsideTheHypervisor() throws Exception {
        Path p = tmp.resolve("tools.patch");
        Files.writeString(p, "--- a/tools/foo.c\n+++ b/tools/foo.c\n@@ -1 +1 @@\n-a\n+b\n");
        refused(ok().patch(p).build(), BuildException.Reason.PATCH_OUTSIDE_HYPERVISOR);
    }

    @Test
    void notAPatch() throws Exception {
        Path p = tmp.resolve("garbage.patch");
        Files.writeString(p, "just text\n");
        refused(ok().patch(p).build(), BuildException.Reason.BAD_PATCH);
        refused(ok().patch(tmp.resolve("missing.patch")).build(), BuildException.Reason.BAD_PATCH);
    }

    @Test
    void missingGcc() throws Exception {
        // a PATH holding every tool the stage needs except gcc
        Path bin = tmp.resolve("bin-without-gcc");
        Files.createDirectories(bin);
        for (String t : List.of("make", "ld", "patch", "cp", "sh", "sed", "cmp")) {
            Path real = Arrays.stream(System.getenv("PATH").split(":")).map(d -> Path.of(d, t))
                    .filter(Files::isExecutable).findFirst().orElseThrow();
            Files.copy(real, bin.resolve(t), java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        }
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("PATH", bin.toString());
        BuildException e = refused(ok().environment(env).build(), BuildException.Reason.TOOL_MISSING);
        assertTrue(e.getMessage().startsWith("gcc: not found"), e.getMessage());
    }

    @Test
    void outputDirectoryRules() throws Exception {
        Path out = tmp.resolve("out");
        Files.createDirectories(out);
        Files.writeString(out.resolve("keep-me"), "user file");
        BuildException e = assertThrows(BuildException.class, () -> RequestChecks.check(ok().build()));
        assertEquals(BuildException.Reason.BAD_OUTPUT_DIR, e.reason());
        assertEquals("user file", Files.readString(out.resolve("keep-me")));
        // an empty directory is fine
        Files.delete(out.resolve("keep-me"));
        RequestChecks.check(ok().build());
        // never inside SRC
        BuildException in = assertThrows(BuildException.class, () -> RequestChecks.check(ok().outputDir(src.resolve("xen/out")).build()));
        assertEquals(BuildException.Reason.BAD_OUTPUT_DIR, in.reason());
        BuildException cache = assertThrows(BuildException.class, () -> RequestChecks.check(ok().cacheDir(src.resolve("cache")).build()));
        assertEquals(BuildException.Reason.BAD_OUTPUT_DIR, cache.reason());
        // -k build needs a previous run's output
        BuildException skip = assertThrows(BuildException.class, () -> RequestChecks.check(ok().skip(SkipStage.BUILD).build()));
        assertEquals(BuildException.Reason.BAD_OUTPUT_DIR, skip.reason());
        assertEquals(srcBefore, BuildFixtures.checksums(src));
    }

    @Test
    void sourceTreeChecks() throws Exception {
        refused(ok().srcDir(tmp.resolve("nowhere")).build(), BuildException.Reason.BAD_SOURCE_TREE);
        refused(ok().srcDir(src.resolve("xen")).build(), BuildException.Reason.BAD_SOURCE_TREE);
        refused(ok().jobs(0).build(), BuildException.Reason.BAD_OPTION);
    }

    @Test
    void everyReasonHasItsOwnExitCode() {
        Set<Integer> codes = new HashSet<>();
        for (BuildException.Reason r : BuildException.Reason.values()) {
            int code = ExitMapper.of(r).number();
            assertTrue(codes.add(code), "duplicate exit code " + code + " for " + r);
            assertTrue(code > 1 && code < 64, r + " must not clash with 0/1 or the sysexits codes of CommandRunner");
        }
    }
}
