package org.livepatch.xenbuild;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.testsupport.Tools;

/** How recorded command lines are read back (scripts/Kbuild.include: make-cmd escaping). */
class RecordedCommandsTest {

    @Test
    void unescapesDollarsAndPound() {
        assertEquals(Optional.of("case \"$name\" in x) echo '#';; esac; exit $$"),
                RecordedCommands.unescape("case \"$$name\" in x) echo '$(pound)';; esac; exit $$$$"));
    }

    @Test
    void refusesOtherMakeExpansions() {
        assertTrue(RecordedCommands.unescape("gcc $(CFLAGS) -c x.c").isEmpty());
        assertTrue(RecordedCommands.unescape("echo $").isEmpty());
    }

    @Test
    void dotNamesSitNextToTheObject() {
        assertEquals("common/.version.o.tmp", RecordedCommands.dotName("common/version.o", ".tmp"));
        assertEquals(".prelink.o.cmd", RecordedCommands.dotName("prelink.o", ".cmd"));
    }

    /**
     * The warm path as PatchedBuild runs it (hard-linked work tree, every file the replay writes
     * unlinked, the commands run): afterwards the object's recorded command must still stand
     * beside it, because that is where the report reads how each changed object was compiled.
     * (Replaying used to remove it, and the report's compile_commands came out empty.)
     */
    @Test
    void theRecordedCommandSurvivesItsReplay(@TempDir Path tmp) throws Exception {
        Path ref = tmp.resolve("ref");
        Path xen = Files.createDirectories(ref.resolve("xen/common"));
        Files.writeString(xen.resolve("foo.c"), "int foo(void) { return 1; }\n");
        String cmd = "gcc -O2 -c -o common/foo.o common/foo.c";
        Tools.run(ref.resolve("xen"), "sh", "-c", cmd);
        String recorded = "cmd_common/foo.o := " + cmd;
        Files.writeString(xen.resolve(".foo.o.cmd"), recorded + "\n");

        RecordedCommands.Plan plan = RecordedCommands.plan(ref, List.of("common/foo.o"), Map.of());
        assertTrue(plan.commands().isPresent(), plan.whyNot());
        Path work = tmp.resolve("work");
        LinkedTree.link(ref, work);
        for (String w : plan.commands().get().writes()) {
            LinkedTree.unlink(work.resolve("xen"), w);
        }
        plan.commands().get().run(work, System.getenv(), 1, tmp.resolve("replay.log"));

        Path rebuilt = work.resolve("xen/common/foo.o");
        assertEquals(-1L, Files.mismatch(rebuilt, xen.resolve("foo.o")), "rebuilt by the replay");
        Path cmdFile = CommandFile.of(rebuilt);
        assertTrue(Files.isRegularFile(cmdFile), "the recorded command is still beside the object");
        assertEquals(recorded, Files.readAllLines(cmdFile).get(0));
    }
}
