package org.livepatch.xenbuild;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Rebuilds objects of a Kbuild-style Xen tree by running again the command lines the reference
 * build recorded for them, instead of asking make.
 *
 * <p>Why: {@code make -C xen common/version.o} costs seconds before it compiles anything, because
 * every make level re-evaluates Xen's compiler probes ({@code cc-option}, {@code as-insn} in
 * Config.mk and arch/x86/arch.mk: about 40 gcc runs per invocation, measured with strace), while
 * the compile itself takes a fraction of a second. Xen 4.17 records the exact command that made
 * each object in {@code .<obj>.cmd} (xen/Rules.mk: {@code if_changed}, {@code cmd_and_fixdep}) and
 * make would rerun that very command (its {@code cmd-check} compares the two), so replaying it
 * gives the same object. The one step Xen runs but does not record is the symbol fix-up after a
 * C compile under CONFIG_ENFORCE_UNIQUE_SYMBOLS (xen/Rules.mk: {@code rule_cc_o_c},
 * {@code cmd_objcopy_fix_sym}); it is recognised by the recorded command writing
 * {@code .<obj>.tmp} and redone here the same way.
 *
 * <p>A plan exists only when every object has a command we understand; otherwise the caller uses
 * make ({@link XenMake#buildObjects}).
 *
 * @param commands one shell command per object, in an order where an object comes after the one
 *                 it is derived from
 * @param writes   every file the commands write, relative to xen/ (the caller makes them private
 *                 to the work tree before running)
 */
public record RecordedCommands(List<Step> commands, Set<String> writes) {

    /** One object's command, to run with /bin/sh in xen/, as make would. */
    public record Step(String object, String shellCommand, boolean derived) {}

    public RecordedCommands {
        commands = List.copyOf(commands);
        writes = Set.copyOf(writes);
    }

    /**
     * The replay plan for these objects of {@code tree} (paths relative to xen/), or why there is
     * none. {@code derived} maps an object made from another object to that one.
     */
    public static Plan plan(Path tree, List<String> objects, Map<String, String> derived) throws IOException {
        Path xen = tree.resolve("xen");
        Path realXen = xen.toRealPath();
        List<Step> first = new ArrayList<>();
        List<Step> second = new ArrayList<>();
        Set<String> writes = new LinkedHashSet<>();
        for (String o : objects) {
            Path cmdFile = dotFile(xen, o, ".cmd");
            Optional<CommandFile> recorded = CommandFile.read(xen.resolve(o), o);
            if (recorded.isEmpty()) {
                return Plan.none(o + ": no recorded command (" + xen.relativize(cmdFile) + ")");
            }
            if (!recorded.get().startsWithCommand()) {
                return Plan.none(o + ": " + xen.relativize(cmdFile) + " does not start with cmd_" + o);
            }
            Optional<String> cmd = unescape(recorded.get().command().orElseThrow().strip());
            if (cmd.isEmpty()) {
                return Plan.none(o + ": the recorded command uses make variables");
            }
            String shell = cmd.get();
            String tmp = dotName(o, ".tmp");
            writes.add(o);
            writes.add(dotName(o, ".d"));
            // Not .<obj>.cmd: make's if_changed writes it after the command, the command itself
            // never does. It stays as the reference recorded it, which is exactly what was run
            // here, and the report reads from it how the object was compiled.
            if (shell.endsWith(" -o " + tmp + " -MQ " + o)) {
                // ENFORCE_UNIQUE_SYMBOLS: the compile wrote .<obj>.tmp; Xen then renames the FILE
                // symbol to the source's path below xen/ (realpath, so links name their target).
                String source = recorded.get().source().orElse(null);
                String compiler = shell.substring(0, shell.indexOf(' '));
                if (source == null || !compiler.endsWith("gcc")) {
                    return Plan.none(o + ": cannot tell how Xen fixes up its symbols (source " + source + ", compiler " + compiler + ")");
                }
                Path real = xen.resolve(source).toRealPath();
                if (!real.startsWith(realXen)) {
                    return Plan.none(o + ": source " + source + " lies outside xen/");
                }
                String objcopy = compiler.substring(0, compiler.length() - "gcc".length()) + "objcopy";
                String fileName = Path.of(source).getFileName().toString();
                shell = shell + " && " + objcopy + " --redefine-sym " + fileName + "=" + realXen.relativize(real)
                        + " " + tmp + " " + o + " && rm -f " + tmp;
                writes.add(tmp);
            }
            boolean isDerived = derived.containsKey(o);
            (isDerived ? second : first).add(new Step(o, shell, isDerived));
        }
        List<Step> all = new ArrayList<>(first);
        all.addAll(second);
        return new Plan(Optional.of(new RecordedCommands(all, writes)), null);
    }

    /** A plan, or the reason there is none. */
    public record Plan(Optional<RecordedCommands> commands, String whyNot) {
        static Plan none(String why) {
            return new Plan(Optional.empty(), why);
        }
    }

    /**
     * Runs the commands in {@code xen/} of the work tree, up to {@code jobs} at a time; derived
     * objects after the objects they come from. Output goes to {@code log}.
     */
    public void run(Path tree, Map<String, String> env, int jobs, Path log)
            throws IOException, InterruptedException, BuildException {
        Path xen = tree.resolve("xen");
        Files.createDirectories(log.getParent());
        runAll(commands.stream().filter(s -> !s.derived()).toList(), xen, env, jobs, log);
        runAll(commands.stream().filter(Step::derived).toList(), xen, env, jobs, log);
    }

    private static void runAll(List<Step> steps, Path xen, Map<String, String> env, int jobs, Path log)
            throws IOException, InterruptedException, BuildException {
        if (steps.isEmpty()) {
            return;
        }
        int threads = Math.max(1, Math.min(jobs, steps.size()));
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "livepatch-build: replay");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<Integer>> results = new ArrayList<>();
            List<Path> logs = new ArrayList<>();
            for (int i = 0; i < steps.size(); i++) {
                Step s = steps.get(i);
                // One log per command while running (they run at once), joined in order afterwards.
                Path part = log.resolveSibling(log.getFileName() + "." + i);
                logs.add(part);
                results.add(pool.submit(() -> new ExternalCommand(List.of("/bin/sh", "-c", s.shellCommand()), xen, env).run(part)));
            }
            List<String> failed = new ArrayList<>();
            for (int i = 0; i < steps.size(); i++) {
                int rc;
                try {
                    rc = results.get(i).get();
                } catch (ExecutionException e) {
                    Throwable c = e.getCause();
                    if (c instanceof IOException io) {
                        throw io;
                    }
                    throw new IllegalStateException(c);
                }
                Files.write(log, Files.readAllBytes(logs.get(i)), java.nio.file.StandardOpenOption.CREATE,
                        java.nio.file.StandardOpenOption.APPEND);
                Files.deleteIfExists(logs.get(i));
                if (rc != 0) {
                    failed.add(steps.get(i).object() + " (exit " + rc + ")");
                }
            }
            if (!failed.isEmpty()) {
                String first = ExternalCommand.firstError(log);
                throw new BuildException(BuildException.Reason.PATCHED_BUILD_FAILED, log,
                        "compiling " + String.join(", ", failed) + " failed" + (first.isEmpty() ? "" : ": " + first));
            }
        } finally {
            // Interrupted: ExternalCommand kills what it started when its thread is interrupted.
            pool.shutdownNow();
        }
    }

    /**
     * Undoes the escaping of scripts/Kbuild.include {@code make-cmd}: {@code $$} was {@code $} and
     * {@code $(pound)} was {@code #}. Any other {@code $} would be a make expansion we cannot do.
     */
    static Optional<String> unescape(String recorded) {
        StringBuilder sb = new StringBuilder(recorded.length());
        for (int i = 0; i < recorded.length(); i++) {
            char c = recorded.charAt(i);
            if (c != '$') {
                sb.append(c);
            } else if (recorded.startsWith("$$", i)) {
                sb.append('$');
                i++;
            } else if (recorded.startsWith("$(pound)", i)) {
                sb.append('#');
                i += "$(pound)".length() - 1;
            } else {
                return Optional.empty();
            }
        }
        return Optional.of(sb.toString());
    }

    /** {@code dir/.name<suffix>} for object {@code dir/name}, relative to xen/. */
    static String dotName(String object, String suffix) {
        int slash = object.lastIndexOf('/');
        return object.substring(0, slash + 1) + "." + object.substring(slash + 1) + suffix;
    }

    private static Path dotFile(Path xen, String object, String suffix) {
        return xen.resolve(dotName(object, suffix));
    }
}
