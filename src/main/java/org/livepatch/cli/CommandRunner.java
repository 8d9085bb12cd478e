package org.livepatch.cli;

import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine;

/**
 * The one place where exceptions become exit codes (through {@link ExitMapper}) and one-line
 * messages. Every launcher's {@code main} goes through {@link #run}; no user error ever shows a
 * stack trace (set {@code LIVEPATCH_TRACE=1} to see one when debugging the tool itself).
 */
public final class CommandRunner {
    private CommandRunner() {}

    /**
     * A failure the command itself finds (a malformed option value, an interrupt), with its exit
     * code and one-line message. Failures the domain reports travel as its own exceptions, which
     * {@link ExitMapper} maps; nothing catches those just to pick a number.
     */
    public static final class UserError extends RuntimeException {
        private final ExitCode exitCode;

        public UserError(ExitCode exitCode, String message) {
            super(message);
            this.exitCode = exitCode;
        }

        public ExitCode exitCode() {
            return exitCode;
        }
    }

    /** A command whose {@code --help} lists its exit codes, each with its own words. */
    public interface ListsExitCodes {
        Map<ExitCode, String> exitCodes();
    }

    public static int run(Object command, String... args) {
        return runWith(new CommandLine(command), null, null, args);
    }

    /** As {@link #run(Object, String...)} for a prepared command line (tests set its out and err). */
    public static int run(CommandLine cl, String... args) {
        return runWith(cl, null, null, args);
    }

    /** As {@link #run}, writing to the given streams (null: the command line's own); for tests. */
    public static int runWith(CommandLine cl, PrintWriter outStream, PrintWriter errStream, String... args) {
        if (outStream != null) {
            cl.setOut(outStream);
        }
        if (errStream != null) {
            cl.setErr(errStream);
        }
        if (cl.getCommand() instanceof ListsExitCodes l) {
            Map<String, String> list = new LinkedHashMap<>();
            l.exitCodes().forEach((code, words) -> list.put(Integer.toString(code.number()), words));
            cl.getCommandSpec().usageMessage().exitCodeList(list);
        }
        cl.setExecutionExceptionHandler(CommandRunner::handle);
        cl.setParameterExceptionHandler((ex, a) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println(ex.getCommandLine().getCommandName() + ": " + ex.getMessage());
            err.println("Try '" + ex.getCommandLine().getCommandName() + " --help' for more information.");
            return ExitCode.USAGE.number();
        });
        return cl.execute(args);
    }

    private static int handle(Exception ex, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        ExitCode code = ExitMapper.of(ex);
        String msg = switch (ex) {
            case NoSuchFileException e -> e.getFile() + ": no such file";
            case AccessDeniedException e -> e.getFile() + ": permission denied";
            case InterruptedException e -> "interrupted; nothing was published";
            default -> code == ExitCode.INTERNAL ? "internal error: " + ex
                    : ex.getMessage() == null ? ex.toString() : ex.getMessage();
        };
        err.println(cl.getCommandName() + ": " + msg);
        if (code == ExitCode.INTERNAL || System.getenv("LIVEPATCH_TRACE") != null) {
            ex.printStackTrace(err);
        }
        err.flush();
        return code.number();
    }
}
