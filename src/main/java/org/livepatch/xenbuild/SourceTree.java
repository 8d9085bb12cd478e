package org.livepatch.xenbuild;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * The user's source tree (SRC) seen as sources only: without version-control data and without
 * what a build leaves behind, so a tree that was built in place hashes and copies like a pristine
 * one (its stale objects would otherwise look up to date to make).
 *
 * <p>SRC is only ever read. Everything here walks it without following symlinks out of it.
 */
public final class SourceTree {
    private final Path root;

    /** Directory names never copied: version control. */
    static final Set<String> SKIP_DIRS = Set.of(".git", ".hg", ".svn");

    /**
     * Build products of Xen's hypervisor build, by path relative to SRC (xen/Makefile: _clean and
     * _distclean list them). Generated files not listed here make a tree look "built"; the
     * reference build then runs {@code make clean} in its copy first (see {@link #looksBuilt}).
     */
    private static final Set<String> SKIP_PATHS = Set.of(
            "xen/xen", "xen/xen-syms", "xen/xen-syms.map", "xen/xen.gz", "xen/xen.efi", "xen/xen.efi.map",
            "xen/xen.efi.stripped", "xen/System.map", "xen/.config", "xen/.config.old", "xen/.banner",
            "xen/include/xen/compile.h", "xen/include/generated", "xen/include/config", "xen/asm-offsets.s",
            "xen/source", "xen/.cflags");

    public SourceTree(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    /** Whether {@code rel} (a path relative to SRC, '/'-separated) is a build product, not a source. */
    static boolean isBuildOutput(String rel, boolean directory) {
        if (SKIP_PATHS.contains(rel)) {
            return true;
        }
        if (directory) {
            return false;
        }
        String name = rel.substring(rel.lastIndexOf('/') + 1);
        // Objects and archives; fixdep's .<obj>.cmd and gcc's .<obj>.d dependency files and the
        // .<obj>.tmp files of Xen's two-step compile (xen/Rules.mk, the ENFORCE_UNIQUE_SYMBOLS path).
        return name.endsWith(".o") || name.endsWith(".a")
                || (name.startsWith(".") && (name.endsWith(".cmd") || name.endsWith(".d") || name.endsWith(".tmp")));
    }

    /** A tree holding build products: its copy gets {@code make clean} before the reference build. */
    public boolean looksBuilt() throws IOException {
        // Not xen/.config: a tree may ship one as a source (our minixen fixture does).
        return Files.exists(root.resolve("xen/xen-syms"), LinkOption.NOFOLLOW_LINKS)
                || Files.exists(root.resolve("xen/include/generated"), LinkOption.NOFOLLOW_LINKS);
    }

    /** SHA-256 over every source file's path, kind, mode and content, in sorted order. */
    public String digest() throws IOException {
        return walk(null);
    }

    /**
     * Copies the sources to {@code dest} (which must not exist), keeping modification times, and
     * returns the digest of what was copied. The caller compares it with {@link #digest()} taken
     * before: a difference means SRC changed under us and the copy must not be cached.
     */
    public String copyTo(Path dest) throws IOException {
        Files.createDirectories(dest);
        return walk(dest);
    }

    private String walk(Path dest) throws IOException {
        MessageDigest md = sha256();
        // Files.walkFileTree visits in directory order; sort per directory for a stable digest.
        walkSorted(root, "", dest, md);
        return HexFormat.of().formatHex(md.digest());
    }

    private void walkSorted(Path dir, String relDir, Path dest, MessageDigest md) throws IOException {
        List<Path> entries;
        try (var s = Files.list(dir)) {
            entries = s.sorted().toList();
        }
        for (Path p : entries) {
            String name = p.getFileName().toString();
            String rel = relDir.isEmpty() ? name : relDir + "/" + name;
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (a.isDirectory()) {
                if (SKIP_DIRS.contains(name) || isBuildOutput(rel, true)) {
                    continue;
                }
                update(md, "D " + rel);
                Path target = dest == null ? null : dest.resolve(rel);
                if (target != null) {
                    Files.createDirectories(target);
                }
                walkSorted(p, rel, dest, md);
                if (target != null) {
                    Files.setLastModifiedTime(target, a.lastModifiedTime());
                }
            } else if (isBuildOutput(rel, false)) {
                continue;
            } else if (a.isSymbolicLink()) {
                Path link = Files.readSymbolicLink(p);
                update(md, "L " + rel + " -> " + link);
                if (dest != null) {
                    Files.createSymbolicLink(dest.resolve(rel), link);
                }
            } else if (a.isRegularFile()) {
                boolean exec = Files.isExecutable(p);
                update(md, "F " + rel + (exec ? " x " : " - ") + a.size());
                if (dest != null) {
                    Path target = dest.resolve(rel);
                    Files.copy(p, target, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
                    hashFile(target, md); // hash the copy: what we build is what the key names
                } else {
                    hashFile(p, md);
                }
            }
            // sockets, fifos, devices: not sources; skipped
        }
    }

    private static void hashFile(Path p, MessageDigest md) throws IOException {
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(p)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        }
    }

    private static void update(MessageDigest md, String s) {
        md.update(s.getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK always has SHA-256", e);
        }
    }
}
