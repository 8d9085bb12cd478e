package org.livepatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A failure every command can meet exits with one number whichever command meets it: a missing
 * input file 74, a file that is not ELF 65 (before, {@code create-diff-object} said 1 to both).
 */
class SameFailureSameCodeTest {
    @TempDir
    Path tmp;

    private record Run(String command, int code, String err) {}

    private static Run run(Supplier<Object> command, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(command.get());
        int code = CommandRunner.runWith(cl, new PrintWriter(out), new PrintWriter(err), args);
        return new Run(cl.getCommandName(), code, err.toString());
    }

    /** Every command, each given {@code in} where it reads its first input. */
    private List<Run> everyCommandReading(Path in) {
        Path out = tmp.resolve("out");
        return List.of(
                run(CreateDiffObjectCommand::new, in.toString(), in.toString(), in.toString(), out.toString()),
                run(PrelinkCommand::new, in.toString(), out.toString(), in.toString()),
                run(LivepatchVerifyCommand::new, "check", "--xen-syms", in.toString(), in.toString()),
                run(LivepatchVerifyCommand::new, "info", in.toString()),
                run(LivepatchElfCommand::new, "dump", in.toString()),
                run(LivepatchElfCommand::new, "rewrite", in.toString(), out.toString()));
    }

    @Test
    void aMissingFileIs74() {
        Path missing = tmp.resolve("missing.o");
        for (Run r : everyCommandReading(missing)) {
            assertEquals(74, r.code(), r.command() + ": " + r.err());
            // One line, named by the (sub)command that failed: "check: FILE: no such file".
            assertEquals(1, r.err().lines().count(), r.err());
            assertTrue(r.err().strip().endsWith(": " + missing + ": no such file"), r.command() + ": " + r.err());
        }
    }

    @Test
    void aFileThatIsNotElfIs65() throws Exception {
        Path junk = Files.writeString(tmp.resolve("junk.o"), "not an ELF file at all, but long enough to have a header................");
        for (Run r : everyCommandReading(junk)) {
            assertEquals(65, r.code(), r.command() + ": " + r.err());
            assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        }
        assertFalse(Files.exists(tmp.resolve("out")), "nothing written");
    }

    @Test
    void aMalformedOptionValueIsAUsageError() {
        Run r = run(CreateDiffObjectCommand::new, "--funcs-version", "7", "a.o", "b.o", "xen-syms", "out.o");
        assertEquals(64, r.code(), r.err());
        assertTrue(r.err().startsWith("create-diff-object: --funcs-version must be 1 or 2"), r.err());
    }
}
