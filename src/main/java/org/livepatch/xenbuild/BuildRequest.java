package org.livepatch.xenbuild;

import java.nio.file.Path;
import java.util.Map;

/**
 * What a run of the build stage is asked to do: upstream livepatch-build's options, one field
 * each, plus where the cache lives and the environment builds run in. Unvalidated: see
 * {@link RequestChecks#check}.
 *
 * @param srcDir      {@code -s/--srcdir}: root of the Xen tree (holds {@code xen/}); only read
 * @param patch       {@code -p/--patch}: unified diff, applied with {@code patch -p1}
 * @param config      {@code -c/--config}: the Xen .config (must enable CONFIG_LIVEPATCH)
 * @param outputDir   {@code -o/--output}
 * @param jobs        {@code -j/--cpus}
 * @param skip        {@code -k/--skip build|diff}
 * @param debug       {@code -d/--debug}: verbose logs (make V=1; create-diff-object -d later on)
 * @param xenDebug    {@code --xen-debug}: debug hypervisor (asserts CONFIG_DEBUG=y, or make debug=y on pre-Kconfig trees)
 * @param xenSyms     {@code --xen-syms}: the running hypervisor's symbols, or null for the reference build's
 * @param depends     {@code --depends}: build-id the payload stacks on (40 hex digits)
 * @param xenDepends  {@code --xen-depends}: build-id of the hypervisor, or null
 * @param prelink     {@code --prelink}
 * @param strip       {@code --strip}
 * @param skipCompilerCheck {@code --skip-compiler-check}: build even if xen-syms names another gcc
 * @param cacheDir    the cache root, or null for ${LPB_CACHE:-~/.cache/livepatch-build}
 * @param environment environment for the builds (PATH finds the toolchain; XEN_BUILD_* pin strings)
 * @param allowedLayoutChanges {@code --allow-layout-change}: types whose changed layout does not stop
 *                    the build ({@code struct foo} or {@code foo}); see {@link LayoutCheck}
 * @param extraMakeArgs make arguments of a distribution's build recipe ({@code --debian}: {@code CC=...},
 *                    {@code EXTRA_CFLAGS_XEN_CORE=...}), before our own; used for the reference and the
 *                    patched build alike, and part of the reference's cache key
 * @param reproduce   the shipped hypervisor the reference build must reproduce (its build-id checked
 *                    before anything is diffed), or null
 */
public record BuildRequest(Path srcDir, Path patch, Path config, Path outputDir, int jobs, SkipStage skip,
        boolean debug, boolean xenDebug, Path xenSyms, String depends, String xenDepends, boolean prelink,
        boolean strip, boolean skipCompilerCheck, Path cacheDir, Map<String, String> environment,
        java.util.List<String> allowedLayoutChanges, java.util.List<String> extraMakeArgs, ReproductionTarget reproduce) {

    public BuildRequest {
        skip = skip == null ? SkipStage.NONE : skip;
        environment = Map.copyOf(environment == null ? System.getenv() : environment);
        allowedLayoutChanges = allowedLayoutChanges == null ? java.util.List.of() : java.util.List.copyOf(allowedLayoutChanges);
        extraMakeArgs = extraMakeArgs == null ? java.util.List.of() : java.util.List.copyOf(extraMakeArgs);
    }

    /** Without a distribution's recipe (the form callers used before {@code --debian} existed). */
    public BuildRequest(Path srcDir, Path patch, Path config, Path outputDir, int jobs, SkipStage skip,
            boolean debug, boolean xenDebug, Path xenSyms, String depends, String xenDepends, boolean prelink,
            boolean strip, boolean skipCompilerCheck, Path cacheDir, Map<String, String> environment,
            java.util.List<String> allowedLayoutChanges) {
        this(srcDir, patch, config, outputDir, jobs, skip, debug, xenDebug, xenSyms, depends, xenDepends, prelink, strip,
                skipCompilerCheck, cacheDir, environment, allowedLayoutChanges, java.util.List.of(), null);
    }

    /** Without {@code --allow-layout-change} (the form callers used before it existed). */
    public BuildRequest(Path srcDir, Path patch, Path config, Path outputDir, int jobs, SkipStage skip,
            boolean debug, boolean xenDebug, Path xenSyms, String depends, String xenDepends, boolean prelink,
            boolean strip, boolean skipCompilerCheck, Path cacheDir, Map<String, String> environment) {
        this(srcDir, patch, config, outputDir, jobs, skip, debug, xenDebug, xenSyms, depends, xenDepends, prelink, strip,
                skipCompilerCheck, cacheDir, environment, java.util.List.of());
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Fluent construction for callers that set a few options (tests, the CLI). */
    public static final class Builder {
        private Path srcDir;
        private Path patch;
        private Path config;
        private Path outputDir;
        private int jobs = Runtime.getRuntime().availableProcessors();
        private SkipStage skip = SkipStage.NONE;
        private boolean debug;
        private boolean xenDebug;
        private Path xenSyms;
        private String depends;
        private String xenDepends;
        private boolean prelink;
        private boolean strip;
        private boolean skipCompilerCheck;
        private Path cacheDir;
        private Map<String, String> environment = System.getenv();
        private java.util.List<String> allowedLayoutChanges = java.util.List.of();
        private java.util.List<String> extraMakeArgs = java.util.List.of();
        private ReproductionTarget reproduce;

        public Builder srcDir(Path v) { srcDir = v; return this; }
        public Builder patch(Path v) { patch = v; return this; }
        public Builder config(Path v) { config = v; return this; }
        public Builder outputDir(Path v) { outputDir = v; return this; }
        public Builder jobs(int v) { jobs = v; return this; }
        public Builder skip(SkipStage v) { skip = v; return this; }
        public Builder debug(boolean v) { debug = v; return this; }
        public Builder xenDebug(boolean v) { xenDebug = v; return this; }
        public Builder xenSyms(Path v) { xenSyms = v; return this; }
        public Builder depends(String v) { depends = v; return this; }
        public Builder xenDepends(String v) { xenDepends = v; return this; }
        public Builder prelink(boolean v) { prelink = v; return this; }
        public Builder strip(boolean v) { strip = v; return this; }
        public Builder skipCompilerCheck(boolean v) { skipCompilerCheck = v; return this; }
        public Builder cacheDir(Path v) { cacheDir = v; return this; }
        public Builder environment(Map<String, String> v) { environment = v; return this; }
        public Builder allowedLayoutChanges(java.util.List<String> v) { allowedLayoutChanges = v; return this; }
        public Builder extraMakeArgs(java.util.List<String> v) { extraMakeArgs = v; return this; }
        public Builder reproduce(ReproductionTarget v) { reproduce = v; return this; }

        public BuildRequest build() {
            return new BuildRequest(srcDir, patch, config, outputDir, jobs, skip, debug, xenDebug, xenSyms, depends,
                    xenDepends, prelink, strip, skipCompilerCheck, cacheDir, environment, allowedLayoutChanges,
                    extraMakeArgs, reproduce);
        }
    }
}
