package org.livepatch.xenbuild;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;
import org.livepatch.io.AtomicFile;

/**
 * Remembers SRC's content digest ({@link SourceTree#digest}) under a fingerprint of its metadata,
 * so a warm run stats the tree (tens of milliseconds) instead of reading all of it (about 36 MB
 * for Xen 4.17, seconds on a loaded machine) to find its cache key.
 *
 * <p>The fingerprint covers, for every entry the digest covers, its path, kind, size, modification
 * time, change time and inode number. Any write to a file changes its change time (ctime), which
 * no user call can set back, so content cannot change under an unchanged fingerprint; this is the
 * check git's index relies on too. A mismatch or a missing record just means a full digest, which
 * is then recorded. Records live in {@code <cache>/sources/}, one per SRC path.
 */
public final class SourceDigestCache {
    private final Path dir;
    private final Consumer<String> notice;

    /** What {@link #lookup} found: the digest, and whether it came from a record rather than from reading SRC. */
    public record Digest(String digest, boolean recorded) {}

    /** Where the records live: {@code sources/} under the cache root. */
    static Path directory(Workspace workspace) {
        return workspace.root().resolve("sources");
    }

    public SourceDigestCache(Workspace workspace) {
        this(workspace, m -> { });
    }

    /** @param notice receives one line when a damaged record is dropped */
    public SourceDigestCache(Workspace workspace, Consumer<String> notice) {
        this.dir = directory(workspace);
        this.notice = notice;
    }

    /** SRC's digest, from the record when its fingerprint still matches. */
    public String digest(SourceTree src) throws IOException {
        return lookup(src).digest();
    }

    /**
     * SRC's digest, from the record when its fingerprint still matches and the record is intact.
     * Each record carries {@code check=}, the SHA-256 of its path, fingerprint and digest: a
     * damaged or hand-edited record (a wrong digest would give a wrong cache key, and so either a
     * reference build that can never match SRC or another tree's reference) is dropped, said in
     * one line, and SRC read again. Records written before the check line existed are silently
     * replaced.
     */
    public Digest lookup(SourceTree src) throws IOException {
        String fp = fingerprint(src.root());
        Path record = record(src);
        String path = src.root().toAbsolutePath().toString();
        if (Files.isRegularFile(record)) {
            Properties p = new Properties();
            String damage = null;
            try (var in = Files.newBufferedReader(record, StandardCharsets.UTF_8)) {
                p.load(in);
            } catch (IOException | IllegalArgumentException e) {
                damage = "unreadable";
                p.clear();
            }
            String digest = p.getProperty("digest");
            String check = p.getProperty("check");
            if (damage == null && check != null && !check.equals(check(path, p.getProperty("fingerprint"), digest))) {
                damage = "its check line does not match its digest";
            }
            if (damage != null) {
                notice.accept("cache: " + record + " is damaged (" + damage + "): dropped, reading SRC again");
                Files.deleteIfExists(record);
            } else if (check != null && fp.equals(p.getProperty("fingerprint")) && digest != null
                    && path.equals(p.getProperty("path"))) {
                return new Digest(digest, true);
            }
        }
        String digest = src.digest();
        // Record only if nothing changed while we read: otherwise the digest may mix two states.
        if (fp.equals(fingerprint(src.root()))) {
            Files.createDirectories(dir);
            String text = "# livepatch-build: content digest of a source tree, valid while its metadata is unchanged\n"
                    + "path=" + escape(path) + "\n"
                    + "fingerprint=" + fp + "\ndigest=" + digest + "\ncheck=" + check(path, fp, digest) + "\n";
            AtomicFile.write(record, text.getBytes(StandardCharsets.UTF_8));
        }
        return new Digest(digest, false);
    }

    /** Removes SRC's record (its digest proved wrong: the copy of SRC hashed differently). */
    public void forget(SourceTree src) throws IOException {
        Files.deleteIfExists(record(src));
    }

    /** Where SRC's record lives (for messages). */
    public Path record(SourceTree src) {
        return dir.resolve(sha256(src.root().toAbsolutePath().toString()) + ".properties");
    }

    /** SHA-256 of {@code path NUL fingerprint NUL digest}: what a record's {@code check=} holds. */
    static String check(String path, String fingerprint, String digest) {
        return sha256(path + "\0" + fingerprint + "\0" + digest);
    }

    /** A value as java.util.Properties reads it back (backslashes and leading blanks). */
    private static String escape(String v) {
        String e = v.replace("\\", "\\\\");
        return e.startsWith(" ") ? "\\" + e : e;
    }

    /** SHA-256 over the metadata of every entry {@link SourceTree#digest} reads, in sorted order. */
    static String fingerprint(Path root) throws IOException {
        MessageDigest md = SourceTree.sha256();
        walk(root, "", md);
        return HexFormat.of().formatHex(md.digest());
    }

    private static void walk(Path dir, String relDir, MessageDigest md) throws IOException {
        List<Path> entries;
        try (var s = Files.list(dir)) {
            entries = s.sorted().toList();
        }
        for (Path p : entries) {
            String name = p.getFileName().toString();
            String rel = relDir.isEmpty() ? name : relDir + "/" + name;
            Map<String, Object> a = Files.readAttributes(p, "unix:ino,ctime,lastModifiedTime,size,mode,isDirectory",
                    LinkOption.NOFOLLOW_LINKS);
            boolean isDir = (Boolean) a.get("isDirectory");
            if (isDir ? SourceTree.SKIP_DIRS.contains(name) || SourceTree.isBuildOutput(rel, true)
                    : SourceTree.isBuildOutput(rel, false)) {
                continue;
            }
            // A directory by name only: its times change with every build output written in it,
            // and what it holds is covered entry by entry.
            String line = isDir ? rel + "\0D\0" : rel + "\0" + a.get("mode") + " " + a.get("size") + " " + a.get("ino") + " "
                    + toNanos(a.get("lastModifiedTime")) + " " + toNanos(a.get("ctime")) + "\0";
            md.update(line.getBytes(StandardCharsets.UTF_8));
            if (isDir) {
                walk(p, rel, md);
            }
        }
    }

    private static String toNanos(Object fileTime) {
        return fileTime instanceof java.nio.file.attribute.FileTime t
                ? Long.toString(t.to(java.util.concurrent.TimeUnit.NANOSECONDS)) : String.valueOf(fileTime);
    }

    private static String sha256(String s) {
        return HexFormat.of().formatHex(SourceTree.sha256().digest(s.getBytes(StandardCharsets.UTF_8)));
    }
}
