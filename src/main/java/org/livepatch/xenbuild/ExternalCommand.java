package org.livepatch.xenbuild;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One run of an external program (make, patch) with a fixed environment, its output appended
 * to a stage log. Interrupting the calling thread kills the program and all its children (a
 * make with -j has many), so an aborted run leaves no compiler writing into a tree behind it;
 * a JVM shutdown (Ctrl-C) does the same for every command still running.
 *
 * <p>Not commons-exec (used for {@link Toolchain}'s short queries): its watchdog and process
 * destroyer stop only the direct child, not the compilers make started, and its stream pumping
 * would copy a build's output through JVM threads where a redirect lets the process write the log
 * itself.
 */
public record ExternalCommand(List<String> argv, Path workDir, Map<String, String> environment) {

    private static final Set<Process> RUNNING = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> RUNNING.forEach(ExternalCommand::killTree),
                "livepatch-build: stop child processes"));
    }

    public ExternalCommand {
        argv = List.copyOf(argv);
        environment = Map.copyOf(environment);
    }

    /** Runs to completion; returns the exit code. Output (stdout and stderr) goes to {@code log}. */
    public int run(Path log) throws IOException, InterruptedException {
        Files.createDirectories(log.getParent());
        Files.writeString(log, "$ (cd " + workDir + " && " + String.join(" ", argv) + ")\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        ProcessBuilder pb = new ProcessBuilder(inOwnProcessGroup(argv))
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().clear();
        pb.environment().putAll(environment);
        Process p = pb.start();
        RUNNING.add(p);
        try {
            return p.waitFor();
        } catch (InterruptedException e) {
            killTree(p);
            throw e;
        } finally {
            RUNNING.remove(p);
        }
    }

    /**
     * Runs the program as the leader of a process group of its own (setsid(1) from util-linux,
     * which calls setsid() and execs without forking when started by the JVM), so that every
     * process make starts — including one started while we are stopping it — can be killed by
     * group. A snapshot of descendants alone races with make starting the next compiler.
     */
    private static List<String> inOwnProcessGroup(List<String> argv) {
        if (SETSID == null) {
            return argv;
        }
        List<String> l = new java.util.ArrayList<>(argv.size() + 1);
        l.add(SETSID);
        l.addAll(argv);
        return l;
    }

    private static final String SETSID = java.util.stream.Stream.of("/usr/bin/setsid", "/bin/setsid")
            .filter(f -> Files.isExecutable(Path.of(f))).findFirst().orElse(null);

    private static void killTree(Process p) {
        if (SETSID != null) {
            try {
                // The group id is the leader's pid: setsid made the program a session leader.
                new ProcessBuilder("kill", "-KILL", "--", "-" + p.pid()).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
            } catch (IOException e) {
                // Fall through to the per-process kill below.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        // Children first, so make cannot start new compilers while it is being stopped.
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        try {
            p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The line of a build log most likely to say what went wrong: the first compiler or make
     * error, else the last line that is not make's directory chatter.
     */
    static String firstError(Path log) {
        List<String> lines;
        try {
            lines = readLog(log);
        } catch (IOException e) {
            return "";
        }
        for (String l : lines) {
            if (l.contains("error:") || l.contains("Error:") || l.contains("No rule to make target")) {
                return l.strip();
            }
        }
        for (int i = lines.size() - 1; i >= 0; i--) {
            String l = lines.get(i).strip();
            if (!l.isEmpty() && !l.contains("Leaving directory") && !l.contains("Entering directory") && !l.startsWith("make")) {
                return l;
            }
        }
        return lines.isEmpty() ? "" : lines.get(lines.size() - 1).strip();
    }

    /**
     * A build log's lines. gcc writes its diagnostics in the locale's charset, UTF-8 on every
     * current system (its quotes are U+2018/U+2019); decoded as ISO-8859-1 and printed again as
     * UTF-8 they came out double-encoded. UTF-8, with bytes that are not UTF-8 (a C locale's
     * odd output, a binary dumped by a tool) shown as U+FFFD instead of failing the read.
     */
    static List<String> readLog(Path log) throws IOException {
        return new String(Files.readAllBytes(log), StandardCharsets.UTF_8).lines().toList();
    }

    /**
     * Stops every program still running (their whole process groups) at once: for the last
     * resort of an interrupt, when the thread that started them does not unwind in time.
     */
    public static void stopAll() {
        RUNNING.forEach(ExternalCommand::killTree);
    }

    /** The last {@code n} lines of a log, for an error message that points at the cause. */
    static String tail(Path log, int n) {
        try {
            List<String> lines = readLog(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * What a task that ran commands threw, thrown as it was: I/O errors and interruptions are the
     * caller's to handle; anything else is a bug, returned to be thrown.
     */
    static RuntimeException unwrap(java.util.concurrent.ExecutionException e) throws IOException, InterruptedException {
        if (e.getCause() instanceof IOException io) {
            throw io;
        }
        if (e.getCause() instanceof InterruptedException ie) {
            throw ie;
        }
        return new IllegalStateException(e.getCause());
    }
}
