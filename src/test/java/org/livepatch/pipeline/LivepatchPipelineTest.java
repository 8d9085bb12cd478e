package org.livepatch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.xenbuild.BuildException;
import org.livepatch.xenbuild.BuildFixtures;
import org.livepatch.xenbuild.BuildRequest;
import org.livepatch.stage.Progress;
import org.livepatch.testsupport.Tools;
import org.livepatch.verify.LoadCheck;
import org.livepatch.verify.PayloadFile;
import org.livepatch.cli.ExitMapper;

/**
 * The whole pipeline on the bundled minixen tree: a payload for a hypervisor built separately
 * (its xen-syms and build-id given as a user would), exactly the expected functions, SRC
 * untouched, the payload accepted by our loader, and the error paths with their exit codes.
 */
class LivepatchPipelineTest {

    /** The "running hypervisor": minixen built in its own directory, as a distribution would. */
    private static Path buildRunningHypervisor(Path tmp) throws Exception {
        Path running = BuildFixtures.copyMinixen(Files.createDirectories(tmp.resolve("running")));
        Tools.run(running, "make", "-s", "-C", "xen");
        return running.resolve("xen/xen-syms");
    }

    /** The build-id as readelf -n prints it: an expected value not computed by our ELF reader. */
    private static String buildId(Path xenSyms) throws Exception {
        return org.livepatch.testsupport.LinkFixture.readelfBuildId(xenSyms);
    }

    @Test
    void extraVersionPatchGivesAVerifiedPayloadAndLeavesSrcAlone(@TempDir Path tmp) throws Exception {
        Path xenSyms = buildRunningHypervisor(tmp);
        String id = buildId(xenSyms);
        Path src = BuildFixtures.copyMinixen(tmp);
        Map<String, String> before = BuildFixtures.checksums(src);

        BuildRequest req = BuildFixtures.request(src, BuildFixtures.patch("minixen-extra-version.patch"), tmp)
                .depends(id).xenSyms(xenSyms).build();
        PipelineResult r = LivepatchPipeline.run(req, Progress.NONE);

        assertEquals(tmp.resolve("out/minixen-extra-version.livepatch"), r.payload());
        assertTrue(Files.isRegularFile(r.payload()));
        Set<String> funcs = r.functions().stream().map(PatchedFunction::name).collect(Collectors.toSet());
        // print_version uses the extra-version string directly, so it changes with it.
        assertEquals(Set.of("xen_extra_version", "print_version"), funcs);
        assertEquals(List.of("common/version.o"), r.objects());
        assertEquals(id, r.depends());
        assertEquals(id, r.xenDepends());
        for (PatchedFunction f : r.functions()) {
            assertTrue(f.oldSize() >= 5 && f.newSize() > 0, f.toString());
        }
        assertEquals(before, BuildFixtures.checksums(src), "SRC is byte-identical after the run");

        var report = LoadCheck.check(LoadCheck.readHypervisor(xenSyms), List.of(PayloadFile.read(r.payload())), LoadCheck.Options.defaults());
        assertTrue(report.accepted(), "our loader accepts it: " + report.firstRejection());
        String json = Files.readString(r.report());
        assertTrue(json.contains("\"build_id\": \"" + r.buildId() + "\""), json);
        assertTrue(json.contains("\"gcc\""), json);
        // how the payload was built: the recorded command of the changed object, every flag
        String cmd = "common/version.o";
        assertTrue(json.contains("\"compile_commands\": {"), json);
        String line = json.lines().filter(l -> l.contains("\"" + cmd + "\": \"")).findFirst().orElseThrow(() -> new AssertionError(json));
        for (String flag : List.of("gcc ", " -O2 ", " -fno-pie ", " -ffunction-sections ", " -mindirect-branch=thunk-extern ",
                " -c common/version.c ")) {
            assertTrue(line.contains(flag), flag + " in " + line);
        }
        assertFalse(line.contains(tmp.toString()), "no absolute path: " + line);

        // Same inputs, another output directory: the reference comes from the cache, and the
        // payload is byte-identical.
        BuildRequest again = BuildFixtures.request(src, BuildFixtures.patch("minixen-extra-version.patch"), tmp)
                .outputDir(tmp.resolve("out2")).depends(id).xenSyms(xenSyms).build();
        List<String> stages = new java.util.ArrayList<>();
        PipelineResult r2 = LivepatchPipeline.run(again, e -> stages.add(e.stage() + ":" + e.phase() + ":" + e.detail()));
        assertTrue(stages.stream().noneMatch(s -> s.startsWith("reference-build:STARTED:building")), "no second reference build: " + stages);
        assertEquals(Files.readString(r.payload(), java.nio.charset.StandardCharsets.ISO_8859_1),
                Files.readString(r2.payload(), java.nio.charset.StandardCharsets.ISO_8859_1), "byte-identical payloads");
    }

