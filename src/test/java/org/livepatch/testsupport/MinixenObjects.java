package org.livepatch.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The bundled minixen tree built twice with make, as the pipeline would: once as it is
 * ({@code orig/}) and once with a fixture patch applied ({@code patched/}), so tests get real
 * object pairs and a real linked {@code xen-syms} without a Xen tree. Built once per test run
 * under {@code target/} (each copy takes about two seconds), then only read.
 */
public final class MinixenObjects {
    /** The pinned build-time strings: without them every make run rebuilds version.o with the current time. */
    private static final List<String> BUILD_STRINGS = List.of("XEN_BUILD_DATE=Thu Jan  1 00:00:00 UTC 1970",
            "XEN_BUILD_TIME=00:00:00", "XEN_WHOAMI=tester", "XEN_DOMAIN=example", "XEN_BUILD_HOST=builder");

    private static MinixenObjects shared;

    public final Path orig;
    public final Path patched;

    private MinixenObjects(Path orig, Path patched) {
        this.orig = orig;
        this.patched = patched;
    }

    /**
     * Both trees, the patched one with every patch of {@code xen-src-fixtures/patches} whose
     * objects the hostile-input tests use: {@code minixen-ex-table.patch} (traps.o: exception
     * table, fixup code, bug frames) and {@code minixen-extra-version.patch} (version.o: strings).
     */
    public static synchronized MinixenObjects shared() throws IOException, InterruptedException {
        if (shared == null) {
            Path root = Tools.repoRoot().resolve("target/minixen-objects");
            Tools.run(null, "rm", "-rf", root.toString());
            Files.createDirectories(root);
            Path orig = build(root.resolve("orig"));
            Path patched = root.resolve("patched");
            Tools.run(null, "cp", "-a", Tools.fixtures().resolve("minixen").toString(), patched.toString());
            for (String p : List.of("minixen-ex-table.patch", "minixen-extra-version.patch")) {
                Tools.run(patched, "patch", "-s", "-p1", "-i", Tools.fixtures().resolve("patches").resolve(p).toString());
            }
            make(patched);
            shared = new MinixenObjects(orig, patched);
        }
        return shared;
    }

    private static Path build(Path dir) throws IOException, InterruptedException {
        Tools.run(null, "cp", "-a", Tools.fixtures().resolve("minixen").toString(), dir.toString());
        make(dir);
        return dir;
    }

    private static void make(Path tree) throws IOException, InterruptedException {
        List<String> cmd = new java.util.ArrayList<>(List.of("make", "-s", "-C", "xen"));
        cmd.addAll(BUILD_STRINGS);
        Tools.run(tree, cmd);
    }

    /** An object of the original build, e.g. {@code arch/x86/traps.o}. */
    public Path origObject(String path) {
        return orig.resolve("xen").resolve(path);
    }

    public Path patchedObject(String path) {
        return patched.resolve("xen").resolve(path);
    }

    /** The original build's image: the "running hypervisor" the payloads are made for. */
    public Path xenSyms() {
        return orig.resolve("xen/xen-syms");
    }
}
