package org.livepatch.xenbuild;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.cli.ExitMapper;

/**
 * What a run may remove from OUTPUT: what it made itself, when it was interrupted, or what a run
 * that provably died made; never a user's file, never an earlier run's results, never a live
 * run's files.
 */
class OutputClaimTest {
    @TempDir
    Path tmp;

    private Path out() {
        return tmp.resolve("out");
    }

    private List<String> entries() throws Exception {
        try (Stream<Path> s = Files.list(out())) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private void write(String rel) throws Exception {
        Path p = out().resolve(rel);
        Files.createDirectories(p.getParent());
        Files.writeString(p, "x");
    }

    /** The lock file of a dead run: nobody holds its lock any more. */
    private void deadRunLock(String text) throws Exception {
        write(OutputClaim.LOCK_FILE);
        Files.writeString(out().resolve(OutputClaim.LOCK_FILE), text);
    }

    @Test
    void aDeadRunsLeftoversGoAndNothingElse() throws Exception {
        deadRunLock("name p\ncreated false\n");
        for (String f : List.of(".config", "logs/reference-build.log", "work/xen/common/version.c", "objects/common/version.o",
                "original/xen/common/version.o", "xen-syms", "p.json", ".p.livepatch.tmp-1234", "livepatch-objects.mk")) {
            write(f);
        }
        write("NOTES"); // the user's
        write("q.livepatch"); // another payload's name: not this run's
        assertTrue(OutputClaim.sweepAbandoned(out()));
        assertEquals(List.of("NOTES", "q.livepatch"), entries());
    }

    @Test
    void aDeadRunThatHadPublishedKeepsItsResults() throws Exception {
        deadRunLock("name p\ncreated false\n");
        for (String f : List.of(".config", "logs/x.log", "work/xen/a.c", "p.json", "p.livepatch", "xen-syms")) {
            write(f);
        }
        assertTrue(OutputClaim.sweepAbandoned(out()));
        assertEquals(List.of(".config", "logs", "p.json", "p.livepatch", "xen-syms"), entries());
    }

    @Test
    void aLockThatSaysNothingProvesNothing() throws Exception {
        deadRunLock("\u0000\u0001garbage");
        write("logs/x.log");
        assertFalse(OutputClaim.sweepAbandoned(out()));
        assertTrue(Files.exists(out().resolve("logs/x.log")));
    }

    @Test
    void anInterruptedRunRemovesWhatItAddedOnly() throws Exception {
        // -k build: an earlier run's objects are there before the run starts.
        write("original/xen/common/version.o");
        write("patched/xen/common/version.o");
        OutputClaim c = OutputClaim.take(out(), "p");
        write("objects/common/version.o");
        write("logs/create-diff-object.log");
        write(".p.json.tmp-99");
        c.abandon();
        assertEquals(List.of("original", "patched"), entries());
    }

    @Test
    void anInterruptedRunRemovesTheOutputItCreated() throws Exception {
        OutputClaim c = OutputClaim.take(out(), "p");
        write("logs/x.log");
        write("work/xen/a.c");
        c.abandon();
        assertFalse(Files.exists(out()));
    }

    @Test
    void aSecondRunCannotClaimALiveRunsOutput() throws Exception {
        OutputClaim first = OutputClaim.take(out(), "p");
        BuildException e = org.junit.jupiter.api.Assertions.assertThrows(BuildException.class, () -> OutputClaim.take(out(), "p"));
        assertEquals(18, ExitMapper.of(e.reason()).number());
        assertTrue(e.getMessage().contains("another livepatch-build run"), e.getMessage());
        assertEquals(List.of(OutputClaim.LOCK_FILE), entries(), "the first run's lock file untouched, no temporary left");
        first.release();
        assertEquals(List.of(), entries());
    }

    @Test
    void aLockFileItsOwnerDiedBeforeNamingGoesToo() throws Exception {
        write(".livepatch-build.lock.new-1f2e3d");
        write("NOTES");
        assertFalse(OutputClaim.sweepAbandoned(out()), "no run's leftovers");
        assertEquals(List.of("NOTES"), entries());
    }

    @Test
    void aLiveRunInAnotherProcessIsLeftAloneUntilItDies() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process holder = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), HoldOutputClaim.class.getName(),
                out().toString(), "p").redirectErrorStream(true).start();
        try {
            BufferedReader r = new BufferedReader(new InputStreamReader(holder.getInputStream()));
            assertEquals("claimed", r.readLine());
            write("logs/x.log");
            assertFalse(OutputClaim.sweepAbandoned(out()), "the owner is alive");
            assertEquals(List.of(OutputClaim.LOCK_FILE, "logs"), entries());
        } finally {
            holder.destroyForcibly().waitFor();
        }
        assertTrue(OutputClaim.sweepAbandoned(out()), "the owner is dead now");
        assertFalse(Files.exists(out()), "it had created OUTPUT: all gone");
    }
}