    /**
     * What the hypervisor's loader model warns about in a payload it takes reaches the user while
     * the payload is assembled (a notice of the assemble stage, which the CLI prints) and stays in
     * the JSON report; a payload without such a thing has an empty list there.
     */
    @Test
    void theLoadersWarningsAreShownAndReported(@TempDir Path tmp) throws Exception {
        Path xenSyms = buildRunningHypervisor(tmp);
        String id = buildId(xenSyms);
        Path src = BuildFixtures.copyMinixen(tmp);
        BuildRequest req = BuildFixtures.request(src, BuildFixtures.patch("minixen-alternative.patch"), tmp)
                .depends(id).xenSyms(xenSyms).build();
        List<String> notices = new java.util.ArrayList<>();
        PipelineResult r = LivepatchPipeline.run(req, e -> {
            if (e.phase() == org.livepatch.stage.StageEvent.Phase.NOTICE) {
                notices.add(e.stage() + ": " + e.detail());
            }
        });
        // xen_extra_version is inlined into print_version (as in minixen-extra-version.patch), so both
        // change and each carries the alternative: two entries.
        assertEquals(Set.of("xen_extra_version", "print_version"), r.functions().stream().map(PatchedFunction::name).collect(Collectors.toSet()));
        String warning = "Xen applies this payload's 2 alternatives at upload; their effect depends on the CPU and is not modelled";
        assertEquals(List.of("assemble: warning: minixen-alternative: " + warning), notices);
        String json = Files.readString(r.report());
        assertTrue(json.contains("\"warnings\": [\n    \"" + warning + "\"\n  ]"), json);

        BuildRequest plain = BuildFixtures.request(src, BuildFixtures.patch("minixen-extra-version.patch"), tmp)
                .outputDir(tmp.resolve("out2")).depends(id).xenSyms(xenSyms).build();
        assertTrue(Files.readString(LivepatchPipeline.run(plain, Progress.NONE).report()).contains("\"warnings\": []"));
    }

    /**
     * The payload is linked by the toolchain's ld ({@code LD}), as the hypervisor was, not by
     * whatever {@code ld} comes first on PATH: a logging wrapper named by LD must see the
     * {@code ld -r} of the payload's objects.
     */
    @Test
    void payloadIsLinkedByTheToolchainsLd(@TempDir Path tmp) throws Exception {
        Path xenSyms = buildRunningHypervisor(tmp);
        Path src = BuildFixtures.copyMinixen(tmp);
        Path log = tmp.resolve("ld.log");
        Path wrapper = tmp.resolve("bin/logging-ld");
        Files.createDirectories(wrapper.getParent());
        Files.writeString(wrapper, "#!/bin/sh\necho \"$*\" >> '" + log + "'\nexec ld \"$@\"\n");
        assertTrue(wrapper.toFile().setExecutable(true));
        Map<String, String> env = new java.util.HashMap<>(System.getenv());
        env.put("LD", wrapper.toString());
        BuildRequest req = BuildFixtures.request(src, BuildFixtures.patch("minixen-extra-version.patch"), tmp)
                .depends(buildId(xenSyms)).xenSyms(xenSyms).environment(env).build();
        PipelineResult r = LivepatchPipeline.run(req, Progress.NONE);

        assertTrue(Files.isRegularFile(r.payload()));
        List<String> calls = Files.readAllLines(log);
        assertTrue(calls.stream().anyMatch(l -> l.contains(" -r ") && l.contains("build-id-note.o")
                && l.contains(tmp.resolve("out/objects/common/version.o").toString())), String.join("\n", calls));
    }

    @Test
    void theToolchainImagesPackageListGoesIntoTheReport(@TempDir Path tmp) throws Exception {
        // The toolchain image names its dpkg list in LPB_TOOLCHAIN_PACKAGES; each payload's
        // report carries it, because only the compiler and binutils are pinned in the image.
        Path xenSyms = buildRunningHypervisor(tmp);
        Path src = BuildFixtures.copyMinixen(tmp);
        Path list = tmp.resolve("packages.installed");
        Files.writeString(list, "binutils=2.40-2\ngcc-12=12.2.0-14+deb12u1\nlinux-libc-dev=6.1.192-3\n");
        Map<String, String> env = new java.util.HashMap<>(System.getenv());
        env.put("LPB_TOOLCHAIN_PACKAGES", list.toString());
        PipelineResult r = LivepatchPipeline.run(BuildFixtures.request(src, BuildFixtures.patch("minixen-extra-version.patch"), tmp)
                .depends(buildId(xenSyms)).xenSyms(xenSyms).environment(env).build(), Progress.NONE);
        String json = Files.readString(r.report());
        String packages = json.substring(json.indexOf("\"packages\": {"));
        packages = packages.substring(0, packages.indexOf('}') + 1);
        assertEquals("\"packages\": {\n      \"binutils\": \"2.40-2\",\n      \"gcc-12\": \"12.2.0-14+deb12u1\",\n"
                + "      \"linux-libc-dev\": \"6.1.192-3\"\n    }", packages);

        // A host build names no list: the field is there, and null.
        PipelineResult host = LivepatchPipeline.run(BuildFixtures.request(src, BuildFixtures.patch("minixen-extra-version.patch"), tmp)
                .outputDir(tmp.resolve("out-host")).depends(buildId(xenSyms)).xenSyms(xenSyms).build(), Progress.NONE);
        assertTrue(Files.readString(host.report()).contains("\"packages\": null"));

        // A broken list stops the run before anything is built, naming the file (exit 17).
        Files.writeString(list, "gcc-12 12.2.0\n");
        BuildException e = assertThrows(BuildException.class, () -> LivepatchPipeline.run(
                BuildFixtures.request(src, BuildFixtures.patch("minixen-extra-version.patch"), tmp)
                        .outputDir(tmp.resolve("out-broken")).depends(buildId(xenSyms)).xenSyms(xenSyms).environment(env).build(),
                Progress.NONE));
        assertEquals(17, ExitMapper.of(e.reason()).number());
        assertTrue(e.getMessage().contains(list.toString()) && e.getMessage().contains("line 1 is not NAME=VERSION"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("out-broken/" + "minixen-extra-version.livepatch")));
    }

