package org.livepatch.xenbuild;

import org.livepatch.io.FileTrees;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.livepatch.io.OwnerLock;

/**
 * A run's hold on OUTPUT while it writes there: the {@link OwnerLock}
 * {@code OUTPUT/.livepatch-build.lock}, naming the payload and the entries OUTPUT already held
 * (with {@code -k build}, an earlier run's objects) and whether the run created OUTPUT itself.
 *
 * <p>What a run may remove is exactly what it can have made: the entries of {@link #RUN_ENTRIES}
 * and its payload, report and their temporary names, minus what was there before it started.
 * Anything else (a user's file that appeared meanwhile) is never touched. An interrupted run
 * removes its own entries itself ({@link #abandon}); one that died without the chance (SIGKILL,
 * power loss) leaves the lock file, and the next run on the same OUTPUT proves the owner dead by
 * taking the lock and removes the same entries ({@link #sweepAbandoned}). A run that ended with
 * an ordinary error keeps its logs for the user and just drops the lock ({@link #release}).
 */
public final class OutputClaim {
    public static final String LOCK_FILE = ".livepatch-build.lock";
    /** Every top-level entry a run writes in OUTPUT besides its payload, report and their temporaries. */
    static final Set<String> RUN_ENTRIES = Set.of(".config", "logs", PatchedBuild.WORK_DIR, PatchedBuild.ORIGINAL_DIR,
            PatchedBuild.PATCHED_DIR, "xen-syms", "objects", "livepatch-objects.mk", KeptBuild.NAME);

    private final Path out;
    private final OwnerLock lock;
    private final Record record;

    /** What the lock file says: the payload name, OUTPUT's entries before the run, whether it made OUTPUT. */
    record Record(String name, Set<String> kept, boolean created) {
        String format() {
            StringBuilder sb = new StringBuilder("# a livepatch-build run writes here; removed when it ends\n");
            sb.append("name ").append(name).append('\n').append("created ").append(created).append('\n');
            kept.forEach(k -> sb.append("kept ").append(k).append('\n'));
            return sb.toString();
        }

        static Optional<Record> parse(String text) {
            String name = null;
            boolean created = false;
            Set<String> kept = new TreeSet<>();
            for (String l : text.split("\n")) {
                if (l.startsWith("name ")) {
                    name = l.substring(5);
                } else if (l.startsWith("created ")) {
                    created = Boolean.parseBoolean(l.substring(8));
                } else if (l.startsWith("kept ")) {
                    kept.add(l.substring(5));
                }
            }
            // A lock file we cannot read is not proof of anything: then nothing is removed.
            return name == null || name.isEmpty() ? Optional.empty() : Optional.of(new Record(name, kept, created));
        }
    }

    private OutputClaim(Path out, OwnerLock lock, Record record) {
        this.out = out;
        this.lock = lock;
        this.record = record;
    }

    /** Creates OUTPUT if needed and claims it for the run that writes payload {@code name}. */
    public static OutputClaim take(Path out, String name) throws BuildException {
        try {
            boolean created = !Files.exists(out, LinkOption.NOFOLLOW_LINKS);
            Files.createDirectories(out);
            Set<String> kept = new TreeSet<>();
            try (Stream<Path> s = Files.list(out)) {
                s.forEach(p -> kept.add(p.getFileName().toString()));
            }
            Record r = new Record(name, kept, created);
            return new OutputClaim(out, OwnerLock.create(out.resolve(LOCK_FILE), r.format()), r);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            throw new BuildException(BuildException.Reason.BAD_OUTPUT_DIR, out, "another livepatch-build run is writing here");
        } catch (IOException e) {
            throw new BuildException(BuildException.Reason.BAD_OUTPUT_DIR, out, "cannot write in the output directory: " + org.livepatch.io.IoErrors.describe(e), e);
        }
    }

    /** The run ended (published or failed with its logs to read): only the lock goes. */
    public void release() throws IOException {
        lock.close();
    }

