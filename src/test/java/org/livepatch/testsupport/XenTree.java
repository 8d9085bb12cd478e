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
        boolean required = "1".equals(System.getenv("LPB_REQUIRE_XEN"));
        if (t == null || !Files.isRegularFile(t.resolve("xen/xen-syms"))) {
            if (required) {
                throw new IllegalStateException("LPB_REQUIRE_XEN=1 but LPB_XEN_TREE (" + t + ") holds no built xen/xen-syms");
            }
            assumeTrue(false, "LPB_XEN_TREE not set: real Xen tests skipped");
        }
        return t;
    }

    public static Path xenSyms() {
        return root().resolve("xen/xen-syms");
    }

    /** Every object the hypervisor build produced (not the example payloads' objects). */
    public static List<Path> objects() throws IOException {
        Path xen = root().resolve("xen");
        try (Stream<Path> s = Files.walk(xen)) {
            return s.filter(p -> p.toString().endsWith(".o"))
                    .filter(p -> !xen.relativize(p).startsWith("test"))
                    .filter(p -> !xen.relativize(p).startsWith("tools"))
                    .filter(Files::isRegularFile)
                    .sorted()
                    .toList();
        }
    }
}
