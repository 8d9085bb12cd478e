package org.livepatch.xenbuild;

import org.livepatch.io.FileTrees;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import org.livepatch.io.IoErrors;
import org.livepatch.stage.StageClock;

/**
 * A reference build carried from one cache to another: {@code --export-reference} writes the
 * cached entry of a request (building it first when the cache does not hold it) as a
 * {@link ReferenceArchive}; {@code --import-reference} checks an archive and publishes its entry
 * in this cache, where the next request with the same key reuses it as if it had been built here.
 *
 * <p>The import follows the cache's own rules ({@link ReferenceCache}): it works under the key's
 * lock, unpacks into {@code refs/.tmp-<key>-<pid>} (what a killed import leaves is removed by the
 * next builder or importer of the key, as a killed build's is) and publishes with one rename, so
 * no run ever sees half an entry. What the cache's tier-1 check compares ({@code stat}: sizes,
 * modification times, inodes) is recorded for the files as unpacked here, after each was hashed
 * against the manifest, so the first use does not hash the tree again.
 */
public final class ReferenceTransfer {
    public static final String STAGE_EXPORT = "export-reference";
    public static final String STAGE_IMPORT = "import-reference";

    private ReferenceTransfer() {}

    /** What an export wrote. */
    public record Exported(ReferenceKey key, Path file, long bytes, boolean built, Duration time) {}

    /** What an import did: published the entry, or found it already in the cache (the archive still checked). */
    public record Imported(ReferenceKey key, Path entry, long entries, long bytes, boolean alreadyCached, Duration time) {}

    /**
     * Writes the reference of {@code req} to {@code file}, which must not exist: written beside
     * it and renamed, so a killed export leaves no partial archive under that name.
     */
    public static Exported export(CheckedRequest req, ReferenceCache cache, Path file, StageClock clock)
            throws BuildException, InterruptedException {
        Path target = file.toAbsolutePath().normalize();
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new BuildException(BuildException.Reason.BAD_OUTPUT_DIR, file,
                    "exists (an archive is never overwritten: remove it or choose another name)");
        }
        if (RequestChecks.isInside(target, req.srcDir())) {
            // It would change SRC, and with it the key of the reference it holds.
            throw new BuildException(BuildException.Reason.BAD_OUTPUT_DIR, file, "is inside the source tree, which is never written");
        }
        ReferenceBuild ref = cache.obtain(req, clock, req.logDir());
        for (int attempt = 0;; attempt++) {
            clock.start(STAGE_EXPORT, 0, target.toString());
            long t0 = System.nanoTime();
            Path partial = target.resolveSibling("." + target.getFileName() + ".partial-" + ProcessHandle.current().pid());
            try (Workspace.KeyLock lock = req.workspace().lock(ref.key().hex())) {
                Files.createDirectories(target.getParent());
                try (OutputStream out = Files.newOutputStream(partial, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                    ReferenceArchive.write(ref.tree().getParent(), ref.key(), ref.xenBuildId().hex(), out);
                }
                Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
                long size = Files.size(target);
                Duration d = Duration.ofNanos(System.nanoTime() - t0);
                clock.finish(0, size + " bytes in " + d.toMillis() + " ms");
                return new Exported(ref.key(), target, size, !ref.reused(), d);
            } catch (CacheDamage damage) {
                deleteQuietly(partial);
                if (attempt > 0) {
                    throw damage.asBuildException();
                }
                cache.discard(ref, damage, clock);
                ref = cache.obtain(req, clock, req.logDir());
            } catch (FileAlreadyExistsException e) {
                deleteQuietly(partial);
                throw new BuildException(BuildException.Reason.BAD_OUTPUT_DIR, file, "appeared while the archive was being written", e);
            } catch (IOException e) {
                deleteQuietly(partial);
                throw new BuildException(BuildException.Reason.WORKSPACE, target, "cannot write the archive: " + IoErrors.describe(e), e);
            }
        }
    }

