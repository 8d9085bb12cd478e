package org.livepatch.xenbuild;

import org.livepatch.stage.Progress;
import org.livepatch.stage.StageEvent;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.livepatch.testsupport.Tools;

/** Shared set-up for the build-stage tests: minixen copies, patches, tree checksums. */
public final class BuildFixtures {
    private BuildFixtures() {}

    public static final String ZERO_ID = "0123456789abcdef0123456789abcdef01234567";

    public static Path minixen() {
        return Tools.fixtures().resolve("minixen");
    }

    public static Path patch(String name) {
        return Tools.fixtures().resolve("patches").resolve(name);
    }

    /** A private copy of minixen to act as SRC (tests never build inside the repository). */
    public static Path copyMinixen(Path dir) throws IOException, InterruptedException {
        Path src = dir.resolve("src");
        Tools.run(null, "cp", "-a", minixen().toString(), src.toString());
        return src;
    }

    public static BuildRequest.Builder request(Path src, Path patch, Path tmp) {
        return BuildRequest.builder()
                .srcDir(src)
                .patch(patch)
                .config(src.resolve("xen/.config"))
                .outputDir(tmp.resolve("out"))
                .jobs(2)
                .depends(ZERO_ID)
                .cacheDir(tmp.resolve("cache"));
    }

    /**
     * Every entry under {@code root}: path -> kind, size, modification time and SHA-256 of the
     * content (symlinks by target). Equal maps mean the tree was not touched at all.
     */
    public static Map<String, String> checksums(Path root) throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.toList()) {
                BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                String rel = root.relativize(p).toString();
                if (a.isSymbolicLink()) {
                    m.put(rel, "L " + Files.readSymbolicLink(p));
                } else if (a.isDirectory()) {
                    m.put(rel, "D " + a.lastModifiedTime());
                } else {
                    m.put(rel, "F " + a.size() + " " + a.lastModifiedTime() + " " + sha256(p));
                }
            }
        }
        return m;
    }

    static String sha256(Path p) throws IOException {
        MessageDigest md = SourceTree.sha256();
        try (InputStream in = Files.newInputStream(p)) {
            byte[] b = new byte[1 << 16];
            int n;
            while ((n = in.read(b)) > 0) {
                md.update(b, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** One file edit for {@link #makePatch}: path relative to the tree root and how to change it. */
    public record Edit(String path, UnaryOperator<String> change) {}

    /**
     * Writes a real unified diff (made by {@code diff -u}) that applies the edits to {@code src},
     * so tests do not hand-count hunk lines.
     */
    public static Path makePatch(Path src, Path patchFile, Edit... edits) throws IOException, InterruptedException {
        StringBuilder all = new StringBuilder("Test patch.\n\n");
        Path work = Files.createTempDirectory(patchFile.getParent(), "mkpatch");
        for (Edit e : edits) {
            Path before = src.resolve(e.path());
            String old = Files.exists(before) ? Files.readString(before, StandardCharsets.ISO_8859_1) : "";
            String neu = e.change().apply(old);
            assertEquals(false, old.equals(neu), "edit of " + e.path() + " changes nothing");
            Path a = work.resolve("a");
            Path b = work.resolve("b");
            Files.writeString(a, old, StandardCharsets.ISO_8859_1);
            Files.writeString(b, neu, StandardCharsets.ISO_8859_1);
            List<String> cmd = new ArrayList<>(List.of("diff", "-u",
                    "--label", Files.exists(before) ? "a/" + e.path() : "/dev/null", "--label", "b/" + e.path(),
                    a.toString(), b.toString()));
            Tools.Result r = Tools.runAllowingFailure(null, cmd.toArray(String[]::new));
            assertEquals(1, r.exitCode(), r.output());
            all.append(r.output());
        }
        Files.writeString(patchFile, all.toString(), StandardCharsets.ISO_8859_1);
        return patchFile;
    }

    /**
     * A copy of {@code elf} whose {@code .comment} section says {@code GCC: <compiler>} instead
     * (the bytes overwritten in place, the rest NUL), as if another gcc had built it: same size,
     * same build-id, same everything else.
     */
    public static Path withGccComment(Path elf, Path copy, String compiler) throws IOException {
        byte[] bytes = Files.readAllBytes(elf);
        org.livepatch.elf.Section comment = org.livepatch.elf.ElfReader.read(elf).section(".comment")
                .orElseThrow(() -> new AssertionError(elf + " has no .comment"));
        byte[] text = ("GCC: " + compiler).getBytes(StandardCharsets.ISO_8859_1);
        assertEquals(true, text.length < comment.size(), "the new .comment fits");
        java.util.Arrays.fill(bytes, (int) comment.offset(), (int) (comment.offset() + comment.size()), (byte) 0);
        System.arraycopy(text, 0, bytes, (int) comment.offset(), text.length);
        Files.write(copy, bytes);
        return copy;
    }

    /** Collects progress events, for asserting which stages ran. */
    static final class Recorder implements Progress {
        final List<StageEvent> events = new ArrayList<>();

        @Override
        public synchronized void report(StageEvent e) {
            events.add(e);
        }

        synchronized List<String> finished() {
            return events.stream().filter(e -> e.phase() == StageEvent.Phase.FINISHED)
                    .map(e -> e.stage() + (e.detail() == null ? "" : ": " + e.detail())).toList();
        }
    }
}
