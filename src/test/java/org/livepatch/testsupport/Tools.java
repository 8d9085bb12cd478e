package org.livepatch.testsupport;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the external tools tests compare against (gcc, ld, readelf) and finds the repository. */
public final class Tools {
    private Tools() {}

    public record Result(int exitCode, String output) {}

    public static Path repoRoot() {
        Path p = Paths.get(System.getProperty("user.dir")).toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("pom.xml"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("no pom.xml above " + System.getProperty("user.dir"));
        }
        return p;
    }

    public static Path fixtures() {
        return repoRoot().resolve("xen-src-fixtures");
    }

    /** Runs a command, merging stderr into stdout; fails the test on a non-zero exit. */
    public static String run(Path dir, String... cmd) throws IOException, InterruptedException {
        Result r = runAllowingFailure(dir, cmd);
        if (r.exitCode() != 0) {
            fail(String.join(" ", cmd) + " exited " + r.exitCode() + ":\n" + r.output());
        }
        return r.output();
    }

    public static String run(Path dir, List<String> cmd) throws IOException, InterruptedException {
        return run(dir, cmd.toArray(String[]::new));
    }

    public static Result runAllowingFailure(Path dir, String... cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        if (dir != null) {
            pb.directory(dir.toFile());
        }
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            fail(String.join(" ", cmd) + " timed out");
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    /** Compiles the round-trip fixture program into {@code out} (objects and {@code out/prog}). */
    public static List<Path> buildRoundtripFixture(Path out, String extraCflags) throws IOException, InterruptedException {
        Path script = fixtures().resolve("roundtrip/build.sh");
        List<String> cmd = new ArrayList<>(List.of("bash", script.toString(), out.toString()));
        if (extraCflags != null && !extraCflags.isBlank()) {
            cmd.add(extraCflags);
        }
        run(fixtures().resolve("roundtrip"), cmd.toArray(String[]::new));
        try (var s = Files.list(out)) {
            return s.filter(f -> f.toString().endsWith(".o")).sorted().toList();
        }
    }

    /** The real Xen 4.17.5 reference build, from {@code LPB_XEN_TREE}, or null when not provided. */
    public static Path xenTree() {
        String t = System.getenv("LPB_XEN_TREE");
        if (t == null || t.isBlank()) {
            return null;
        }
        return Paths.get(t);
    }
}