    @Test
    void xenSymsOfAnotherGccIsRefusedUnlessTheCheckIsSkipped(@TempDir Path tmp) throws Exception {
        Path xenSyms = BuildFixtures.withGccComment(buildRunningHypervisor(tmp), tmp.resolve("xen-syms-gcc99"), "(Other) 99.1.0");
        String id = buildId(xenSyms);
        Path src = BuildFixtures.copyMinixen(tmp);
        BuildException e = assertThrows(BuildException.class, () -> LivepatchPipeline.run(
                BuildFixtures.request(src, BuildFixtures.patch("minixen-extra-version.patch"), tmp)
                        .depends(id).xenSyms(xenSyms).build(), Progress.NONE));
        assertEquals(BuildException.Reason.COMPILER_MISMATCH, e.reason());
        assertTrue(e.getMessage().contains("built by gcc (Other) 99.1.0 (its .comment)"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("out")), "refused before anything was written");

        PipelineResult r = LivepatchPipeline.run(BuildFixtures.request(src, BuildFixtures.patch("minixen-extra-version.patch"), tmp)
                .depends(id).xenSyms(xenSyms).skipCompilerCheck(true).build(), Progress.NONE);
        assertTrue(Files.isRegularFile(r.payload()));
        assertEquals(id, r.xenDepends());
    }

    @Test
    void stackedPayloadDependsOnTheFirst(@TempDir Path tmp) throws Exception {
        Path xenSyms = buildRunningHypervisor(tmp);
        Path src = BuildFixtures.copyMinixen(tmp);
        PipelineResult first = LivepatchPipeline.run(BuildFixtures.request(src, BuildFixtures.patch("minixen-extra-version.patch"), tmp)
                .depends(buildId(xenSyms)).xenSyms(xenSyms).build(), Progress.NONE);
        PipelineResult second = LivepatchPipeline.run(BuildFixtures.request(src, BuildFixtures.patch("minixen-ex-table.patch"), tmp)
                .outputDir(tmp.resolve("out-second")).depends(first.buildId()).xenSyms(xenSyms).build(), Progress.NONE);
        assertEquals(first.buildId(), second.depends());
        assertEquals(buildId(xenSyms), second.xenDepends());
        var report = LoadCheck.check(LoadCheck.readHypervisor(xenSyms),
                List.of(PayloadFile.read(first.payload()), PayloadFile.read(second.payload())), LoadCheck.Options.defaults());
        assertTrue(report.accepted(), "the stack loads in order: " + report.firstRejection());
    }

    @Test
    void patchesThatCannotWorkStopBeforeAnyBuild(@TempDir Path tmp) throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        Map<String, String> before = BuildFixtures.checksums(src);
        BuildException e = assertThrows(BuildException.class, () -> LivepatchPipeline.run(
                BuildFixtures.request(src, BuildFixtures.patch("minixen-not-applying.patch"), tmp).build(), Progress.NONE));
        assertEquals(BuildException.Reason.PATCH_DOES_NOT_APPLY, e.reason());
        assertFalse(Files.exists(tmp.resolve("cache/refs")) && Files.list(tmp.resolve("cache/refs")).findAny().isPresent(),
                "no reference build was started");
        BuildException e2 = assertThrows(BuildException.class, () -> LivepatchPipeline.run(
                BuildFixtures.request(src, BuildFixtures.patch("minixen-no-compiled-file.patch"), tmp).outputDir(tmp.resolve("o2")).build(), Progress.NONE));
        assertEquals(BuildException.Reason.PATCH_NO_COMPILED_FILE, e2.reason());
        assertEquals(before, BuildFixtures.checksums(src));
    }
}
