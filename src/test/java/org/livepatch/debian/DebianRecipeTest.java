package org.livepatch.debian;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.livepatch.xenbuild.BuildException;

class DebianRecipeTest {
    private static final Path CHANGELOG = Path.of("debian/changelog");
    private static final Path CONTROL = Path.of("debian/control");

    static final String CHANGELOG_TEXT = """
            xen (4.17.5+72-g01140da4e8-1) bookworm-security; urgency=medium

              * Update to new upstream version 4.17.5+72-g01140da4e8.

             -- Hans van Kranenburg <hans@knorrie.org>  Sat, 29 Nov 2025 13:52:25 +0000

            xen (4.17.3+36-g54dacb5c02-1) bookworm-security; urgency=medium

              * Older entry.

             -- Someone Else <x@example.org>  Mon, 01 Jan 2024 00:00:00 +0000
            """;
    static final String CONTROL_TEXT = """
            Source: xen
            Priority: optional
            Maintainer: Debian Xen Team <pkg-xen-devel@lists.alioth.debian.org>
            Uploaders: Ian Jackson <iwj@xenproject.org>

            Package: xen-utils-common
            Maintainer: Not The Source Paragraph <no@example.org>
            """;

    /**
     * The values Debian's build of 4.17.5+72-g01140da4e8-1 used: dpkg-parsechangelog -STimestamp
     * gives 1764424345, and the shipped xen-syms holds the strings "Sat Nov 29 13:52:25 UTC 2025"
     * and "13:52:25".
     */
    @Test
    void theEnvironmentOfDebiansRules() throws Exception {
        DebianRecipe r = DebianRecipe.of(DebianVersion.parse("4.17.5+72-g01140da4e8-1"), CHANGELOG, CHANGELOG_TEXT, CONTROL, CONTROL_TEXT);
        assertEquals(1764424345L, r.sourceDateEpoch());
        Map<String, String> env = r.environment();
        assertEquals("1764424345", env.get("SOURCE_DATE_EPOCH"));
        assertEquals("4.17.5+72-g01140da4e8-1", env.get("DEB_VERSION"));
        assertEquals("Debian Xen Team <pkg-xen-devel@lists.alioth.debian.org>", env.get("DEB_MAINTAINER"));
        assertEquals("Sat Nov 29 13:52:25 UTC 2025", env.get("XEN_BUILD_DATE"));
        assertEquals("13:52:25", env.get("XEN_BUILD_TIME"));
        assertEquals("/bin/false", env.get("WGET"));
        assertEquals("/bin/false", env.get("GIT"));
        assertEquals("C.UTF-8", env.get("LC_ALL"));
        assertEquals("x86_64-linux-gnu-gcc", env.get("CC"));
        assertEquals(List.of("CC=x86_64-linux-gnu-gcc", "LD=x86_64-linux-gnu-ld", "XEN_COMPILE_ARCH=x86_64", "V=1",
                "XEN_TARGET_ARCH=x86_64",
                "EXTRA_CFLAGS_XEN_CORE=-ffile-prefix-map=$(abspath $(XEN_ROOT))=. -fdebug-prefix-map=$(abspath $(XEN_ROOT))=."),
                r.makeArgs());
    }

    @Test
    void aSingleDigitDayIsPaddedWithASpaceAsDatePrintsIt() throws Exception {
        String early = CHANGELOG_TEXT.replace("Sat, 29 Nov 2025 13:52:25 +0000", "Sat, 1 Nov 2025 03:04:05 +0100");
        DebianRecipe r = DebianRecipe.of(DebianVersion.parse("4.17.5+72-g01140da4e8-1"), CHANGELOG, early, CONTROL, CONTROL_TEXT);
        assertEquals("Sat Nov  1 02:04:05 UTC 2025", r.environment().get("XEN_BUILD_DATE"));
        assertEquals("02:04:05", r.environment().get("XEN_BUILD_TIME"));
    }

    @Test
    void appliedToACallersEnvironmentTheRulesUndefinesAreUnset() throws Exception {
        DebianRecipe r = DebianRecipe.of(DebianVersion.parse("4.17.5+72-g01140da4e8-1"), CHANGELOG, CHANGELOG_TEXT, CONTROL, CONTROL_TEXT);
        Map<String, String> env = r.applyTo(Map.of("PATH", "/usr/bin", "CFLAGS", "-O3", "LDFLAGS", "-s", "CC", "clang"));
        assertEquals("/usr/bin", env.get("PATH"));
        assertFalse(env.containsKey("CFLAGS"));
        assertFalse(env.containsKey("LDFLAGS"));
        assertEquals("x86_64-linux-gnu-gcc", env.get("CC"));
    }

    @Test
    void refusesAChangelogWithoutTrailerAndAControlWithoutMaintainer() {
        BuildException e = assertThrows(BuildException.class, () -> DebianRecipe.changelogTimestamp(CHANGELOG, "xen (1-1) x; urgency=low\n"));
        assertEquals(BuildException.Reason.PACKAGE_UNAVAILABLE, e.reason());
        assertTrue(e.getMessage().startsWith("debian/changelog: no entry trailer"), e.getMessage());
        e = assertThrows(BuildException.class, () -> DebianRecipe.changelogTimestamp(CHANGELOG,
                " -- A <a@b>  yesterday\n"));
        assertTrue(e.getMessage().contains("not RFC 5322: yesterday"), e.getMessage());
        e = assertThrows(BuildException.class, () -> DebianRecipe.maintainer(CONTROL, "Source: xen\n\nMaintainer: late <x@y>\n"));
        assertTrue(e.getMessage().endsWith("no Maintainer field in the source paragraph"), e.getMessage());
    }
}
