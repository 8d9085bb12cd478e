package org.livepatch.xenbuild;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.util.Collection;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.livepatch.io.AtomicFile;

/**
 * What a cached reference build held when it was made, and the check that it still does.
 *
 * <p>Why: a payload is the difference between the cached objects and the patched ones, linked
 * against the cached {@code xen-syms}; an edited source, a flipped byte in an object, a changed
 * {@code .config} or a lost line of {@code dependencies.idx} in the cache would silently give
 * another payload. So the entry is sealed when it is built: {@code manifest} lists every file of
 * {@code tree/} and the entry's metadata ({@code dependencies.idx}, {@code reference.properties})
 * with size and SHA-256, and ends with the SHA-256 of its own text (a damaged manifest is
 * recognised as such). It is written inside the temporary directory, before the rename that
 * publishes the entry, so no entry is ever visible without one.
 *
 * <p>Checking must stay cheap (the warm path on Xen's 4,700-entry tree is about a second), so it
 * has two tiers:
 * <ol>
 *   <li>{@link #open} on every use: the manifest parses and names this key; the metadata files
 *       are hashed (they are read whole anyway); every entry of {@code tree/} is lstat'ed and the
 *       set of paths must be exactly the manifest's (an added header could shadow an include).
 *       A file whose size, modification time and file key (device, inode) equal those recorded
 *       in {@code stat} when it was last hashed is taken as unchanged; any other is hashed and
 *       compared, and the record refreshed when it matches (a cache restored by {@code cp -a} or
 *       a CI cache archive costs one full hash, once). Editors, {@code sed -i}, {@code cp} and
 *       appends all change one of the three.</li>
 *   <li>{@link #verify} on exactly the files a payload is made from, hashed whatever their
 *       metadata says (an in-place write that restores the modification time, or bit rot): the
 *       caller names them (the patched files, the rebuilt objects with their recorded commands
 *       and dependencies, {@code .config}, {@code xen-syms}); a run that falls back to make,
 *       which may read any file, verifies all of them ({@link #verifyAll}).</li>
 * </ol>
 * This protects against accidents and careless hands, not against someone who can write the
 * cache and recompute the manifest: such a person can equally replace the tools.
 */
public final class ReferenceEntry {
    public static final String MANIFEST = "manifest";
    static final String STAT = "stat";
    static final String TREE = "tree";
    static final String STAMP = "reference.properties";
    /** Metadata next to the tree: hashed on every use (small, and read whole by every run). */
    static final List<String> METADATA = List.of(STAMP, DependencyIndexFile.NAME);

    private static final String HEADER = "livepatch-build reference manifest v1";
    private static final String STAT_HEADER = "livepatch-build reference stat v1";

    /** One manifest line: a regular file (size and SHA-256), a symbolic link (its target) or a directory. */
    record Item(char kind, long size, String value) {}

    private final Path dir;
    private final Map<String, Item> items;

    private ReferenceEntry(Path dir, Map<String, Item> items) {
        this.dir = dir;
        this.items = Map.copyOf(items);
    }

    public Path dir() {
        return dir;
    }

