package org.livepatch.xenbuild;

import com.github.luben.zstd.ZstdInputStream;
import com.github.luben.zstd.ZstdOutputStream;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * One cached reference build ({@code refs/<key>/}) as one file that another machine can check and
 * add to its cache: the reader and the writer of the format, mirroring each other.
 *
 * <p>Why a format of our own rather than a tar of the entry: the entry is only half portable.
 * Its tree, {@code manifest}, {@code reference.properties} and {@code dependencies.idx} hold no
 * absolute path of the cache (the dependency index names files relative to the tree; the one
 * absolute path Xen writes into a file, the build directory in a comment of
 * {@code cpuid-autogen.h}, is content the manifest's digest covers, the same on every machine);
 * but {@code stat} records inodes and modification times of this file system, and a tar would
 * carry owners. So the archive holds the portable part only, with each file's SHA-256 (the
 * manifest's) checked as it is unpacked, and the importer writes {@code stat} for its own files.
 * Modification times are carried: make, when it is the fallback, must see only patched files as
 * newer than the objects, exactly as in the exporter's tree.
 *
 * <p>Layout: a text header, readable with {@code head} (the format version, the key and every
 * input it is made from, the reference hypervisor's build-id, the number of entries and bytes,
 * and the SHA-256 of the header's own text), ended by an empty line; then one zstd frame (with
 * zstd's content checksum) holding one record per entry in path order, {@code manifest} first:
 * <pre>
 * F \t mode \t mtime-ns \t size \t sha256 \t path \n  (then size bytes)
 * D \t mode \t mtime-ns \t path \n
 * L \t path \t target \n
 * END \t entries \t sha256 of every record line above \n
 * </pre>
 * Nothing may follow END. A reader trusts nothing before it is checked: the header's digest and
 * the key recomputed from its inputs, then every record against the manifest (same set of paths,
 * kinds, sizes, digests and link targets), no path outside the entry or below a symbolic link.
 */
public final class ReferenceArchive {
    /** The format this version writes and reads; any other is refused, naming both. */
    public static final int VERSION = 1;
    static final String MAGIC = "livepatch-build reference archive v";
    private static final int MAX_HEADER = 1 << 20;
    private static final int MAX_LINE = 1 << 16;
    /** Xen 4.17's is 0.5 MB; a larger one is read into memory only up to this. */
    private static final long MAX_MANIFEST = 64L << 20;
    private static final int LEVEL = 3;

    private ReferenceArchive() {}

    /**
     * What the header says, checked: the key is the one its inputs make.
     *
     * @param info what is readable without unpacking beyond the key: {@code xen-syms.build-id},
     *             {@code entries}, {@code bytes}
     */
    public record Header(int version, ReferenceKey key, Map<String, String> info) {
        public Header {
            info = java.util.Collections.unmodifiableMap(new TreeMap<>(info));
        }

        long entries() {
            return Long.parseLong(info.getOrDefault("entries", "-1"));
        }
    }

    /** What {@link #read} found: the header, how many entries and bytes of file content. */
    public record Contents(Header header, long entries, long bytes) {}

    // ------------------------------------------------------------------------------ writing

    /**
     * Writes the entry in {@code entryDir} (published, key {@code key}) to {@code out}. Every
     * file is hashed as it is written and compared with the manifest: a damaged entry gives
     * {@link CacheDamage}, never an archive.
     */
    public static void write(Path entryDir, ReferenceKey key, String xenBuildId, OutputStream out)
            throws IOException, CacheDamage {
        Path manifestFile = entryDir.resolve(ReferenceEntry.MANIFEST);
        byte[] manifest = Files.readAllBytes(manifestFile);
        Map<String, ReferenceEntry.Item> items = new TreeMap<>(ReferenceEntry.parseManifest(manifest, manifestFile, key.hex()));
        long bytes = manifest.length;
        for (ReferenceEntry.Item it : items.values()) {
            bytes += it.kind() == 'F' ? it.size() : 0;
        }
        Map<String, String> info = new TreeMap<>();
        info.put("xen-syms.build-id", xenBuildId);
        info.put("entries", Long.toString(items.size() + 1));
        info.put("bytes", Long.toString(bytes));
        out.write(headerText(key, info).getBytes(StandardCharsets.UTF_8));

        MessageDigest listing = SourceTree.sha256();
        ZstdOutputStream z = new ZstdOutputStream(new NonClosing(out), LEVEL);
        z.setChecksum(true);
        try (OutputStream body = new BufferedOutputStream(z, 1 << 16)) {
            writeFile(entryDir, ReferenceEntry.MANIFEST, new ReferenceEntry.Item('F', manifest.length,
                    ReferenceKey.sha256(manifest)), body, listing);
            for (var e : items.entrySet()) {
                String rel = e.getKey();
                ReferenceEntry.Item it = e.getValue();
                switch (it.kind()) {
                    case 'F' -> writeFile(entryDir, rel, it, body, listing);
                    case 'L' -> {
                        Path p = entryDir.resolve(rel);
                        if (!Files.isSymbolicLink(p) || !Files.readSymbolicLink(p).toString().equals(it.value())) {
                            throw new CacheDamage(p, "symbolic link changed since the reference was built");
                        }
                        if (it.value().indexOf('\t') >= 0 || it.value().indexOf('\n') >= 0) {
                            throw new IOException(p + ": a link target with a tab or newline cannot be archived");
                        }
                        line(body, listing, "L\t" + rel + "\t" + it.value());
                    }
                    default -> {
                        Path p = entryDir.resolve(rel);
                        PosixFileAttributes a = attributes(p);
                        if (!a.isDirectory()) {
                            throw new CacheDamage(p, "is not the kind of file it was when the reference was built");
                        }
                        line(body, listing, "D\t" + mode(a) + "\t" + nanos(a.lastModifiedTime()) + "\t" + rel);
                    }
                }
            }
            String end = "END\t" + (items.size() + 1) + "\t" + HexFormat.of().formatHex(listing.digest()) + "\n";
            body.write(end.getBytes(StandardCharsets.UTF_8));
        }
    }

    static String headerText(ReferenceKey key, Map<String, String> info) {
        StringBuilder sb = new StringBuilder(MAGIC).append(VERSION).append('\n');
        sb.append("key=").append(key.hex()).append('\n');
        key.inputs().forEach((k, v) -> sb.append("input.").append(k).append('=').append(escape(v)).append('\n'));
        info.forEach((k, v) -> sb.append("info.").append(k).append('=').append(escape(v)).append('\n'));
        String text = sb.toString();
        return text + "header.sha256=" + ReferenceKey.sha256(text.getBytes(StandardCharsets.UTF_8)) + "\n\n";
    }

    private static void writeFile(Path entryDir, String rel, ReferenceEntry.Item it, OutputStream body, MessageDigest listing)
            throws IOException, CacheDamage {
        Path p = entryDir.resolve(rel);
        PosixFileAttributes a = attributes(p);
        if (!a.isRegularFile() || a.size() != it.size()) {
            throw new CacheDamage(p, "size or kind changed since the reference was built");
        }
        line(body, listing, "F\t" + mode(a) + "\t" + nanos(a.lastModifiedTime()) + "\t" + it.size() + "\t" + it.value() + "\t" + rel);
        MessageDigest md = SourceTree.sha256();
        byte[] buf = new byte[1 << 16];
        long left = it.size();
        try (InputStream in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
            while (left > 0) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) {
                    throw new CacheDamage(p, "shrank while it was being archived");
                }
                md.update(buf, 0, n);
                body.write(buf, 0, n);
                left -= n;
            }
        }
        if (!HexFormat.of().formatHex(md.digest()).equals(it.value())) {
            throw new CacheDamage(p, "content differs from the SHA-256 recorded when the reference was built");
        }
    }

    private static void line(OutputStream body, MessageDigest listing, String line) throws IOException {
        byte[] b = (line + "\n").getBytes(StandardCharsets.UTF_8);
        listing.update(b);
        body.write(b);
    }

    // ------------------------------------------------------------------------------ reading

    /** The header of {@code file}, checked (see the class comment); reads nothing beyond it. */
    public static Header readHeader(Path file) throws BuildException {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            return readHeader(file, in);
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.REFERENCE_ARCHIVE, file, "cannot read: " + org.livepatch.io.IoErrors.describe(e), e);
        }
    }

    /**
     * Reads and checks all of {@code file}. With {@code dest} (which must not exist) the entry is
     * unpacked there, modes and modification times as recorded; without, only checked. Every
     * refusal is a {@link BuildException} with reason {@code REFERENCE_ARCHIVE} naming the file.
     */
    public static Contents read(Path file, Path dest) throws BuildException, IOException {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            Header h = readHeader(file, raw);
            try (InputStream body = new BufferedInputStream(new ZstdInputStream(raw), 1 << 16)) {
                return readBody(file, h, body, dest);
            } catch (EOFException e) {
                throw refused(file, "truncated (it ends before its last entry)");
            } catch (IOException e) {
                if (dest != null && isLocal(e, dest)) {
                    throw e; // our disk, not the archive
                }
                String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
                if (m.startsWith("Truncated")) { // zstd-jni's word for a frame cut short
                    throw refused(file, "truncated (it ends before its last entry)");
                }
                throw refused(file, "damaged (zstd: " + m + "): changed after it was written, or not written whole");
            }
        }
    }

    private static boolean isLocal(IOException e, Path dest) {
        return e instanceof java.nio.file.FileSystemException f && f.getFile() != null && f.getFile().startsWith(dest.toString());
    }

    private static Header readHeader(Path file, InputStream in) throws IOException, BuildException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int prev = -1;
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw refused(file, buf.size() == 0 ? "empty" : "truncated (it ends inside its header)");
            }
            if (c == '\n' && prev == '\n') {
                break;
            }
            buf.write(c);
            prev = c;
            if (buf.size() > MAX_HEADER) {
                throw refused(file, "not a livepatch-build reference archive (no header)");
            }
            if (buf.size() <= MAGIC.length() && c != MAGIC.charAt(buf.size() - 1)) {
                throw refused(file, "not a livepatch-build reference archive");
            }
        }
        String text = buf.toString(StandardCharsets.UTF_8);
        List<String> lines = List.of(text.split("\n"));
        if (!lines.get(0).startsWith(MAGIC)) {
            throw refused(file, "not a livepatch-build reference archive");
        }
        String v = lines.get(0).substring(MAGIC.length());
        if (!v.equals(Integer.toString(VERSION))) {
            throw refused(file, "archive format version " + v + "; this livepatch-build reads version " + VERSION
                    + " only (export it again with this version)");
        }
        String last = lines.get(lines.size() - 1);
        // The text up to the last line, as headerText signed it.
        String signed = text.substring(0, Math.max(0, text.lastIndexOf('\n', text.length() - 2) + 1));
        if (!last.startsWith("header.sha256=")
                || !last.substring("header.sha256=".length()).equals(ReferenceKey.sha256(signed.getBytes(StandardCharsets.UTF_8)))) {
            throw refused(file, "damaged header (its header.sha256 line does not match its text)");
        }
        String hex = null;
        Map<String, String> inputs = new LinkedHashMap<>();
        Map<String, String> info = new LinkedHashMap<>();
        for (String l : lines.subList(1, lines.size() - 1)) {
            int eq = l.indexOf('=');
            if (eq < 0) {
                throw refused(file, "damaged header (line without '=': " + l + ")");
            }
            String k = l.substring(0, eq);
            String val = unescape(l.substring(eq + 1));
            if (k.equals("key")) {
                hex = val;
            } else if (k.startsWith("input.")) {
                inputs.put(k.substring(6), val);
            } else if (k.startsWith("info.")) {
                info.put(k.substring(5), val);
            }
        }
        ReferenceKey key = ReferenceKey.fromInputs(inputs);
        if (hex == null || !hex.equals(key.hex())) {
            throw refused(file, "damaged header (key " + hex + " is not the key of its inputs, " + key.hex() + ")");
        }
        Header h = new Header(VERSION, key, info);
        try {
            if (h.entries() < 1) {
                throw refused(file, "damaged header (no entry count)");
            }
        } catch (NumberFormatException e) {
            throw refused(file, "damaged header (entry count " + info.get("entries") + ")");
        }
        return h;
    }

    private static Contents readBody(Path file, Header h, InputStream body, Path dest) throws IOException, BuildException {
        String keyHex = h.key().hex();
        MessageDigest listing = SourceTree.sha256();
        Map<String, ReferenceEntry.Item> expected = null;
        Set<String> seen = new HashSet<>();
        Set<String> links = new HashSet<>();
        List<Object[]> dirs = new ArrayList<>();
        long entries = 0;
        long bytes = 0;
        if (dest != null) {
            Files.createDirectory(dest);
        }
        while (true) {
            String line = readLine(body, file);
            String[] f = line.split("\t", -1);
            if (f[0].equals("END")) {
                if (f.length != 3 || !f[1].equals(Long.toString(entries))
                        || !f[2].equals(HexFormat.of().formatHex(listing.digest()))) {
                    throw refused(file, "damaged (its listing does not match its END record)");
                }
                break;
            }
            listing.update((line + "\n").getBytes(StandardCharsets.UTF_8));
            entries++;
            String rel;
            char kind;
            try {
                kind = f[0].length() == 1 ? f[0].charAt(0) : '?';
                rel = switch (kind) {
                    case 'F' -> f[5];
                    case 'D' -> f[3];
                    case 'L' -> f[1];
                    default -> throw refused(file, "damaged (unknown record " + abbreviate(line) + ")");
                };
            } catch (ArrayIndexOutOfBoundsException e) {
                throw refused(file, "damaged (short record " + abbreviate(line) + ")");
            }
            checkPath(file, rel, links);
            if (!seen.add(rel)) {
                throw refused(file, "damaged (" + rel + " appears twice)");
            }
            if (expected == null && !(kind == 'F' && rel.equals(ReferenceEntry.MANIFEST))) {
                throw refused(file, "damaged (its first entry is not the manifest)");
            }
            ReferenceEntry.Item it = expected == null ? null : expected.get(rel);
            if (expected != null && (it == null || it.kind() != kind)) {
                throw refused(file, "tampered: " + rel + " is not in the reference's manifest as " + kindName(kind));
            }
            Path target = dest == null ? null : dest.resolve(rel);
            switch (kind) {
                case 'F' -> {
                    int mode = parseMode(file, f[1]);
                    long mtime = parseLong(file, f[2]);
                    long size = parseLong(file, f[3]);
                    String sha = f[4];
                    if (it != null && (it.size() != size || !it.value().equals(sha))) {
                        throw refused(file, "tampered: " + rel + " is recorded with another size or SHA-256 than its manifest's");
                    }
                    if (expected == null && size > MAX_MANIFEST) {
                        throw refused(file, "damaged (manifest of " + size + " bytes)");
                    }
                    byte[] whole = expected == null ? new byte[(int) size] : null;
                    String got = copy(body, size, target, whole);
                    if (!got.equals(sha)) {
                        throw refused(file, "tampered: the content of " + rel + " does not have its recorded SHA-256");
                    }
                    bytes += size;
                    if (target != null) {
                        Files.setPosixFilePermissions(target, permissions(mode));
                        Files.setLastModifiedTime(target, FileTime.from(mtime, TimeUnit.NANOSECONDS));
                    }
                    if (expected == null) {
                        try {
                            expected = ReferenceEntry.parseManifest(whole, file, keyHex);
                        } catch (CacheDamage d) {
                            throw refused(file, "its manifest " + d.reason());
                        }
                    }
                }
                case 'D' -> {
                    int mode = parseMode(file, f[1]);
                    long mtime = parseLong(file, f[2]);
                    if (target != null) {
                        Files.createDirectories(target);
                        dirs.add(new Object[] {target, mode, mtime});
                    }
                }
                default -> {
                    String linkTarget = f.length == 3 ? f[2] : null;
                    if (linkTarget == null || !linkTarget.equals(it.value())) {
                        throw refused(file, "tampered: the symbolic link " + rel + " points elsewhere than its manifest says");
                    }
                    links.add(rel);
                    if (target != null) {
                        Files.createSymbolicLink(target, Path.of(linkTarget));
                    }
                }
            }
        }
        if (body.read() >= 0) {
            throw refused(file, "damaged (data after its END record)");
        }
        if (expected == null) {
            throw refused(file, "damaged (no manifest)");
        }
        for (String rel : expected.keySet()) {
            if (!seen.contains(rel)) {
                throw refused(file, "tampered: " + rel + " of the reference's manifest is missing");
            }
        }
        if (entries != h.entries()) {
            throw refused(file, "damaged (" + entries + " entries, its header says " + h.entries() + ")");
        }
        // Deepest first: a directory's time is final once nothing more is created in it, and a
        // mode without write permission must come after its contents.
        for (int i = dirs.size() - 1; i >= 0; i--) {
            Object[] d = dirs.get(i);
            Files.setLastModifiedTime((Path) d[0], FileTime.from((Long) d[2], TimeUnit.NANOSECONDS));
            Files.setPosixFilePermissions((Path) d[0], permissions((Integer) d[1]));
        }
        return new Contents(h, entries, bytes);
    }

    /**
     * Only the entry's own names: the metadata files and {@code tree/...}, relative, without
     * {@code .}, {@code ..} or empty components, and never below a symbolic link the archive
     * made (which could lead out of the entry).
     */
    private static void checkPath(Path file, String rel, Set<String> links) throws BuildException {
        boolean top = rel.equals(ReferenceEntry.MANIFEST) || ReferenceEntry.METADATA.contains(rel)
                || rel.equals(ReferenceEntry.TREE) || rel.startsWith(ReferenceEntry.TREE + "/");
        if (!top) {
            throw refused(file, "tampered: " + abbreviate(rel) + " is not a name a reference entry has");
        }
        String[] parts = rel.split("/", -1);
        StringBuilder prefix = new StringBuilder();
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i];
            if (p.isEmpty() || p.equals(".") || p.equals("..")) {
                throw refused(file, "tampered: " + abbreviate(rel) + " is not a plain relative path");
            }
            if (i > 0) {
                prefix.append('/');
            }
            prefix.append(p);
            if (i < parts.length - 1 && links.contains(prefix.toString())) {
                throw refused(file, "tampered: " + abbreviate(rel) + " lies below the symbolic link " + prefix);
            }
        }
    }

    /** Reads {@code size} bytes into {@code target} and/or {@code whole}; returns their SHA-256. */
    private static String copy(InputStream in, long size, Path target, byte[] whole) throws IOException {
        MessageDigest md = SourceTree.sha256();
        byte[] buf = new byte[1 << 16];
        long left = size;
        int at = 0;
        try (OutputStream out = target == null ? OutputStream.nullOutputStream()
                : Files.newOutputStream(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            while (left > 0) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) {
                    throw new EOFException();
                }
                md.update(buf, 0, n);
                out.write(buf, 0, n);
                if (whole != null) {
                    System.arraycopy(buf, 0, whole, at, n);
                    at += n;
                }
                left -= n;
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static String readLine(InputStream in, Path file) throws IOException, BuildException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(128);
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw new EOFException();
            }
            if (c == '\n') {
                return b.toString(StandardCharsets.UTF_8);
            }
            b.write(c);
            if (b.size() > MAX_LINE) {
                throw refused(file, "damaged (a record longer than " + MAX_LINE + " bytes)");
            }
        }
    }

    static BuildException refused(Path file, String why) {
        return new BuildException(BuildException.Reason.REFERENCE_ARCHIVE, file, why);
    }

    private static long parseLong(Path file, String s) throws BuildException {
        try {
            long v = Long.parseLong(s);
            if (v < 0 && !s.startsWith("-")) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw refused(file, "damaged (number " + abbreviate(s) + ")");
        }
    }

    private static int parseMode(Path file, String s) throws BuildException {
        try {
            int m = Integer.parseInt(s, 8);
            if (m < 0 || m > 0777) {
                throw new NumberFormatException();
            }
            return m;
        } catch (NumberFormatException e) {
            throw refused(file, "damaged (mode " + abbreviate(s) + ")");
        }
    }

    private static String kindName(char kind) {
        return switch (kind) {
            case 'F' -> "a file";
            case 'D' -> "a directory";
            default -> "a symbolic link";
        };
    }

    private static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "..." : s;
    }

    private static PosixFileAttributes attributes(Path p) throws IOException {
        return Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    }

    /** Permission bits only: set-id bits are not carried (nothing in a Xen tree needs them). */
    private static String mode(PosixFileAttributes a) {
        int m = 0;
        PosixFilePermission[] bits = PosixFilePermission.values(); // OWNER_READ .. OTHERS_EXECUTE
        for (int i = 0; i < 9; i++) {
            if (a.permissions().contains(bits[i])) {
                m |= 0400 >> i;
            }
        }
        return String.format("%03o", m);
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> s = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] bits = PosixFilePermission.values();
        for (int i = 0; i < 9; i++) {
            if ((mode & (0400 >> i)) != 0) {
                s.add(bits[i]);
            }
        }
        return s;
    }

    private static long nanos(FileTime t) {
        return t.to(TimeUnit.NANOSECONDS);
    }

    /** Header values are one line: backslash and newline escaped. */
    static String escape(String v) {
        return v.replace("\\", "\\\\").replace("\n", "\\n");
    }

    static String unescape(String v) {
        StringBuilder sb = new StringBuilder(v.length());
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c == '\\' && i + 1 < v.length()) {
                char n = v.charAt(++i);
                sb.append(n == 'n' ? '\n' : n);
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /** Lets the zstd stream finish its frame without closing the file the caller still owns. */
    private static final class NonClosing extends java.io.FilterOutputStream {
        NonClosing(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }
}
