package org.livepatch.xenbuild;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The dependency index kept beside a cached reference tree: same answers as reading the tree, tree untouched. */
class DependencyIndexFileTest {

    private static void object(Path tree, String obj, String... deps) throws Exception {
        Path o = tree.resolve("xen").resolve(obj);
        Files.createDirectories(o.getParent());
        Files.writeString(o, "obj");
        StringBuilder cmd = new StringBuilder("cmd_" + obj + " := gcc ...\n\nsource_" + obj + " := " + deps[0] + "\n\ndeps_" + obj + " := \\\n");
        for (int i = 1; i < deps.length; i++) {
            cmd.append("  ").append(deps[i]).append(" \\\n");
        }
        cmd.append("\n");
        Files.writeString(o.resolveSibling("." + o.getFileName() + ".cmd"), cmd.toString());
        for (String d : deps) {
            Path f = tree.resolve("xen").resolve(d);
            Files.createDirectories(f.getParent());
            if (!Files.exists(f)) {
                Files.writeString(f, "src");
            }
        }
    }

    @Test
    void storedIndexAnswersAsTheTreeDoesAndIsUsedOnceWritten(@TempDir Path tmp) throws Exception {
        Path tree = tmp.resolve("refs/key/tree");
        object(tree, "common/kernel.o", "common/kernel.c", "include/xen/lib.h");
        object(tree, "common/version.o", "common/version.c");
        object(tree, "common/warning.o", "common/warning.c", "include/xen/lib.h");
        Files.writeString(tree.resolve("xen/common/warning.init.o"), "obj");
        Files.writeString(tree.resolve("xen/common/.warning.init.o.cmd"), "cmd_common/warning.init.o := objcopy x y\n");
        Map<String, String> before = BuildFixtures.checksums(tree);

        DependencyIndex fromTree = DependencyIndex.read(tree);
        DependencyIndex first = DependencyIndexFile.load(tree);
        Path file = tmp.resolve("refs/key").resolve(DependencyIndexFile.NAME);
        assertTrue(Files.isRegularFile(file));
        assertEquals(fromTree, first);
        assertEquals(before, BuildFixtures.checksums(tree), "the tree is not written");
        assertEquals(Set.of("common/kernel.o", "common/warning.o", "common/warning.init.o"),
                first.affectedBy(List.of("xen/include/xen/lib.h")));

        // Once written it is what is read: a tree change no longer shows (the reference never changes).
        object(tree, "common/extra.o", "common/extra.c");
        DependencyIndex second = DependencyIndexFile.load(tree);
        assertEquals(fromTree, second);
        assertEquals(Set.of(), second.affectedBy(List.of("xen/common/extra.c")));

        // A damaged file is ignored and rewritten from the tree.
        Files.writeString(file, Files.readString(file).replace("END\n", ""));
        assertEquals(Set.of("common/extra.o"), DependencyIndexFile.load(tree).affectedBy(List.of("xen/common/extra.c")));
    }

    @Test
    void incompleteOrForeignTextIsNotAnIndex() {
        assertNull(DependencyIndexFile.parse(List.of("something else", "END")));
        assertNull(DependencyIndexFile.parse(List.of("livepatch-build dependency index v1", "O a.o\tb.c")));
        assertNull(DependencyIndexFile.parse(List.of("livepatch-build dependency index v1", "X junk", "END")));
    }
}
