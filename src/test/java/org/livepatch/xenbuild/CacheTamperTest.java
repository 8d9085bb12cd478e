package org.livepatch.xenbuild;

import org.livepatch.io.FileTrees;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.pipeline.LivepatchPipeline;
import org.livepatch.pipeline.PipelineResult;
import org.livepatch.testsupport.Tools;

/**
 * Issue 14, item 2: every way of damaging the cached reference build of minixen that the issue
 * lists either rebuilds the entry, with one line saying so, and gives a payload byte-identical to
 * the one from the untouched cache, or fails; never a different payload. Each test works on its
 * own copy of one cache built once, so the baseline payloads come from a run nobody tampered
 * with.
 */
class CacheTamperTest {
    @TempDir
    static Path shared;

    private static Path src;
    private static Path pristine;
    private static Path fooPatch;
    /** Untampered payload bytes, by patch file name. */
    private static final Map<String, byte[]> BASELINE = new HashMap<>();

    @TempDir
    Path tmp;

    @BeforeAll
    static void buildTheCacheOnce() throws Exception {
        src = BuildFixtures.copyMinixen(shared);
        // Changes do_foo, which common/compat/foo.c compiles again as compat_foo.
        fooPatch = BuildFixtures.makePatch(src, shared.resolve("foo-triple.patch"),
                new BuildFixtures.Edit("xen/common/foo.c", s -> s.replace("return arg * 2;", "return arg * 3;")));
        pristine = shared.resolve("cache");
        for (Path p : List.of(BuildFixtures.patch("minixen-extra-version.patch"), BuildFixtures.patch("minixen-ex-table.patch"), fooPatch)) {
            PipelineResult r = LivepatchPipeline.run(request(p, pristine, shared.resolve("out-" + p.getFileName())), e -> { });
            BASELINE.put(p.getFileName().toString(), Files.readAllBytes(r.payload()));
        }
    }

    private static BuildRequest request(Path patch, Path cache, Path out) {
        return BuildFixtures.request(src, patch, out.getParent()).outputDir(out).cacheDir(cache).build();
    }

    /** What one run did: its payload and the progress lines it reported. */
    private record Run(byte[] payload, List<String> events) {
        boolean rebuiltReference() {
            return events.stream().anyMatch(e -> e.startsWith("reference-build:STARTED:building "));
        }

        List<String> notices() {
            return events.stream().filter(e -> e.contains(":NOTICE:")).toList();
        }
    }

    /** A private copy of the pristine cache with {@code tamper} applied to its one reference entry. */
    private Path tamperedCache(Tamper tamper) throws Exception {
        Path cache = tmp.resolve("cache");
        Tools.run(null, "cp", "-a", pristine.toString(), cache.toString());
        Path entry;
        try (Stream<Path> s = Files.list(cache.resolve("refs"))) {
            List<Path> dirs = s.filter(Files::isDirectory).toList();
            assertEquals(1, dirs.size(), "one reference entry: " + dirs);
            entry = dirs.get(0);
        }
        tamper.apply(entry);
        return cache;
    }

    private Run run(Path patch, Path cache, String outName) throws Exception {
        List<String> events = new ArrayList<>();
        PipelineResult r = LivepatchPipeline.run(request(patch, cache, tmp.resolve(outName)),
                e -> events.add(e.stage() + ":" + e.phase() + ":" + e.detail()));
        return new Run(Files.readAllBytes(r.payload()), events);
    }

    /** The damaged entry is rebuilt, one line says which file, and the payload is the untampered one. */
    private void assertRebuiltIdentical(Path patch, Tamper tamper, String damagedFile) throws Exception {
        Path cache = tamperedCache(tamper);
        Run r = run(patch, cache, "out");
        assertTrue(java.util.Arrays.equals(BASELINE.get(patch.getFileName().toString()), r.payload()),
                "payload byte-identical to the untampered cache's; events " + r.events());
        assertTrue(r.rebuiltReference(), "the reference was built again: " + r.events());
        assertEquals(1, r.notices().size(), "one line about it: " + r.events());
        assertTrue(r.notices().get(0).contains(damagedFile), damagedFile + " named in " + r.notices());
        assertFalse(r.notices().get(0).contains("\n"), "one line");

        // Repaired for good: the next run reuses the rebuilt entry silently.
        Run again = run(patch, cache, "out-again");
        assertTrue(java.util.Arrays.equals(r.payload(), again.payload()));
        assertFalse(again.rebuiltReference(), again.events().toString());
        assertEquals(List.of(), again.notices());
    }

