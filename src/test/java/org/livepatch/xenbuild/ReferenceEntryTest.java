package org.livepatch.xenbuild;

import org.livepatch.io.FileTrees;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The two tiers of the cache entry check, on a hand-made entry, and the set of files a replayed run reads. */
class ReferenceEntryTest {
    @TempDir
    Path tmp;

    private Path entry() throws Exception {
        return entry(tmp.resolve("refs/k"));
    }

    private static Path entry(Path e) throws Exception {
        Files.createDirectories(e.resolve("tree/xen/common"));
        Files.writeString(e.resolve("tree/xen/common/a.c"), "int a;\n");
        Files.writeString(e.resolve("tree/xen/common/b.c"), "int b;\n");
        Files.createSymbolicLink(e.resolve("tree/xen/common/l.c"), Path.of("a.c"));
        Files.writeString(e.resolve("reference.properties"), "k=v\n");
        Files.writeString(e.resolve("dependencies.idx"), "idx\n");
        ReferenceEntry.seal(e, "k");
        return e;
    }

    @Test
    void aTouchedButUnchangedFileIsHashedOnceAndAccepted() throws Exception {
        Path e = entry();
        ReferenceEntry.open(e, "k");
        String statBefore = Files.readString(e.resolve("stat"));
        Files.setLastModifiedTime(e.resolve("tree/xen/common/a.c"), FileTime.fromMillis(1_000_000));
        ReferenceEntry.open(e, "k");
        String statAfter = Files.readString(e.resolve("stat"));
        assertTrue(!statBefore.equals(statAfter) && statAfter.contains("\t1000000000000\t"), "refreshed: " + statAfter);
    }

    @Test
    void tierOneSeesAChangedSize() throws Exception {
        Path e = entry();
        Files.writeString(e.resolve("tree/xen/common/b.c"), "int bb;\n");
        CacheDamage d = assertThrows(CacheDamage.class, () -> ReferenceEntry.open(e, "k"));
        assertEquals(e.resolve("tree/xen/common/b.c"), d.file());
    }

    @Test
    void tierOneSeesARetargetedLinkAndAnAddedFile() throws Exception {
        Path e = entry();
        Files.delete(e.resolve("tree/xen/common/l.c"));
        Files.createSymbolicLink(e.resolve("tree/xen/common/l.c"), Path.of("b.c"));
        assertEquals(e.resolve("tree/xen/common/l.c"), assertThrows(CacheDamage.class, () -> ReferenceEntry.open(e, "k")).file());

        Path e2 = entry(tmp.resolve("refs2/k"));
        Files.writeString(e2.resolve("tree/xen/common/c.h"), "");
        assertEquals(e2.resolve("tree/xen/common/c.h"), assertThrows(CacheDamage.class, () -> ReferenceEntry.open(e2, "k")).file());
    }

    @Test
    void tierTwoSeesAnInPlaceWriteThatKeptSizeTimeAndInode() throws Exception {
        Path e = entry();
        ReferenceEntry.open(e, "k"); // stat record verified
        Path f = e.resolve("tree/xen/common/a.c");
        FileTime t = Files.getLastModifiedTime(f);
        try (var ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap("z".getBytes(java.nio.charset.StandardCharsets.US_ASCII)), 4);
        }
        Files.setLastModifiedTime(f, t);
        ReferenceEntry opened = ReferenceEntry.open(e, "k"); // tier 1 cannot tell, by design
        opened.verify(List.of("xen/common/b.c", "xen/common/new-file.c"));
        assertEquals(f, assertThrows(CacheDamage.class, () -> opened.verify(List.of("xen/common/a.c"))).file());
        assertEquals(f, assertThrows(CacheDamage.class, opened::verifyAll).file());
    }

    @Test
    void aMissingTreeIsDamageNotAnIoError() throws Exception {
        Path e = entry();
        FileTrees.delete(e.resolve("tree"));
        assertEquals(e.resolve("tree"), assertThrows(CacheDamage.class, () -> ReferenceEntry.open(e, "k")).file());
    }

    @Test
    void anotherKeysOrAnEditedManifestIsDamage() throws Exception {
        Path e = entry();
        assertThrows(CacheDamage.class, () -> ReferenceEntry.open(e, "other"));
        Path m = e.resolve("manifest");
        Files.writeString(m, Files.readString(m).replace("\tk\n", "\tk \n"));
        CacheDamage d = assertThrows(CacheDamage.class, () -> ReferenceEntry.open(e, "k"));
        assertEquals(m, d.file());
    }

    @Test
    void replayedRunReadsThePatchedFilesTheObjectsTheirCommandsAndDependencies() {
        DependencyIndex idx = new DependencyIndex(Map.of(
                "common/foo.o", Set.of("xen/common/foo.c", "xen/include/xen/lib.h"),
                "common/compat/foo.o", Set.of("xen/common/compat/foo.c", "xen/common/foo.c", "xen/include/xen/compat.h"),
                "common/version.o", Set.of("xen/common/version.c")), Map.of());
        assertEquals(List.of(
                "xen/.config",
                "xen/common/.foo.o.cmd",
                "xen/common/compat/.foo.o.cmd",
                "xen/common/compat/foo.c",
                "xen/common/compat/foo.o",
                "xen/common/foo.c",
                "xen/common/foo.o",
                "xen/include/xen/compat.h",
                "xen/include/xen/lib.h",
                "xen/xen-syms"),
                PatchedBuild.readSet(Set.of("xen/common/foo.c"), idx, List.of("common/foo.o", "common/compat/foo.o")));
    }
}
