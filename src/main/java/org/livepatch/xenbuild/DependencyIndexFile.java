package org.livepatch.xenbuild;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.livepatch.io.AtomicFile;

/**
 * The {@link DependencyIndex} of a cached reference build, kept next to its tree
 * ({@code refs/<key>/dependencies.idx}): the tree never changes once published, so its index is
 * read from its ~460 {@code .cmd} files (and their ~1,500 distinct paths resolved) once, not on
 * every run. Written atomically by the first run that needs it; a damaged or foreign file is
 * ignored and rewritten. The tree itself is never written.
 *
 * <p>Format, one line each: {@code O <object>\t<dep>\t<dep>...} and {@code D <derived>\t<base>},
 * after a version line.
 */
public final class DependencyIndexFile {
    static final String NAME = "dependencies.idx";
    private static final String HEADER = "livepatch-build dependency index v1";

    private DependencyIndexFile() {}

    public static DependencyIndex load(Path tree) throws IOException {
        Path file = tree.getParent().resolve(NAME);
        if (Files.isRegularFile(file)) {
            DependencyIndex idx = null;
            try {
                idx = parse(List.of(StandardCharsets.UTF_8.newDecoder()
                        .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file))).toString().split("\n")));
            } catch (java.nio.charset.CharacterCodingException e) {
                // not text: damaged, rewritten below
            }
            if (idx != null) {
                return idx;
            }
        }
        DependencyIndex idx = DependencyIndex.read(tree);
        AtomicFile.write(file, format(idx).getBytes(StandardCharsets.UTF_8));
        return idx;
    }

    static String format(DependencyIndex idx) {
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        new TreeMap<>(idx.objects()).forEach((o, deps) -> {
            sb.append("O ").append(o);
            deps.forEach(d -> sb.append('\t').append(d));
            sb.append('\n');
        });
        new TreeMap<>(idx.derived()).forEach((d, b) -> sb.append("D ").append(d).append('\t').append(b).append('\n'));
        sb.append("END\n");
        return sb.toString();
    }

    /** The index, or null if the text is not a complete index of this version. */
    static DependencyIndex parse(List<String> lines) {
        if (lines.size() < 2 || !lines.get(0).equals(HEADER) || !lines.get(lines.size() - 1).equals("END")) {
            return null;
        }
        Map<String, Set<String>> objects = new TreeMap<>();
        Map<String, String> derived = new TreeMap<>();
        for (String l : lines.subList(1, lines.size() - 1)) {
            String[] f = l.substring(Math.min(2, l.length())).split("\t", -1);
            if (l.startsWith("O ")) {
                objects.put(f[0], new LinkedHashSet<>(List.of(f).subList(1, f.length)));
            } else if (l.startsWith("D ") && f.length == 2) {
                derived.put(f[0], f[1]);
            } else {
                return null;
            }
        }
        return new DependencyIndex(objects, derived);
    }
}
