package org.livepatch.link;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.livepatch.testsupport.Tools;

/** The link-stage fixture ({@code xen-src-fixtures/link}) compiled into a directory, and nm's view of its image. */
final class LinkFixture {
    final Path dir;

    private LinkFixture(Path dir) {
        this.dir = dir;
    }

    static LinkFixture build(Path dir) throws IOException, InterruptedException {
        Tools.run(Tools.fixtures().resolve("link"), "sh", Tools.fixtures().resolve("link/build.sh").toString(), dir.toString());
        return new LinkFixture(dir);
    }

    Path xenSyms() {
        return dir.resolve("xen-syms");
    }

    Path object(String name) {
        return dir.resolve(name + ".o");
    }

    /** {@code nm} of a file: name to the addresses nm prints for it (several for same-named statics). */
    static Map<String, List<Long>> nm(Path file) throws IOException, InterruptedException {
        Map<String, List<Long>> m = new HashMap<>();
        for (String line : Tools.run(null, "nm", file.toString()).split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 3) {
                m.computeIfAbsent(f[2], k -> new java.util.ArrayList<>()).add(Long.parseUnsignedLong(f[0], 16));
            }
        }
        return m;
    }

    /** {@code nm} type letters by name (upper case: global or weak; lower case: local). */
    static Map<String, List<String>> nmTypes(Path file) throws IOException, InterruptedException {
        Map<String, List<String>> m = new HashMap<>();
        for (String line : Tools.run(null, "nm", file.toString()).split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 3) {
                m.computeIfAbsent(f[2], k -> new java.util.ArrayList<>()).add(f[1]);
            }
        }
        return m;
    }

    /** The build-id {@code readelf -n} prints for a file. */
    static String readelfBuildId(Path file) throws IOException, InterruptedException {
        for (String line : Tools.run(null, "readelf", "-n", file.toString()).split("\n")) {
            int i = line.indexOf("Build ID: ");
            if (i >= 0) {
                return line.substring(i + "Build ID: ".length()).trim();
            }
        }
        throw new AssertionError("readelf -n shows no build-id for " + file);
    }

    static boolean exists(Path p) {
        return Files.exists(p);
    }
}
