package org.livepatch.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.livepatch.testsupport.Tools;

/**
 * The real {@code ./livepatch-build} launcher (bash, lib/launch.sh, exec java) started as a
 * process of its own, on the classes this build just compiled: {@code LPB_JAR} points to a jar
 * that holds only a manifest whose Class-Path lists the test run's classpath, so the launcher
 * neither needs the packaged jar nor starts Maven. A directory {@code bin/} of wrappers goes first
 * on PATH: a {@code gcc} that, while the file {@code ARM-gcc} exists, writes its pid into
 * {@code started-gcc} and blocks in a compile, so a test knows a run is mid-way without watching
 * a clock.
 */
final class LauncherProcess {
    final Path dir;
    final Path bin;
    private final List<Process> started = new ArrayList<>();
    final Map<String, String> env = new HashMap<>();

    LauncherProcess(Path dir) throws IOException, InterruptedException {
        this.dir = dir;
        this.bin = dir.resolve("bin");
        Files.createDirectories(bin);
        Path jar = dir.resolve("classpath.jar");
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        StringBuilder cp = new StringBuilder();
        for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            cp.append(Path.of(e).toAbsolutePath().toUri()).append(' ');
        }
        mf.getMainAttributes().put(Attributes.Name.CLASS_PATH, cp.toString().strip());
        try (OutputStream o = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(o, mf)) {
            // a manifest is all it holds
        }
        // The launcher rebuilds its jar when a source is newer; these classes are compiled already,
        // and a source edited while the tests run must not start a Maven build from inside one.
        Files.setLastModifiedTime(jar, java.nio.file.attribute.FileTime.from(java.time.Instant.now().plus(java.time.Duration.ofDays(3650))));
        wrapper("gcc", "*\" -c \"*");
        env.putAll(System.getenv());
        env.put("PATH", bin + ":" + System.getenv("PATH"));
        env.put("LPB_JAR", jar.toString());
        env.put("LPB_CDS", "0");
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.put("LC_ALL", "C.UTF-8");
        env.remove("LIVEPATCH_TRACE");
    }

    /** {@code tool} on PATH: blocks when armed and called with arguments matching {@code pattern}. */
    private void wrapper(String tool, String pattern) throws IOException, InterruptedException {
        String real = Tools.run(null, "sh", "-c", "command -v " + tool).strip();
        Path w = bin.resolve(tool);
        Files.writeString(w, "#!/bin/sh\n"
                + "case \" $* \" in " + pattern + ")\n"
                + "  if [ -e '" + dir.resolve("ARM-" + tool) + "' ]; then\n"
                + "    echo $$ > '" + dir.resolve("started-" + tool) + ".tmp'; mv '" + dir.resolve("started-" + tool) + ".tmp' '" + dir.resolve("started-" + tool) + "'\n"
                + "    exec sleep 100000\n"
                + "  fi;;\n"
                + "esac\n"
                + "exec '" + real + "' \"$@\"\n");
        Files.setPosixFilePermissions(w, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    void arm(String tool) throws IOException {
        Files.deleteIfExists(dir.resolve("started-" + tool));
        Files.writeString(dir.resolve("ARM-" + tool), "");
    }

    void disarm(String tool) throws IOException {
        Files.deleteIfExists(dir.resolve("ARM-" + tool));
    }

    /** Waits until the armed {@code tool} blocks (or the launcher ends first); its pid, or -1. */
    long awaitBlocked(String tool, Process p) throws IOException, InterruptedException {
        Path started = dir.resolve("started-" + tool);
        while (!Files.exists(started)) {
            if (!p.isAlive()) {
                return -1;
            }
            Thread.sleep(20);
        }
        return Long.parseLong(Files.readString(started).strip());
    }

    /** {@code sh -c 'umask U; exec ./livepatch-build ARGS'}: the shell execs, so its pid is java's. */
    Process start(String umask, Path stdout, Path stderr, String... args) throws IOException {
        return start(List.of(), umask, stdout, stderr, args);
    }

    /** As {@link #start(String, Path, Path, String...)}, run through {@code prefix} (setpriv, say). */
    Process start(List<String> prefix, String umask, Path stdout, Path stderr, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(prefix);
        // A test JVM started in the background by a non-interactive shell (a CI runner, nohup ...
        // &) inherits SIGINT ignored, and a program cannot catch a signal it was started with
        // ignored: the launcher would sleep through the test's Ctrl-C. Start it as a terminal
        // would, with the signals a user sends at their default disposition.
        cmd.addAll(List.of("env", "--default-signal=HUP,INT,QUIT,TERM"));
        cmd.addAll(List.of("sh", "-c", "umask " + umask + "; exec \"$0\" \"$@\"",
                Tools.repoRoot().resolve("livepatch-build").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(stdout.toFile()).redirectError(stderr.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().clear();
        pb.environment().putAll(env);
        Process p = pb.start();
        started.add(p);
        return p;
    }

    /**
     * Kills every launcher this object started that is still running, with what it started: a
     * test that failed half-way must not leave a blocked build behind (its directory is deleted
     * after the test, and the orphan would sleep on).
     */
    void stopAll() {
        for (Process p : started) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    /**
     * Processes whose working directory is under {@code dir}: what a SIGKILLed run's make (in a
     * session of its own, so not killed with the JVM) may still be doing in its trees.
     */
    static java.util.List<Long> processesWorkingUnder(Path dir) {
        return ProcessHandle.allProcesses().filter(ph -> {
            try {
                return Files.readSymbolicLink(Path.of("/proc", Long.toString(ph.pid()), "cwd")).startsWith(dir) && !isDead(ph.pid());
            } catch (IOException | RuntimeException e) {
                return false;
            }
        }).map(ProcessHandle::pid).toList();
    }

    /** Whether a process is gone (or a zombie: dead, waiting to be reaped). */
    static boolean isDead(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
        } catch (IOException e) {
            return true;
        }
    }
}