    @FunctionalInterface
    private interface Tamper {
        void apply(Path entry) throws Exception;
    }

    private static void edit(Path file, String from, String to) throws IOException {
        String s = Files.readString(file, StandardCharsets.ISO_8859_1);
        assertTrue(s.contains(from), from + " in " + file);
        Files.writeString(file, s.replace(from, to), StandardCharsets.ISO_8859_1);
    }

    private static final Path EXTRA_VERSION = BuildFixtures.patch("minixen-extra-version.patch");
    private static final Path EX_TABLE = BuildFixtures.patch("minixen-ex-table.patch");

    @Test
    void untouchedCacheIsReusedWithoutRebuildOrNotice() throws Exception {
        Path cache = tamperedCache(entry -> { });
        // A copied cache has new inodes everywhere: everything is hashed once, and matches.
        Run r = run(EXTRA_VERSION, cache, "out");
        assertTrue(java.util.Arrays.equals(BASELINE.get("minixen-extra-version.patch"), r.payload()));
        assertFalse(r.rebuiltReference(), r.events().toString());
        assertEquals(List.of(), r.notices());
    }

    @Test
    void editedVersionSourceInTheCachedTree() throws Exception {
        assertRebuiltIdentical(EXTRA_VERSION,
                e -> edit(e.resolve("tree/xen/common/version.c"), "return XEN_SUBVERSION;", "return XEN_SUBVERSION + 1;"),
                "tree/xen/common/version.c");
    }

    @Test
    void editedFooSourceInTheCachedTree() throws Exception {
        assertRebuiltIdentical(fooPatch,
                e -> edit(e.resolve("tree/xen/common/foo.c"), "return -38;", "return -39;"),
                "tree/xen/common/foo.c");
    }

    @Test
    void oneFlippedByteOfACachedObject() throws Exception {
        assertRebuiltIdentical(EX_TABLE, e -> flipByte(e.resolve("tree/xen/arch/x86/traps.o"), 100), "tree/xen/arch/x86/traps.o");
    }

    @Test
    void oneFlippedByteWithSizeTimeAndInodeKept() throws Exception {
        // A first run records the entry's metadata as verified; the flip then keeps size, inode
        // and modification time, so only hashing what the payload reads can see it.
        Path cache = tamperedCache(entry -> { });
        run(EX_TABLE, cache, "out-warm");
        Path obj;
        try (Stream<Path> s = Files.list(cache.resolve("refs"))) {
            obj = s.filter(Files::isDirectory).findFirst().orElseThrow().resolve("tree/xen/arch/x86/traps.o");
        }
        Object inode = Files.getAttribute(obj, "unix:ino");
        FileTime mtime = Files.getLastModifiedTime(obj);
        flipByte(obj, 100);
        Files.setLastModifiedTime(obj, mtime);
        assertEquals(inode, Files.getAttribute(obj, "unix:ino"));

        Run r = run(EX_TABLE, cache, "out");
        assertTrue(java.util.Arrays.equals(BASELINE.get("minixen-ex-table.patch"), r.payload()), r.events().toString());
        assertTrue(r.rebuiltReference(), r.events().toString());
        assertEquals(1, r.notices().size(), r.events().toString());
        assertTrue(r.notices().get(0).contains("tree/xen/arch/x86/traps.o"), r.notices().toString());
    }

    @Test
    void debugSwitchedOnInTheCachedConfig() throws Exception {
        assertRebuiltIdentical(EXTRA_VERSION,
                e -> edit(e.resolve("tree/xen/.config"), "# CONFIG_DEBUG is not set", "CONFIG_DEBUG=y"),
                "tree/xen/.config");
    }

