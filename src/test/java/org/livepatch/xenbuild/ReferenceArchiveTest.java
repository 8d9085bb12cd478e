package org.livepatch.xenbuild;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.luben.zstd.ZstdOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.stage.StageClock;

/**
 * The reference archive on a hand-made cache entry: a round trip into another cache (content,
 * modes, modification times, links; the cache accepts the entry), and each refusal of the issue:
 * truncated, tampered (body, header, a path, an extra file), another format version, not an
 * archive, another key than asked for. A refused or killed import leaves no entry.
 */
class ReferenceArchiveTest {
    @TempDir
    Path tmp;

    private final StageClock clock = new StageClock(e -> { });
    private Workspace exporter;
    private Workspace importer;
    private ReferenceKey key;
    private Path entry;
    private Path archive;

    private static Map<String, String> inputs(String gcc) {
        Map<String, String> in = new TreeMap<>();
        in.put("source.sha256", "a".repeat(64));
        in.put("config.sha256", "b".repeat(64));
        in.put("gcc", gcc);
        in.put("ld", "GNU ld (Test) 2.40");
        in.put("make.args", "");
        in.put("env.CFLAGS", "-O2\nsecond line");
        return in;
    }

    @BeforeEach
    void anEntryAndItsArchive() throws Exception {
        exporter = new Workspace(tmp.resolve("cache-a"));
        importer = new Workspace(tmp.resolve("elsewhere/cache-b"));
        key = ReferenceKey.fromInputs(inputs("gcc (Test) 12.2.0"));
        entry = exporter.reference(key.hex());
        Path xen = Files.createDirectories(entry.resolve("tree/xen/common"));
        Files.writeString(xen.resolve("a.c"), "int a;\n");
        Files.write(xen.resolve("a.o"), new byte[] {0x7f, 'E', 'L', 'F', 0, 1, 2, (byte) 0xff});
        Path script = Files.writeString(entry.resolve("tree/xen/mkhdr"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-x---"));
        Files.createSymbolicLink(xen.resolve("l.c"), Path.of("a.c"));
        Files.setLastModifiedTime(xen.resolve("a.c"), FileTime.from(1_600_000_000_123_456_789L, TimeUnit.NANOSECONDS));
        Files.setLastModifiedTime(xen.resolve("a.o"), FileTime.from(1_600_000_001_000_000_000L, TimeUnit.NANOSECONDS));
        Files.setLastModifiedTime(xen, FileTime.from(1_500_000_000L, TimeUnit.SECONDS));
        Files.writeString(entry.resolve(ReferenceEntry.STAMP), "# reference build inputs\n");
        Files.writeString(entry.resolve(DependencyIndexFile.NAME), "livepatch-build dependency index v1\nO common/a.o\txen/common/a.c\nEND\n");
        ReferenceEntry.seal(entry, key.hex());
        archive = tmp.resolve("ref.lpbref");
        try (OutputStream out = Files.newOutputStream(archive)) {
            ReferenceArchive.write(entry, key, "c".repeat(40), out);
        }
    }

    private ReferenceTransfer.Imported importInto(Workspace ws, Path file, Optional<ReferenceKey> expected) throws Exception {
        return ReferenceTransfer.importArchive(ws, file, expected, clock);
    }

    @Test
    void aRoundTripGivesTheSameEntryInAnotherCacheThatTheCacheAccepts() throws Exception {
        ReferenceTransfer.Imported i = importInto(importer, archive, Optional.of(key));
        Path copy = importer.reference(key.hex());
        assertEquals(copy, i.entry());
        assertFalse(i.alreadyCached());
        for (String rel : List.of("manifest", "reference.properties", "dependencies.idx", "tree/xen/common/a.c",
                "tree/xen/common/a.o", "tree/xen/mkhdr")) {
            assertArrayEquals(Files.readAllBytes(entry.resolve(rel)), Files.readAllBytes(copy.resolve(rel)), rel);
            assertEquals(Files.getPosixFilePermissions(entry.resolve(rel)), Files.getPosixFilePermissions(copy.resolve(rel)), rel);
            assertEquals(Files.getLastModifiedTime(entry.resolve(rel)), Files.getLastModifiedTime(copy.resolve(rel)), rel);
        }
        assertEquals(Path.of("a.c"), Files.readSymbolicLink(copy.resolve("tree/xen/common/l.c")));
        assertEquals(FileTime.from(1_500_000_000L, TimeUnit.SECONDS), Files.getLastModifiedTime(copy.resolve("tree/xen/common")));
        // The importer's own stat record (its inodes), so the first use hashes nothing again.
        String stat = Files.readString(copy.resolve("stat"));
        Object inode = Files.readAttributes(copy.resolve("tree/xen/common/a.o"), java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        assertTrue(stat.contains("tree/xen/common/a.o\t8\t1600000001000000000\t" + inode), stat);
        ReferenceEntry.open(copy, key.hex()).verifyAll();
        assertEquals(List.of(key.hex(), key.hex() + ".lock"), names(importer.refs()));

        ReferenceTransfer.Imported again = importInto(importer, archive, Optional.empty());
        assertTrue(again.alreadyCached());
        // manifest, reference.properties, dependencies.idx; tree, tree/xen, tree/xen/common; a.c, a.o, mkhdr; l.c
        assertEquals(10, again.entries());
    }

    @Test
    void theHeaderSaysTheVersionKeyAndInputsWithoutUnpacking() throws Exception {
        ReferenceArchive.Header h = ReferenceArchive.readHeader(archive);
        assertEquals(1, h.version());
        assertEquals(key, h.key());
        assertEquals("-O2\nsecond line", h.key().inputs().get("env.CFLAGS"));
        assertEquals("c".repeat(40), h.info().get("xen-syms.build-id"));
        String text = new String(Files.readAllBytes(archive), StandardCharsets.ISO_8859_1);
        assertTrue(text.startsWith("livepatch-build reference archive v1\nkey=" + key.hex() + "\n"), text.substring(0, 80));
        assertTrue(text.contains("\ninput.gcc=gcc (Test) 12.2.0\n"));
    }

    @Test
    void aTruncatedArchiveIsRefusedAtEveryLength() throws Exception {
        byte[] whole = Files.readAllBytes(archive);
        int header = new String(whole, StandardCharsets.ISO_8859_1).indexOf("\n\n") + 2;
        for (int len : new int[] {0, 20, header - 1, header, header + 10, (header + whole.length) / 2, whole.length - 1}) {
            Path cut = Files.write(tmp.resolve("cut-" + len + ".lpbref"), java.util.Arrays.copyOf(whole, len));
            BuildException e = refused(cut, Optional.empty());
            String why = e.getMessage().substring(cut.toString().length() + 2);
            assertEquals(len == 0 ? "empty" : len < header ? "truncated (it ends inside its header)"
                    : "truncated (it ends before its last entry)", why, "cut at " + len);
        }
    }

    @Test
    void aFlippedByteInTheBodyIsRefused() throws Exception {
        byte[] b = Files.readAllBytes(archive);
        int header = new String(b, StandardCharsets.ISO_8859_1).indexOf("\n\n") + 2;
        for (int at : new int[] {header + 20, (header + b.length) / 2, b.length - 2}) {
            byte[] t = b.clone();
            t[at] ^= 0x10;
            Path f = Files.write(tmp.resolve("flip-" + at + ".lpbref"), t);
            BuildException e = refused(f, Optional.empty());
            assertTrue(e.getMessage().matches(".*(damaged|tampered|truncated).*"), e.getMessage());
        }
    }

    @Test
    void anEditedHeaderAnotherVersionAndAnotherFileAreRefused() throws Exception {
        String text = new String(Files.readAllBytes(archive), StandardCharsets.ISO_8859_1);
        Path edited = write("edited", text.replace("input.gcc=gcc (Test) 12.2.0", "input.gcc=gcc (Test) 13.1.0"));
        assertTrue(refused(edited, Optional.empty()).getMessage().endsWith("damaged header (its header.sha256 line does not match its text)"));

        Path v2 = write("v2", text.replace("reference archive v1\n", "reference archive v2\n"));
        assertEquals(v2 + ": archive format version 2; this livepatch-build reads version 1 only (export it again with this version)",
                refused(v2, Optional.empty()).getMessage());

        Path notOne = write("notes", "just some text\n\nmore\n");
        assertEquals(notOne + ": not a livepatch-build reference archive", refused(notOne, Optional.empty()).getMessage());
    }

    @Test
    void anArchiveOfAnotherToolchainIsRefusedNamingTheInput() throws Exception {
        ReferenceKey other = ReferenceKey.fromInputs(inputs("gcc (Test) 14.2.0"));
        BuildException e = assertThrows(BuildException.class, () -> importInto(importer, archive, Optional.of(other)));
        assertEquals(BuildException.Reason.REFERENCE_MISMATCH, e.reason());
        assertTrue(e.getMessage().startsWith(archive + ": holds the reference of another gcc (gcc (Test) 12.2.0) than this run's"), e.getMessage());
        assertFalse(Files.exists(importer.reference(key.hex())));
    }

    @Test
    void aPathOutOfTheEntryOrAFileTheManifestDoesNotListIsRefused() throws Exception {
        byte[] manifest = Files.readAllBytes(entry.resolve("manifest"));
        Path escape = crafted("escape", manifest, "tree/../../evil", "x".getBytes(StandardCharsets.UTF_8));
        assertTrue(refused(escape, Optional.empty()).getMessage().endsWith("tampered: tree/../../evil is not a plain relative path"));
        Path extra = crafted("extra", manifest, "tree/xen/common/zz.h", "#define X\n".getBytes(StandardCharsets.UTF_8));
        assertTrue(refused(extra, Optional.empty()).getMessage().endsWith("tampered: tree/xen/common/zz.h is not in the reference's manifest as a file"));
        Path outside = crafted("outside", manifest, "stat", "x".getBytes(StandardCharsets.UTF_8));
        assertTrue(refused(outside, Optional.empty()).getMessage().endsWith("tampered: stat is not a name a reference entry has"));
    }

    @Test
    void whatAKilledImportLeftIsRemovedAndTheEntryPublishedWhole() throws Exception {
        Path left = Files.createDirectories(importer.refs().resolve(".tmp-" + key.hex() + "-999999/tree/xen"));
        Files.writeString(left.resolve("half.o"), "half");
        assertFalse(Files.exists(importer.reference(key.hex())), "a killed import publishes nothing");
        importInto(importer, archive, Optional.of(key));
        assertEquals(List.of(key.hex(), key.hex() + ".lock"), names(importer.refs()));
    }

    @Test
    void anImportWaitsForTheKeysLock() throws Exception {
        CompletableFuture<ReferenceTransfer.Imported> running;
        try (Workspace.KeyLock held = importer.lock(key.hex())) {
            running = CompletableFuture.supplyAsync(() -> {
                try {
                    return importInto(importer, archive, Optional.empty());
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(500);
            assertFalse(running.isDone(), "the import ran while another process held the key");
            assertFalse(Files.exists(importer.reference(key.hex())));
        }
        assertFalse(running.get(60, TimeUnit.SECONDS).alreadyCached());
        assertTrue(Files.isDirectory(importer.reference(key.hex())));
    }

    private BuildException refused(Path file, Optional<ReferenceKey> expected) throws Exception {
        BuildException e = assertThrows(BuildException.class, () -> importInto(importer, file, expected));
        assertEquals(BuildException.Reason.REFERENCE_ARCHIVE, e.reason(), e.getMessage());
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        // Nothing published, nothing half-written left.
        if (Files.isDirectory(importer.refs())) {
            assertTrue(names(importer.refs()).stream().allMatch(n -> n.endsWith(".lock")), names(importer.refs()).toString());
        }
        return e;
    }

    private Path write(String name, String text) throws Exception {
        return Files.write(tmp.resolve(name + ".lpbref"), text.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** A well-formed archive (header, manifest first, correct digests, END) with one extra record. */
    private Path crafted(String name, byte[] manifest, String path, byte[] content) throws Exception {
        Map<String, String> info = new TreeMap<>(Map.of("xen-syms.build-id", "c".repeat(40), "entries", "2",
                "bytes", Long.toString(manifest.length + content.length)));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(ReferenceArchive.headerText(key, info).getBytes(StandardCharsets.UTF_8));
        java.security.MessageDigest listing = SourceTree.sha256();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (Object[] r : List.of(new Object[] {"manifest", manifest}, new Object[] {path, content})) {
            byte[] data = (byte[]) r[1];
            String line = "F\t644\t0\t" + data.length + "\t" + ReferenceKey.sha256(data) + "\t" + r[0] + "\n";
            listing.update(line.getBytes(StandardCharsets.UTF_8));
            body.write(line.getBytes(StandardCharsets.UTF_8));
            body.write(data);
        }
        body.write(("END\t2\t" + java.util.HexFormat.of().formatHex(listing.digest()) + "\n").getBytes(StandardCharsets.UTF_8));
        try (ZstdOutputStream z = new ZstdOutputStream(out)) {
            z.write(body.toByteArray());
        }
        return Files.write(tmp.resolve(name + ".lpbref"), out.toByteArray());
    }

    private static List<String> names(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