    /**
     * Writes {@code manifest} and {@code stat} for the complete entry in {@code dir} (its tree
     * built, its metadata written). Called before the entry is published.
     */
    static void seal(Path dir, String keyHex) throws IOException {
        Map<String, Item> items = new TreeMap<>();
        Map<String, String> stats = new TreeMap<>();
        for (String m : METADATA) {
            items.put(m, new Item('F', Files.size(dir.resolve(m)), sha256(dir.resolve(m))));
        }
        for (var e : walk(dir).entrySet()) {
            String rel = e.getKey();
            if (rel.indexOf('\t') >= 0 || rel.indexOf('\n') >= 0) {
                throw new IOException(dir.resolve(rel) + ": file names with tabs or newlines cannot be recorded in the cache");
            }
            BasicFileAttributes a = e.getValue();
            if (a.isDirectory()) {
                items.put(rel, new Item('D', 0, ""));
            } else if (a.isSymbolicLink()) {
                items.put(rel, new Item('L', 0, Files.readSymbolicLink(dir.resolve(rel)).toString()));
            } else if (a.isRegularFile()) {
                items.put(rel, new Item('F', a.size(), sha256(dir.resolve(rel))));
                stats.put(rel, stat(a));
            }
        }
        writeStat(dir, stats);
        StringBuilder sb = new StringBuilder(HEADER).append('\n').append("key\t").append(keyHex).append('\n');
        items.forEach((rel, it) -> {
            switch (it.kind()) {
                case 'F' -> sb.append("F\t").append(it.size()).append('\t').append(it.value()).append('\t').append(rel);
                case 'L' -> sb.append("L\t").append(rel).append('\t').append(it.value());
                default -> sb.append("D\t").append(rel);
            }
            sb.append('\n');
        });
        String body = sb.toString();
        sb.append("sha256\t").append(sha256(body.getBytes(StandardCharsets.UTF_8))).append('\n');
        AtomicFile.write(dir.resolve(MANIFEST), sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** Tier 1 (see the class comment): the entry as recorded, or why not. */
    static ReferenceEntry open(Path dir, String keyHex) throws CacheDamage, IOException {
        // The walk is system calls, the rest mostly hashing (slow while the JIT warms up): overlap them.
        CompletableFuture<Map<String, BasicFileAttributes>> walking = CompletableFuture.supplyAsync(() -> {
            try {
                return walk(dir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        Map<String, Item> items = readManifest(dir, keyHex);
        for (String m : METADATA) {
            checkContent(dir, m, items.get(m));
        }
        Map<String, String> stats = readStat(dir);
        Map<String, BasicFileAttributes> found;
        try {
            found = walking.join();
        } catch (CompletionException e) {
            Throwable c = e.getCause() instanceof UncheckedIOException u ? u.getCause() : e.getCause();
            if (c instanceof NoSuchFileException) {
                throw new CacheDamage(dir.resolve(TREE), "missing");
            }
            throw c instanceof IOException io ? io : new IOException(c);
        }
        boolean refreshed = false;
        for (var e : found.entrySet()) {
            String rel = e.getKey();
            BasicFileAttributes a = e.getValue();
            Item it = items.get(rel);
            if (it == null) {
                throw new CacheDamage(dir.resolve(rel), "not in the cache entry's manifest (added after it was built)");
            }
            char kind = a.isDirectory() ? 'D' : a.isSymbolicLink() ? 'L' : a.isRegularFile() ? 'F' : '?';
            if (kind != it.kind()) {
                throw new CacheDamage(dir.resolve(rel), "is not the kind of file it was when the reference was built");
            }
            if (kind == 'L' && !Files.readSymbolicLink(dir.resolve(rel)).toString().equals(it.value())) {
                throw new CacheDamage(dir.resolve(rel), "symbolic link changed since the reference was built");
            }
            if (kind == 'F') {
                if (a.size() != it.size()) {
                    throw new CacheDamage(dir.resolve(rel), "size changed since the reference was built (" + it.size() + " -> " + a.size() + " bytes)");
                }
                String st = stat(a);
                if (!st.equals(stats.get(rel))) {
                    checkContent(dir, rel, it);
                    stats.put(rel, st);
                    refreshed = true;
                }
            }
        }
        for (String rel : items.keySet()) {
            if (!METADATA.contains(rel) && !found.containsKey(rel)) {
                throw new CacheDamage(dir.resolve(rel), "missing (it was part of the reference build)");
            }
        }
        if (refreshed) {
            try {
                writeStat(dir, stats);
            } catch (IOException e) {
                // a read-only cache: the shortcut is lost, nothing else
            }
        }
        return new ReferenceEntry(dir, items);
    }

    /**
     * Tier 2: hashes these files (relative to the tree root, as the dependency index names them)
     * and compares them with the manifest. Paths the reference does not have (a file the patch
     * adds, a generated header since removed) are skipped: tier 1 already refused any extra file.
     */
    public void verify(Collection<String> treePaths) throws CacheDamage, IOException {
        for (String p : treePaths) {
            String rel = TREE + "/" + p;
            Item it = items.get(rel);
            if (it != null && it.kind() == 'F') {
                checkContent(dir, rel, it);
            }
        }
    }

    /** Tier 2 for a run that may read anything (make): every file of the tree. Returns how many. */
    public int verifyAll() throws CacheDamage, IOException {
        int n = 0;
        for (var e : items.entrySet()) {
            if (e.getValue().kind() == 'F' && !METADATA.contains(e.getKey())) {
                checkContent(dir, e.getKey(), e.getValue());
                n++;
            }
        }
        return n;
    }

    private static void checkContent(Path dir, String rel, Item it) throws CacheDamage, IOException {
        Path f = dir.resolve(rel);
        if (it == null || it.kind() != 'F') {
            throw new CacheDamage(f, "not in the cache entry's manifest");
        }
        if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
            throw new CacheDamage(f, "missing (it was part of the reference build)");
        }
        if (!sha256(f).equals(it.value())) {
            throw new CacheDamage(f, "content differs from the SHA-256 recorded when the reference was built");
        }
    }

    private static Map<String, Item> readManifest(Path dir, String keyHex) throws CacheDamage, IOException {
        Path file = dir.resolve(MANIFEST);
        if (!Files.isRegularFile(file)) {
            throw new CacheDamage(file, "missing (the entry is incomplete, or was made by a livepatch-build that recorded no digests)");
        }
        return parseManifest(Files.readAllBytes(file), file, keyHex);
    }

    /**
     * A manifest's items by path relative to the entry, checked as {@link #open} checks them (its
     * checksum line, its key); {@code file} only names it in messages. An archive's manifest is
     * read with it before anything of the archive is trusted ({@link ReferenceArchive}).
     */
    static Map<String, Item> parseManifest(byte[] bytes, Path file, String keyHex) throws CacheDamage {
        String text = new String(bytes, StandardCharsets.UTF_8);
        int tail = text.lastIndexOf("sha256\t");
        if (!text.startsWith(HEADER + "\n") || tail < 0 || !text.endsWith("\n")
                || !text.substring(tail + 7, text.length() - 1).equals(sha256(text.substring(0, tail).getBytes(StandardCharsets.UTF_8)))) {
            throw new CacheDamage(file, "damaged (its checksum line does not match its text)");
        }
        Map<String, Item> items = new HashMap<>();
        List<String> lines = List.of(text.substring(0, tail).split("\n"));
        if (lines.size() < 2 || !lines.get(1).equals("key\t" + keyHex)) {
            throw new CacheDamage(file, "belongs to another cache key");
        }
        for (String l : lines.subList(2, lines.size())) {
            String[] f = l.split("\t", -1);
            try {
                switch (f[0]) {
                    case "F" -> items.put(f[3], new Item('F', Long.parseLong(f[1]), f[2]));
                    case "L" -> items.put(f[1], new Item('L', 0, f[2]));
                    case "D" -> items.put(f[1], new Item('D', 0, ""));
                    default -> throw new CacheDamage(file, "damaged (unknown line " + l + ")");
                }
            } catch (RuntimeException e) {
                throw new CacheDamage(file, "damaged (bad line " + l + ")");
            }
        }
        return items;
    }

    /**
     * Records every regular file of the entry in {@code dir} as verified now ({@code stat}):
     * for an entry whose files were all just written and hashed against its manifest (an
     * imported archive), so that {@link #open} does not hash them again. Size, modification time
     * and inode are this machine's, which is why {@code stat} is never carried between caches.
     */
    static void recordVerified(Path dir) throws IOException {
        Map<String, String> stats = new TreeMap<>();
        for (var e : walk(dir).entrySet()) {
            if (e.getValue().isRegularFile()) {
                stats.put(e.getKey(), stat(e.getValue()));
            }
        }
        writeStat(dir, stats);
    }

    /** The last verified metadata per file; empty when missing or unreadable (everything is then hashed). */
    private static Map<String, String> readStat(Path dir) {
        Map<String, String> m = new HashMap<>();
        try {
            List<String> lines = List.of(new String(Files.readAllBytes(dir.resolve(STAT)), StandardCharsets.UTF_8).split("\n"));
            if (lines.isEmpty() || !lines.get(0).equals(STAT_HEADER)) {
                return m;
            }
            for (String l : lines.subList(1, lines.size())) {
                int tab = l.indexOf('\t');
                if (tab > 0) {
                    m.put(l.substring(0, tab), l.substring(tab + 1));
                }
            }
        } catch (IOException e) {
            m.clear();
        }
        return m;
    }

    private static void writeStat(Path dir, Map<String, String> stats) throws IOException {
        StringBuilder sb = new StringBuilder(STAT_HEADER).append('\n');
        new TreeMap<>(stats).forEach((rel, st) -> sb.append(rel).append('\t').append(st).append('\n'));
        AtomicFile.write(dir.resolve(STAT), sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** Size, modification time and file key (device and inode): what tier 1 compares. */
    private static String stat(BasicFileAttributes a) {
        return a.size() + "\t" + a.lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS) + "\t" + a.fileKey();
    }

    /** Every entry below {@code dir/tree} (not following links), by path relative to {@code dir}. */
    private static Map<String, BasicFileAttributes> walk(Path dir) throws IOException {
        Path tree = dir.resolve(TREE);
        Map<String, BasicFileAttributes> out = new LinkedHashMap<>();
        if (!Files.isDirectory(tree, LinkOption.NOFOLLOW_LINKS)) {
            throw new NoSuchFileException(tree.toString());
        }
        Files.walkFileTree(tree, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a) {
                out.put(dir.relativize(d).toString(), a);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes a) {
                out.put(dir.relativize(f).toString(), a);
                return FileVisitResult.CONTINUE;
            }
        });
        return out;
    }

    static String sha256(Path f) throws IOException {
        MessageDigest md = SourceTree.sha256();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(f, LinkOption.NOFOLLOW_LINKS)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static String sha256(byte[] b) {
        return HexFormat.of().formatHex(SourceTree.sha256().digest(b));
    }
}
