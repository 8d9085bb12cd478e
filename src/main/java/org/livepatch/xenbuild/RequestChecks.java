package org.livepatch.xenbuild;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.livepatch.elf.Bytes;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.Section;
import org.livepatch.io.IoErrors;
import org.livepatch.io.ScratchDir;

/**
 * Every check that can fail before a build starts, in upstream's order where it has one
 * (livepatch-build: the option checks, then CONFIG_LIVEPATCH, then the patch's dry run),
 * cheapest first. A request that passes cannot fail for a reason we could have seen up front.
 */
public final class RequestChecks {
    /**
     * {@code $LPB_CACHE/tmp/patch-check-*}: where earlier versions ran {@code patch --dry-run};
     * what their killed runs left is still swept away.
     */
    public static final String PATCH_CHECK_PREFIX = "patch-check-";

    private RequestChecks() {}

    public static CheckedRequest check(BuildRequest r) throws BuildException, InterruptedException {
        return check(r, Optional.empty());
    }

    /**
     * {@link #check(BuildRequest)}, reusing {@code opened} for {@code --xen-syms} when it is that
     * file: a batch checks one request per patch, all naming the same xen-syms.
     */
    public static CheckedRequest check(BuildRequest r, Optional<XenSyms> opened) throws BuildException, InterruptedException {
        return check(r, opened, true);
    }

    /**
     * A changeset of a cumulative series ({@code --batch --cumulative}): every check of
     * {@link #check(BuildRequest, Optional)} but the two about the patch alone. It need not apply
     * to SRC by itself (it may need the earlier changesets), and one that changes nothing this
     * build compiles is a step of the series like any other; the series decides what that means.
     */
    public static CheckedRequest checkSeriesStep(BuildRequest r, Optional<XenSyms> opened) throws BuildException, InterruptedException {
        return check(r, opened, false);
    }

    private static CheckedRequest check(BuildRequest r, Optional<XenSyms> opened, boolean alone) throws BuildException, InterruptedException {
        if (r.jobs() < 1) {
            throw new BuildException(BuildException.Reason.BAD_OPTION, null, "--cpus must be at least 1, not " + r.jobs());
        }
        String shortcut = UnitShortcut.mode(r.environment());
        if (!List.of("on", "off", "prove").contains(shortcut)) {
            throw new BuildException(BuildException.Reason.BAD_OPTION, null,
                    UnitShortcut.ENV + "=" + shortcut + ": expected on (the default), off or prove");
        }
        if (r.patch() != null) {
            // Before anything else: the name decides OUTPUT's file names, and a name that comes
            // out empty would only be refused by the link, after a whole build.
            PatchName.check(r.patch());
        }
        Path src = checkSource(r.srcDir());
        XenConfig config = XenConfig.read(r.config());
        config.requireLivepatch();
        List<String> makeArgs = makeArgs(r, config);

        if (r.depends() == null) {
            throw new BuildException(BuildException.Reason.BAD_BUILD_ID, null, "build-id dependency not given (--depends)");
        }
        BuildId depends = BuildId.parseOption("--depends", r.depends());
        Optional<BuildId> xenDepends = r.xenDepends() == null
                ? Optional.empty() : Optional.of(BuildId.parseOption("--xen-depends", r.xenDepends()));
        // Opened and indexed here, once: the later stages use this model, never the file.
        Optional<XenSyms> xenSyms = Optional.empty();
        if (r.xenSyms() != null) {
            Path file = r.xenSyms().toAbsolutePath();
            XenSyms read = opened.filter(o -> o.file().equals(file)).isPresent() ? opened.get() : XenSyms.open(r.xenSyms());
            BuildId syms = requireBuildId(read, r.xenSyms());
            if (xenDepends.isPresent() && !xenDepends.get().equals(syms)) {
                throw new BuildException(BuildException.Reason.XEN_SYMS_MISMATCH, r.xenSyms(),
                        "build-id " + syms + " does not match --xen-depends " + xenDepends.get());
            }
            xenSyms = Optional.of(read);
        }

        Workspace ws = r.cacheDir() != null ? new Workspace(r.cacheDir().toAbsolutePath()) : Workspace.fromEnvironment(r.environment());
        Path out = checkOutput(r, src, ws);
        Toolchain tools = Toolchain.locate(r.environment());
        if (xenSyms.isPresent() && !r.skipCompilerCheck()) {
            checkCompiler(xenSyms.get().elf(), r.xenSyms(), tools);
        }

        SourcePatch patch = SourcePatch.parse(r.patch());
        if (alone) {
            patch.requireHypervisorSource();
            dryRun(patch, src, ws);
        }
        checkCacheWritable(ws);

        BuildStrings strings = BuildStrings.from(r.environment());
        Map<String, String> env = XenMake.environment(r.environment(), strings);
        return new CheckedRequest(r, src, patch, config, out, PatchName.of(r.patch()), depends, xenDepends, xenSyms,
                tools, strings, ws, env, makeArgs);
    }

