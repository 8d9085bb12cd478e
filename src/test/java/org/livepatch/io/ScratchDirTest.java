package org.livepatch.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Scratch directories: removed by their owner, or by the next sweep once the owner is provably dead. */
class ScratchDirTest {
    @TempDir
    Path tmp;

    private List<String> entries() throws Exception {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void theOwnerRemovesItsDirectoryAndLock() throws Exception {
        Path dir;
        try (ScratchDir sd = ScratchDir.create(tmp, "patch-check-")) {
            dir = sd.dir();
            Files.writeString(dir.resolve("patch.log"), "x");
            assertEquals(List.of(dir.getFileName().toString(), dir.getFileName() + ".lock"), entries());
        }
        assertEquals(List.of(), entries());
    }

    @Test
    void aSweepRemovesOnlyWhatADeadOwnerLeft() throws Exception {
        // Dead: a lock file nobody holds (its owner's lock went with its process), and its directory.
        Files.createDirectories(tmp.resolve("patch-check-dead/xen/common"));
        Files.writeString(tmp.resolve("patch-check-dead/xen/common/version.c"), "x");
        Files.writeString(tmp.resolve("patch-check-dead.lock"), "pid 1\n");
        // No lock file: nothing proves whose it is (an older version's, say).
        Files.createDirectories(tmp.resolve("patch-check-unowned"));
        // Another prefix, and a user's file.
        Files.writeString(tmp.resolve("other-thing.lock"), "");
        Files.writeString(tmp.resolve("notes"), "");
        try (ScratchDir live = ScratchDir.create(tmp, "patch-check-")) {
            assertEquals(1, ScratchDir.sweep(tmp, "patch-check-"));
            assertTrue(Files.isDirectory(live.dir()), "a live owner's directory stays");
            assertEquals(List.of("notes", "other-thing.lock", live.dir().getFileName().toString(),
                    live.dir().getFileName() + ".lock", "patch-check-unowned"), entries());
        }
        assertFalse(Files.exists(tmp.resolve("patch-check-dead")));
    }
}
