package org.livepatch.diff;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.ElfReader;
import org.livepatch.elf.Symbol;
import org.livepatch.testsupport.Tools;

/**
 * One case of {@code xen-src-fixtures/diff}: its {@code expect} file, and the objects built from
 * {@code orig.c} and {@code patched.c} with gcc, as {@code check-compiles.sh} builds them (both
 * sides under the same file name, so STT_FILE and {@code __FILE__} agree). A stand-in
 * {@code xen-syms} is linked from the original object with {@code ld}, so old sizes, padding and
 * local-symbol file runs come from a real linked image.
 */
record FixtureCase(String name, Path dir, String result, Set<String> changed, Set<String> added, Set<String> lineOnly,
                   List<String> refused, List<String> cflags, List<List<String>> variants) {

    static Path root() {
        return Tools.fixtures().resolve("diff");
    }

    static List<FixtureCase> all() throws IOException {
        List<FixtureCase> l = new ArrayList<>();
        try (var s = Files.list(root())) {
            for (Path d : s.sorted().toList()) {
                if (Files.isRegularFile(d.resolve("expect"))) {
                    l.add(load(d));
                }
            }
        }
        return l;
    }

    static FixtureCase load(Path d) throws IOException {
        String result = null;
        Set<String> changed = new LinkedHashSet<>();
        Set<String> added = new LinkedHashSet<>();
        Set<String> lineOnly = new LinkedHashSet<>();
        List<String> refused = new ArrayList<>();
        List<String> cflags = new ArrayList<>();
        List<List<String>> variants = new ArrayList<>();
        for (String line : Files.readAllLines(d.resolve("expect"))) {
            int c = line.indexOf(':');
            if (line.startsWith("#") || c < 0) {
                continue;
            }
            String key = line.substring(0, c).trim();
            String value = line.substring(c + 1).trim();
            switch (key) {
                case "result" -> result = value;
                case "changed" -> changed.addAll(words(value));
                case "new" -> added.addAll(words(value));
                case "line-only" -> lineOnly.addAll(words(value));
                case "refused" -> refused.add(value);
                case "cflags" -> cflags.addAll(words(value));
                case "cflags-variants" -> {
                    for (String v : value.split("\\|")) {
                        variants.add(words(v));
                    }
                }
                default -> { }
            }
        }
        if (variants.isEmpty()) {
            variants.add(List.of());
        }
        return new FixtureCase(d.getFileName().toString(), d, result, changed, added, lineOnly, refused, cflags, variants);
    }

    private static List<String> words(String s) {
        return Arrays.stream(s.trim().split("\\s+")).filter(w -> !w.isEmpty()).toList();
    }

    /** The three inputs of one diff: original, patched and the stand-in xen-syms. */
    record Build(Path orig, Path patched, Path xenSyms) {}

    /** Compiles variant {@code v} of both sides into {@code work}. */
    Build build(Path work, int v) throws IOException, InterruptedException {
        String obj = name + (variants.size() > 1 ? ".v" + (v + 1) : "") + ".o";
        Path[] out = new Path[2];
        String[] sides = {"orig", "patched"};
        List<String> base = words(Files.readString(root().resolve("CFLAGS")));
        for (int i = 0; i < 2; i++) {
            Path sd = work.resolve(sides[i]);
            Files.createDirectories(sd);
            Files.copy(dir.resolve(sides[i] + ".c"), sd.resolve(name + ".c"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            List<String> cmd = new ArrayList<>();
            cmd.add(System.getenv().getOrDefault("CC", "gcc"));
            cmd.addAll(base);
            cmd.add("-I" + root().resolve("include"));
            cmd.addAll(cflags);
            cmd.addAll(variants.get(v));
            cmd.addAll(List.of("-c", name + ".c", "-o", obj));
            Tools.run(sd, cmd);
            out[i] = sd.resolve(obj);
        }
        return new Build(out[0], out[1], linkXenSyms(out[0], work.resolve(obj + ".xen-syms")));
    }

    /** Links {@code obj} into an executable, defining its undefined symbols as absolute addresses. */
    static Path linkXenSyms(Path obj, Path out) throws IOException, InterruptedException {
        ElfFile e = ElfReader.read(obj);
        List<String> cmd = new ArrayList<>(List.of("ld", "-o", out.toString(), "-e", "0", "--noinhibit-exec"));
        Set<String> seen = new LinkedHashSet<>();
        for (Symbol s : e.symbols()) {
            if (s.index() > 0 && s.isUndefined() && !s.name().isEmpty() && seen.add(s.name())) {
                cmd.add("--defsym=" + s.name() + "=0x1000");
            }
        }
        cmd.add(obj.toString());
        Tools.run(null, cmd);
        return out;
    }
}