    /**
     * The checks of {@link #check} that decide a reference build (SRC, the config, the
     * toolchain, {@code --xen-syms} and the compiler that built it, a writable cache), for
     * {@code --export-reference} and the key {@code --import-reference} compares: no patch, no
     * build-id, and {@code logDir}'s parent as OUTPUT (the reference build's log goes to
     * {@code logDir}). The result has no patch, payload name or build-id.
     */
    public static CheckedRequest checkReference(BuildRequest r, Path outputDir) throws BuildException, InterruptedException {
        if (r.jobs() < 1) {
            throw new BuildException(BuildException.Reason.BAD_OPTION, null, "--cpus must be at least 1, not " + r.jobs());
        }
        Path src = checkSource(r.srcDir());
        XenConfig config = XenConfig.read(r.config());
        config.requireLivepatch();
        List<String> makeArgs = makeArgs(r, config);
        Toolchain tools = Toolchain.locate(r.environment());
        Optional<XenSyms> xenSyms = Optional.empty();
        if (r.xenSyms() != null) {
            XenSyms read = XenSyms.open(r.xenSyms());
            requireBuildId(read, r.xenSyms());
            if (!r.skipCompilerCheck()) {
                checkCompiler(read.elf(), r.xenSyms(), tools);
            }
            xenSyms = Optional.of(read);
        }
        Workspace ws = r.cacheDir() != null ? new Workspace(r.cacheDir().toAbsolutePath()) : Workspace.fromEnvironment(r.environment());
        if (isInside(ws.root().toAbsolutePath().normalize(), src)) {
            throw new BuildException(BuildException.Reason.BAD_OUTPUT_DIR, ws.root(), "cache directory is inside the source tree, which is never written");
        }
        if (isInside(outputDir, src)) {
            throw new BuildException(BuildException.Reason.BAD_OUTPUT_DIR, outputDir, "output directory is inside the source tree, which is never written");
        }
        checkCacheWritable(ws);
        BuildStrings strings = BuildStrings.from(r.environment());
        Map<String, String> env = XenMake.environment(r.environment(), strings);
        return new CheckedRequest(r, src, null, config, outputDir.toAbsolutePath().normalize(), null, null, Optional.empty(),
                xenSyms, tools, strings, ws, env, makeArgs);
    }

