package org.livepatch.xenbuild;

import org.livepatch.io.FileTrees;
import org.livepatch.stage.StageClock;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

/**
 * Gives a built original tree for a request, building it at most once per key.
 *
 * <p>Upstream {@code make clean}s and rebuilds the user's tree for every patch, so a second patch
 * costs a full build again, though the original tree did not change. Here the original is built
 * once in a copy of SRC, in the cache, keyed by everything that decides its objects
 * ({@link ReferenceKey}); later requests with the same key reuse it without compiling anything.
 *
 * <p>Safety: SRC is only read (hashed, then copied); the build runs in a temporary directory
 * that is renamed into place only when complete, under a per-key lock. A failed or killed build
 * publishes nothing, and its leftovers are removed by the next builder of that key.
 */
public final class ReferenceCache {
    public static final String STAGE_HASH = "hash-source";
    public static final String STAGE_REFERENCE = "reference-build";

    private static final String STAMP = ReferenceEntry.STAMP;

    private final Workspace workspace;
    /** How many reference builds this instance actually ran (tests assert reuse with it). */
    private int builds;

    public ReferenceCache(Workspace workspace) {
        this.workspace = workspace;
    }

    public int buildsRun() {
        return builds;
    }

    public ReferenceBuild obtain(CheckedRequest req, StageClock clock, Path logDir)
            throws BuildException, InterruptedException {
        SourceTree src = new SourceTree(req.srcDir());
        SourceDigestCache digests = new SourceDigestCache(workspace, clock::notice);
        for (int attempt = 0;; attempt++) {
            clock.start(STAGE_HASH, 0, req.srcDir().toString());
            SourceDigestCache.Digest digest;
            try {
                digest = digests.lookup(src);
            } catch (IOException e) {
                throw new BuildException(BuildException.Reason.BAD_SOURCE_TREE, req.srcDir(), "cannot read source tree: " + e.getMessage(), e);
            }
            ReferenceKey key = keyOf(req, digest.digest());
            clock.finish(0, key.hex());
            try {
                return obtain(req, src, digest.digest(), key, clock, logDir);
            } catch (BuildException e) {
                if (e.reason() != BuildException.Reason.SOURCE_CHANGED || !digest.recorded() || attempt > 0) {
                    throw e;
                }
                // The copy of SRC hashed differently from the recorded digest: the record was
                // wrong, not SRC unstable. Read SRC itself once before calling it unstable.
                clock.notice("cache: " + digests.record(src) + " held a digest that SRC does not have: dropped, reading SRC again");
                try {
                    digests.forget(src);
                } catch (IOException io) {
                    throw new BuildException(BuildException.Reason.WORKSPACE, digests.record(src), "cannot remove: " + io.getMessage(), io);
                }
            }
        }
    }

    /** The cache key of this request's reference build when SRC's content digest is {@code sourceDigest}. */
    static ReferenceKey keyOf(CheckedRequest req, String sourceDigest) {
        return ReferenceKey.of(sourceDigest, req.config(), req.toolchain(), req.buildStrings(), req.makeArgs(), req.makeEnvironment(),
                req.request().reproduce());
    }

