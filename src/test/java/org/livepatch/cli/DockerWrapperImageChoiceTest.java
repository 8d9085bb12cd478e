package org.livepatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.testsupport.Tools;

/**
 * The Docker wrapper runs the toolchain image whose compiler built the hypervisor: the gcc that
 * {@code --xen-syms}' {@code .comment} names picks bookworm's image (gcc 12.2.0-14+deb12u1) or
 * trixie's (gcc 14.2.0-19), and a missing one is built first. Runs a copy of the wrapper (so that
 * the {@code build-image} beside it is a fake that records its arguments) with the project's real
 * toolchain locks and a fake {@code docker} that knows which images exist; the wrapper's dry run
 * prints the {@code docker run} line, from which the image is read.
 */
class DockerWrapperImageChoiceTest {
    private static final String BOOKWORM = "livepatch-build-toolchain:bookworm";
    private static final String TRIXIE = "livepatch-build-toolchain:trixie";

    @TempDir
    Path tmp;

    private Path wrapper;
    private Path images;
    private Path builds;
    private Path bin;

    @BeforeEach
    void setUp() throws Exception {
        Path root = Tools.repoRoot();
        Path td = Files.createDirectories(tmp.resolve("checkout/toolchain-docker/trixie"));
        Files.createDirectories(tmp.resolve("checkout/lib"));
        for (String f : List.of("toolchain-docker/livepatch-build", "toolchain-docker/suites.sh",
                "toolchain-docker/packages.lock", "toolchain-docker/trixie/packages.lock", "lib/exit-codes.sh")) {
            Files.copy(root.resolve(f), tmp.resolve("checkout").resolve(f), StandardCopyOption.COPY_ATTRIBUTES);
        }
        wrapper = tmp.resolve("checkout/toolchain-docker/livepatch-build");
        images = Files.createDirectories(tmp.resolve("images"));
        builds = tmp.resolve("builds");
        executable(td.getParent().resolve("build-image"), """
                #!/bin/sh
                # A fake build-image: records its arguments, "builds" the --tag image, or fails.
                echo "$*" >>"$FAKE_BUILDS"
                [ -z "$FAKE_BUILD_FAILS" ] || exit 1
                while [ $# -gt 0 ]; do [ "$1" = --tag ] && : >"$FAKE_IMAGES/$2"; shift; done
                echo "$FAKE_TAG_LINE"
                """);
        bin = Files.createDirectories(tmp.resolve("bin"));
        String table = OptionTable.of(new picocli.CommandLine(new LivepatchBuildCommand()).getCommandSpec()).format();
        executable(bin.resolve("docker"), "#!/bin/bash\n"
                + "# A fake docker: an engine, and the images that are files in $FAKE_IMAGES.\n"
                + "case \"$1\" in\n"
                + "  version) exit 0 ;;\n"
                + "  image) img=\"${@: -1}\"; [ -e \"$FAKE_IMAGES/$img\" ] || exit 1\n"
                + "         printf 'livepatch-build\\n%s\\n' '" + table + "' ;;\n"
                + "  *) exit 2 ;;\n"
                + "esac\n");
    }