    /** The run was interrupted: everything it wrote goes, then the lock; OUTPUT is as before the run. */
    public void abandon() throws IOException {
        boolean interrupted = Thread.interrupted();
        try {
            removeRunEntries(out, record, false);
            lock.close();
            if (record.created()) {
                deleteIfEmpty(out);
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Before a run checks OUTPUT: the leftovers of a run on it that died are removed (returns
     * whether there were any). A run that died after publishing both files keeps them (and its
     * logs): it completed, and complete results are never removed.
     */
    public static boolean sweepAbandoned(Path out) throws IOException {
        Path lockFile = out.resolve(LOCK_FILE);
        if (Files.isDirectory(out, LinkOption.NOFOLLOW_LINKS)) {
            // A lock file its owner died before naming: unlocked, so provably nobody's.
            try (DirectoryStream<Path> s = Files.newDirectoryStream(out, OwnerLock.tempNamePrefix(lockFile) + "*")) {
                for (Path p : s) {
                    Optional<OwnerLock> t = OwnerLock.takeOverIfAbandoned(p);
                    if (t.isPresent()) {
                        t.get().close();
                    }
                }
            }
        }
        if (!Files.isRegularFile(lockFile, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        Optional<OwnerLock> taken = OwnerLock.takeOverIfAbandoned(lockFile);
        if (taken.isEmpty()) {
            return false;
        }
        boolean created;
        try (OwnerLock held = taken.get()) {
            Optional<Record> r = Record.parse(held.content());
            if (r.isEmpty()) {
                return false;
            }
            created = r.get().created();
            boolean published = !r.get().kept().contains(payloadName(r.get().name()))
                    && Files.exists(out.resolve(payloadName(r.get().name())))
                    && Files.exists(out.resolve(reportName(r.get().name())));
            removeRunEntries(out, r.get(), published);
        }
        if (created) {
            deleteIfEmpty(out);
        }
        return true;
    }

    /**
     * Whether a failure is the run being stopped (a thread interrupt: Ctrl-C or SIGTERM reach
     * the build as one) rather than something going wrong: the interrupt shows as an
     * {@link InterruptedException}, as an I/O call cut short, or only as the thread's flag.
     */
    public static boolean isInterruption(Throwable t) {
        if (Thread.currentThread().isInterrupted()) {
            return true;
        }
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof InterruptedException || c instanceof java.nio.channels.ClosedByInterruptException
                    || c instanceof java.io.InterruptedIOException
                    || (c instanceof BuildException b && b.reason() == BuildException.Reason.INTERRUPTED)) {
                return true;
            }
        }
        return false;
    }

    static String payloadName(String name) {
        return name + ".livepatch";
    }

    static String reportName(String name) {
        return name + ".json";
    }

    /** Whether a top-level entry of OUTPUT is one a run on payload {@code name} can have written. */
    static boolean isRunEntry(String entry, String name) {
        return RUN_ENTRIES.contains(entry) || entry.equals(payloadName(name)) || entry.equals(reportName(name))
                || entry.startsWith("." + payloadName(name) + ".tmp-") || entry.startsWith("." + reportName(name) + ".tmp-");
    }

    private static void removeRunEntries(Path out, Record r, boolean published) throws IOException {
        List<Path> doomed = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(out)) {
            for (Path p : s) {
                String e = p.getFileName().toString();
                if (r.kept().contains(e) || !isRunEntry(e, r.name())) {
                    continue;
                }
                // A published run is complete: only its scratch (the work tree, temporaries) goes.
                if (published && !e.equals(PatchedBuild.WORK_DIR) && !e.equals("livepatch-objects.mk")
                        && !e.startsWith("." + r.name() + ".")) {
                    continue;
                }
                doomed.add(p);
            }
        }
        // The payload first: removal may be cut short too, and what is left must never be a
        // payload without its report.
        doomed.sort(java.util.Comparator.comparing((Path p) -> !p.getFileName().toString().equals(payloadName(r.name()))));
        for (Path p : doomed) {
            FileTrees.delete(p);
        }
    }

    private static void deleteIfEmpty(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            if (s.findAny().isPresent()) {
                return;
            }
        }
        Files.deleteIfExists(dir);
    }
}
