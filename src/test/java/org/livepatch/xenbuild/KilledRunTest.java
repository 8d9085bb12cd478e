package org.livepatch.xenbuild;

import org.livepatch.stage.Progress;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.testsupport.Tools;

/**
 * A run killed in the middle of the reference build (SIGKILL to its whole process group: the JVM,
 * make and the compilers) leaves SRC byte-identical, publishes nothing in the cache, and the next
 * run of the same key cleans up and succeeds.
 *
 * <p>Both tests synchronise on events, never on time: the build's compiler is a script written
 * here that announces each compile on a FIFO and then waits to be released, so the test acts while
 * a compile is certainly in progress, on any machine however slow. The script hands over to the
 * compiler the Toolchain resolves from the environment, wherever it is installed. The class
 * timeout only turns a regression that would hang (a compiler that is never stopped) into a failure.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class KilledRunTest {
    @TempDir
    Path tmp;

    /** The fake compiler and the FIFO it announces compiles on. */
    private record FakeCompiler(Map<String, String> env, Path announce, Path released) {}

    /**
     * A {@code gcc} first on PATH that passes everything but a compile ({@code --version}, the
     * dependency and config probes) straight to the real compiler; a compile writes its pid to
     * the {@code announce} FIFO and then blocks reading a FIFO nobody writes. Once the
     * {@code released} file exists, compiles go straight through too.
     */
    private FakeCompiler fakeCompiler() throws Exception {
        Path real = Toolchain.locate(System.getenv()).gcc();
        Path bin = Files.createDirectories(tmp.resolve("fakebin"));
        Path announce = tmp.resolve("announce.fifo");
        Path hold = tmp.resolve("hold.fifo");
        Path released = tmp.resolve("released");
        Tools.run(null, "mkfifo", announce.toString(), hold.toString());
        Path gcc = bin.resolve("gcc");
        Files.writeString(gcc, String.join("\n",
                "#!/bin/sh",
                "case \" $* \" in *\" -c \"*) ;; *) exec '" + real + "' \"$@\" ;; esac",
                "[ -e '" + released + "' ] && exec '" + real + "' \"$@\"",
                "echo \"$$\" > '" + announce + "'",
                "read _ < '" + hold + "'",
                "exec '" + real + "' \"$@\"",
                ""));
        Files.setPosixFilePermissions(gcc, PosixFilePermissions.fromString("rwxr-xr-x"));
        Map<String, String> env = new HashMap<>(System.getenv());
        env.remove("CC");
        env.put("PATH", bin + ":" + env.get("PATH"));
        return new FakeCompiler(env, announce, released);
    }

    /**
     * Opened read-write, so that neither this open nor a writer's blocks; {@link #next} then waits
     * for the first line: a compiler's pid, or {@code ended} written when the build stops first.
     */
    private static final class Announcements implements AutoCloseable {
        private final RandomAccessFile fifo;
        private final Path path;

        Announcements(Path path) throws IOException {
            this.path = path;
            this.fifo = new RandomAccessFile(path.toFile(), "rw");
        }

        String next() throws IOException {
            return fifo.readLine();
        }

        void ended() {
            try (OutputStream o = Files.newOutputStream(path)) {
                o.write("ended\n".getBytes(StandardCharsets.US_ASCII));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        @Override
        public void close() throws IOException {
            fifo.close();
        }
    }

    @Test
    void killedReferenceBuildLeavesSrcAndCacheClean() throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        Map<String, String> before = BuildFixtures.checksums(src);
        Path patch = BuildFixtures.patch("minixen-extra-version.patch");
        Path cache = tmp.resolve("cache");
        FakeCompiler cc = fakeCompiler();

        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder("setsid", java, "-cp", System.getProperty("java.class.path"),
                KillableBuild.class.getName(), src.toString(), patch.toString(), tmp.resolve("out").toString(), cache.toString())
                .redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile());
        pb.environment().clear();
        pb.environment().putAll(cc.env());
        try (Announcements a = new Announcements(cc.announce())) {
            Process child = pb.start();
            long pgid = child.pid(); // setsid execs in place: the JVM leads its own process group
            child.onExit().thenRun(a::ended);
            String first = a.next();
            assertFalse(first.equals("ended"), "the build ended before compiling anything: " + Files.readString(tmp.resolve("child.log")));
            // The compiler is waiting (the build runs make -j1): the run's processes cannot change now.
            // make runs in a session of its own, so SIGKILL to the JVM's group alone would leave
            // make and the compiler running; a run killed as a whole (OOM killer, a stopped
            // container) loses every process at once, as here.
            List<ProcessHandle> run = Stream.concat(Stream.of(child.toHandle()), child.descendants()).toList();
            assertTrue(run.stream().anyMatch(h -> h.pid() == Long.parseLong(first)), "the compiler is one of the run's processes");
            List<String> kill = new java.util.ArrayList<>(List.of("kill", "-KILL", "--", "-" + pgid));
            run.forEach(h -> kill.add(Long.toString(h.pid())));
            // kill(1) exits 1 when one target is already gone: the JVM's reaper may reap a member
            // of the group between the group kill and the kill by pid. What counts is that every
            // process of the run ends, checked below.
            Tools.runAllowingFailure(null, kill.toArray(String[]::new));
            run.forEach(ProcessHandle::destroyForcibly);
            child.waitFor();
            for (ProcessHandle h : run) {
                h.onExit().join();
            }
        }

        assertEquals(before, BuildFixtures.checksums(src), "SRC byte-identical after the kill");
        List<String> refs = list(cache.resolve("refs"));
        assertTrue(refs.stream().noneMatch(n -> !n.startsWith(".tmp-") && !n.endsWith(".lock")), "nothing published: " + refs);
        assertTrue(refs.stream().anyMatch(n -> n.startsWith(".tmp-")), "the killed build's scratch is there: " + refs);

        // The next run with the same key (same PATH, compiler now let through) removes the leftovers and builds.
        Files.writeString(cc.released(), "");
        BuildOutcome o = BuildStage.run(BuildRequest.builder().srcDir(src).patch(patch).config(src.resolve("xen/.config"))
                .outputDir(tmp.resolve("out2")).cacheDir(cache).jobs(2).depends(BuildFixtures.ZERO_ID).environment(cc.env()).build(),
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
        FakeCompiler cc = fakeCompiler();
        // make -j1: one compile at a time, so once it is announced no other process can appear.
        BuildRequest r = BuildFixtures.request(src, BuildFixtures.patch("minixen-extra-version.patch"), tmp).jobs(1).environment(cc.env()).build();

        java.util.concurrent.atomic.AtomicReference<Throwable> thrown = new java.util.concurrent.atomic.AtomicReference<>();
        try (Announcements a = new Announcements(cc.announce())) {
            Thread t = new Thread(() -> {
                try {
                    BuildStage.run(r, Progress.NONE);
                } catch (Throwable e) {
                    thrown.set(e);
                } finally {
                    a.ended();
                }
            });
            t.start();
            String first = a.next();
            assertFalse(first.equals("ended"), "the build ended before compiling anything: " + thrown.get());
            List<ProcessHandle> build = ProcessHandle.current().descendants().toList();
            assertTrue(build.stream().anyMatch(h -> h.pid() == Long.parseLong(first)), "the compiler is one of the build's processes");

            t.interrupt();
            t.join();
            assertTrue(thrown.get() instanceof InterruptedException, String.valueOf(thrown.get()));
            // Left alone, the compiler would wait for ever: these end only if the interrupt stopped them.
            for (ProcessHandle h : build) {
                h.onExit().join();
            }
        }
        // make ran in the scratch tree under tmp: no process may still have its working directory there
        assertEquals(List.of(), processesWorkingUnder(tmp), "make and compilers stopped");
        assertEquals(before, BuildFixtures.checksums(src));
        assertTrue(list(tmp.resolve("cache/refs")).stream().noneMatch(n -> !n.startsWith(".tmp-") && !n.endsWith(".lock")));
    }

    private static List<Long> processesWorkingUnder(Path dir) {
        return ProcessHandle.allProcesses().filter(ph -> {
            try {
                return ph.isAlive() && Files.readSymbolicLink(Path.of("/proc", Long.toString(ph.pid()), "cwd")).startsWith(dir);
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
