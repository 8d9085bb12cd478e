package org.livepatch.xenbuild;

import java.nio.file.Path;
import java.time.Duration;

/**
 * A complete build of the original tree, in the cache. Read-only by convention: patched builds
 * copy it before changing anything.
 *
 * @param tree      the built copy of SRC (holds xen/ with every object and xen-syms)
 * @param reused    true when an earlier request had already built it (nothing was compiled)
 * @param buildTime time spent building now (zero when reused)
 * @param entry     the cache entry holding it, to verify the files a run reads ({@link ReferenceEntry#verify})
 */
public record ReferenceBuild(ReferenceKey key, Path tree, boolean reused, Duration buildTime, ReferenceEntry entry) {

    public Path xenDir() {
        return tree.resolve("xen");
    }

    /** The linked hypervisor of the reference build (symbols for create-diff-object and prelink). */
    public Path xenSyms() {
        return xenDir().resolve("xen-syms");
    }

    /** The reference xen-syms' GNU build-id (what a payload built for this hypervisor depends on). */
    public BuildId xenBuildId() throws BuildException {
        return RequestChecks.readBuildId(xenSyms());
    }

    public Path object(String relativeToXen) {
        return xenDir().resolve(relativeToXen);
    }
}
