package org.livepatch.xenbuild;

import org.livepatch.stage.Progress;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.testsupport.Tools;
import org.livepatch.testsupport.XenTree;

/**
 * The fast rebuild on the real Xen 4.17.5 build: a hard-linked work tree and the recorded
 * commands replayed must give every kind of object byte for byte as Xen's build made it, and
 * must leave the linked-from tree unchanged.
 */
@Tag("xen")
class XenReplayTest {

    /** One of each kind: plain C, C through a symlink, C including ../kernel.c, assembly, .init.o from its base. */
    private static final List<String> OBJECTS = List.of("common/version.o", "arch/x86/efi/boot.o", "common/compat/kernel.o",
            "arch/x86/x86_64/entry.o", "arch/x86/dom0_build.o", "arch/x86/dom0_build.init.o");

    @Test
    void replayedCommandsRebuildEveryKindOfObjectIdentically(@TempDir Path junitTmp) throws Exception {
        Path ref = XenTree.root();
        // Hard links need the work tree on the reference tree's file system. Where the temp dir is
        // elsewhere, work beside the tree instead of skipping: a skip would hide this test in CI.
        Path tmp = LinkedTree.sameFileSystem(ref, junitTmp) ? junitTmp : Files.createTempDirectory(ref.getParent(), ".xen-replay-test-");
        try {
            replayIn(ref, tmp);
        } finally {
            if (!tmp.equals(junitTmp)) {
                Tools.run(null, "rm", "-rf", tmp.toString());
            }
        }
    }

    private static void replayIn(Path ref, Path tmp) throws Exception {
        assertTrue(LinkedTree.sameFileSystem(ref, tmp), tmp + " on the file system of " + ref);
        Map<String, String> before = BuildFixtures.checksums(ref.resolve("xen"));
        Path work = tmp.resolve("work");
        LinkedTree.link(ref, work);
        DependencyIndex deps = DependencyIndex.read(ref);

        RecordedCommands.Plan plan = RecordedCommands.plan(ref, OBJECTS, deps.derived());
        assertTrue(plan.commands().isPresent(), plan.whyNot());
        RecordedCommands replay = plan.commands().get();
        assertEquals(OBJECTS.size(), replay.commands().size());
        assertEquals("arch/x86/dom0_build.init.o", replay.commands().get(replay.commands().size() - 1).object(),
                "the derived object after its base");
        for (String w : replay.writes()) {
            LinkedTree.unlink(work.resolve("xen"), w);
        }
        for (String o : OBJECTS) {
            assertFalse(Files.exists(work.resolve("xen").resolve(o)), o + " removed before the replay");
        }
        replay.run(work, XenMake.environment(System.getenv(), BuildStrings.from(System.getenv())), 2, tmp.resolve("replay.log"));

        for (String o : OBJECTS) {
            Path rebuilt = work.resolve("xen").resolve(o);
            assertTrue(Files.isRegularFile(rebuilt), o);
            assertNotEquals(Files.readAttributes(rebuilt, "unix:ino"), Files.readAttributes(ref.resolve("xen").resolve(o), "unix:ino"),
                    o + " is a new file, not the linked one");
            assertEquals(-1L, Files.mismatch(rebuilt, ref.resolve("xen").resolve(o)), o + " identical to Xen's build");
        }
        assertFalse(Files.exists(work.resolve("xen/common/.version.o.tmp")), "the intermediate is removed as Xen's rule does");
        assertEquals(before, BuildFixtures.checksums(ref.resolve("xen")), "the linked-from tree is unchanged");
    }

    @Test
    void objectWithoutRecordedCommandHasNoPlan() throws Exception {
        Path ref = XenTree.root();
        RecordedCommands.Plan plan = RecordedCommands.plan(ref, List.of("common/no-such-object.o"), Map.of());
        assertTrue(plan.commands().isEmpty());
        assertTrue(plan.whyNot().contains("no recorded command"), plan.whyNot());
    }

    @Test
    void aFailedLinkedRunLeavesNoFileSharedWithTheCache(@TempDir Path tmp) throws Exception {
        Path patch = tmp.resolve("broken.patch");
        Files.writeString(patch, Files.readString(XenTree.patch("hello.patch")).replace("+    return \"Hello World\";",
                "+    return this does not compile;"));
        String id = org.livepatch.testsupport.LinkFixture.readelfBuildId(XenTree.xenSyms());
        for (boolean debug : List.of(false, true)) {
            Path out = tmp.resolve("out-" + debug);
            BuildRequest req = BuildRequest.builder().srcDir(XenTree.source()).patch(patch)
                    .config(XenTree.root().resolve("xen/.config")).outputDir(out).jobs(2).depends(id).debug(debug).build();
            BuildException e = org.junit.jupiter.api.Assertions.assertThrows(BuildException.class, () -> BuildStage.run(req, Progress.NONE));
            assertEquals(BuildException.Reason.PATCHED_BUILD_FAILED, e.reason(), e.getMessage());
            Path work = out.resolve(PatchedBuild.WORK_DIR);
            if (!debug) {
                assertFalse(Files.exists(work), "removed after the failure");
                continue;
            }
            assertTrue(Files.isRegularFile(work.resolve("xen/common/kernel.c")), "kept with --debug");
            try (var s = Files.walk(work)) {
                for (Path p : s.filter(f -> Files.isRegularFile(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)).toList()) {
                    assertEquals(1, (Integer) Files.getAttribute(p, "unix:nlink", java.nio.file.LinkOption.NOFOLLOW_LINKS),
                            p + " still shares its inode");
                }
            }
        }
    }
}
