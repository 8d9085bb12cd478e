package org.livepatch.xenbuild;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The cache directory: {@code ${LPB_CACHE:-~/.cache/livepatch-build}}. Reference builds live in
 * {@code refs/<key>/}, built in {@code refs/.tmp-<key>-<pid>/} and renamed into place when
 * complete, so a reader never sees half a tree and a killed run leaves only a temporary
 * directory that the next builder of the same key removes.
 */
public record Workspace(Path root) {

    /** In-process locks: FileChannel locks belong to the whole JVM and cannot exclude threads. */
    private static final Map<Path, ReentrantLock> JVM_LOCKS = new ConcurrentHashMap<>();

    /**
     * {@code $LPB_CACHE}, else {@code $HOME/.cache/livepatch-build}; the JVM's {@code user.home}
     * only when HOME is unset. user.home comes from the password database, not from HOME: in a
     * container run as a uid it does not know it is {@code ?} (a relative path), and as root it
     * is the container's own {@code /root}, which is gone after the run.
     */
    public static Workspace fromEnvironment(Map<String, String> env) {
        String c = env.get("LPB_CACHE");
        if (c != null && !c.isBlank()) {
            return new Workspace(Path.of(c).toAbsolutePath());
        }
        String home = env.get("HOME");
        if (home == null || !home.startsWith("/")) {
            home = System.getProperty("user.home");
        }
        return new Workspace(Path.of(home, ".cache", "livepatch-build").toAbsolutePath());
    }

    public Path refs() {
        return root.resolve("refs");
    }

    public Path reference(String key) {
        return refs().resolve(key);
    }

    /** An exclusive lock on one cache key, across threads and processes (flock semantics). */
    public KeyLock lock(String key) throws IOException, InterruptedException {
        Files.createDirectories(refs());
        Path file = refs().resolve(key + ".lock").toAbsolutePath();
        ReentrantLock jvm = JVM_LOCKS.computeIfAbsent(file, f -> new ReentrantLock());
        jvm.lockInterruptibly();
        try {
            FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            try {
                FileLock fl = ch.lock();
                return new KeyLock(jvm, ch, fl);
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            jvm.unlock();
            throw e;
        }
    }

    /** Held while a key is being checked or built; closing releases both locks. */
    public static final class KeyLock implements AutoCloseable {
        private final ReentrantLock jvm;
        private final FileChannel channel;
        private final FileLock lock;

        private KeyLock(ReentrantLock jvm, FileChannel channel, FileLock lock) {
            this.jvm = jvm;
            this.channel = channel;
            this.lock = lock;
        }

        @Override
        public void close() throws IOException {
            try {
                lock.release();
                channel.close();
            } finally {
                jvm.unlock();
            }
        }
    }
}