    private static Path checkSource(Path srcDir) throws BuildException {
        if (srcDir == null) {
            throw new BuildException(BuildException.Reason.BAD_SOURCE_TREE, null, "Xen directory not given (--srcdir)");
        }
        if (!Files.isDirectory(srcDir)) {
            throw new BuildException(BuildException.Reason.BAD_SOURCE_TREE, srcDir, "Xen directory does not exist");
        }
        if (!Files.isRegularFile(srcDir.resolve("xen/Makefile"))) {
            throw new BuildException(BuildException.Reason.BAD_SOURCE_TREE, srcDir, "not a Xen tree (no xen/Makefile)");
        }
        try {
            return srcDir.toRealPath();
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.BAD_SOURCE_TREE, srcDir, e.getMessage(), e);
        }
    }

    /**
     * {@code --xen-debug}: on a Kconfig tree the debug build is a config option, so the flag only
     * asserts it; on older trees it becomes {@code debug=y} for make (upstream: the XEN_DEBUG
     * handling in livepatch-build). {@code -d} asks make for full command lines in the logs.
     */
    private static List<String> makeArgs(BuildRequest r, XenConfig config) throws BuildException {
        // A distribution's recipe first, as its rules pass them; ours only where it has none.
        List<String> args = new ArrayList<>(r.extraMakeArgs());
        if (config.mentions("CONFIG_DEBUG")) {
            if (r.xenDebug() && !config.isEnabled("CONFIG_DEBUG")) {
                throw new BuildException(BuildException.Reason.BAD_CONFIG, config.file(),
                        "CONFIG_DEBUG and --xen-debug mismatch (the config does not set CONFIG_DEBUG=y)");
            }
        } else {
            args.add("debug=" + (r.xenDebug() ? "y" : "n"));
        }
        if (r.debug() && !args.contains("V=1")) {
            args.add("V=1");
        }
        return args;
    }

    /** The build-id of a xen-syms file, read through the one opener ({@link XenSyms#open}). */
    static BuildId readBuildId(Path xenSyms) throws BuildException {
        return requireBuildId(XenSyms.open(xenSyms), xenSyms);
    }

    private static BuildId requireBuildId(XenSyms syms, Path shown) throws BuildException {
        return syms.buildId().orElseThrow(() -> new BuildException(BuildException.Reason.BAD_XEN_SYMS,
                shown, "has no GNU build-id note (was it linked with --build-id?)"));
    }

    /** {@link #checkCompiler(ElfFile, Path, Toolchain)} on the reference build's xen-syms, opened by the reference stage. */
    public static void checkCompiler(XenSyms xenSyms, Toolchain tools) throws BuildException {
        checkCompiler(xenSyms.elf(), xenSyms.file(), tools);
    }

    /**
     * A payload must be compiled by the gcc that compiled the hypervisor: another gcc lays out
     * unchanged functions differently, so the diff would see changes the patch did not make, or
     * miss ABI differences. gcc names itself in every object's {@code .comment}
     * ({@code GCC: (Debian 12.2.0-14+deb12u1) 12.2.0}), which the link keeps in xen-syms; its
     * {@code --version} prints the same text after the program name. A xen-syms without such an
     * entry (stripped, or not built by gcc) cannot be checked and passes.
     */
    static void checkCompiler(ElfFile elf, Path xenSyms, Toolchain tools) throws BuildException {
        String ours = tools.gccVersion();
        int space = ours.indexOf(' ');
        String oursId = space < 0 ? ours : ours.substring(space + 1).strip();
        for (String built : gccComments(elf)) {
            if (!built.equals(oursId)) {
                throw new BuildException(BuildException.Reason.COMPILER_MISMATCH, xenSyms,
                        "built by gcc " + built + " (its .comment), but the payload would be built by " + ours + " ("
                                + tools.gcc() + "); use the hypervisor's compiler, or --skip-compiler-check");
            }
        }
    }

    /** The compiler identifications in {@code .comment} that gcc wrote, without the {@code GCC: } prefix. */
    static List<String> gccComments(ElfFile elf) {
        List<String> out = new ArrayList<>();
        for (Section s : elf.sectionsNamed(".comment")) {
            Bytes d = s.data();
            int i = 0;
            while (i < d.length()) {
                String str = d.cString(i);
                if (str == null) {
                    break;
                }
                if (str.startsWith("GCC: ") && !out.contains(str.substring(5).strip())) {
                    out.add(str.substring(5).strip());
                }
                i += str.length() + 1;
            }
        }
        return out;
    }

    /**
     * Upstream requires OUTPUT not to exist and would otherwise refuse; we also accept an empty
     * directory (created by a wrapper script, say), since nothing in it can be overwritten. We
     * never delete or overwrite anything in a directory we did not create. {@code -k build}
     * needs the OUTPUT of an earlier run. OUTPUT and the cache must not lie inside SRC: SRC is
     * never written.
     */
    private static Path checkOutput(BuildRequest r, Path src, Workspace ws) throws BuildException {
        if (r.outputDir() == null) {
            throw new BuildException(BuildException.Reason.BAD_OUTPUT_DIR, null, "output directory not given (--output)");
        }
        Path out = r.outputDir().toAbsolutePath().normalize();
        if (isInside(out, src)) {
            throw new BuildException(BuildException.Reason.BAD_OUTPUT_DIR, out, "output directory is inside the source tree, which is never written");
        }
        if (isInside(ws.root().toAbsolutePath().normalize(), src)) {
            throw new BuildException(BuildException.Reason.BAD_OUTPUT_DIR, ws.root(), "cache directory is inside the source tree, which is never written");
        }
        try {
            // What a run on this OUTPUT that died (SIGKILL, a crash) left behind; see OutputClaim.
            OutputClaim.sweepAbandoned(out);
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.BAD_OUTPUT_DIR, out,
                    "cannot remove what a dead run left here: " + IoErrors.describe(e), e);
        }
        if (r.skip() == SkipStage.BUILD) {
            if (!Files.isDirectory(out.resolve(PatchedBuild.ORIGINAL_DIR)) || !Files.isDirectory(out.resolve(PatchedBuild.PATCHED_DIR))) {
                throw new BuildException(BuildException.Reason.BAD_OUTPUT_DIR, out,
                        "output directory does not hold a previous build (original/ and patched/), needed by --skip build");
            }
            return out;
        }
        requireEmptyOutput(out);
        return out;
    }

    /**
     * OUTPUT (or a batch's root) must not exist or be an empty directory: nothing in it is ever
     * overwritten. Shared by the single run's check and {@code --batch}.
     */
    public static void requireEmptyOutput(Path out) throws BuildException {
        if (!Files.exists(out, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!Files.isDirectory(out)) {
            throw new BuildException(BuildException.Reason.BAD_OUTPUT_DIR, out, "output path exists and is not a directory");
        }
        try (Stream<Path> s = Files.list(out)) {
            if (s.findAny().isPresent()) {
                throw new BuildException(BuildException.Reason.BAD_OUTPUT_DIR, out,
                        "output directory exists and is not empty (nothing in it is ever overwritten: choose a new one)");
            }
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.BAD_OUTPUT_DIR, out, e.getMessage(), e);
        }
    }

    /** Whether {@code p} is {@code dir} or below it, comparing real paths of existing ancestors. */
    static boolean isInside(Path p, Path dir) {
        Path abs = p.toAbsolutePath().normalize();
        Path existing = abs;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        try {
            Path full = existing == null ? abs : existing.toRealPath().resolve(existing.relativize(abs));
            return full.normalize().startsWith(dir);
        } catch (IOException e) {
            return abs.startsWith(dir);
        }
    }

    /**
     * The patch applied in memory to the files of SRC it touches, with {@code patch -p1 -N -F0}'s
     * rules (see {@link PatchApplier}); nothing is written. Before any build: a patch that does not
     * apply must not cost a reference build. Scratch directories that runs of earlier versions
     * left for their {@code patch --dry-run} are still removed here.
     */
    private static void dryRun(SourcePatch patch, Path src, Workspace ws) throws BuildException {
        Path tmp = ws.root().resolve("tmp");
        try {
            ScratchDir.sweep(tmp, PATCH_CHECK_PREFIX);
            patch.applyTo(src);
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.WORKSPACE, ws.root(), "cannot check the patch: " + IoErrors.describe(e), e);
        }
    }

    /**
     * Every build writes the cache (source digests, reference builds and their locks). A cache it
     * cannot write is said here, naming the directory and the OS's reason, before anything is
     * built; found later it would surface as a failure to read SRC or to lock a key.
     */
    private static void checkCacheWritable(Workspace ws) throws BuildException {
        for (Path dir : List.of(ws.root(), ws.refs(), SourceDigestCache.directory(ws))) {
            try {
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new BuildException(BuildException.Reason.WORKSPACE, ws.root(), "cannot write the cache: " + IoErrors.describe(e), e);
            }
            if (!Files.isWritable(dir)) {
                throw new BuildException(BuildException.Reason.WORKSPACE, ws.root(), "cannot write the cache: " + dir + ": permission denied");
            }
        }
    }
}
