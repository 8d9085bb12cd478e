package org.livepatch.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A payload and its report: both published, or neither; never a payload without its report. */
class PairedPublishTest {
    @TempDir
    Path dir;

    private static final byte[] REPORT = "{\"name\": \"p\"}\n".getBytes(StandardCharsets.UTF_8);
    private static final byte[] PAYLOAD = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0};

    private List<String> entries() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void publishesBothAndLeavesNoTemporaries() throws Exception {
        PairedPublish.publish(dir, "p.json", REPORT, "p.livepatch", PAYLOAD);
        assertEquals(List.of("p.json", "p.livepatch"), entries());
        assertArrayEquals(REPORT, Files.readAllBytes(dir.resolve("p.json")));
        assertArrayEquals(PAYLOAD, Files.readAllBytes(dir.resolve("p.livepatch")));
    }

    @Test
    void aPayloadThatCannotBePutInPlaceTakesItsReportBack() throws Exception {
        // A non-empty directory where the payload goes: its rename fails after the report's succeeded.
        Files.createDirectories(dir.resolve("p.livepatch/in-the-way"));
        assertThrows(IOException.class, () -> PairedPublish.publish(dir, "p.json", REPORT, "p.livepatch", PAYLOAD));
        assertEquals(List.of("p.livepatch"), entries(), "no report, no temporaries");
        assertEquals(List.of("in-the-way"), Files.list(dir.resolve("p.livepatch")).map(p -> p.getFileName().toString()).toList());
    }

    @Test
    void aReportThatCannotBePutInPlacePublishesNothing() throws Exception {
        Files.createDirectories(dir.resolve("p.json/in-the-way"));
        assertThrows(IOException.class, () -> PairedPublish.publish(dir, "p.json", REPORT, "p.livepatch", PAYLOAD));
        assertEquals(List.of("p.json"), entries(), "no payload, no temporaries");
    }

    @Test
    void anInterruptedPublicationPublishesNothing() throws Exception {
        Thread.currentThread().interrupt();
        try {
            // Cut short while writing (ClosedByInterruptException) or just before the renames.
            Exception e = assertThrows(Exception.class, () -> PairedPublish.publish(dir, "p.json", REPORT, "p.livepatch", PAYLOAD));
            assertEquals(true, e instanceof InterruptedException || e instanceof java.nio.channels.ClosedByInterruptException, e.toString());
        } finally {
            Thread.interrupted();
        }
        assertEquals(List.of(), entries());
    }
}
