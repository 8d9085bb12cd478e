package org.livepatch.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes a file so that readers see either the old file or the complete new one: the bytes go to
 * a temporary file in the same directory, which is then renamed over the target. A run that fails
 * or is killed half way never leaves half a payload where a user (or CI) would pick it up.
 *
 * <p>Mode: the temporary is created like {@code open(O_CREAT|O_EXCL, 0666)}, so the umask decides
 * (0644 under 022), as for the files of livepatch-build itself ({@link PairedPublish}) and of any
 * build tool. {@link Files#createTempFile} would force 0600, and create-diff-object's or prelink's
 * output would then be unreadable to the group that reads the rest of the build.
 */
public final class AtomicFile {
    private AtomicFile() {}

    public static void write(Path target, byte[] bytes) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            tmp = createTemporary(dir, target.getFileName().toString(), bytes);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            if (tmp != null) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /** A new file under a random hidden name holding {@code bytes}; a name already taken is drawn again. */
    private static Path createTemporary(Path dir, String name, byte[] bytes) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path tmp = PairedPublish.tempName(dir, name);
            FileChannel ch;
            try {
                ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            } catch (FileAlreadyExistsException e) {
                if (attempt < 10) {
                    continue;
                }
                throw e;
            }
            try (ch) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(tmp);
                throw e;
            }
            return tmp;
        }
    }
}
