package org.livepatch.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Publishes a payload and its report together or not at all.
 *
 * <p>Order, and why: both files are first written in full, under hidden temporary names in the
 * same directory, and flushed to disk; then the report is renamed into place, the directory is
 * flushed, and the payload is renamed into place last. A rename is atomic, so at every instant the
 * directory holds one of: nothing; the report alone; both. A crash (or SIGKILL, or a full disk)
 * between the two renames leaves the report alone — harmless, since what gets installed is the
 * payload and a report without its payload is visibly incomplete (the run's lock file still
 * stands, and the next run on OUTPUT removes it: see {@code OutputClaim}). The other order could
 * leave a payload without report, which a packager would ship undocumented. Flushing the
 * directory between the renames stops the file system from making the payload's rename durable
 * before the report's after a power loss.
 *
 * <p>Modes: the temporaries are created by {@code open(O_CREAT|O_EXCL)} with mode 0666, so the
 * umask decides (0644 under 022), as for any file a build tool writes; nothing is executable.
 * ({@link Files#createTempFile} would force 0600.)
 */
public final class PairedPublish {
    private PairedPublish() {}

    /**
     * Writes {@code dir/reportName} and {@code dir/payloadName}, replacing existing ones
     * ({@code -k build} rebuilds a payload in place). An interrupt before the first rename
     * publishes nothing and throws {@link InterruptedException}.
     */
    public static void publish(Path dir, String reportName, byte[] report, String payloadName, byte[] payload)
            throws IOException, InterruptedException {
        Path reportTmp = tempName(dir, reportName);
        Path payloadTmp = tempName(dir, payloadName);
        boolean reportPublished = false;
        boolean payloadPublished = false;
        try {
            writeDurably(reportTmp, report);
            writeDurably(payloadTmp, payload);
            if (Thread.interrupted()) {
                throw new InterruptedException("interrupted before publishing");
            }
            Files.move(reportTmp, dir.resolve(reportName), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            reportPublished = true;
            syncDirectory(dir);
            Files.move(payloadTmp, dir.resolve(payloadName), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            payloadPublished = true;
            syncDirectory(dir);
        } catch (IOException | RuntimeException | InterruptedException e) {
            if (reportPublished && !payloadPublished) {
                // The payload's rename failed after the report's: take the report back. (Once the
                // payload is in place the pair is complete, and nothing may be taken back.)
                Files.deleteIfExists(dir.resolve(reportName));
            }
            Files.deleteIfExists(reportTmp);
            Files.deleteIfExists(payloadTmp);
            throw e;
        }
    }

    /** {@code .<name>.tmp-<random>}: hidden, and never ending in the published name's extension. */
    static Path tempName(Path dir, String name) {
        return dir.resolve("." + name + ".tmp-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()));
    }

    private static void writeDurably(Path file, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
    }

    private static void syncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
