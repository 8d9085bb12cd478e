package org.livepatch.xenbuild;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Which files each object of a built tree was made from, read from the dependency files the
 * build wrote next to the objects: Xen 4.17's fixdep output {@code .<obj>.cmd} (xen/Rules.mk:
 * cmd_and_fixdep; {@code source_<obj>} and {@code deps_<obj>} variables) or, in simpler trees,
 * gcc's {@code -MMD} output {@code .<obj>.d}.
 *
 * <p>This is how we know what a patch affects without a compiler wrapper: an object is affected
 * when any file it was built from is touched. Dependencies are named relative to the tree root
 * with symlinks resolved, because Xen compiles some files through links (arch/x86/efi/boot.c
 * links to common/efi/boot.c) and {@code common/compat/kernel.c} reaches {@code ../kernel.c}.
 *
 * @param objects each object (relative to xen/) and the files it depends on (relative to the tree root)
 * @param derived objects made from another object rather than from source, with that object
 *                (Xen turns {@code foo.o} into {@code foo.init.o} with objcopy: xen/Rules.mk,
 *                the {@code %.init.o: %.o} rule)
 */
public record DependencyIndex(Map<String, Set<String>> objects, Map<String, String> derived) {

    /**
     * Objects that are products of linking, not compiling: they are rebuilt by the link steps
     * we never run (upstream's CC wrapper skipped the same names: built_in.o, prelink.o, and
     * the {@code .xen-syms.N.o} / {@code .xen.efi.N.o} symbol tables, which start with a dot).
     */
    private static final Set<String> LINK_OBJECTS = Set.of("built_in.o", "prelink.o", "built_in_32.o");

    /** Directories below xen/ that hold host tools and test payloads, not the hypervisor. */
    private static final Set<String> NOT_HYPERVISOR = Set.of("tools", "test");

    public DependencyIndex {
        objects = Map.copyOf(objects);
        derived = Map.copyOf(derived);
    }

