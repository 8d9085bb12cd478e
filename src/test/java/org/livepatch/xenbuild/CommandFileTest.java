package org.livepatch.xenbuild;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one reader of {@code .<obj>.cmd}, on files written as Xen's if_changed and fixdep write them. */
class CommandFileTest {

    @Test
    void readsTheCommandAndSourceOfItsObject(@TempDir Path tmp) throws Exception {
        Path obj = tmp.resolve("common/version.o");
        Files.createDirectories(obj.getParent());
        Files.writeString(tmp.resolve("common/.version.o.cmd"), String.join("\n",
                "cmd_common/version.o := gcc -O2 -o common/version.o -c common/version.c  ",
                "source_common/version.o := common/version.c ",
                "deps_common/version.o := \\", "  include/xen/config.h", ""));
        CommandFile f = CommandFile.read(obj, "common/version.o").orElseThrow();
        assertEquals(Optional.of("gcc -O2 -o common/version.o -c common/version.c  "), f.command());
        assertEquals(Optional.of("common/version.c"), f.source());
        assertTrue(f.startsWithCommand());
        assertEquals(tmp.resolve("common/.version.o.cmd"), CommandFile.of(obj));
    }

    @Test
    void anotherObjectsLineIsNotThisObjectsCommand(@TempDir Path tmp) throws Exception {
        Path obj = tmp.resolve("a.o");
        Files.writeString(tmp.resolve(".a.o.cmd"), "# generated\ncmd_b.o := gcc -c b.c\ncmd_a.o := gcc -c a.c\n");
        CommandFile f = CommandFile.read(obj, "a.o").orElseThrow();
        assertEquals(Optional.of("gcc -c a.c"), f.command());
        assertFalse(f.startsWithCommand(), "if_changed writes the command first; this file was written otherwise");
        assertEquals(Optional.empty(), f.source());
    }

    @Test
    void noFileOrALinkIsNoCommand(@TempDir Path tmp) throws Exception {
        assertEquals(Optional.empty(), CommandFile.read(tmp.resolve("a.o"), "a.o"));
        Files.writeString(tmp.resolve("real.cmd"), "cmd_a.o := gcc -c a.c\n");
        Files.createSymbolicLink(tmp.resolve(".a.o.cmd"), tmp.resolve("real.cmd"));
        assertEquals(Optional.empty(), CommandFile.read(tmp.resolve("a.o"), "a.o"));
    }
}
