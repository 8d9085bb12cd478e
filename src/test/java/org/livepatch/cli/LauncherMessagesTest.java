package org.livepatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.xenbuild.BuildFixtures;
import org.livepatch.testsupport.Tools;

/**
 * What {@code ./livepatch-build} says when something outside it fails, as a user sees it on a
 * UTF-8 terminal: gcc's own words, unmangled; the operating system's reason for a file it cannot
 * write; a patch name that cannot name a payload refused before any build. Exit codes are the
 * README's numbers.
 */
class LauncherMessagesTest {
    @TempDir
    Path tmp;
    Path src;
    Path cache;
    LauncherProcess launcher;

    @BeforeEach
    void setUp() throws Exception {
        src = BuildFixtures.copyMinixen(tmp);
        cache = tmp.resolve("cache");
        launcher = new LauncherProcess(tmp);
        launcher.env.put("LPB_CACHE", cache.toString());
    }

    private record Run(int code, String err) {}

    private Run run(List<String> prefix, Path patch, Path out) throws Exception {
        Process p = launcher.start(prefix, "022", tmp.resolve("run.out"), tmp.resolve("run.err"),
                "-s", src.toString(), "-p", patch.toString(), "-c", src.resolve("xen/.config").toString(),
                "-o", out.toString(), "-j", "1", "--depends", BuildFixtures.ZERO_ID);
        int code = p.waitFor();
        // Decoded as the UTF-8 terminal would show it.
        return new Run(code, Files.readString(tmp.resolve("run.err"), StandardCharsets.UTF_8));
    }

    /**
     * root may write anywhere; without CAP_DAC_OVERRIDE it is held to the mode bits like anyone
     * (setpriv from util-linux drops it for the launcher only).
     */
    private static List<String> asUnprivileged() throws Exception {
        String uid = Tools.run(null, "id", "-u").strip();
        return uid.equals("0") ? List.of("setpriv", "--bounding-set=-dac_override,-dac_read_search") : List.of();
    }

    private static String lastLine(String s) {
        List<String> l = s.lines().toList();
        return l.isEmpty() ? "" : l.get(l.size() - 1);
    }

    @Test
    void gccDiagnosticsAreShownAsGccWroteThem() throws Exception {
        Path patch = tmp.resolve("broken.patch");
        Files.writeString(patch, Files.readString(BuildFixtures.patch("minixen-extra-version.patch"))
                .replace("+    return \"Hello World\";", "+    return no_such_identifier;"));
        Run r = run(List.of(), patch, tmp.resolve("out"));
        assertEquals(24, r.code(), r.err());
        // gcc quotes identifiers with U+2018/U+2019 under a UTF-8 locale (LC_ALL=C.UTF-8 here).
        assertTrue(lastLine(r.err()).contains("\u2018no_such_identifier\u2019"), r.err());
        assertFalse(r.err().contains("\u00e2\u0080\u0098"), "double-encoded: " + r.err());
    }

    @Test
    void anOutputDirectoryThatCannotBeWrittenSaysWhy() throws Exception {
        Path out = tmp.resolve("out");
        Files.createDirectory(out);
        Files.setPosixFilePermissions(out, PosixFilePermissions.fromString("r-xr-xr-x"));
        Run r = run(asUnprivileged(), BuildFixtures.patch("minixen-extra-version.patch"), out);
        assertEquals(18, r.code(), r.err());
        assertTrue(lastLine(r.err()).startsWith("livepatch-build: " + out), r.err());
        assertTrue(lastLine(r.err()).endsWith("permission denied"), r.err());
    }

    @Test
    void aCacheThatCannotBeWrittenSaysWhy() throws Exception {
        Files.createDirectories(cache);
        Files.setPosixFilePermissions(cache, PosixFilePermissions.fromString("r-xr-xr-x"));
        Run r = run(asUnprivileged(), BuildFixtures.patch("minixen-extra-version.patch"), tmp.resolve("out"));
        assertEquals(26, r.code(), r.err());
        assertTrue(lastLine(r.err()).contains("cannot write the cache: " + cache), r.err());
        assertTrue(lastLine(r.err()).endsWith("permission denied"), r.err());
    }

    /**
     * The patch check used to run {@code patch --dry-run} in a scratch directory under
     * {@code $LPB_CACHE/tmp}, so a read-only {@code tmp} stopped the run there (exit 26, "cannot
     * check the patch: .../tmp: permission denied"). The check is in memory now and nothing else
     * writes {@code tmp}: the same cache builds.
     */
    @Test
    void aCacheWhoseTmpCannotBeWrittenNoLongerStopsTheCheck() throws Exception {
        Files.createDirectories(cache.resolve("tmp"));
        Files.setPosixFilePermissions(cache.resolve("tmp"), PosixFilePermissions.fromString("r-xr-xr-x"));
        Path out = tmp.resolve("out");
        Run r = run(asUnprivileged(), BuildFixtures.patch("minixen-extra-version.patch"), out);
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isRegularFile(out.resolve("minixen-extra-version.livepatch")), r.err());
    }

    /**
     * The names are made by the shell from octal escapes (UTF-8 bytes), so the test does not
     * depend on the test JVM's own locale being able to spell them.
     */
    @Test
    void aPatchNameMadeOfNoAsciiLetterIsRefusedBeforeAnyBuild() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("patches"));
        Files.copy(BuildFixtures.patch("minixen-extra-version.patch"), dir.resolve("template"));
        // \303\274 is \u00fc (u umlaut), \303\251\303\250 is \u00e9\u00e8: UTF-8 bytes
        for (String[] c : new String[][] {{"\\303\\274.diff", "\u00fc.diff", "'-'"}, {"\\303\\251\\303\\250.patch", "\u00e9\u00e8.patch", "'--'"}}) {
            Path out = tmp.resolve("out");
            ProcessBuilder pb = new ProcessBuilder("sh", "-c", "umask 022; p=\"$(printf '%s/" + c[0] + "' \"$PATCH_DIR\")\"; "
                    + "cp \"$PATCH_DIR/template\" \"$p\" && exec \"$0\" -s \"$SRC\" -p \"$p\" -c \"$SRC/xen/.config\" -o \"$OUT\" -j 1 --depends " + BuildFixtures.ZERO_ID,
                    Tools.repoRoot().resolve("livepatch-build").toString())
                    .redirectOutput(tmp.resolve("run.out").toFile()).redirectError(tmp.resolve("run.err").toFile());
            pb.environment().clear();
            pb.environment().putAll(launcher.env);
            pb.environment().putAll(java.util.Map.of("PATCH_DIR", dir.toString(), "SRC", src.toString(), "OUT", out.toString()));
            int code = pb.start().waitFor();
            String err = Files.readString(tmp.resolve("run.err"), StandardCharsets.UTF_8);
            assertEquals(19, code, err);
            // Besides the progress line of the check stage ("[check    ] ..."), one line.
            assertEquals(1, err.lines().filter(l -> !l.startsWith("[")).count(), "one line: " + err);
            assertTrue(err.contains("/" + c[1] + ": ") && err.contains("gives " + c[2]), err);
            assertFalse(Files.exists(cache.resolve("refs")), "nothing built");
            assertFalse(Files.exists(out), "nothing written");
        }
    }
}
