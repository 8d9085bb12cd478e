package org.livepatch.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Whole directory trees: the one way scratch, cache entries and work trees are removed. */
public final class FileTrees {
    private FileTrees() {}

    /**
     * Deletes {@code root} and everything under it, deepest first. Symbolic links are removed,
     * never followed (a link in a work tree may point into SRC or the cache); a missing tree is
     * fine, so a cleanup can run again after an interrupted one.
     */
    public static void delete(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
