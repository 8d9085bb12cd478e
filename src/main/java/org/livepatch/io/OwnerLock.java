package org.livepatch.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
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

    /**
     * Creates {@code file} with {@code content}, locked by this process; a
     * {@link java.nio.file.FileAlreadyExistsException} if it exists. A death between the two
     * steps can leave the temporary {@code .<name>.new-*}, unlocked: {@link #tempNamePrefix}.
     */
    public static OwnerLock create(Path file, String content) throws IOException {
        Path key = file.toAbsolutePath().normalize();
        if (!HELD.add(key)) {
            // Held (or being cleaned) by this very process: that owner is alive.
            throw new java.nio.file.FileAlreadyExistsException(file.toString());
        }
        Path tmp = file.resolveSibling(tempNamePrefix(file) + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        Path tmpKey = tmp.toAbsolutePath().normalize();
        HELD.add(tmpKey); // the temporary name is ours too, and as easily lost by a stray close
        FileChannel ch = null;
        try {
            ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock l = ch.lock();
            ch.write(java.nio.ByteBuffer.wrap(content.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            // The lock belongs to the file, not to a name: the real name, a second link to the same
            // file, is locked from the instant it exists. link(2), unlike rename(2), fails when the
            // name is taken, so a second owner cannot replace a live one's lock file.
            Files.createLink(file, tmp);
            Files.delete(tmp);
            return new OwnerLock(file, ch, l);
        } catch (IOException | RuntimeException e) {
            HELD.remove(key);
            if (ch != null) {
                ch.close();
            }
            Files.deleteIfExists(tmp);
            throw e;
        } finally {
            HELD.remove(tmpKey);
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

    /** The prefix of the temporary names {@link #create} uses for {@code file}. */
    public static String tempNamePrefix(Path file) {
        String base = file.getFileName().toString();
        return (base.startsWith(".") ? "" : ".") + base + ".new-";
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