    /**
     * Checks {@code file} and publishes its entry in {@code ws}. With {@code expected} (the key
     * of this run's SRC, config and toolchain) an archive of another key is refused before
     * anything is unpacked, naming the inputs that differ.
     */
    public static Imported importArchive(Workspace ws, Path file, Optional<ReferenceKey> expected, StageClock clock)
            throws BuildException, InterruptedException {
        clock.start(STAGE_IMPORT, 0, file.toString());
        long t0 = System.nanoTime();
        ReferenceArchive.Header h = ReferenceArchive.readHeader(file);
        ReferenceKey key = h.key();
        if (expected.isPresent() && !expected.get().hex().equals(key.hex())) {
            throw new BuildException(BuildException.Reason.REFERENCE_MISMATCH, file,
                    "holds the reference of another " + differences(key, expected.get()) + " than this run's (key "
                            + key.hex() + ", this run's " + expected.get().hex() + ")");
        }
        ReferenceCache cache = new ReferenceCache(ws);
        Path published = ws.reference(key.hex());
        try (Workspace.KeyLock lock = ws.lock(key.hex())) {
            if (Files.exists(published, LinkOption.NOFOLLOW_LINKS)) {
                try {
                    ReferenceEntry.open(published, key.hex());
                    ReferenceArchive.Contents c = ReferenceArchive.read(file, null);
                    Duration d = Duration.ofNanos(System.nanoTime() - t0);
                    clock.finish(0, "checked; already in the cache: " + published);
                    return new Imported(key, published, c.entries(), c.bytes(), true, d);
                } catch (CacheDamage damage) {
                    clock.notice("cache: " + damage.getMessage() + ": the entry is replaced by the archive's");
                    cache.drop(published, key.hex());
                }
            }
            cache.removeStale(key.hex());
            Path tmp = ws.refs().resolve(".tmp-" + key.hex() + "-" + ProcessHandle.current().pid());
            ReferenceArchive.Contents c;
            try {
                c = ReferenceArchive.read(file, tmp);
                ReferenceEntry.recordVerified(tmp);
                ReferenceEntry.open(tmp, key.hex());
            } catch (CacheDamage damage) {
                FileTrees.delete(tmp);
                throw ReferenceArchive.refused(file, "tampered: " + damage.getMessage());
            } catch (BuildException | IOException | RuntimeException e) {
                FileTrees.delete(tmp);
                throw e;
            }
            try {
                Files.move(tmp, published, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                FileTrees.delete(tmp);
                throw new BuildException(BuildException.Reason.WORKSPACE, ws.refs(), "cannot rename within the cache: " + e.getMessage(), e);
            }
            Duration d = Duration.ofNanos(System.nanoTime() - t0);
            clock.finish(0, "published " + published + " (" + c.entries() + " entries, " + c.bytes() + " bytes)");
            return new Imported(key, published, c.entries(), c.bytes(), false, d);
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.WORKSPACE, ws.root(), "cache: " + IoErrors.describe(e), e);
        }
    }

    /** The inputs two keys disagree on, for the refusal's one line ("source, gcc"). */
    static String differences(ReferenceKey archive, ReferenceKey wanted) {
        TreeSet<String> names = new TreeSet<>(archive.inputs().keySet());
        names.addAll(wanted.inputs().keySet());
        List<String> out = new ArrayList<>();
        for (String n : names) {
            if (!java.util.Objects.equals(archive.inputs().get(n), wanted.inputs().get(n))) {
                out.add(switch (n) {
                    case "source.sha256" -> "source tree (-s)";
                    case "config.sha256" -> "config (-c)";
                    case "gcc" -> "gcc (" + archive.inputs().get(n) + ")";
                    case "ld" -> "ld (" + archive.inputs().get(n) + ")";
                    default -> n;
                });
            }
        }
        return out.isEmpty() ? "input" : String.join(", ", out);
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // the run's own error is the one to report
        }
    }
}
