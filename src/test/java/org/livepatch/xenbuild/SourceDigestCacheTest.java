package org.livepatch.xenbuild;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The warm-run shortcut for SRC's digest: used while SRC's metadata is unchanged, never after a write. */
class SourceDigestCacheTest {

    @Test
    void recordedDigestIsUsedUntilAnyFileIsWrittenEvenWithItsTimeRestored(@TempDir Path tmp) throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        Workspace ws = new Workspace(tmp.resolve("cache"));
        SourceTree tree = new SourceTree(src);
        String real = tree.digest();

        assertEquals(real, new SourceDigestCache(ws).digest(tree), "first call: the full digest");
        Path record;
        try (Stream<Path> s = Files.list(ws.root().resolve("sources"))) {
            List<Path> l = s.toList();
            assertEquals(1, l.size());
            record = l.get(0);
        }
        // Prove the shortcut is taken: a record with a doctored digest, consistent with its check
        // line (SHA-256 of path NUL fingerprint NUL digest, computed here), is believed while
        // nothing changed.
        String text = Files.readString(record);
        String fp = text.lines().filter(l -> l.startsWith("fingerprint=")).findFirst().orElseThrow().substring(12);
        String check = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest((src.toAbsolutePath() + "\0" + fp + "\0doctored").getBytes(StandardCharsets.UTF_8)));
        Files.writeString(record, text.replace("digest=" + real, "digest=doctored").replaceAll("check=[0-9a-f]+", "check=" + check),
                StandardCharsets.UTF_8);
        assertEquals("doctored", new SourceDigestCache(ws).digest(tree));

        // Same size, modification time put back: only the change time tells, and it must.
        Path c = src.resolve("xen/common/version.c");
        FileTime mtime = Files.getLastModifiedTime(c);
        String body = Files.readString(c, StandardCharsets.ISO_8859_1);
        Files.writeString(c, body.replace("return XEN_EXTRAVERSION;", "return XEN_EXTRAVERSIOM;"), StandardCharsets.ISO_8859_1);
        Files.setLastModifiedTime(c, mtime);
        String after = new SourceDigestCache(ws).digest(tree);
        assertNotEquals("doctored", after);
        assertEquals(new SourceTree(src).digest(), after);
        assertNotEquals(real, after);
        assertTrue(Files.readString(record).contains("digest=" + after), "the new digest is recorded");
    }

    @Test
    void aRecordWhoseDigestDoesNotMatchItsCheckIsDroppedWithOneLine(@TempDir Path tmp) throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        Workspace ws = new Workspace(tmp.resolve("cache"));
        SourceTree tree = new SourceTree(src);
        String real = tree.digest();
        SourceDigestCache cache = new SourceDigestCache(ws);
        assertEquals(real, cache.digest(tree));
        Path record = cache.record(tree);
        Files.writeString(record, Files.readString(record).replace("digest=" + real, "digest=" + "0".repeat(64)));
        List<String> notices = new java.util.ArrayList<>();
        SourceDigestCache.Digest d = new SourceDigestCache(ws, notices::add).lookup(tree);
        assertEquals(real, d.digest());
        assertEquals(false, d.recorded(), "read from SRC");
        assertEquals(1, notices.size(), notices.toString());
        assertTrue(notices.get(0).contains(record.toString()) && notices.get(0).contains("damaged"), notices.toString());
        assertTrue(Files.readString(record).contains("digest=" + real), "rewritten");
    }

    @Test
    void buildOutputsDoNotChangeTheFingerprint(@TempDir Path tmp) throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        String before = SourceDigestCache.fingerprint(src);
        Files.writeString(src.resolve("xen/common/version.o"), "an object is not a source");
        assertEquals(before, SourceDigestCache.fingerprint(src));
        Files.writeString(src.resolve("xen/common/new.c"), "int x;");
        assertNotEquals(before, SourceDigestCache.fingerprint(src));
    }
}
