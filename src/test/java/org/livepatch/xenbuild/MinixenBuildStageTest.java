package org.livepatch.xenbuild;

import org.livepatch.stage.Progress;
import org.livepatch.stage.StageEvent;
import org.livepatch.stage.StageClock;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The build stage end to end on the minixen fixture: reference build, cache, patched objects. */
class MinixenBuildStageTest {
    @TempDir
    Path tmp;

    @Test
    void extraVersionPatchRebuildsAndChangesOnlyVersionObject() throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        Map<String, String> before = BuildFixtures.checksums(src);
        BuildFixtures.Recorder rec = new BuildFixtures.Recorder();

        BuildOutcome o = BuildStage.run(BuildFixtures.request(src, BuildFixtures.patch("minixen-extra-version.patch"), tmp).build(), rec);

        assertEquals(List.of("common/version.o"), o.objects().rebuilt());
        assertEquals(List.of("common/version.o"), o.objects().changedPaths());
        assertEquals(List.of(), o.objects().added());
        ObjectPair pair = o.objects().changed().get(0);
        Path out = tmp.resolve("out");
        assertEquals(out.resolve("original/xen/common/version.o"), pair.original());
        assertEquals(out.resolve("patched/xen/common/version.o"), pair.patched());
        assertTrue(Files.mismatch(pair.original(), pair.patched()) != -1);
        // the reference object is the one the cache holds; the patched one has the new string
        assertEquals(-1L, Files.mismatch(pair.original(), o.reference().object("common/version.o")));
        assertTrue(new String(Files.readAllBytes(pair.patched()), java.nio.charset.StandardCharsets.ISO_8859_1).contains("Hello World"));
        assertEquals(-1L, Files.mismatch(o.objects().referenceXenSyms(), o.reference().xenSyms()));
        assertEquals(out.resolve("minixen-extra-version.livepatch"), o.request().payloadFile());
        assertFalse(o.reference().reused());
        for (String log : List.of("reference-build.log", "apply-patch.log", "patched-build.log")) {
            assertTrue(Files.size(out.resolve("logs").resolve(log)) > 0, log);
        }
        assertFalse(Files.exists(out.resolve("work")), "work tree removed after success");
        assertEquals(before, BuildFixtures.checksums(src), "SRC untouched");
        List<String> stages = rec.events.stream().filter(e -> e.phase() == StageEvent.Phase.FINISHED).map(StageEvent::stage).toList();
        assertEquals(List.of("check", "hash-source", "reference-build", "copy-reference", "apply-patch", "find-affected",
                "patched-build", "collect-objects", "layout-check"), stages);
        System.out.println("[minixen] " + o.times());
    }

    @Test
    void secondPatchReusesTheCachedReferenceBuild() throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        Workspace ws = new Workspace(tmp.resolve("cache"));

        CheckedRequest first = RequestChecks.check(BuildFixtures.request(src, BuildFixtures.patch("minixen-extra-version.patch"), tmp).build());
        ReferenceCache cache1 = new ReferenceCache(ws);
        BuildOutcome o1 = BuildStage.run(first, cache1, new StageClock(Progress.NONE));
        assertEquals(1, cache1.buildsRun());

        CheckedRequest second = RequestChecks.check(BuildFixtures.request(src, BuildFixtures.patch("minixen-extra-version-2.patch"), tmp)
                .outputDir(tmp.resolve("out2")).build());
        ReferenceCache cache2 = new ReferenceCache(ws);
        BuildOutcome o2 = BuildStage.run(second, cache2, new StageClock(Progress.NONE));

        assertEquals(0, cache2.buildsRun(), "no reference build the second time");
        assertTrue(o2.reference().reused());
        assertEquals(o1.reference().key(), o2.reference().key());
        assertFalse(Files.exists(tmp.resolve("out2/logs/reference-build.log")), "no reference-build log: nothing was built");
        assertEquals(List.of("common/version.o"), o2.objects().changedPaths());
        assertTrue(new String(Files.readAllBytes(o2.objects().changed().get(0).patched()),
                java.nio.charset.StandardCharsets.ISO_8859_1).contains("Bye World!"));
        try (Stream<Path> s = Files.list(ws.refs())) {
            assertEquals(1, s.filter(p -> !p.getFileName().toString().endsWith(".lock")).count(), "one cache entry");
        }
    }

    @Test
    void skipBuildReadsThePreviousRunsObjects() throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        BuildRequest.Builder r = BuildFixtures.request(src, BuildFixtures.patch("minixen-ex-table.patch"), tmp);
        BuildOutcome first = BuildStage.run(r.build(), Progress.NONE);
        assertEquals(List.of("arch/x86/traps.o"), first.objects().changedPaths());
        assertEquals(first.reference().xenBuildId(), RequestChecks.readBuildId(first.objects().xenSyms()));

        BuildOutcome again = BuildStage.run(r.skip(SkipStage.BUILD).build(), Progress.NONE);
        assertEquals(null, again.reference());
        assertEquals(first.objects().changed(), again.objects().changed());
        assertEquals(first.objects().xenSyms(), again.objects().xenSyms());
    }

    @Test
    void concurrentRequestsForOneKeyBuildItOnce() throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        ReferenceCache cache = new ReferenceCache(new Workspace(tmp.resolve("cache")));
        List<CheckedRequest> reqs = new java.util.ArrayList<>();
        for (String p : List.of("minixen-extra-version.patch", "minixen-extra-version-2.patch", "minixen-ex-table.patch")) {
            reqs.add(RequestChecks.check(BuildFixtures.request(src, BuildFixtures.patch(p), tmp).outputDir(tmp.resolve("out-" + p)).build()));
        }
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(3)) {
            List<java.util.concurrent.Future<BuildOutcome>> fs = new java.util.ArrayList<>();
            for (CheckedRequest r : reqs) {
                fs.add(pool.submit(() -> BuildStage.run(r, cache, new StageClock(Progress.NONE))));
            }
            List<BuildOutcome> outs = new java.util.ArrayList<>();
            for (var f : fs) {
                outs.add(f.get());
            }
            assertEquals(1, cache.buildsRun(), "one reference build for three concurrent patches");
            assertEquals(1, outs.stream().filter(o -> !o.reference().reused()).count());
            assertEquals(List.of("arch/x86/traps.o"), outs.get(2).objects().changedPaths());
        }
    }

    @Test
    void aDifferentConfigIsADifferentReference() throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        Path config = tmp.resolve("debug.config");
        Files.writeString(config, Files.readString(src.resolve("xen/.config")).replace("# CONFIG_DEBUG is not set", "CONFIG_DEBUG=y"));
        CheckedRequest a = RequestChecks.check(BuildFixtures.request(src, BuildFixtures.patch("minixen-extra-version.patch"), tmp).build());
        CheckedRequest b = RequestChecks.check(BuildFixtures.request(src, BuildFixtures.patch("minixen-extra-version.patch"), tmp)
                .config(config).outputDir(tmp.resolve("out2")).build());
        ReferenceCache cache = new ReferenceCache(new Workspace(tmp.resolve("cache")));
        BuildOutcome oa = BuildStage.run(a, cache, new StageClock(Progress.NONE));
        BuildOutcome ob = BuildStage.run(b, cache, new StageClock(Progress.NONE));
        assertEquals(2, cache.buildsRun());
        assertFalse(oa.reference().key().equals(ob.reference().key()));
    }

    @Test
    void compatSourceReincludingAChangedFileIsRebuiltToo() throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        Path patch = BuildFixtures.makePatch(src, tmp.resolve("foo-double.patch"),
                new BuildFixtures.Edit("xen/common/foo.c", s -> s.replace("return arg * 2;", "return arg * 3;")));
        BuildOutcome o = BuildStage.run(BuildFixtures.request(src, patch, tmp).build(), Progress.NONE);
        assertEquals(List.of("common/compat/foo.o", "common/foo.o"), o.objects().rebuilt().stream().sorted().toList());
        assertEquals(List.of("common/compat/foo.o", "common/foo.o"), o.objects().changedPaths().stream().sorted().toList());
    }

    @Test
    void headerChangeRebuildsEveryDependentButReportsOnlyChangedBytes() throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        Path patch = BuildFixtures.makePatch(src, tmp.resolve("hdr.patch"),
                new BuildFixtures.Edit("xen/include/xen/hypercall.h", s -> s.replace("#endif", "#define FOO_SCALE 3\n\n#endif")),
                new BuildFixtures.Edit("xen/common/foo.c", s -> s.replace("return arg * 2;", "return arg * FOO_SCALE;")));
        BuildOutcome o = BuildStage.run(BuildFixtures.request(src, patch, tmp).build(), Progress.NONE);
        // hypercall.h is included by setup.c, foo.c and (through ../foo.c) compat/foo.c
        assertEquals(List.of("arch/x86/setup.o", "common/compat/foo.o", "common/foo.o"),
                o.objects().rebuilt().stream().sorted().toList());
        assertEquals(List.of("common/compat/foo.o", "common/foo.o"), o.objects().changedPaths().stream().sorted().toList());
    }

    @Test
    void newSourceFileBecomesANewObject() throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        Path patch = BuildFixtures.makePatch(src, tmp.resolve("new.patch"),
                new BuildFixtures.Edit("xen/common/bar.c", s -> "#include <xen/lib.h>\nint bar_value(void) { return 42; }\n"),
                new BuildFixtures.Edit("xen/common/foo.c", s -> s.replace("return arg * 2;", "return arg * 4;")));
        BuildOutcome o = BuildStage.run(BuildFixtures.request(src, patch, tmp).build(), Progress.NONE);
        assertEquals(List.of("common/foo.o"), o.objects().changedPaths().stream().filter(p -> !p.contains("compat")).toList());
        assertEquals(List.of("common/bar.o"), o.objects().added().stream().map(NewObject::path).toList());
        assertTrue(Files.isRegularFile(tmp.resolve("out/patched/xen/common/bar.o")));
    }

    @Test
    void patchWithoutEffectOnTheBytesIsNoChangedObjects() throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        Map<String, String> before = BuildFixtures.checksums(src);
        Path patch = BuildFixtures.makePatch(src, tmp.resolve("comment.patch"),
                new BuildFixtures.Edit("xen/include/xen/hypercall.h", s -> s.replace("#endif", "/* nothing */\n#endif")));
        BuildException e = assertThrows(BuildException.class,
                () -> BuildStage.run(BuildFixtures.request(src, patch, tmp).build(), Progress.NONE));
        assertEquals(BuildException.Reason.NO_CHANGED_OBJECTS, e.reason());
        assertTrue(e.getMessage().contains("arch/x86/setup.o"), e.getMessage());
        assertEquals(before, BuildFixtures.checksums(src));
    }

    @Test
    void compileErrorInThePatchIsPatchedBuildFailedAndLeavesSrcAlone() throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        Map<String, String> before = BuildFixtures.checksums(src);
        Path patch = BuildFixtures.makePatch(src, tmp.resolve("broken.patch"),
                new BuildFixtures.Edit("xen/common/foo.c", s -> s.replace("return arg * 2;", "return arg * ;")));
        BuildException e = assertThrows(BuildException.class,
                () -> BuildStage.run(BuildFixtures.request(src, patch, tmp).build(), Progress.NONE));
        assertEquals(BuildException.Reason.PATCHED_BUILD_FAILED, e.reason());
        assertEquals(tmp.resolve("out/logs/patched-build.log"), e.file());
        assertFalse(e.getMessage().contains("\n"), "one line");
        assertEquals(before, BuildFixtures.checksums(src));
    }

    @Test
    void failedReferenceBuildPublishesNothingAndLeavesSrcAlone() throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        Map<String, String> before = BuildFixtures.checksums(src);
        Map<String, String> env = new java.util.HashMap<>(System.getenv());
        env.put("EXTRA_CFLAGS_XEN_CORE", "-fno-such-option-livepatch");
        BuildException e = assertThrows(BuildException.class, () -> BuildStage.run(
                BuildFixtures.request(src, BuildFixtures.patch("minixen-extra-version.patch"), tmp).environment(env).build(),
                Progress.NONE));
        assertEquals(BuildException.Reason.REFERENCE_BUILD_FAILED, e.reason());
        assertEquals(tmp.resolve("out/logs/reference-build.log"), e.file());
        try (Stream<Path> s = Files.list(tmp.resolve("cache/refs"))) {
            assertEquals(List.of(), s.filter(p -> !p.getFileName().toString().startsWith(".tmp-")
                    && !p.getFileName().toString().endsWith(".lock")).toList(), "nothing published");
        }
        assertEquals(before, BuildFixtures.checksums(src));
    }

    @Test
    void builtSourceTreeIsCleanedInTheCopyAndKeyedLikeThePristineOne() throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        SourceTree pristine = new SourceTree(src);
        String d0 = pristine.digest();
        org.livepatch.testsupport.Tools.run(src.resolve("xen"), "make", "-s");
        assertTrue(Files.exists(src.resolve("xen/xen-syms")));
        assertEquals(d0, new SourceTree(src).digest(), "build outputs are not part of the source digest");
        BuildOutcome o = BuildStage.run(BuildFixtures.request(src, BuildFixtures.patch("minixen-extra-version.patch"), tmp).build(), Progress.NONE);
        assertEquals(List.of("common/version.o"), o.objects().changedPaths());
    }
}
