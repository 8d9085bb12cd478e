package org.livepatch.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A file that proves its owner is alive: the owning process holds an exclusive lock (flock) on it
 * for as long as it needs what the file stands for (a scratch directory, a run's partial OUTPUT).
 * The kernel drops that lock when the process ends, however it ends (SIGKILL, a crash, the OOM
 * killer), and in every process and container that shares the file system, so "the lock can be
 * taken" is proof that the owner is dead. A pid file could not prove it: pids are reused, and a
 * process in another pid namespace (the toolchain container) is invisible to {@code kill -0}.
 *
 * <p>The file is locked under a temporary name and only then renamed to its real name, so no
 * reader ever sees the real name unlocked while its owner lives.
 *
 * <p>Java's file locks are POSIX record locks (fcntl), which a process loses on closing <em>any</em>
 * descriptor of the file, not just the locking one. So this process never opens a lock file it
 * holds: {@link #HELD} lists them, and {@link #takeOverIfAbandoned} answers "alive" for those
 * without touching the file, and reads the content through the locking channel only.
 */
public final class OwnerLock implements AutoCloseable {
    private static final java.util.Set<Path> HELD = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;

    private OwnerLock(Path file, FileChannel channel, FileLock lock) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    /** Creates {@code file} (which must not exist) with {@code content}, locked by this process. */
    public static OwnerLock create(Path file, String content) throws IOException {
        String base = file.getFileName().toString();
        Path tmp = file.resolveSibling((base.startsWith(".") ? "" : ".") + base + ".new-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            FileLock l = ch.lock();
            ch.write(java.nio.ByteBuffer.wrap(content.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            // The lock belongs to the open file, not to the name: it moves along with the rename.
            HELD.add(file.toAbsolutePath().normalize());
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
            return new OwnerLock(file, ch, l);
        } catch (IOException | RuntimeException e) {
            HELD.remove(file.toAbsolutePath().normalize());
            ch.close();
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    /**
     * The lock of a dead owner, now held by us (so no second cleaner works on the same leftovers),
     * or empty when the owner is alive, the file is gone, or this very process holds it.
     */
    public static Optional<OwnerLock> takeOverIfAbandoned(Path file) throws IOException {
        Path key = file.toAbsolutePath().normalize();
        if (!HELD.add(key)) {
            return Optional.empty(); // ours (another thread's run, or a cleaner at work)
        }
        try {
            Optional<OwnerLock> taken = tryTakeOver(file);
            if (taken.isEmpty()) {
                HELD.remove(key);
            }
            return taken;
        } catch (IOException | RuntimeException e) {
            HELD.remove(key);
            throw e;
        }
    }

    private static Optional<OwnerLock> tryTakeOver(Path file) throws IOException {
        FileChannel ch;
        try {
            // No CREATE: a lock file another cleaner just removed must not come back.
            ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        try {
            FileLock l = ch.tryLock();
            if (l != null) {
                return Optional.of(new OwnerLock(file, ch, l));
            }
        } catch (OverlappingFileLockException e) {
            // Held by another thread of this process (batch mode): alive.
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        ch.close();
        return Optional.empty();
    }

    public Path file() {
        return file;
    }

    /** What the owner wrote into the file when it created it. */
    public String content() throws IOException {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate((int) Math.min(channel.size(), 1 << 20));
        while (b.hasRemaining() && channel.read(b, b.position()) > 0) {
            // an explicit position: the creator's channel stands after what it wrote
        }
        return new String(b.array(), 0, b.position(), java.nio.charset.StandardCharsets.UTF_8);
    }

    /** Removes the file, then releases the lock: the owner is done, nothing is left to clean. */
    @Override
    public void close() throws IOException {
        // Cleaning up after an interrupt: the flag would make the channel refuse to release.
        boolean interrupted = Thread.interrupted();
        try {
            Files.deleteIfExists(file);
        } finally {
            // A channel closed under an interrupt has already dropped the lock with its descriptor.
            if (channel.isOpen()) {
                try {
                    lock.release();
                } finally {
                    channel.close();
                }
            }
            HELD.remove(file.toAbsolutePath().normalize());
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
