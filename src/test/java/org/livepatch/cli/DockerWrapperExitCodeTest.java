package org.livepatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.testsupport.Tools;

/**
 * The Docker wrapper's own failures, without Docker: one line each, with the code
 * {@code livepatch-build} gives the same failure (an output directory that cannot be created is
 * 18 from both, not the wrapper's former 73).
 */
class DockerWrapperExitCodeTest {
    @TempDir
    Path tmp;

    private record Run(int code, String err) {}

    private Run wrapper(Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of(Tools.repoRoot().resolve("toolchain-docker/livepatch-build").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(tmp.toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(tmp.resolve("err").toFile());
        pb.environment().put("LPB_DOCKER_HOME", tmp.resolve("home").toString());
        pb.environment().putAll(env);
        int code = pb.start().waitFor();
        return new Run(code, Files.readString(tmp.resolve("err"), StandardCharsets.UTF_8));
    }

    private static void assertOneLine(Run r, int code, String contains) {
        assertEquals(code, r.code(), r.err());
        assertEquals(1, r.err().lines().count(), "one line: " + r.err());
        assertTrue(r.err().startsWith("livepatch-build (docker): ") && r.err().contains(contains), r.err());
    }

    @Test
    void noDockerEngineIs69() throws Exception {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Path docker = Files.writeString(bin.resolve("docker"), "#!/bin/sh\nexit 1\n");
        Files.setPosixFilePermissions(docker, PosixFilePermissions.fromString("rwxr-xr-x"));
        Run r = wrapper(Map.of("PATH", bin + ":" + System.getenv("PATH")), "--help");
        assertOneLine(r, 69, "no Docker engine answers");
    }

    /**
     * A docker that answers the wrapper's image checks (an engine, the image with its launcher and
     * option table) so the run gets as far as the failure under test; dry-run stops before {@code run}.
     */
    private String pathWithImage() throws Exception {
        Path bin = Files.createDirectories(tmp.resolve("bin-image"));
        String table = OptionTable.of(new picocli.CommandLine(new LivepatchBuildCommand()).getCommandSpec()).format();
        Path docker = Files.writeString(bin.resolve("docker"), "#!/bin/sh\ncase \"$1\" in\n"
                + "  version) exit 0 ;;\n"
                + "  image) printf 'livepatch-build\\n%s\\n' '" + table + "' ;;\n"
                + "  *) exit 2 ;;\nesac\n");
        Files.setPosixFilePermissions(docker, PosixFilePermissions.fromString("rwxr-xr-x"));
        return bin + ":" + System.getenv("PATH");
    }

    /** Under a regular file no directory can be made, whoever runs the test (root too). */
    @Test
    void anOutputDirectoryItCannotCreateIs18() throws Exception {
        Path file = Files.writeString(tmp.resolve("a-file"), "");
        Run r = wrapper(Map.of("PATH", pathWithImage(), "LPB_DOCKER_DRY_RUN", "1"), "-o", file.resolve("out").toString());
        assertOneLine(r, 18, "cannot create the output directory " + file.resolve("out"));
    }

    @Test
    void aHomeItCannotCreateIs26() throws Exception {
        Path file = Files.writeString(tmp.resolve("a-file"), "");
        Run r = wrapper(Map.of("PATH", pathWithImage(), "LPB_DOCKER_DRY_RUN", "1", "LPB_DOCKER_HOME", file.resolve("home").toString()), "--help");
        assertOneLine(r, 26, "cannot create " + file.resolve("home"));
    }
}
