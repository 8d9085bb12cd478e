package org.livepatch.xenbuild;

import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * A unified diff against the Xen tree, as {@code patch -p1} from the directory holding {@code xen/}
 * reads it: read once, parsed into {@link FilePatch}es whose hunks are java-diff-utils deltas, and
 * applied by {@link PatchApplier} with upstream's semantics (-p1, forward only, zero fuzz), first
 * in memory against SRC as the early check, then to the patched tree. The touched files come
 * from the same parse.
 *
 * @param sha256 the digest of the bytes that were parsed (what a kept build records)
 */
public record SourcePatch(Path file, List<FileChange> changes, List<FilePatch> parts, String sha256) {

    /** Suffixes of files that end up in an object: C, headers, assembly, included fragments. */
    private static final List<String> COMPILED_SUFFIXES = List.of(".c", ".h", ".S", ".s", ".inc");

    public SourcePatch {
        changes = List.copyOf(changes);
        parts = List.copyOf(parts);
    }

    /** Only the file list: for code that asks which files a patch touches, never applies it. */
    public SourcePatch(Path file, List<FileChange> changes) {
        this(file, changes, List.of(), "");
    }

    public static SourcePatch parse(Path file) throws BuildException {
        if (file == null) {
            throw new BuildException(BuildException.Reason.BAD_PATCH, null, "patch file not given (--patch)");
        }
        if (!Files.isRegularFile(file)) {
            throw new BuildException(BuildException.Reason.BAD_PATCH, file, "patch file does not exist");
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.BAD_PATCH, file, "cannot read patch: " + e.getMessage(), e);
        }
        // ISO-8859-1 maps every byte to a char: a patch in any encoding parses, lines compare as
        // bytes, and the patched files are written back byte for byte.
        List<FilePatch> parts = UnifiedDiffText.parse(new String(bytes, StandardCharsets.ISO_8859_1));
        // A hunk makes it a patch, a malformed one too (that patch does not apply, exit 20 as
        // with GNU patch); git's rename, mode and binary parts alone do not.
        if (parts.stream().allMatch(p -> p.hunks().isEmpty() && !p.problem().orElse("").startsWith("malformed"))) {
            throw new BuildException(BuildException.Reason.BAD_PATCH, file,
                    "not a unified diff: no '--- a/...' / '+++ b/...' file headers");
        }
        return new SourcePatch(file, byPath(parts), parts, sha256(bytes));
    }

    /** The file headers of a unified diff, in order, merged by path (a file may appear twice). */
    static List<FileChange> parseText(String text) {
        return byPath(UnifiedDiffText.parse(text));
    }

    private static List<FileChange> byPath(List<FilePatch> parts) {
        Map<String, FileChange> byPath = new LinkedHashMap<>();
        for (FilePatch p : parts) {
            byPath.putIfAbsent(p.change().path(), p.change());
        }
        return new ArrayList<>(byPath.values());
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every JDK has SHA-256
        }
    }

    /**
     * Applies the patch in memory to the files of {@code root} (paths below it, as -p1 names them);
     * returns what changes, or throws PATCH_DOES_NOT_APPLY naming the file and hunk.
     */
    public PatchApplier.Outcome applyTo(Path root) throws BuildException, IOException {
        Path base = root.toAbsolutePath().normalize();
        try {
            return PatchApplier.apply(this, path -> {
                Path f = base.resolve(path).normalize();
                if (!f.startsWith(base) || !Files.isRegularFile(f)) {
                    return Optional.empty();
                }
                return Optional.of(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1));
            });
        } catch (PatchApplier.Failure e) {
            throw new BuildException(BuildException.Reason.PATCH_DOES_NOT_APPLY, file,
                    "patch does not apply with zero fuzz: " + e.getMessage());
        }
    }

    /** {@link #applyTo} and {@link #write}: the patch applied to the files of {@code root}, in place. */
    public void applyInPlace(Path root) throws BuildException, IOException {
        write(applyTo(root), root);
    }

    /**
     * Writes what {@link #applyTo} computed into {@code work}. Each changed file is written beside
     * itself and renamed over the old name, so a file that is still a hard link into the cache is
     * replaced, never written through; it keeps its permission bits unless git's header gives new
     * ones.
     */
    public void write(PatchApplier.Outcome outcome, Path work) throws IOException, BuildException {
        Path root = work.toAbsolutePath().normalize();
        for (PatchApplier.Result r : outcome.results()) {
            Path f = root.resolve(r.path()).normalize();
            if (!f.startsWith(root)) {
                throw new BuildException(BuildException.Reason.PATCH_DOES_NOT_APPLY, file,
                        "patch names a file outside the tree: " + r.path());
            }
            if (r.text().isEmpty()) {
                Files.deleteIfExists(f);
                continue;
            }
            Files.createDirectories(f.getParent());
            Path tmp = f.resolveSibling("." + f.getFileName() + ".lpb-new");
            // Created as any new file (0666 less the umask, as GNU patch does); an existing file keeps its bits.
            Files.write(tmp, r.text().get().getBytes(StandardCharsets.ISO_8859_1));
            if (r.mode().isPresent()) {
                Files.setPosixFilePermissions(tmp, permissions(r.mode().get()));
            } else if (Files.exists(f)) {
                Files.setPosixFilePermissions(tmp, Files.getPosixFilePermissions(f));
            }
            Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> s = java.util.EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] bits = PosixFilePermission.values(); // OWNER_READ .. OTHERS_EXECUTE, high bit first
        for (int i = 0; i < 9; i++) {
            if ((mode & (0400 >> i)) != 0) {
                s.add(bits[i]);
            }
        }
        return s;
    }

    /** Every path the patch reads or writes, sorted. */
    public Set<String> touchedFiles() {
        Set<String> s = new TreeSet<>();
        for (FileChange c : changes) {
            if (c.oldPath() != null) {
                s.add(c.oldPath());
            }
            if (c.newPath() != null) {
                s.add(c.newPath());
            }
        }
        return s;
    }

    /** Touched paths below {@code xen/}, relative to {@code xen/} (how Xen's dependency files name them). */
    public Set<String> touchedHypervisorFiles() {
        Set<String> s = new TreeSet<>();
        for (String p : touchedFiles()) {
            if (p.startsWith("xen/")) {
                s.add(p.substring(4));
            }
        }
        return s;
    }

    /** New C or assembly files, relative to {@code xen/}: their objects do not exist in the reference. */
    public Set<String> addedHypervisorSources() {
        Set<String> s = new TreeSet<>();
        for (FileChange c : changes) {
            if (c.isAdded() && c.newPath().startsWith("xen/")
                    && (c.newPath().endsWith(".c") || c.newPath().endsWith(".S"))) {
                s.add(c.newPath().substring(4));
            }
        }
        return s;
    }

    /**
     * The checks that need no build: the patch must touch the hypervisor, and at least one
     * touched file must be something a compiler reads. A patch to README or to tools/ could only
     * ever produce an empty payload, so it is refused before anything is built.
     */
    public void requireHypervisorSource() throws BuildException {
        if (touchedFiles().stream().noneMatch(SourcePatch::isCompiledSuffix)) {
            throw new BuildException(BuildException.Reason.PATCH_NO_COMPILED_FILE, file,
                    "patch changes no compiled file (only " + String.join(", ", touchedFiles()) + ")");
        }
        if (touchedHypervisorFiles().stream().noneMatch(SourcePatch::isCompiledSuffix)) {
            throw new BuildException(BuildException.Reason.PATCH_OUTSIDE_HYPERVISOR, file,
                    "patch only changes sources outside xen/ (" + String.join(", ", touchedFiles())
                            + "): nothing in the hypervisor to live-patch");
        }
    }

    static boolean isCompiledSuffix(String path) {
        return COMPILED_SUFFIXES.stream().anyMatch(path::endsWith);
    }
}
