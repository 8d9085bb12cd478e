package org.livepatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.livepatch.xenbuild.BuildFixtures;
import org.livepatch.testsupport.Tools;

/**
 * Signals to a real {@code ./livepatch-build} process, mid-build: SIGINT and SIGTERM end it with
 * exit 28 and one line, its programs stopped and its temporaries and partial OUTPUT removed, so
 * the same command runs again as if nothing had happened. A SIGKILL gives the process no chance
 * to clean up: then the next run on the same cache and OUTPUT removes what it left. The test
 * knows the run is mid-way because the wrapped gcc (or patch) says it has started and blocks; no
 * step depends on how long anything takes. (The timeout only stops a hung run from hanging CI.)
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class LauncherSignalTest {
    /** The exit code the README documents for an interrupted run (not read from the code under test). */
    private static final int EXIT_INTERRUPTED = 28;

    @TempDir
    Path tmp;
    Path src;
    Path patch;
    Path cache;
    LauncherProcess launcher;

    @BeforeEach
    void setUp() throws Exception {
        src = BuildFixtures.copyMinixen(tmp);
        patch = BuildFixtures.patch("minixen-extra-version.patch");
        cache = tmp.resolve("cache");
        launcher = new LauncherProcess(tmp);
        launcher.env.put("LPB_CACHE", cache.toString());
    }

    @AfterEach
    void stopWhatIsLeft() {
        launcher.stopAll();
    }

    private Process start(Path out, String umask, String name) throws Exception {
        return launcher.start(umask, tmp.resolve(name + ".out"), tmp.resolve(name + ".err"),
                "-s", src.toString(), "-p", patch.toString(), "-c", src.resolve("xen/.config").toString(),
                "-o", out.toString(), "-j", "1", "--depends", BuildFixtures.ZERO_ID);
    }

    private String err(String name) throws Exception {
        return Files.readString(tmp.resolve(name + ".err"), StandardCharsets.UTF_8);
    }

    private void runToCompletion(Path out, String umask, String name) throws Exception {
        Process p = start(out, umask, name);
        assertEquals(0, p.waitFor(), err(name));
    }

    @ParameterizedTest(name = "{0} during the {1} build")
    @CsvSource({"INT, patched", "TERM, reference"})
    void interruptExits28WithOneLineAndLeavesNothingBehind(String signal, String stage) throws Exception {
        if (stage.equals("patched")) {
            runToCompletion(tmp.resolve("warm"), "022", "warm"); // the reference is cached: the gcc that blocks is the patched build's
        }
        Path out = tmp.resolve("out");
        launcher.arm("gcc");
        Process p = start(out, "022", "run");
        long gcc = launcher.awaitBlocked("gcc", p);
        assertNotEquals(-1L, gcc, "the run ended before compiling: " + err("run"));
        if (stage.equals("patched")) {
            assertTrue(Files.exists(out.resolve("logs")), "mid-way: OUTPUT has partial contents to clean up");
        }
        Tools.run(null, "kill", "-" + signal, Long.toString(p.pid()));
        int code = p.waitFor();

        String err = err("run");
        assertEquals(EXIT_INTERRUPTED, code, err);
        List<String> lines = err.lines().toList();
        assertEquals(1, lines.stream().filter(l -> l.contains("interrupted")).count(), err);
        assertTrue(lines.get(lines.size() - 1).startsWith("livepatch-build: interrupted (SIG" + signal + ")"), err);
        assertTrue(lines.stream().noneMatch(l -> l.startsWith("\tat ") || l.contains("Exception")), "no stack trace: " + err);
        assertEquals("", Files.readString(tmp.resolve("run.out")));
        for (int i = 0; i < 100 && !LauncherProcess.isDead(gcc); i++) {
            Thread.sleep(50); // SIGKILL was sent before the launcher exited; the kernel may still be tearing down
        }
        assertTrue(LauncherProcess.isDead(gcc), "the compiler the build started was stopped");
        assertFalse(Files.exists(out), "OUTPUT (created by the run) removed again");
        assertEquals(List.of(), list(cache.resolve("tmp")), "no scratch left in the cache");

        launcher.disarm("gcc");
        runToCompletion(out, "022", "again");
        assertEquals(Set.of(".config", "logs", "original", "patched", "xen-syms", "objects",
                "minixen-extra-version.livepatch", "minixen-extra-version.json", "build-record.txt"), Set.copyOf(list(out)));
        assertTrue(list(cache.resolve("refs")).stream().noneMatch(n -> n.startsWith(".tmp-")), "no half reference: " + list(cache.resolve("refs")));
        // Modes come from the umask (022 here), as for any file a build writes: 0644, not executable.
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("minixen-extra-version.livepatch"))));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("minixen-extra-version.json"))));
    }

    /**
     * Ctrl-C twice (the impatient user): the second ends the process at once if the first has not
     * finished unwinding; either way exit 28 and one line, and the next run finds OUTPUT usable.
     */
    @Test
    void aSecondInterruptAlsoExits28AndTheNextRunSucceeds() throws Exception {
        runToCompletion(tmp.resolve("warm"), "022", "warm");
        Path out = tmp.resolve("out");
        launcher.arm("gcc");
        Process p = start(out, "022", "run");
        long gcc = launcher.awaitBlocked("gcc", p);
        assertNotEquals(-1L, gcc, err("run"));
        Tools.run(null, "kill", "-INT", Long.toString(p.pid()));
        Tools.runAllowingFailure(null, "kill", "-INT", Long.toString(p.pid())); // may find it gone already
        assertEquals(EXIT_INTERRUPTED, p.waitFor(), err("run"));
        List<String> lines = err("run").lines().toList();
        assertEquals(1, lines.stream().filter(l -> l.contains("interrupted")).count(), err("run"));
        assertTrue(lines.get(lines.size() - 1).startsWith("livepatch-build: interrupted (SIGINT)"), err("run"));
        for (int i = 0; i < 200 && !LauncherProcess.processesWorkingUnder(tmp).isEmpty(); i++) {
            Thread.sleep(50);
        }
        assertEquals(List.of(), LauncherProcess.processesWorkingUnder(tmp), "make and the compiler stopped");

        launcher.disarm("gcc");
        runToCompletion(out, "022", "again");
        assertTrue(Files.isRegularFile(out.resolve("minixen-extra-version.livepatch")));
        assertFalse(Files.exists(out.resolve(".livepatch-build.lock")));
    }

    @Test
    void whatKilledRunsLeaveIsRemovedByTheNextRun() throws Exception {
        runToCompletion(tmp.resolve("warm"), "022", "warm");
        Path out = tmp.resolve("out");

        // What a run of an earlier version killed during its `patch --dry-run` left in the cache
        // (the check is in memory now, so no run of this one leaves it): a scratch directory
        // beside a lock file nobody holds.
        Files.createDirectories(cache.resolve("tmp/patch-check-0123456789abcdef/xen/common"));
        Files.writeString(cache.resolve("tmp/patch-check-0123456789abcdef/xen/common/version.c"), "x");
        Files.writeString(cache.resolve("tmp/patch-check-0123456789abcdef.lock"), "pid 1\n");
        assertTrue(list(cache.resolve("tmp")).stream().anyMatch(n -> n.startsWith("patch-check-")), "the leftover to clean: " + list(cache.resolve("tmp")));

        // Killed during the patched build: partial OUTPUT stays behind.
        launcher.arm("gcc");
        Process p = start(out, "022", "kill2");
        long gcc = launcher.awaitBlocked("gcc", p);
        assertNotEquals(-1L, gcc, err("kill2"));
        Tools.run(null, "kill", "-KILL", Long.toString(p.pid()));
        assertEquals(128 + 9, p.waitFor());
        Tools.runAllowingFailure(null, "kill", "-KILL", Long.toString(gcc));
        assertTrue(list(out).containsAll(List.of("logs", "work")), "the leftovers to clean: " + list(out));
        launcher.disarm("gcc");

        // The orphaned make notices its compiler is gone and exits; only then is the tree quiet.
        for (int i = 0; i < 200 && !LauncherProcess.processesWorkingUnder(tmp).isEmpty(); i++) {
            Thread.sleep(50);
        }
        assertEquals(List.of(), LauncherProcess.processesWorkingUnder(tmp), "the killed runs' programs are gone");

        // The same command again: it proves both owners dead, removes their leftovers and builds.
        runToCompletion(out, "027", "again");
        assertEquals(List.of(), list(cache.resolve("tmp")), "the dead runs' scratch removed");
        assertEquals(Set.of(".config", "logs", "original", "patched", "xen-syms", "objects",
                "minixen-extra-version.livepatch", "minixen-extra-version.json", "build-record.txt"), Set.copyOf(list(out)));
        // And the modes follow this run's umask, 027.
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("minixen-extra-version.livepatch"))));
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("minixen-extra-version.json"))));
    }

    private static List<String> list(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).collect(java.util.stream.Collectors.toCollection(TreeSet::new)).stream().toList();
        }
    }
}
