package org.livepatch.testsupport;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Access to the real Xen 4.17.5 reference build that {@code tests/xen/xen-tree ref} prepares.
 *
 * <p>Tests that need it are tagged {@code xen}. Where the tree is absent they are skipped, except
 * when {@code LPB_REQUIRE_XEN=1} (set by the README's test command and CI): then a missing tree
 * fails the run, so CI can never pass by skipping the real-Xen tests.
 */
public final class XenTree {
    private XenTree() {}

    public static Path root() {
        Path t = Tools.xenTree();
        require(t != null && Files.isRegularFile(t.resolve("xen/xen-syms")), "LPB_XEN_TREE (" + t + ") holds no built xen/xen-syms");
        return t;
    }

    /** True when {@code LPB_REQUIRE_XEN=1}: every real-Xen test must run, none may skip. */
    public static boolean required() {
        return "1".equals(System.getenv("LPB_REQUIRE_XEN"));
    }

    /**
     * The one way a real-Xen test may give up on a missing prerequisite: it skips on a developer's
     * machine, but fails when {@code LPB_REQUIRE_XEN=1}, so CI can never pass by skipping.
     */
    public static void require(boolean prerequisite, String what) {
        require(prerequisite, what, required());
    }

    static void require(boolean prerequisite, String what, boolean required) {
        if (prerequisite) {
            return;
        }
        if (required) {
            throw new IllegalStateException("LPB_REQUIRE_XEN=1 but " + what);
        }
        assumeTrue(false, what + ": real Xen test skipped");
    }

    /**
     * The pristine Xen source (never built in), from {@code LPB_XEN_SRC} as {@code tests/xen/xen-tree
     * source} prints it; tests use it as a user's SRC and must leave it untouched.
     */
    public static Path source() {
        root();
        String s = System.getenv("LPB_XEN_SRC");
        Path p = s == null || s.isBlank() ? null : Path.of(s);
        require(p != null && Files.isRegularFile(p.resolve("xen/Makefile")), "LPB_XEN_SRC (" + s + ") is not a Xen source tree");
        return p;
    }

    /** A patch for the real tree from {@code xen-src-fixtures/patches/xen-4.17/}. */
    public static Path patch(String name) {
        return Tools.fixtures().resolve("patches/xen-4.17").resolve(name);
    }

    public static Path xenSyms() {
        return root().resolve("xen/xen-syms");
    }

    /**
     * Every ELF64 object the hypervisor build produced: compiled objects and the {@code built_in.o}
     * aggregates {@code ld -r} made, but not the example payloads' objects, the 32-bit boot
     * trampoline objects or the PE object of the EFI build.
     */
    public static List<Path> objects() throws IOException {
        return objects(root().resolve("xen"));
    }

    /** {@link #objects()} of the {@code xen/} directory of any built tree (the benchmark's). */
    public static List<Path> objects(Path xen) throws IOException {
        try (Stream<Path> s = Files.walk(xen)) {
            return s.filter(p -> p.toString().endsWith(".o"))
                    .filter(p -> !xen.relativize(p).startsWith("test"))
                    .filter(p -> !xen.relativize(p).startsWith("tools"))
                    .filter(Files::isRegularFile)
                    .filter(XenTree::isElf64)
                    .sorted()
                    .toList();
        }
    }

    /** Compiled objects only (no {@code built_in.o} aggregates): the units create-diff-object sees. */
    public static List<Path> compiledObjects() throws IOException {
        return compiledObjects(root().resolve("xen"));
    }

    /** {@link #compiledObjects()} of the {@code xen/} directory of any built tree. */
    public static List<Path> compiledObjects(Path xen) throws IOException {
        return objects(xen).stream().filter(p -> !p.getFileName().toString().equals("built_in.o")).toList();
    }

    private static boolean isElf64(Path p) {
        try (var in = Files.newInputStream(p)) {
            byte[] h = in.readNBytes(5);
            return h.length == 5 && h[0] == 0x7f && h[1] == 'E' && h[2] == 'L' && h[3] == 'F' && h[4] == 2;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * A request as a user would make it for a real fix: the pristine source, the reference's
     * .config, its xen-syms and (from readelf) its build-id, all CPUs.
     */
    public static org.livepatch.xenbuild.BuildRequest.Builder request(Path patch, Path out) throws Exception {
        return template(out).patch(patch).jobs(Runtime.getRuntime().availableProcessors());
    }

    /** The same without a patch, on two CPUs: the template of a batch or a series. */
    public static org.livepatch.xenbuild.BuildRequest.Builder template(Path out) throws Exception {
        Path xenSyms = xenSyms();
        return org.livepatch.xenbuild.BuildRequest.builder()
                .srcDir(source())
                .config(root().resolve("xen/.config"))
                .outputDir(out)
                .jobs(2)
                .depends(LinkFixture.readelfBuildId(xenSyms))
                .xenSyms(xenSyms);
    }
}
