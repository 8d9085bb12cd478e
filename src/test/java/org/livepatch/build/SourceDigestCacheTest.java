package org.livepatch.build;

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
        // Prove the shortcut is taken: a record with a doctored digest is believed while nothing changed.
        String text = Files.readString(record);
        Files.writeString(record, text.replace("digest=" + real, "digest=doctored"), StandardCharsets.UTF_8);
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
    void buildOutputsDoNotChangeTheFingerprint(@TempDir Path tmp) throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        String before = SourceDigestCache.fingerprint(src);
        Files.writeString(src.resolve("xen/common/version.o"), "an object is not a source");
        assertEquals(before, SourceDigestCache.fingerprint(src));
        Files.writeString(src.resolve("xen/common/new.c"), "int x;");
        assertNotEquals(before, SourceDigestCache.fingerprint(src));
    }
}
