package org.livepatch.io;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A temporary directory {@code <parent>/<prefix><id>} owned by this process through the
 * {@link OwnerLock} {@code <parent>/<prefix><id>.lock} beside it. The owner removes both when it
 * is done; a process that died first (SIGKILL, a crash) leaves them, and {@link #sweep} — run by
 * the next user of {@code parent} — removes exactly the directories whose owner is provably dead.
 * A directory without a lock file (written by an older version, or by a process that died in the
 * instant between its lock and its mkdir can only leave a lock file) is never touched.
 */
public final class ScratchDir implements AutoCloseable {
    private static final String LOCK_SUFFIX = ".lock";
    private final Path dir;
    private final OwnerLock lock;

    private ScratchDir(Path dir, OwnerLock lock) {
        this.dir = dir;
        this.lock = lock;
    }

    public static ScratchDir create(Path parent, String prefix) throws IOException {
        Files.createDirectories(parent);
        String id = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
        Path dir = parent.resolve(prefix + id);
        // The lock first: a death at any later point leaves a lock that proves the directory abandoned.
        OwnerLock lock = OwnerLock.create(parent.resolve(prefix + id + LOCK_SUFFIX), "pid " + ProcessHandle.current().pid() + "\n");
        try {
            Files.createDirectory(dir);
        } catch (IOException | RuntimeException e) {
            lock.close();
            throw e;
        }
        return new ScratchDir(dir, lock);
    }

    public Path dir() {
        return dir;
    }

    /** Removes the directory, then its lock file. */
    @Override
    public void close() throws IOException {
        FileTrees.delete(dir);
        lock.close();
    }

    /**
     * Removes every {@code <prefix>*} directory of {@code parent} whose owner is dead, and its lock
     * file; returns how many. Leftovers of live runs and anything without a lock are kept.
     */
    public static int sweep(Path parent, String prefix) throws IOException {
        if (!Files.isDirectory(parent)) {
            return 0;
        }
        int removed = 0;
        try (DirectoryStream<Path> locks = Files.newDirectoryStream(parent, prefix + "*" + LOCK_SUFFIX)) {
            for (Path l : locks) {
                var abandoned = OwnerLock.takeOverIfAbandoned(l);
                if (abandoned.isPresent()) {
                    try (OwnerLock held = abandoned.get()) {
                        String name = l.getFileName().toString();
                        FileTrees.delete(parent.resolve(name.substring(0, name.length() - LOCK_SUFFIX.length())));
                    }
                    removed++;
                }
            }
        }
        return removed;
    }
}
