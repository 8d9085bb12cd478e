package org.livepatch.xenbuild;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Translation units as the preprocessor leaves them ({@code gcc -E -P} with the object's own
 * recorded flags), so that a series step compiles only the objects whose input to the compiler
 * changed in a way that can reach their code ({@link UnitChange}).
 *
 * <p>Why: a header such as {@code asm/msr-index.h} is included by some 340 of Xen 4.17's 416
 * objects, and a changeset that only adds a {@code #define} to it makes every one of them
 * "affected" by the dependency files; compiling them all costs most of a full build, twice in the
 * stable-4.17 series. Preprocessing costs about an eighth of compiling, and a unit whose
 * preprocessed text is unchanged compiles to the same code: {@code __LINE__} and {@code __FILE__}
 * are expanded by then, so they are part of the text. Only what {@code -P} drops (line markers)
 * can differ, and that reaches only the debug line tables, which no payload carries. Where the
 * text does differ, most often only in declarations the unit never uses, {@link UnitChange}
 * tells.
 *
 * <p>A command that is not one {@code gcc ... -c SRC -o OUT} (plus Xen's symbol fix-up) has no
 * text here, and its object is always compiled.
 */
final class PreprocessedUnits {
    /** The compile part of a replayed command: up to the first {@code &&} (the objcopy fix-up follows). */
    private static final Pattern DEPFLAGS = Pattern.compile(" -MMD -MP -MF \\S+");
    private static final Pattern OUTPUT = Pattern.compile(" -o \\S+( -MQ \\S+)?$");

    /** A line -dU adds: a macro expanded or tested, defined or not at that point. */
    private static final Pattern MACRO_LINE = Pattern.compile("#(?:define|undef) ([A-Za-z_][A-Za-z0-9_]*)");

    private static final String NO_TRACKING = "-ftrack-macro-expansion=0";

    private PreprocessedUnits() {}

    /** The preprocessing command for a recorded compile, writing to {@code out}; empty when there is none. */
    static Optional<String> command(String shellCommand, Path out) {
        String first = shellCommand.split(" && ", 2)[0].strip();
        String compiler = first.split(" ", 2)[0];
        if (!compiler.endsWith("gcc") && !compiler.endsWith("cc")) {
            return Optional.empty();
        }
        int c = first.indexOf(" -c ");
        if (c < 0 || first.indexOf(" -c ", c + 1) >= 0) {
            return Optional.empty();
        }
        Matcher o = OUTPUT.matcher(first);
        if (!o.find()) {
            return Optional.empty();
        }
        String pre = first.substring(0, o.start()) + " -o " + out;
        pre = DEPFLAGS.matcher(pre).replaceAll("");
        if (pre.contains("-MMD") || pre.contains("-MD") || pre.contains("-MF")) {
            return Optional.empty(); // dependency output in another form: it would write into the tree
        }
        // -ftrack-macro-expansion=0: where a token came from matters to diagnostics only, and
        // not tracking it makes preprocessing a fifth faster (the text is the same).
        return Optional.of(pre.replace(" -c ", " -E -P ") + " " + NO_TRACKING);
    }

    /**
     * Each unit (by object) preprocessed in {@code tree}'s {@code xen/}, written to
     * {@code into/OBJECT.i} (kept: the next step compares against it); objects without a
     * preprocessing command, or whose preprocessing fails (it may fail where the compile would
     * fail too), are left out: the caller compiles them.
     */
    static Map<String, Path> texts(Path tree, Map<String, String> commands, Map<String, String> env, int jobs, Path into)
            throws IOException, InterruptedException {
        return texts(tree, commands, env, jobs, into, null);
    }

    /**
     * As {@link #texts(Path, Map, Map, int, Path)}, and when {@code macrosSeen} is given, each
     * unit is preprocessed with {@code -dU} as well, which lists every macro the preprocessor
     * expanded or tested ({@code #define NAME ...} or {@code #undef NAME} lines at the point of
     * first use); those lines are taken out of the text, and their names go to
     * {@code macrosSeen} by object (see {@link AddedMacros}).
     */
    static Map<String, Path> texts(Path tree, Map<String, String> commands, Map<String, String> env, int jobs, Path into,
            Map<String, Set<String>> macrosSeen) throws IOException, InterruptedException {
        Map<String, Path> out = new TreeMap<>();
        if (commands.isEmpty()) {
            return out;
        }
        Files.createDirectories(into);
        Path xen = tree.resolve("xen");
        List<String> names = new ArrayList<>(commands.keySet());
        List<Optional<Path>> results = inParallel(jobs, names, object -> {
            Path file = into.resolve(object + ".i").toAbsolutePath();
            Path log = into.resolve(object + ".log");
            Files.createDirectories(file.getParent());
            Optional<String> cmd = command(commands.get(object), file).map(c -> macrosSeen == null ? c : c + " -dU");
            if (cmd.isEmpty()) {
                return Optional.<Path>empty();
            }
            int rc = new ExternalCommand(List.of("/bin/sh", "-c", cmd.get()), xen, env).run(log);
            Files.deleteIfExists(log);
            if (rc == 0 && Files.isRegularFile(file)) {
                if (macrosSeen != null) {
                    Set<String> seen = new TreeSet<>();
                    List<String> kept = new ArrayList<>();
                    for (String line : Files.readAllLines(file, StandardCharsets.ISO_8859_1)) {
                        Matcher m = MACRO_LINE.matcher(line);
                        if (m.lookingAt()) {
                            seen.add(m.group(1));
                        } else {
                            kept.add(line);
                        }
                    }
                    Files.write(file, kept, StandardCharsets.ISO_8859_1);
                    synchronized (macrosSeen) {
                        macrosSeen.put(object, seen);
                    }
                }
                return Optional.of(file);
            }
            Files.deleteIfExists(file);
            return Optional.<Path>empty();
        });
        for (int i = 0; i < names.size(); i++) {
            if (results.get(i).isPresent()) {
                out.put(names.get(i), results.get(i).get());
            }
        }
        return out;
    }

    /**
     * Whether each object must be compiled, given its unit's text before and after
     * ({@link UnitChange}), in parallel; {@code commands} are the compile commands.
     */
    static Map<String, UnitChange.Verdict> compare(Map<String, Path> before, Map<String, Path> after, Map<String, String> commands,
            int jobs) throws IOException, InterruptedException {
        return compare(before, after, commands, jobs, new java.util.concurrent.ConcurrentHashMap<>());
    }

    /**
     * As {@link #compare(Map, Map, Map, int)}, with {@code outlines}: those of the texts before
     * (by object; a missing or stale one is read anew), replaced by those of the texts after.
     */
    static Map<String, UnitChange.Verdict> compare(Map<String, Path> before, Map<String, Path> after, Map<String, String> commands,
            int jobs, Map<String, UnitOutline> outlines) throws IOException, InterruptedException {
        List<String> names = new ArrayList<>(after.keySet());
        names.retainAll(before.keySet());
        List<UnitChange.Verdict> verdicts = inParallel(jobs, names, object -> {
            Path b = before.get(object);
            Path a = after.get(object);
            if (Files.mismatch(b, a) == -1) {
                return new UnitChange.Verdict(false, "the same text");
            }
            // ISO-8859-1: every byte is one char, so text outside ASCII (in literals) cannot fail decoding.
            UnitChange.Result r = UnitChange.compare(Files.readString(b, StandardCharsets.ISO_8859_1), outlines.get(object),
                    Files.readString(a, StandardCharsets.ISO_8859_1), commands.get(object));
            if (r.after().isPresent()) {
                outlines.put(object, r.after().get());
            } else {
                outlines.remove(object);
            }
            return r.verdict();
        });
        Map<String, UnitChange.Verdict> out = new TreeMap<>();
        for (int i = 0; i < names.size(); i++) {
            out.put(names.get(i), verdicts.get(i));
        }
        return out;
    }

    /**
     * For each of {@code objects}: whether its unit's two texts compile to the same object
     * (debug sections stripped), compiled with its own flags from the texts themselves; empty
     * when they do, else what differs. This is the shortcut's proof by GCC
     * ({@code LPB_UNIT_SHORTCUT=prove}).
     */
    static Map<String, Optional<String>> prove(Path tree, List<String> objects, Map<String, Path> before, Map<String, Path> after,
            Map<String, String> commands, Map<String, String> env, int jobs, Path scratch) throws IOException, InterruptedException {
        Files.createDirectories(scratch);
        Path xen = tree.resolve("xen");
        List<Optional<String>> results = inParallel(jobs, objects, object -> {
            Path dir = Files.createTempDirectory(scratch, "prove");
            try {
                byte[][] built = new byte[2][];
                for (int side = 0; side < 2; side++) {
                    // Run where the build runs (the assembler includes files by relative path);
                    // the text comes on standard input so that both sides have the same file name.
                    Path out = dir.resolve("side" + side + ".o").toAbsolutePath();
                    Optional<String> cmd = compileTextCommand(commands.get(object), out);
                    if (cmd.isEmpty()) {
                        return Optional.of("its compile command cannot take preprocessed text");
                    }
                    Path in = (side == 0 ? before : after).get(object).toAbsolutePath();
                    int rc = new ExternalCommand(List.of("/bin/sh", "-c", cmd.get() + " < '" + in + "' && objcopy --strip-debug '" + out + "'"),
                            xen, env).run(dir.resolve("side" + side + ".log"));
                    if (rc != 0) {
                        return Optional.of("compiling its " + (side == 0 ? "earlier" : "new") + " text failed (exit " + rc + ")");
                    }
                    built[side] = Files.readAllBytes(out);
                }
                return java.util.Arrays.equals(built[0], built[1]) ? Optional.<String>empty()
                        : Optional.of("GCC's objects differ");
            } finally {
                org.livepatch.io.FileTrees.delete(dir);
            }
        });
        Map<String, Optional<String>> out = new TreeMap<>();
        for (int i = 0; i < objects.size(); i++) {
            out.put(objects.get(i), results.get(i));
        }
        return out;
    }

    /**
     * The recorded compile reading preprocessed text from standard input ({@code -x cpp-output
     * -}) and writing {@code out}; without {@code -Werror} and warnings, as GCC warns about
     * expanded macros it stays quiet about in the source. Empty when there is none.
     */
    static Optional<String> compileTextCommand(String shellCommand, Path out) {
        return command(shellCommand, out).map(pre -> {
            String c = pre.replace(" " + NO_TRACKING, "").replace(" -E -P ", " -c ");
            int src = c.indexOf(" -c ") + 4;
            int end = c.indexOf(' ', src);
            return c.substring(0, src) + "-x cpp-output -" + c.substring(end).replace(" -Werror", "") + " -w";
        });
    }

    private interface Job<T> {
        T run(String object) throws IOException, InterruptedException;
    }

    private static <T> List<T> inParallel(int jobs, List<String> names, Job<T> job) throws IOException, InterruptedException {
        List<T> out = new ArrayList<>(names.size());
        if (names.isEmpty()) {
            return out;
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(jobs, names.size())), r -> {
            Thread t = new Thread(r, "livepatch-build: preprocess");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<T>> results = new ArrayList<>();
            for (String name : names) {
                results.add(pool.submit(() -> job.run(name)));
            }
            for (Future<T> f : results) {
                try {
                    out.add(f.get());
                } catch (ExecutionException e) {
                    throw ExternalCommand.unwrap(e);
                }
            }
        } finally {
            pool.shutdownNow();
        }
        return out;
    }
}