    /**
     * The reference's key without building anything (SRC's digest from its record when SRC is
     * unchanged): what {@code -k build} compares with the key its objects were made from.
     */
    public ReferenceKey currentKey(CheckedRequest req) throws BuildException {
        try {
            return keyOf(req, new SourceDigestCache(workspace).lookup(new SourceTree(req.srcDir())).digest());
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.BAD_SOURCE_TREE, req.srcDir(), "cannot read source tree: " + e.getMessage(), e);
        }
    }

    private ReferenceBuild obtain(CheckedRequest req, SourceTree src, String digest, ReferenceKey key, StageClock clock,
            Path logDir) throws BuildException, InterruptedException {
        Path published = workspace.reference(key.hex());
        clock.start(STAGE_REFERENCE, 0, "cached " + published);
        if (Files.exists(published, LinkOption.NOFOLLOW_LINKS)) {
            try {
                long t0 = System.nanoTime();
                ReferenceEntry entry = ReferenceEntry.open(published, key.hex());
                clock.finish(0, "reused " + published + " (checked in " + (System.nanoTime() - t0) / 1_000_000 + " ms)");
                return new ReferenceBuild(key, published.resolve("tree"), true, Duration.ZERO, entry);
            } catch (CacheDamage | IOException e) {
                // Damaged, or still being checked by another run: decided under the key's lock.
            }
        }
        Path log = logDir.resolve(STAGE_REFERENCE + ".log");
        try (Workspace.KeyLock lock = workspace.lock(key.hex())) {
            if (Files.exists(published, LinkOption.NOFOLLOW_LINKS)) {
                try {
                    // Another process may have rebuilt it while we waited.
                    ReferenceEntry entry = ReferenceEntry.open(published, key.hex());
                    clock.finish(0, "reused " + published);
                    return new ReferenceBuild(key, published.resolve("tree"), true, Duration.ZERO, entry);
                } catch (CacheDamage d) {
                    clock.notice("cache: " + d.getMessage() + ": the entry is removed and built again");
                    drop(published, key.hex());
                }
            }
            clock.start(STAGE_REFERENCE, 0, "building " + published);
            long t0 = System.nanoTime();
            removeStale(key.hex());
            Path tmp = workspace.refs().resolve(".tmp-" + key.hex() + "-" + ProcessHandle.current().pid());
            try {
                buildInto(req, src, digest, tmp.resolve("tree"), log);
            } catch (BuildException e) {
                if (e.reason() == BuildException.Reason.SOURCE_CHANGED) {
                    FileTrees.delete(tmp); // its key names content it does not have: nobody can use it
                }
                throw e;
            }
            writeStamp(tmp, key);
            // Index the dependencies now (relative paths: the same after the rename) and seal the
            // entry, so it is never visible without its manifest.
            DependencyIndexFile.load(tmp.resolve("tree"));
            ReferenceEntry.seal(tmp, key.hex());
            try {
                Files.move(tmp, published, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw new BuildException(BuildException.Reason.WORKSPACE, workspace.refs(), "cannot rename within the cache: " + e.getMessage(), e);
            }
            ReferenceEntry entry;
            try {
                entry = ReferenceEntry.open(published, key.hex());
            } catch (CacheDamage d) {
                throw new BuildException(BuildException.Reason.WORKSPACE, d.file(), "changed while the cache entry was being published", d);
            }
            builds++;
            Duration d = Duration.ofNanos(System.nanoTime() - t0);
            clock.finish(countObjects(published.resolve("tree")), "built in " + d.toMillis() + " ms");
            return new ReferenceBuild(key, published.resolve("tree"), false, d, entry);
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.WORKSPACE, workspace.root(), "cache: " + e.getMessage(), e);
        }
    }

    /**
     * A run found a file it was about to read damaged ({@link ReferenceEntry#verify}): removes the
     * entry, unless another run has replaced it meanwhile (then the damaged file is intact now),
     * so that the next {@link #obtain} builds it again.
     */
    public void discard(ReferenceBuild ref, CacheDamage damage, StageClock clock) throws BuildException, InterruptedException {
        Path published = workspace.reference(ref.key().hex());
        try (Workspace.KeyLock lock = workspace.lock(ref.key().hex())) {
            try {
                ReferenceEntry current = ReferenceEntry.open(published, ref.key().hex());
                current.verify(List.of(published.resolve("tree").relativize(damage.file()).toString()));
                return; // rebuilt by another run since
            } catch (CacheDamage d) {
                // still damaged
            }
            clock.notice("cache: " + damage.getMessage() + ": the entry is removed and built again");
            drop(published, ref.key().hex());
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.WORKSPACE, published, "cannot remove the damaged cache entry: " + e.getMessage(), e);
        }
    }

    /**
     * Moves a damaged entry out of the way (one rename, so a reader sees it whole or not at all)
     * and deletes it. The caller holds the key's lock.
     */
    void drop(Path published, String key) throws IOException {
        if (!Files.exists(published, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Path aside = workspace.refs().resolve(".tmp-" + key + "-damaged-" + ProcessHandle.current().pid());
        FileTrees.delete(aside);
        Files.move(published, aside, StandardCopyOption.ATOMIC_MOVE);
        FileTrees.delete(aside);
    }

    private void buildInto(CheckedRequest req, SourceTree src, String digest, Path tree, Path log)
            throws IOException, InterruptedException, BuildException {
        String copied = src.copyTo(tree);
        if (!copied.equals(digest)) {
            throw new BuildException(BuildException.Reason.SOURCE_CHANGED, req.srcDir(),
                    "source tree changed while it was being copied; try again when it is stable");
        }
        // tools/scmversion reads .scmversion at the root before asking git (and the copy has no
        // .git): pin the changeset string so both builds agree (xen/build.mk: cmd_compile.h).
        Path scm = tree.resolve(".scmversion");
        if (!Files.exists(scm, LinkOption.NOFOLLOW_LINKS)) {
            Files.writeString(scm, BuildStrings.CHANGESET + "\n", StandardCharsets.UTF_8);
        }
        XenMake make = new XenMake(tree, req.makeEnvironment(), req.makeArgs());
        make.installConfig(req.config());
        if (src.looksBuilt()) {
            // Generated files we did not filter out would look up to date to make.
            make.clean(log);
        }
        make.completeConfig(log);
        make.buildAll(req.jobs(), log);
        if (!Files.isRegularFile(make.xenDir().resolve("xen-syms"))) {
            throw new BuildException(BuildException.Reason.REFERENCE_BUILD_FAILED, log,
                    "build finished but produced no xen/xen-syms");
        }
    }

    private static void writeStamp(Path dir, ReferenceKey key) throws IOException {
        StringBuilder sb = new StringBuilder("# reference build inputs (livepatch-build)\n");
        key.inputs().forEach((k, v) -> sb.append(k).append('=').append(v.replace("\n", " ")).append('\n'));
        Files.writeString(dir.resolve(STAMP), sb.toString(), StandardCharsets.UTF_8);
    }

    /** Leftovers of killed builds of this key (we hold its lock, so nobody is using them). */
    void removeStale(String key) throws IOException {
        try (Stream<Path> s = Files.list(workspace.refs())) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith(".tmp-" + key + "-")).toList()) {
                FileTrees.delete(p);
            }
        }
    }


    private static int countObjects(Path tree) {
        try (Stream<Path> s = Files.walk(tree.resolve("xen"))) {
            return (int) s.filter(p -> p.getFileName().toString().endsWith(".o")).count();
        } catch (IOException e) {
            return 0;
        }
    }
}
