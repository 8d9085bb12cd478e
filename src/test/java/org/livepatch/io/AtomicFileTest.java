package org.livepatch.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFileTest {

    /**
     * The mode the umask gives a new file: the JDK creates a file without explicit attributes by
     * open(O_CREAT, 0666), so this is what a plain build tool's output gets (0644 under 022).
     */
    private static Set<PosixFilePermission> umaskMode(Path dir) throws Exception {
        Path probe = Files.createFile(dir.resolve("probe"));
        Set<PosixFilePermission> p = Files.getPosixFilePermissions(probe);
        Files.delete(probe);
        return p;
    }

    @Test
    void newFileHonoursTheUmaskLikeOpenWith0666(@TempDir Path tmp) throws Exception {
        Set<PosixFilePermission> expected = umaskMode(tmp);
        Path out = tmp.resolve("out.o");
        AtomicFile.write(out, new byte[] {1, 2, 3});
        assertEquals(PosixFilePermissions.toString(expected), PosixFilePermissions.toString(Files.getPosixFilePermissions(out)));
        if (!expected.equals(PosixFilePermissions.fromString("rw-------"))) {
            // Under any umask but 077 the old temporary-file mode must not show through.
            assertNotEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(out)));
        }
    }

    @Test
    void replacesAnExistingFileAndLeavesNoTemporary(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("payload.livepatch");
        Files.write(out, new byte[] {9});
        AtomicFile.write(out, new byte[] {4, 5});
        assertArrayEquals(new byte[] {4, 5}, Files.readAllBytes(out));
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(java.util.List.of(out), s.toList());
        }
    }

    @Test
    void aMissingDirectoryFailsAndCreatesNothing(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("absent/out.o");
        org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class, () -> AtomicFile.write(out, new byte[] {1}));
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(0, s.count());
        }
    }
}
