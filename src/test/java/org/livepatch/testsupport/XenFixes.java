package org.livepatch.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * The real Xen fixes real-Xen tests build: the commits of Xen's {@code stable-4.17} after our
 * 4.17.5 base, one {@code NNNN-subject.patch} each, read where they are kept
 * ({@code LPB_XEN_FIXES}, by default {@code ../shared/xen-fixes/stable-4.17} next to the
 * checkout). They are Xen's code: read at test time, never copied into the project. A missing
 * directory skips on a developer's machine and fails under {@code LPB_REQUIRE_XEN=1}, as a
 * missing Xen tree does ({@link XenTree#require}).
 */
public final class XenFixes {
    private XenFixes() {}

    public static Path directory() {
        String s = System.getenv("LPB_XEN_FIXES");
        Path d = s == null || s.isBlank() ? Tools.repoRoot().resolve("../shared/xen-fixes/stable-4.17").normalize() : Path.of(s);
        XenTree.require(Files.isDirectory(d), "LPB_XEN_FIXES (" + d + ") is not a directory of Xen fixes");
        return d;
    }

    /** The fix whose file name starts with {@code number} ("0004"). */
    public static Path patch(String number) throws IOException {
        try (Stream<Path> s = Files.list(directory())) {
            List<Path> l = s.filter(p -> p.getFileName().toString().startsWith(number + "-") && p.toString().endsWith(".patch")).toList();
            XenTree.require(l.size() == 1, "exactly one fix " + number + "-*.patch in " + directory() + " (found " + l + ")");
            return l.get(0);
        }
    }
}