    public static DependencyIndex read(Path tree) throws IOException {
        Path xen = tree.resolve("xen");
        Path realRoot = tree.toRealPath();
        Map<String, Set<String>> objects = new TreeMap<>();
        Map<String, String> derived = new TreeMap<>();
        Map<String, String> resolved = new HashMap<>();
        Files.walkFileTree(xen, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                Path rel = xen.relativize(dir);
                if (rel.getNameCount() == 1 && NOT_HYPERVISOR.contains(rel.toString())) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                String name = file.getFileName().toString();
                String objName;
                boolean cmd;
                if (name.startsWith(".") && name.endsWith(".o.cmd")) {
                    objName = name.substring(1, name.length() - 4);
                    cmd = true;
                } else if (name.startsWith(".") && name.endsWith(".o.d")) {
                    objName = name.substring(1, name.length() - 2);
                    cmd = false;
                } else {
                    return FileVisitResult.CONTINUE;
                }
                if (objName.startsWith(".") || LINK_OBJECTS.contains(objName)) {
                    return FileVisitResult.CONTINUE;
                }
                Path obj = file.resolveSibling(objName);
                if (!Files.isRegularFile(obj, LinkOption.NOFOLLOW_LINKS)) {
                    return FileVisitResult.CONTINUE;
                }
                String objRel = xen.relativize(obj).toString();
                String text = Files.readString(file, StandardCharsets.ISO_8859_1);
                Set<String> deps = new TreeSet<>();
                for (String d : cmd ? parseFixdep(text) : parseMakeRule(text)) {
                    String norm = resolved.computeIfAbsent(d, k -> normalise(xen, realRoot, k));
                    if (norm != null) {
                        deps.add(norm);
                    }
                }
                if (objName.endsWith(".init.o")) {
                    String base = objRel.substring(0, objRel.length() - ".init.o".length()) + ".o";
                    derived.put(objRel, base);
                }
                objects.merge(objRel, deps, (a, b) -> {
                    Set<String> m = new TreeSet<>(a);
                    m.addAll(b);
                    return m;
                });
                return FileVisitResult.CONTINUE;
            }
        });
        return new DependencyIndex(objects, derived);
    }

    /**
     * Objects to rebuild when these files (relative to the tree root) change: direct dependents,
     * then whatever is derived from them, transitively.
     */
    public Set<String> affectedBy(Collection<String> touched) {
        Set<String> t = Set.copyOf(touched);
        Set<String> out = new TreeSet<>();
        for (var e : objects.entrySet()) {
            if (e.getValue().stream().anyMatch(t::contains)) {
                out.add(e.getKey());
            }
        }
        boolean grew = true;
        while (grew) {
            grew = false;
            for (var e : derived.entrySet()) {
                if (out.contains(e.getValue()) && out.add(e.getKey())) {
                    grew = true;
                }
            }
        }
        return out;
    }

    /**
     * The files {@code object} (relative to xen/) of a built tree was made from, as its newest
     * dependency file says: gcc's {@code .<obj>.d} when the compile left one (a replayed command
     * writes it, fixdep does not run), else {@code .<obj>.cmd}. Empty when it has neither.
     * A patch of a series may add an {@code #include}: the next patches must see the new edge.
     */
    static Set<String> dependenciesOf(Path tree, String object) throws IOException {
        Path xen = tree.resolve("xen");
        Path realRoot = tree.toRealPath();
        Path d = xen.resolve(RecordedCommands.dotName(object, ".d"));
        Path cmd = xen.resolve(RecordedCommands.dotName(object, ".cmd"));
        List<String> raw;
        if (Files.isRegularFile(d)) {
            raw = parseMakeRule(Files.readString(d, StandardCharsets.ISO_8859_1));
        } else if (Files.isRegularFile(cmd)) {
            raw = parseFixdep(Files.readString(cmd, StandardCharsets.ISO_8859_1));
        } else {
            return Set.of();
        }
        Set<String> deps = new TreeSet<>();
        for (String dep : raw) {
            String norm = normalise(xen, realRoot, dep);
            if (norm != null) {
                deps.add(norm);
            }
        }
        return deps;
    }

    /** fixdep output: the {@code source_X :=} value and every plain entry of {@code deps_X :=}. */
    static List<String> parseFixdep(String text) {
        List<String> deps = new java.util.ArrayList<>();
        boolean inDeps = false;
        for (String line : text.split("\n")) {
            if (line.startsWith("source_")) {
                int eq = line.indexOf(":=");
                if (eq > 0) {
                    deps.add(line.substring(eq + 2).strip());
                }
                inDeps = false;
            } else if (line.startsWith("deps_")) {
                inDeps = true;
            } else if (inDeps) {
                String l = line.strip();
                if (l.endsWith("\\")) {
                    l = l.substring(0, l.length() - 1).strip();
                } else {
                    inDeps = false;
                }
                // $(wildcard include/config/...) entries are Kconfig options, not files the object read.
                if (!l.isEmpty() && !l.startsWith("$(")) {
                    deps.add(l);
                }
            }
        }
        return deps;
    }

    /** gcc -MMD output: the prerequisites of the first rule ({@code obj: a.c b.h \ ...}). */
    static List<String> parseMakeRule(String text) {
        String joined = text.replace("\\\n", " ");
        String first = joined.lines().filter(l -> l.contains(":")).findFirst().orElse("");
        int colon = first.indexOf(": ");
        if (colon < 0) {
            colon = first.indexOf(':');
        }
        String prereqs = first.substring(colon + 1).strip();
        return prereqs.isEmpty() ? List.of() : List.of(prereqs.split("\\s+"));
    }

    /** A dependency as a path relative to the tree root, symlinks resolved; null if outside the tree. */
    private static String normalise(Path xen, Path realRoot, String dep) {
        Path p = xen.resolve(dep).normalize();
        try {
            p = p.toRealPath();
        } catch (IOException e) {
            // Gone since (a generated file); keep its lexical form.
        }
        Path abs = p.toAbsolutePath();
        if (!abs.startsWith(realRoot)) {
            Path lexicalRoot = xen.getParent().toAbsolutePath().normalize();
            if (!abs.startsWith(lexicalRoot)) {
                return null; // a system header: never part of a patch to the tree
            }
            return lexicalRoot.relativize(abs).toString();
        }
        return realRoot.relativize(abs).toString();
    }
}
