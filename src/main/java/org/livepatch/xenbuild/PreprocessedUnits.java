package org.livepatch.xenbuild;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Digests of translation units as the preprocessor leaves them ({@code gcc -E -P} with the
 * object's own recorded flags), so that a series step compiles only the objects whose input to
 * the compiler really changed.
 *
 * <p>Why: a header such as {@code asm/msr-index.h} is included by some 340 of Xen 4.17's 416
 * objects, and a changeset that only adds a {@code #define} to it makes every one of them
 * "affected" by the dependency files; compiling them all costs most of a full build, twice in the
 * stable-4.17 series. Preprocessing costs about an eighth of compiling, and a unit whose
 * preprocessed text is unchanged compiles to the same code: {@code __LINE__} and {@code __FILE__}
 * are expanded by then, so they are part of the text. Only what {@code -P} drops (line markers)
 * can differ, and that reaches only the debug line tables, which no payload carries.
 *
 * <p>A command that is not one {@code gcc ... -c SRC -o OUT} (plus Xen's symbol fix-up) has no
 * digest here, and its object is always compiled.
 */
final class PreprocessedUnits {
    /** The compile part of a replayed command: up to the first {@code &&} (the objcopy fix-up follows). */
    private static final Pattern DEPFLAGS = Pattern.compile(" -MMD -MP -MF \\S+");
    private static final Pattern OUTPUT = Pattern.compile(" -o \\S+( -MQ \\S+)?$");

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
        return Optional.of(pre.replace(" -c ", " -E -P "));
    }

    /**
     * The digest of each unit (by object) preprocessed in {@code tree}'s {@code xen/}; objects
     * without a preprocessing command, or whose preprocessing fails (it may fail where the
     * compile would fail too), are left out: the caller compiles them.
     */
    static Map<String, String> digests(Path tree, Map<String, String> commands, Map<String, String> env, int jobs, Path scratch)
            throws IOException, InterruptedException {
        Map<String, String> out = new TreeMap<>();
        if (commands.isEmpty()) {
            return out;
        }
        Files.createDirectories(scratch);
        Path xen = tree.resolve("xen");
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(jobs, commands.size())), r -> {
            Thread t = new Thread(r, "livepatch-build: preprocess");
            t.setDaemon(true);
            return t;
        });
        try {
            List<String> names = new ArrayList<>(commands.keySet());
            List<Future<Optional<String>>> results = new ArrayList<>();
            for (int i = 0; i < names.size(); i++) {
                String object = names.get(i);
                Path file = scratch.resolve(i + ".i");
                Path log = scratch.resolve(i + ".log");
                results.add(pool.submit(() -> {
                    Optional<String> cmd = command(commands.get(object), file.toAbsolutePath());
                    if (cmd.isEmpty()) {
                        return Optional.<String>empty();
                    }
                    int rc = new ExternalCommand(List.of("/bin/sh", "-c", cmd.get()), xen, env).run(log);
                    Optional<String> d = rc == 0 && Files.isRegularFile(file) ? Optional.of(sha256(file)) : Optional.empty();
                    Files.deleteIfExists(file);
                    Files.deleteIfExists(log);
                    return d;
                }));
            }
            for (int i = 0; i < names.size(); i++) {
                try {
                    Optional<String> d = results.get(i).get();
                    if (d.isPresent()) {
                        out.put(names.get(i), d.get());
                    }
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof IOException io) {
                        throw io;
                    }
                    throw new IllegalStateException(e.getCause());
                }
            }
        } finally {
            pool.shutdownNow();
        }
        return out;
    }

    private static String sha256(Path f) throws IOException {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            try (var in = Files.newInputStream(f)) {
                byte[] buf = new byte[1 << 16];
                int n;
                while ((n = in.read(buf)) > 0) {
                    md.update(buf, 0, n);
                }
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every JDK has SHA-256
        }
    }
}
