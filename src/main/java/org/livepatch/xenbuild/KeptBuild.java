package org.livepatch.xenbuild;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.livepatch.io.AtomicFile;

/**
 * What produced the objects a build leaves in OUTPUT ({@code original/}, {@code patched/},
 * {@code xen-syms}), written by every run that builds and checked by {@code -k build} before it
 * uses them.
 *
 * <p>Why: {@code -k build} diffs and links whatever OUTPUT holds. Without a record, patch A built
 * with {@code -k diff} followed by patch B with {@code -k build} gave B's payload name with A's
 * code, and a reference rebuilt with another config or compiler went unnoticed. The record names
 * the patch by the SHA-256 of its content (not its path: an edited patch is another patch), the
 * reference by its cache key (SRC content, config, toolchain, build strings, make arguments), and
 * every kept file by its SHA-256; a mismatch is refused as
 * {@link BuildException.Reason#BAD_OUTPUT_DIR} (the output directory cannot be used for this request).
 *
 * <p>Format: {@code OUTPUT/build-record.txt}, a version line, then {@code patch.sha256},
 * {@code patch.file} (for the message only), {@code reference.key}, and one
 * {@code F <sha256> <path>} line per kept file, paths relative to OUTPUT.
 */
public final class KeptBuild {
    public static final String NAME = "build-record.txt";
    private static final String HEADER = "livepatch-build kept build v1";

    private KeptBuild() {}

    /** Writes the record after a build (the objects are in OUTPUT). */
    static void record(CheckedRequest req, ReferenceBuild ref, PatchedBuildResult objects) throws BuildException {
        Path out = req.outputDir();
        try {
            StringBuilder sb = new StringBuilder(HEADER).append('\n');
            sb.append("patch.sha256\t").append(req.patch().sha256()).append('\n');
            sb.append("patch.file\t").append(req.patch().file().toAbsolutePath()).append('\n');
            sb.append("reference.key\t").append(ref.key().hex()).append('\n');
            keptFiles(out).forEach((rel, sha) -> sb.append("F\t").append(sha).append('\t').append(rel).append('\n'));
            sb.append("END\n");
            AtomicFile.write(out.resolve(NAME), sb.toString().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.BAD_OUTPUT_DIR, out.resolve(NAME), "cannot write: " + e.getMessage(), e);
        }
    }

    /**
     * {@code -k build}: refuses unless OUTPUT's objects were built from this patch, against this
     * request's reference, and are unchanged since.
     */
    static void check(CheckedRequest req, ReferenceCache cache) throws BuildException {
        Path out = req.outputDir();
        Path file = out.resolve(NAME);
        Map<String, String> fields = new TreeMap<>();
        Map<String, String> recorded = new TreeMap<>();
        try {
            if (!Files.isRegularFile(file)) {
                throw refuse(file, "missing: -k build needs the output of an earlier run (e.g. -k diff) that recorded which patch and reference made its objects");
            }
            List<String> lines = List.of(new String(Files.readAllBytes(file), StandardCharsets.UTF_8).split("\n"));
            if (lines.size() < 2 || !lines.get(0).equals(HEADER) || !lines.get(lines.size() - 1).equals("END")) {
                throw refuse(file, "damaged or of another version: build again without -k build");
            }
            for (String l : lines.subList(1, lines.size() - 1)) {
                String[] f = l.split("\t", 3);
                if (f.length == 3 && f[0].equals("F")) {
                    recorded.put(f[2], f[1]);
                } else if (f.length == 2) {
                    fields.put(f[0], f[1]);
                } else {
                    throw refuse(file, "damaged (bad line " + l + "): build again without -k build");
                }
            }
            String patch = req.patch().sha256();
            if (!patch.equals(fields.get("patch.sha256"))) {
                throw refuse(out, "its objects were built from another patch (" + fields.get("patch.file") + ", sha256 "
                        + abbrev(fields.get("patch.sha256")) + "), not " + req.patch().file() + " (sha256 " + abbrev(patch)
                        + "): build this patch without -k build");
            }
            String key = cache.currentKey(req).hex();
            if (!key.equals(fields.get("reference.key"))) {
                throw refuse(out, "its objects were built against another reference (cache key " + fields.get("reference.key")
                        + ", this request's is " + key + ": SRC, config, toolchain or build strings differ): build again without -k build");
            }
            Map<String, String> now = keptFiles(out);
            for (var e : recorded.entrySet()) {
                if (!e.getValue().equals(now.get(e.getKey()))) {
                    throw refuse(out.resolve(e.getKey()), now.containsKey(e.getKey())
                            ? "changed since the build that made it: build again without -k build"
                            : "missing since the build that made it: build again without -k build");
                }
            }
            for (String rel : now.keySet()) {
                if (!recorded.containsKey(rel)) {
                    throw refuse(out.resolve(rel), "was not made by the build recorded in " + NAME + ": build again without -k build");
                }
            }
        } catch (IOException e) {
            throw refuse(file, "cannot read: " + e.getMessage());
        }
    }

    /** SHA-256 of every regular file kept for -k build: original/, patched/ and xen-syms. */
    private static Map<String, String> keptFiles(Path out) throws IOException {
        Map<String, String> m = new TreeMap<>();
        for (String d : List.of(PatchedBuild.ORIGINAL_DIR, PatchedBuild.PATCHED_DIR)) {
            Path dir = out.resolve(d);
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)).toList()) {
                    m.put(out.relativize(p).toString(), ReferenceEntry.sha256(p));
                }
            }
        }
        Path syms = out.resolve("xen-syms");
        if (Files.isRegularFile(syms, LinkOption.NOFOLLOW_LINKS)) {
            m.put("xen-syms", ReferenceEntry.sha256(syms));
        }
        return m;
    }

    private static String abbrev(String sha) {
        return sha == null ? "unknown" : sha.substring(0, Math.min(12, sha.length()));
    }

    private static BuildException refuse(Path file, String why) {
        return new BuildException(BuildException.Reason.BAD_OUTPUT_DIR, file, why);
    }
}
