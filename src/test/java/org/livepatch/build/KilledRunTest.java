package org.livepatch.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.testsupport.Tools;

/**
 * A run killed in the middle of the reference build (SIGKILL to its whole process group: the JVM,
 * make and the compilers) leaves SRC byte-identical, publishes nothing in the cache, and the next
 * run of the same key cleans up and succeeds.
 */
class KilledRunTest {
    @TempDir
    Path tmp;

    @Test
    void killedReferenceBuildLeavesSrcAndCacheClean() throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        Map<String, String> before = BuildFixtures.checksums(src);
        Path patch = BuildFixtures.patch("minixen-extra-version.patch");
        Path cache = tmp.resolve("cache");

        // A gcc that takes a second per call, so the build is reliably still running when killed.
        Path slow = tmp.resolve("slowbin");
        Files.createDirectories(slow);
        Path gcc = slow.resolve("gcc");
        Files.writeString(gcc, "#!/bin/sh\nsleep 1\nexec /usr/bin/gcc \"$@\"\n");
        Files.setPosixFilePermissions(gcc, PosixFilePermissions.fromString("rwxr-xr-x"));
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("PATH", slow + ":" + env.get("PATH"));

        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder("setsid", java, "-cp", System.getProperty("java.class.path"),
                KillableBuild.class.getName(), src.toString(), patch.toString(), tmp.resolve("out").toString(), cache.toString())
                .redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile());
        pb.environment().clear();
        pb.environment().putAll(env);
        Process child = pb.start();
        long pgid = child.pid(); // setsid execs in place: the JVM leads its own process group

        Path log = tmp.resolve("out/logs/reference-build.log");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!(Files.exists(log) && Files.readString(log).contains("  CC "))) {
            assertTrue(child.isAlive(), "child ended before the build started: " + Files.readString(tmp.resolve("child.log")));
            assertTrue(System.nanoTime() < deadline, "build never started");
            Thread.sleep(50);
        }
        Tools.run(null, "kill", "-KILL", "--", "-" + pgid);
        assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        // wait for every member of the group (make, sh, sleep, gcc) to be gone
        for (int i = 0; i < 200 && Tools.runAllowingFailure(null, "pgrep", "-g", Long.toString(pgid)).exitCode() == 0; i++) {
            Thread.sleep(50);
        }
        assertEquals(1, Tools.runAllowingFailure(null, "pgrep", "-g", Long.toString(pgid)).exitCode(), "process group gone");

        assertEquals(before, BuildFixtures.checksums(src), "SRC byte-identical after the kill");
        List<String> refs = list(cache.resolve("refs"));
        assertTrue(refs.stream().noneMatch(n -> !n.startsWith(".tmp-") && !n.endsWith(".lock")), "nothing published: " + refs);
        assertTrue(refs.stream().anyMatch(n -> n.startsWith(".tmp-")), "the killed build's scratch is there: " + refs);

        // The next run with the same key removes the leftovers and builds.
        BuildOutcome o = BuildStage.run(BuildRequest.builder().srcDir(src).patch(patch).config(src.resolve("xen/.config"))
                .outputDir(tmp.resolve("out2")).cacheDir(cache).jobs(2).depends(BuildFixtures.ZERO_ID).environment(env).build(),
                Progress.NONE);
        assertEquals(List.of("common/version.o"), o.objects().changedPaths());
        assertFalse(o.reference().reused());
        assertTrue(list(cache.resolve("refs")).stream().noneMatch(n -> n.startsWith(".tmp-")), "leftovers removed");
        assertEquals(before, BuildFixtures.checksums(src));
    }

    @Test
    void interruptingTheThreadStopsMakeAndItsCompilers() throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        Map<String, String> before = BuildFixtures.checksums(src);
        Path slow = tmp.resolve("slowbin");
        Files.createDirectories(slow);
        Path gcc = slow.resolve("gcc");
        // Each compile first sleeps 30 s: a compiler that survives the interrupt is still there
        // when the test looks, however slow the machine.
        Files.writeString(gcc, "#!/bin/sh\nsleep 30\nexec /usr/bin/gcc \"$@\"\n");
        Files.setPosixFilePermissions(gcc, PosixFilePermissions.fromString("rwxr-xr-x"));
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("PATH", slow + ":" + env.get("PATH"));
        BuildRequest r = BuildFixtures.request(src, BuildFixtures.patch("minixen-extra-version.patch"), tmp).environment(env).build();

        java.util.concurrent.atomic.AtomicReference<Throwable> thrown = new java.util.concurrent.atomic.AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                BuildStage.run(r, Progress.NONE);
            } catch (Throwable e) {
                thrown.set(e);
            }
        });
        t.start();
        Path log = tmp.resolve("out/logs/reference-build.log");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!(Files.exists(log) && Files.readString(log).contains("  CC "))) {
            assertTrue(System.nanoTime() < deadline, "build never started");
            Thread.sleep(50);
        }
        t.interrupt();
        t.join(30_000);
        assertFalse(t.isAlive());
        assertTrue(thrown.get() instanceof InterruptedException, String.valueOf(thrown.get()));
        // make ran in the scratch tree under tmp: no process may still have its working directory there
        List<Long> left = processesWorkingUnder(tmp);
        for (int i = 0; i < 200 && !left.isEmpty(); i++) { // up to 10 s: well under the wrapper's sleep
            Thread.sleep(50);
            left = processesWorkingUnder(tmp);
        }
        assertEquals(List.of(), left, "make and compilers stopped");
        assertEquals(before, BuildFixtures.checksums(src));
        assertTrue(list(tmp.resolve("cache/refs")).stream().noneMatch(n -> !n.startsWith(".tmp-") && !n.endsWith(".lock")));
    }

    private static List<Long> processesWorkingUnder(Path dir) {
        return ProcessHandle.allProcesses().filter(ph -> {
            try {
                return Files.readSymbolicLink(Path.of("/proc", Long.toString(ph.pid()), "cwd")).startsWith(dir);
            } catch (Exception e) {
                return false;
            }
        }).map(ProcessHandle::pid).toList();
    }

    private static List<String> list(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