    @Test
    void oneDependencyLineDeletedFromTheIndex() throws Exception {
        assertRebuiltIdentical(fooPatch, e -> {
            Path idx = e.resolve("dependencies.idx");
            List<String> lines = new ArrayList<>(Files.readAllLines(idx));
            assertTrue(lines.removeIf(l -> l.startsWith("O common/compat/foo.o\t")), "the compat object's line");
            Files.write(idx, lines);
        }, "dependencies.idx");
    }

    @Test
    void randomBytesInTheIndex() throws Exception {
        assertRebuiltIdentical(EXTRA_VERSION, e -> Files.write(e.resolve("dependencies.idx"), randomBytes(300)), "dependencies.idx");
    }

    @Test
    void deletedReferenceProperties() throws Exception {
        assertRebuiltIdentical(EXTRA_VERSION, e -> Files.delete(e.resolve("reference.properties")), "reference.properties");
    }

    @Test
    void deletedTree() throws Exception {
        assertRebuiltIdentical(EXTRA_VERSION, e -> FileTrees.delete(e.resolve("tree")), "/tree");
    }

    @Test
    void addedHeaderInTheCachedTree() throws Exception {
        assertRebuiltIdentical(EXTRA_VERSION, e -> Files.writeString(e.resolve("tree/xen/include/xen/extra.h"), "#define X 1\n"),
                "tree/xen/include/xen/extra.h");
    }

    @Test
    void wrongDigestInTheSourceRecord() throws Exception {
        Path cache = tamperedCache(entry -> { });
        Path record;
        try (Stream<Path> s = Files.list(cache.resolve("sources"))) {
            record = s.findFirst().orElseThrow();
        }
        String text = Files.readString(record);
        assertTrue(text.contains("\ndigest="), text);
        Files.writeString(record, text.replaceAll("\ndigest=[0-9a-f]+", "\ndigest=" + "0".repeat(64)));

        Run r = run(EXTRA_VERSION, cache, "out");
        assertTrue(java.util.Arrays.equals(BASELINE.get("minixen-extra-version.patch"), r.payload()), r.events().toString());
        assertEquals(1, r.notices().size(), r.events().toString());
        assertTrue(r.notices().get(0).contains(record.getFileName().toString()), r.notices().toString());
        // The right key was found again: the existing entry is used, nothing is rebuilt.
        assertFalse(r.rebuiltReference(), r.events().toString());
        Run again = run(EXTRA_VERSION, cache, "out-again");
        assertEquals(List.of(), again.notices());
    }

    @Test
    void aConsistentRecordWithAnotherDigestIsDroppedWhenTheCopyDisagrees() throws Exception {
        // The check line recomputed (SHA-256 of path NUL fingerprint NUL digest, as documented):
        // the record is believed, its key has no entry, and the copy of SRC hashes differently.
        Path cache = tamperedCache(entry -> { });
        Path record;
        try (Stream<Path> s = Files.list(cache.resolve("sources"))) {
            record = s.findFirst().orElseThrow();
        }
        String text = Files.readString(record);
        String fp = text.lines().filter(l -> l.startsWith("fingerprint=")).findFirst().orElseThrow().substring(12);
        String forged = "1".repeat(64);
        String check = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest((src.toAbsolutePath() + "\0" + fp + "\0" + forged).getBytes(StandardCharsets.UTF_8)));
        Files.writeString(record, text.replaceAll("\ndigest=[0-9a-f]+", "\ndigest=" + forged).replaceAll("check=[0-9a-f]+", "check=" + check));

        Run r = run(EXTRA_VERSION, cache, "out");
        assertTrue(java.util.Arrays.equals(BASELINE.get("minixen-extra-version.patch"), r.payload()), r.events().toString());
        assertEquals(1, r.notices().size(), r.events().toString());
        assertTrue(r.notices().get(0).contains("held a digest that SRC does not have"), r.notices().toString());
        try (Stream<Path> s = Files.list(cache.resolve("refs"))) {
            assertEquals(1, s.filter(Files::isDirectory).count(), "no entry left for the forged key");
        }
    }

    private static void flipByte(Path file, int offset) throws IOException {
        try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
            ch.read(b, offset);
            b.put(0, (byte) (b.get(0) ^ 0x01));
            b.rewind();
            ch.write(b, offset);
        }
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new java.util.Random(14).nextBytes(b);
        return b;
    }
}
