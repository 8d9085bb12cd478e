package org.livepatch.debian;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.livepatch.xenbuild.BuildException;

class QuiltSeriesTest {
    private static final Path SERIES = Path.of("debian/patches/series");

    @Test
    void patchesInOrderWithoutCommentsAndBlankLines() throws Exception {
        QuiltSeries s = QuiltSeries.parse(SERIES, """
                0001-Delete-config.sub-and-config.guess.patch
                # a comment
                0003-Display-Debian-package-version-in-hypervisor-log.patch
                prefix-abiname/config-prefix.diff -p1

                misc/tools-pygrub-remove-static-solaris-support   # trailing comment
                """);
        assertEquals(List.of("0001-Delete-config.sub-and-config.guess.patch",
                "0003-Display-Debian-package-version-in-hypervisor-log.patch", "prefix-abiname/config-prefix.diff",
                "misc/tools-pygrub-remove-static-solaris-support"), s.patches());
    }

    @Test
    void refusesOtherStripLevelsAndPathsOutsideThePatchDirectory() {
        BuildException e = assertThrows(BuildException.class, () -> QuiltSeries.parse(SERIES, "a.patch\nb.patch -p0\n"));
        assertEquals(BuildException.Reason.PACKAGE_UNAVAILABLE, e.reason());
        assertTrue(e.getMessage().contains("line 2: only '<patch>' or '<patch> -p1' is supported: b.patch -p0"), e.getMessage());
        e = assertThrows(BuildException.class, () -> QuiltSeries.parse(SERIES, "../../etc/passwd\n"));
        assertTrue(e.getMessage().contains("line 1: patch path outside debian/patches: ../../etc/passwd"), e.getMessage());
        e = assertThrows(BuildException.class, () -> QuiltSeries.parse(SERIES, "/tmp/x.patch\n"));
        assertTrue(e.getMessage().contains("outside debian/patches"), e.getMessage());
    }
}
