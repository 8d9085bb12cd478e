package org.livepatch.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The link-stage fixture ({@code xen-src-fixtures/link}) compiled into a directory, and nm's view of its image.
 * Shared by the link tests and the hypervisor-symbol tests ({@code org.livepatch.xen}), which read the same image.
 */
public final class LinkFixture {
    public final Path dir;

    private LinkFixture(Path dir) {
        this.dir = dir;
    }

    private static LinkFixture shared;

    /**
     * The fixture, built once per test run under {@code target/} (which {@code mvn clean} removes).
     * The link and hypervisor-symbol tests only read it, so compiling it again for every test class
     * would repeat the same work.
     */
    public static synchronized LinkFixture shared() throws IOException, InterruptedException {
        if (shared == null) {
            shared = build(Tools.repoRoot().resolve("target/link-fixture"));
        }
        return shared;
    }

    private static LinkFixture build(Path dir) throws IOException, InterruptedException {
        Tools.run(Tools.fixtures().resolve("link"), "sh", Tools.fixtures().resolve("link/build.sh").toString(), dir.toString());
        return new LinkFixture(dir);
    }

    public Path xenSyms() {
        return dir.resolve("xen-syms");
    }

    public Path object(String name) {
        return dir.resolve(name + ".o");
    }

    /** {@code nm} of a file: name to the addresses nm prints for it (several for same-named statics). */
    public static Map<String, List<Long>> nm(Path file) throws IOException, InterruptedException {
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
    public static Map<String, List<String>> nmTypes(Path file) throws IOException, InterruptedException {
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
    public static String readelfBuildId(Path file) throws IOException, InterruptedException {
        for (String line : Tools.run(null, "readelf", "-n", file.toString()).split("\n")) {
            int i = line.indexOf("Build ID: ");
            if (i >= 0) {
                return line.substring(i + "Build ID: ".length()).trim();
            }
        }
        throw new AssertionError("readelf -n shows no build-id for " + file);
    }

    /** (file, name, address) of a local symbol, from readelf's listing: an independent view of the FILE runs. */
    public record Local(String file, String name, long address) {}

    public static List<Local> readelfLocals(Path file) throws IOException, InterruptedException {
        List<Local> out = new java.util.ArrayList<>();
        String current = null;
        for (String line : Tools.run(null, "readelf", "-W", "-s", file.toString()).split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 8 || !f[0].endsWith(":")) {
                continue;
            }
            if (f[3].equals("FILE")) {
                current = f[7];
            } else if (f[4].equals("LOCAL") && !f[3].equals("SECTION") && !f[6].equals("UND")) {
                out.add(new Local(current, f[7], Long.parseUnsignedLong(f[1], 16)));
            }
        }
        return out;
    }

    /** The one address readelf lists for local {@code name} of {@code file}. */
    public static long readelfLocal(Path image, String file, String name) throws IOException, InterruptedException {
        List<Local> l = readelfLocals(image).stream().filter(x -> x.file().equals(file) && x.name().equals(name)).toList();
        if (l.size() != 1) {
            throw new AssertionError(file + "#" + name + " occurs " + l.size() + " times in " + image);
        }
        return l.get(0).address();
    }

    /** {@code ld -r} of objects, as the upstream tool links create-diff-object outputs. */
    public static Path ldr(Path out, Path... objects) throws IOException, InterruptedException {
        List<String> cmd = new java.util.ArrayList<>(List.of("ld", "-r", "-o", out.toString()));
        for (Path o : objects) {
            cmd.add(o.toString());
        }
        Tools.run(null, cmd);
        return out;
    }

    public static boolean exists(Path p) {
        return Files.exists(p);
    }
}
