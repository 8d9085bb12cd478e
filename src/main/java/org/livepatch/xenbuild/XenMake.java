package org.livepatch.xenbuild;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Drives Xen's own build in a scratch tree: configure, full build, rebuild of chosen objects.
 * Always the same environment and make arguments for the original and the patched tree, and no
 * compiler wrapper: Xen 4.17 records each object's command line (xen/Rules.mk: if_changed) and
 * rebuilds every object whose command changed. The tool we replace builds the patched tree with
 * a different compiler (its capture wrapper) and so changes every recorded command: a one-line
 * patch cost it a full rebuild.
 *
 * @param tree      root of the scratch copy (holds {@code xen/})
 * @param env       the environment every make runs with (pinned build strings included)
 * @param makeArgs  arguments after the target-independent ones ({@code debug=y}, {@code V=1})
 */
public record XenMake(Path tree, Map<String, String> env, List<String> makeArgs) {

    public XenMake {
        env = Map.copyOf(env);
        makeArgs = List.copyOf(makeArgs);
    }

    /**
     * Variables dropped from the caller's environment: make's recursion state (a run started from
     * inside another make must not join its jobserver or inherit its flags), and the ones that
     * would point Xen's build away from our copy (xen/Makefile: KBUILD_OUTPUT for an out-of-tree
     * build, KCONFIG_CONFIG for another config file, XEN_ROOT/abs_* for another tree) and so
     * could make it read or write SRC.
     */
    static final List<String> DROPPED_ENV = List.of("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "GNUMAKEFLAGS",
            "MAKEFILES", "KBUILD_OUTPUT", "O", "KCONFIG_CONFIG", "XEN_ROOT", "abs_srctree", "abs_objtree", "srctree", "objtree");

    /** The environment for make: the caller's minus {@link #DROPPED_ENV}, plus the pinned build strings. */
    public static Map<String, String> environment(Map<String, String> base, BuildStrings strings) {
        Map<String, String> env = new LinkedHashMap<>(base);
        DROPPED_ENV.forEach(env::remove);
        env.putAll(strings.asEnvironment());
        return env;
    }

    public Path xenDir() {
        return tree.resolve("xen");
    }

    /**
     * Xen 4.17's build (Kbuild-style: xen/Rules.mk + scripts/Kbuild.include) as opposed to a
     * single flat Makefile (our minixen fixture, older trees).
     */
    public boolean isKbuild() {
        return Files.isRegularFile(xenDir().resolve("Rules.mk"))
                && Files.isRegularFile(xenDir().resolve("scripts/Kbuild.include"));
    }

    /** Whether the tree is configured through Kconfig (then {@code olddefconfig} completes the config). */
    public boolean hasKconfig() {
        return Files.isRegularFile(xenDir().resolve("Kconfig"));
    }

    /**
     * Installs the user's config as {@code xen/.config} and, with Kconfig, lets {@code olddefconfig}
     * fill in options the file does not mention (what upstream gets from its later make run).
     */
    public void installConfig(XenConfig config) throws IOException {
        Files.write(xenDir().resolve(".config"), config.content());
    }

    public void completeConfig(Path log) throws IOException, InterruptedException, BuildException {
        if (hasKconfig()) {
            make(log, BuildException.Reason.REFERENCE_BUILD_FAILED, "olddefconfig");
        }
    }

    public void clean(Path log) throws IOException, InterruptedException, BuildException {
        make(log, BuildException.Reason.REFERENCE_BUILD_FAILED, "clean");
    }

    public void buildAll(int jobs, Path log) throws IOException, InterruptedException, BuildException {
        make(log, BuildException.Reason.REFERENCE_BUILD_FAILED, "-j" + jobs);
    }

    /**
     * Rebuilds exactly these objects (paths relative to {@code xen/}), nothing else: no
     * built_in.o, no relink of xen-syms.
     *
     * <p>Xen 4.17's single-object target ({@code make -C xen common/kernel.o}, xen/Makefile: the
     * {@code %.o: %.c} rule) hands the object to the Makefile of the object's own directory, which
     * fails for objects listed by a parent's Makefile ({@code common/compat/kernel.o} is in
     * common/Makefile; common/compat/ has none). So on a Kbuild tree we add a small makefile of
     * our own next to Xen's, with one target per owning directory whose recipe is the same
     * {@code $(MAKE) $(build)=<dir> <objects>} call Xen's rule makes: same flags, same command
     * lines, so an unchanged object rebuilds byte-identical.
     */
    public void buildObjects(List<String> objects, int jobs, Path scratch, Path log)
            throws IOException, InterruptedException, BuildException {
        if (objects.isEmpty()) {
            return;
        }
        if (!isKbuild()) {
            List<String> args = new ArrayList<>(List.of("-j" + jobs));
            args.addAll(objects);
            make(log, BuildException.Reason.PATCHED_BUILD_FAILED, args.toArray(String[]::new));
            return;
        }
        Map<String, List<String>> byDir = new TreeMap<>();
        for (String o : objects) {
            byDir.computeIfAbsent(owningDirectory(o), k -> new ArrayList<>()).add(o);
        }
        StringBuilder mk = new StringBuilder();
        mk.append("# written by livepatch-build: rebuild chosen objects through the Makefile that lists them\n");
        List<String> targets = new ArrayList<>();
        int i = 0;
        for (var e : byDir.entrySet()) {
            String t = "livepatch-build-dir-" + i++;
            targets.add(t);
            mk.append(".PHONY: ").append(t).append('\n');
            mk.append(t).append(": tools_fixdep FORCE\n");
            mk.append("\t$(Q)$(MAKE) $(build)=").append(e.getKey()).append(' ')
                    .append(String.join(" ", e.getValue())).append('\n');
        }
        mk.append(".PHONY: livepatch-build-objects\nlivepatch-build-objects: ").append(String.join(" ", targets)).append('\n');
        Files.createDirectories(scratch);
        Path extra = scratch.resolve("livepatch-objects.mk");
        Files.writeString(extra, mk.toString(), StandardCharsets.UTF_8);
        make(log, BuildException.Reason.PATCHED_BUILD_FAILED,
                "-j" + jobs, "-f", "Makefile", "-f", extra.toAbsolutePath().toString(), "livepatch-build-objects");
    }

    /** The nearest directory at or above the object's that has a Makefile, relative to xen/. */
    String owningDirectory(String object) {
        Path dir = Path.of(object).getParent();
        while (dir != null) {
            if (Files.isRegularFile(xenDir().resolve(dir).resolve("Makefile"))) {
                return dir.toString();
            }
            dir = dir.getParent();
        }
        return ".";
    }

    private void make(Path log, BuildException.Reason failure, String... args)
            throws IOException, InterruptedException, BuildException {
        List<String> argv = new ArrayList<>(List.of("make", "-C", xenDir().toString()));
        argv.addAll(makeArgs);
        argv.addAll(List.of(args));
        int rc = new ExternalCommand(argv, tree, env).run(log);
        if (rc != 0) {
            String last = ExternalCommand.firstError(log);
            throw new BuildException(failure, log, "'make " + String.join(" ", args) + "' failed (exit " + rc + ")"
                    + (last.isEmpty() ? "" : ": " + last));
        }
    }
}