    private static void executable(Path p, String text) throws IOException {
        Files.writeString(p, text);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** A relocatable object whose .comment says {@code comment}, as a linked xen-syms' does. */
    private Path xenSyms(String name, String comment) throws Exception {
        Path c = Files.writeString(tmp.resolve(name + ".c"), "int lpb_" + name.replace('-', '_') + ";\n");
        Path o = tmp.resolve(name + ".o");
        Tools.run(tmp, "gcc", "-c", "-o", o.toString(), c.toString());
        Path text = Files.write(tmp.resolve(name + ".comment"), (comment + "\0").getBytes(StandardCharsets.US_ASCII));
        Path out = tmp.resolve(name);
        Tools.run(tmp, "objcopy", "--update-section", ".comment=" + text, o.toString(), out.toString());
        return out;
    }

    private record Run(int code, String image, List<String> stderr, List<String> builds) {}

    private Run run(Map<String, String> extraEnv, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("bash", wrapper.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(tmp.toFile())
                .redirectError(tmp.resolve("err").toFile());
        Map<String, String> env = pb.environment();
        env.put("PATH", bin + ":" + env.getOrDefault("PATH", "/usr/bin:/bin"));
        env.put("LPB_DOCKER_HOME", tmp.resolve("home").toString());
        env.put("LPB_CACHE", tmp.resolve("cache").toString());
        env.put("LPB_DOCKER_DRY_RUN", "1");
        env.put("FAKE_IMAGES", images.toString());
        env.put("FAKE_BUILDS", builds.toString());
        env.put("FAKE_TAG_LINE", "a line on build-image's stdout");
        env.remove("LPB_IMAGE");
        env.remove("FAKE_BUILD_FAILS");
        env.putAll(new HashMap<>(extraEnv));
        Process p = pb.start();
        List<String> out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "wrapper finished");
        int launcher = out.indexOf("/opt/livepatch-build/livepatch-build");
        String image = launcher > 0 ? out.get(launcher - 1) : null;
        List<String> b = Files.exists(builds) ? Files.readAllLines(builds) : List.of();
        return new Run(p.exitValue(), image, Files.readAllLines(tmp.resolve("err")), b);
    }

    private void present(String... tags) throws IOException {
        for (String t : tags) {
            Files.writeString(images.resolve(t), "");
        }
    }

    @Test
    void theGccThatXenSymsNamesPicksTheImage() throws Exception {
        present(BOOKWORM, TRIXIE);
        Path gcc14 = xenSyms("xen-syms-14", "GCC: (Debian 14.2.0-19) 14.2.0");
        Path gcc12 = xenSyms("xen-syms-12", "GCC: (Debian 12.2.0-14+deb12u1) 12.2.0");
        assertEquals(TRIXIE, run(Map.of(), "-o", "out", "--xen-syms", gcc14.toString()).image());
        assertEquals(TRIXIE, run(Map.of(), "--xen-syms=" + gcc14, "-o", "out").image());
        assertEquals(BOOKWORM, run(Map.of(), "--xen-syms", gcc12.toString(), "-o", "out").image());
        assertEquals(BOOKWORM, run(Map.of(), "-o", "out").image(), "no --xen-syms: bookworm's");
        assertTrue(run(Map.of(), "--xen-syms", gcc14.toString()).builds().isEmpty(), "nothing built: both images exist");
    }

    /** Another gcc: bookworm's image, where the pipeline refuses the compiler (exit 29) as on the host. */
    @Test
    void aGccNoImageCarriesRunsBookwormsImage() throws Exception {
        present(BOOKWORM, TRIXIE);
        Path other = xenSyms("xen-syms-99", "GCC: (Other) 99.1.0");
        Path close = xenSyms("xen-syms-14-1", "GCC: (Debian 14.2.0-1) 14.2.0");
        assertEquals(BOOKWORM, run(Map.of(), "--xen-syms", other.toString()).image());
        assertEquals(BOOKWORM, run(Map.of(), "--xen-syms", close.toString()).image(), "only the pinned version picks trixie");
    }

    @Test
    void lpbImageIsUsedAsGiven() throws Exception {
        present("my-image", TRIXIE);
        Path gcc14 = xenSyms("xen-syms-14", "GCC: (Debian 14.2.0-19) 14.2.0");
        assertEquals("my-image", run(Map.of("LPB_IMAGE", "my-image"), "--xen-syms", gcc14.toString()).image());
        Run r = run(Map.of("LPB_IMAGE", "missing-image"), "--xen-syms", gcc14.toString());
        assertEquals(69, r.code());
        assertEquals(List.of("livepatch-build (docker): image missing-image not found; build it with toolchain-docker/build-image"), r.stderr());
        assertTrue(r.builds().isEmpty(), "an image named by LPB_IMAGE is never built here");
    }

    @Test
    void aMissingImageIsBuiltFirst() throws Exception {
        present(BOOKWORM);
        Path gcc14 = xenSyms("xen-syms-14", "GCC: (Debian 14.2.0-19) 14.2.0");
        Run r = run(Map.of(), "--xen-syms", gcc14.toString(), "-o", "out");
        assertEquals(0, r.code(), String.join("\n", r.stderr()));
        assertEquals(TRIXIE, r.image());
        assertEquals(List.of("--toolchain trixie --tag " + TRIXIE), r.builds());
        Path log = tmp.resolve("cache/toolchain-docker/logs/wrapper-build-image-trixie.log");
        assertEquals(List.of("livepatch-build (docker): image " + TRIXIE + " is missing: building it"
                + " (toolchain-docker/build-image --toolchain trixie, log: " + log + ")"), r.stderr());
        assertTrue(Files.readString(log).contains("a line on build-image's stdout"), "build-image's output goes to its log, not to stdout");
        assertEquals(1, run(Map.of(), "--xen-syms", gcc14.toString(), "-o", "out").builds().size(), "built once");
    }

    @Test
    void anImageThatCannotBeBuiltIs69() throws Exception {
        present(BOOKWORM);
        Path gcc14 = xenSyms("xen-syms-14", "GCC: (Debian 14.2.0-19) 14.2.0");
        Run r = run(Map.of("FAKE_BUILD_FAILS", "1"), "--xen-syms", gcc14.toString(), "-o", "out");
        assertEquals(69, r.code());
        assertEquals(2, r.stderr().size(), String.join("\n", r.stderr()));
        assertTrue(r.stderr().get(1).startsWith("livepatch-build (docker): building image " + TRIXIE + " failed (log: "), r.stderr().get(1));
        assertFalse(Files.exists(tmp.resolve("out")), "no output directory for a run that never started");
    }
}
