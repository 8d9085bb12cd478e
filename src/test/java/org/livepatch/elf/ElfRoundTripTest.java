package org.livepatch.elf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.livepatch.testsupport.ModelAssertions;
import org.livepatch.testsupport.ReadelfListing;
import org.livepatch.testsupport.Tools;

/**
 * read → write → read on objects gcc makes from the round-trip fixture, with and without CET-IBT.
 * The rewritten objects must be equal models, list the same under readelf, be accepted by
 * {@code ld -r}, and link into a program that prints exactly what the original prints.
 */
class ElfRoundTripTest {

    @ParameterizedTest(name = "cflags ''{0}''")
    @ValueSource(strings = {"", "-fcf-protection=branch"})
    void rewrittenObjectsAreEqualAndLinkIntoTheSameProgram(String cflags, @TempDir Path tmp) throws Exception {
        Path orig = Files.createDirectories(tmp.resolve("orig"));
        Path rewritten = Files.createDirectories(tmp.resolve("rewritten"));
        List<Path> objects = Tools.buildRoundtripFixture(orig, cflags);
        assertTrue(objects.size() >= 4, "fixture builds several objects: " + objects);

        for (Path o : objects) {
            ElfFile before = ElfReader.read(o);
            byte[] bytes = ObjectBuilder.copyOf(before).builder().toBytes();
            Path out = rewritten.resolve(o.getFileName());
            Files.write(out, bytes);
            ElfFile after = ElfReader.read(out);
            ModelAssertions.assertSameModel(before, after);
            ReadelfListing.assertSame(o, out);

            // Deterministic and a fixed point: the same model gives the same bytes again.
            assertArrayEquals(bytes, ObjectBuilder.copyOf(before).builder().toBytes(), "same model, same bytes");
            assertArrayEquals(bytes, ObjectBuilder.copyOf(after).builder().toBytes(), "rewrite of the rewrite");
        }

        List<String> names = objects.stream().map(p -> p.getFileName().toString()).toList();
        List<String> ld = new java.util.ArrayList<>(List.of("ld", "-r", "-o", "combined.o"));
        ld.addAll(names);
        Tools.run(rewritten, ld);
        assertTrue(Files.size(rewritten.resolve("combined.o")) > 0);

        List<String> link = new java.util.ArrayList<>(List.of("gcc", "-no-pie", "-o", "prog"));
        link.addAll(names);
        Tools.run(rewritten, link);
        String expected = Tools.run(orig, orig.resolve("prog").toString());
        String actual = Tools.run(rewritten, rewritten.resolve("prog").toString());
        assertFalse(expected.isBlank(), "the fixture program prints something");
        assertEquals(expected, actual, "program linked from rewritten objects");
    }
}
