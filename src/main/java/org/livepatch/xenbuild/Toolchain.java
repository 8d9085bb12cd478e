package org.livepatch.xenbuild;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

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

    private static String firstLine(Path tool, Map<String, String> env) throws BuildException {
        List<String> cmd = new ArrayList<>(List.of(tool.toString(), "--version"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().putAll(env);
        try {
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new BuildException(BuildException.Reason.TOOL_MISSING, tool, "'--version' failed: " + out.strip());
            }
            return out.lines().findFirst().orElse("").strip();
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.TOOL_MISSING, tool, "cannot run: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BuildException(BuildException.Reason.INTERRUPTED, null, "interrupted");
        }
    }
}
