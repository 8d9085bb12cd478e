package org.livepatch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.xenbuild.BuildFixtures;
import org.livepatch.xenbuild.BuildRequest;
import org.livepatch.xenbuild.PatchedBuild;
import org.livepatch.xenbuild.Workspace;
import org.livepatch.stage.Progress;
import org.livepatch.testsupport.XenTree;
import org.livepatch.verify.LoadCheck;
import org.livepatch.verify.PayloadFile;

/**
 * The pipeline on the real Xen 4.17.5 source, against a reference hypervisor built separately
 * ({@code tests/xen/xen-tree ref}, whose build-id and xen-syms are given as a user would give
 * those of the running hypervisor). The pipeline's own reference build lives in the shared cache,
 * so only the first test of a machine pays for it.
 */
@Tag("xen")
class XenPipelineTest {

    private static BuildRequest.Builder request(Path patch, Path out) throws Exception {
        Path xenSyms = XenTree.xenSyms();
        String id = org.livepatch.testsupport.LinkFixture.readelfBuildId(xenSyms);
        return BuildRequest.builder()
                .srcDir(XenTree.source())
                .patch(patch)
                .config(XenTree.root().resolve("xen/.config"))
                .outputDir(out)
                .jobs(Runtime.getRuntime().availableProcessors())
                .depends(id)
                .xenSyms(xenSyms);
    }

    private static Set<String> names(PipelineResult r) {
        return r.functions().stream().map(PatchedFunction::name).collect(Collectors.toSet());
    }

    @Test
    void extraVersionPatchGivesExactlyThatFunction(@TempDir Path tmp) throws Exception {
        Map<String, String> before = BuildFixtures.checksums(XenTree.source());
        long t0 = System.nanoTime();
        PipelineResult r = LivepatchPipeline.run(request(XenTree.patch("hello.patch"), tmp.resolve("out")).build(), Progress.NONE);
        System.out.printf("real Xen, hello.patch: payload in %.1f s (%s)%n", (System.nanoTime() - t0) / 1e9, r.times());
        // Upstream also emits xen_compile_date and xen_compile_time here (its two builds differ in
        // build-time strings); ours pins them.
        assertEquals(Set.of("xen_extra_version"), names(r));
        assertEquals(List.of("common/version.o"), r.objects());
        var report = LoadCheck.check(LoadCheck.readHypervisor(XenTree.xenSyms()), List.of(PayloadFile.read(r.payload())), LoadCheck.Options.defaults());
        assertTrue(report.accepted(), "accepted by our loader: " + report.firstRejection());
        assertEquals(before, BuildFixtures.checksums(XenTree.source()), "the Xen source is untouched");
    }

    @Test
    void hypercallChangeCompiledTwiceGivesBothFunctionsFromTheCache(@TempDir Path tmp) throws Exception {
        // Make sure the reference exists, then count reference builds in the second run.
        LivepatchPipeline.run(request(XenTree.patch("hello.patch"), tmp.resolve("warm")).build(), Progress.NONE);
        List<String> events = new ArrayList<>();
        long t0 = System.nanoTime();
        PipelineResult r = LivepatchPipeline.run(request(XenTree.patch("kernel-extraversion.patch"), tmp.resolve("out")).build(),
                e -> events.add(e.stage() + ":" + e.phase() + ":" + e.detail()));
        System.out.printf("real Xen, kernel-extraversion.patch (warm): payload in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        assertTrue(events.stream().noneMatch(s -> s.startsWith("reference-build:STARTED:building")), "reference from the cache: " + events);
        assertEquals(Set.of("do_xen_version", "compat_xen_version"), names(r));
        assertEquals(Set.of("common/kernel.o", "common/compat/kernel.o"), Set.copyOf(r.objects()));
    }

    @Test
    void fastPathGivesTheMakePathsPayloadAndLeavesTheCacheUnchanged(@TempDir Path tmp) throws Exception {
        LivepatchPipeline.run(request(XenTree.patch("hello.patch"), tmp.resolve("warm")).build(), Progress.NONE);
        Path refs = Workspace.fromEnvironment(System.getenv()).refs();
        Map<String, String> cacheBefore = BuildFixtures.checksums(refs);

        List<String> fast = new ArrayList<>();
        PipelineResult r1 = LivepatchPipeline.run(request(XenTree.patch("kernel-extraversion.patch"), tmp.resolve("fast")).build(),
                e -> fast.add(e.stage() + ":" + e.phase() + ":" + e.detail()));
        assertEquals(cacheBefore, BuildFixtures.checksums(refs), "the cached reference tree is unchanged by a hard-linked run");

        Map<String, String> env = new HashMap<>(System.getenv());
        env.put(PatchedBuild.REPLAY_ENV, "0");
        List<String> slow = new ArrayList<>();
        PipelineResult r2 = LivepatchPipeline.run(request(XenTree.patch("kernel-extraversion.patch"), tmp.resolve("make"))
                .environment(env).build(), e -> slow.add(e.stage() + ":" + e.phase() + ":" + e.detail()));

        assertTrue(fast.contains("patched-build:FINISHED:replayed recorded commands"), fast.toString());
        assertTrue(slow.stream().anyMatch(s -> s.startsWith("patched-build:FINISHED:make")), slow.toString());
        assertTrue(fast.stream().anyMatch(s -> s.startsWith("copy-reference:STARTED:") && s.endsWith("(hard links)")), fast.toString());
        assertEquals(-1L, Files.mismatch(r1.payload(), r2.payload()), "same payload, byte for byte, from both paths");
        assertEquals(Set.of("do_xen_version", "compat_xen_version"), names(r1));
        // The report says how each changed object was compiled on the warm path too (replayed
        // commands), and the same as make says it did: the command Xen recorded, which make reruns.
        String fastCommands = compileCommands(r1);
        assertTrue(fastCommands.contains("\"common/kernel.o\": \"gcc ") && fastCommands.contains("\"common/compat/kernel.o\": \"gcc "),
                fastCommands);
        assertEquals(compileCommands(r2), fastCommands);
    }

    /** The toolchain.compile_commands object of a run's JSON report, as text. */
    private static String compileCommands(PipelineResult r) throws Exception {
        String json = Files.readString(r.report());
        int start = json.indexOf("\"compile_commands\": {");
        return json.substring(start, json.indexOf('}', start) + 1);
    }

    @Test
    void changedInitialisedDataIsRefused(@TempDir Path tmp) throws Exception {
        // Built outside assertThrows, so a missing Xen tree skips the test instead of failing it.
        BuildRequest req = request(XenTree.patch("changed-data.patch"), tmp.resolve("out")).build();
        PipelineException e = assertThrows(PipelineException.class, () -> LivepatchPipeline.run(req, Progress.NONE));
        assertEquals(PipelineException.Reason.UNPATCHABLE_CHANGE, e.reason());
        assertTrue(e.getMessage().contains("payload_version"), e.getMessage());
    }
}
