package org.livepatch.xenbuild;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.commons.exec.CommandLine;
import org.apache.commons.exec.DefaultExecutor;
import org.apache.commons.exec.ExecuteWatchdog;
import org.apache.commons.exec.PumpStreamHandler;

/**
 * The host tools the stage drives, found on the PATH of the environment the builds will run in
 * (not the JVM's own PATH: a request may carry its own environment), with the version lines that
 * go into the reference-cache key: objects built by another gcc or ld are not the same objects.
 *
 * <p>gcc and ld build the hypervisor and make drives Xen's build. The source patch is applied by
 * the tool itself ({@link SourcePatch}), so GNU patch is not among them.
 */
public record Toolchain(Path gcc, Path ld, Path make, String gccVersion, String ldVersion) {

    /** Locates every tool or fails naming the first one missing. */
    public static Toolchain locate(Map<String, String> env) throws BuildException {
        String path = env.getOrDefault("PATH", "");
        // Xen's build honours CC/LD from the environment (Config.mk: CC ?= $(CROSS_COMPILE)gcc),
        // so the compiler that counts is the one those name.
        String cross = env.getOrDefault("CROSS_COMPILE", "");
        Path gcc = find(path, env.getOrDefault("CC", cross + "gcc"));
        Path ld = find(path, env.getOrDefault("LD", cross + "ld"));
        Path make = find(path, "make");
        return new Toolchain(gcc, ld, make, firstLine(gcc, env), firstLine(ld, env));
    }

    private static Path find(String pathVar, String name) throws BuildException {
        // CC may carry arguments ("gcc -m64"); the program is the first word.
        String program = name.strip().split("\\s+")[0];
        if (program.contains("/")) {
            Path p = Path.of(program);
            if (Files.isExecutable(p)) {
                return p.toAbsolutePath();
            }
        } else {
            for (String dir : pathVar.split(File.pathSeparator)) {
                if (dir.isEmpty()) {
                    continue;
                }
                Path p = Path.of(dir, program);
                if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                    return p;
                }
            }
        }
        throw new BuildException(BuildException.Reason.TOOL_MISSING, null,
                program + ": not found on PATH (needed to build Xen; install it or fix PATH)");
    }

    /** A {@code --version} answers at once; one that does not is a broken or wrong tool. */
    private static final Duration VERSION_TIMEOUT = Duration.ofSeconds(30);

    /**
     * The first line {@code tool --version} prints. commons-exec pumps its output while a
     * watchdog enforces the timeout: reading the output to its end before waiting, as a bare
     * Process must, would wait forever on a tool that hangs with its output open.
     */
    private static String firstLine(Path tool, Map<String, String> env) throws BuildException {
        return firstLine(tool, env, VERSION_TIMEOUT);
    }

    static String firstLine(Path tool, Map<String, String> env, Duration timeout) throws BuildException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ExecuteWatchdog watchdog = ExecuteWatchdog.builder().setTimeout(timeout).get();
        DefaultExecutor exec = DefaultExecutor.builder().setExecuteStreamHandler(new PumpStreamHandler(out)).get();
        exec.setWatchdog(watchdog);
        exec.setExitValues(null); // every exit value is returned, and judged below
        int rc;
        try {
            rc = exec.execute(new CommandLine(tool.toFile()).addArgument("--version", false), env);
        } catch (IOException e) {
            if (Thread.currentThread().isInterrupted()) {
                throw new BuildException(BuildException.Reason.INTERRUPTED, null, "interrupted");
            }
            throw new BuildException(BuildException.Reason.TOOL_MISSING, tool, "cannot run: " + e.getMessage(), e);
        }
        String text = out.toString(StandardCharsets.UTF_8);
        if (watchdog.killedProcess()) {
            throw new BuildException(BuildException.Reason.TOOL_MISSING, tool,
                    "'--version' did not answer within " + timeout.toSeconds() + " s");
        }
        if (rc != 0) {
            throw new BuildException(BuildException.Reason.TOOL_MISSING, tool, "'--version' failed: " + text.strip());
        }
        return text.lines().findFirst().orElse("").strip();
    }
}
