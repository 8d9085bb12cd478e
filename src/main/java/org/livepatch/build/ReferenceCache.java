package org.livepatch.build;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Gives a built original tree for a request, building it at most once per key.
 *
 * <p>Upstream {@code make clean}s and rebuilds the user's tree for every patch, so a second patch
 * costs a full build again (shared/design/anchor-facts.md, point 2). Here the original is built
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

    private static final String STAMP = "reference.properties";

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
        clock.start(STAGE_HASH, 0, req.srcDir().toString());
        String digest;
        SourceTree src = new SourceTree(req.srcDir());
        try {
            digest = new SourceDigestCache(workspace).digest(src);
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.BAD_SOURCE_TREE, req.srcDir(), "cannot read source tree: " + e.getMessage(), e);
        }
        ReferenceKey key = ReferenceKey.of(digest, req.config(), req.toolchain(), req.buildStrings(), req.makeArgs(), req.makeEnvironment());
        clock.finish(0, key.hex());

        Path published = workspace.reference(key.hex());
        if (isComplete(published)) {
            clock.start(STAGE_REFERENCE, 0, "cached " + published);
            clock.finish(0, "reused " + published);
            return new ReferenceBuild(key, published.resolve("tree"), true, Duration.ZERO);
        }
        Path log = logDir.resolve(STAGE_REFERENCE + ".log");
        try (Workspace.KeyLock lock = workspace.lock(key.hex())) {
            if (isComplete(published)) { // another process built it while we waited
                clock.start(STAGE_REFERENCE, 0, "cached " + published);
                clock.finish(0, "reused " + published);
                return new ReferenceBuild(key, published.resolve("tree"), true, Duration.ZERO);
            }
            clock.start(STAGE_REFERENCE, 0, "building " + published);
            long t0 = System.nanoTime();
            removeStale(key.hex());
            Path tmp = workspace.refs().resolve(".tmp-" + key.hex() + "-" + ProcessHandle.current().pid());
            buildInto(req, src, digest, tmp.resolve("tree"), log);
            writeStamp(tmp, key);
            try {
                Files.move(tmp, published, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw new BuildException(BuildException.Reason.WORKSPACE, workspace.refs(), "cannot rename within the cache: " + e.getMessage(), e);
            }
            builds++;
            Duration d = Duration.ofNanos(System.nanoTime() - t0);
            clock.finish(countObjects(published.resolve("tree")), "built in " + d.toMillis() + " ms");
            return new ReferenceBuild(key, published.resolve("tree"), false, d);
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.WORKSPACE, workspace.root(), "cache: " + e.getMessage(), e);
        }
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

    private static boolean isComplete(Path published) {
        return Files.isRegularFile(published.resolve(STAMP)) && Files.isDirectory(published.resolve("tree/xen"));
    }

    private static void writeStamp(Path dir, ReferenceKey key) throws IOException {
        StringBuilder sb = new StringBuilder("# reference build inputs (livepatch-build)\n");
        key.inputs().forEach((k, v) -> sb.append(k).append('=').append(v.replace("\n", " ")).append('\n'));
        Files.writeString(dir.resolve(STAMP), sb.toString(), StandardCharsets.UTF_8);
    }

    /** Leftovers of killed builds of this key (we hold its lock, so nobody is using them). */
    private void removeStale(String key) throws IOException {
        try (Stream<Path> s = Files.list(workspace.refs())) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith(".tmp-" + key + "-")).toList()) {
                deleteTree(p);
            }
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
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
