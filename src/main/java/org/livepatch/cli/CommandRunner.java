package org.livepatch.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import org.livepatch.elf.ElfFormatException;
import picocli.CommandLine;

/**
 * The one place where exceptions become exit codes and one-line messages. Every launcher's
 * {@code main} goes through {@link #run}; no user error ever shows a stack trace (set
 * {@code LIVEPATCH_TRACE=1} to see one when debugging the tool itself).
 */
public final class CommandRunner {
    private CommandRunner() {}

    /** A user-level failure with its own exit code and message, thrown by command classes. */
    public static final class UserError extends RuntimeException {
        private final int exitCode;

        public UserError(int exitCode, String message) {
            super(message);
            this.exitCode = exitCode;
        }

        public int exitCode() {
            return exitCode;
        }
    }

    public static final int EXIT_USAGE = 64;
    public static final int EXIT_BAD_INPUT = 65;
    public static final int EXIT_IO = 74;
    public static final int EXIT_INTERNAL = 70;
    /** 128 + SIGINT, as shells report a command stopped by Ctrl-C. */
    public static final int EXIT_INTERRUPTED = 130;

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
        cl.setExecutionExceptionHandler(CommandRunner::handle);
        cl.setParameterExceptionHandler((ex, a) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println(ex.getCommandLine().getCommandName() + ": " + ex.getMessage());
            err.println("Try '" + ex.getCommandLine().getCommandName() + " --help' for more information.");
            return EXIT_USAGE;
        });
        return cl.execute(args);
    }

    private static int handle(Exception ex, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        String name = cl.getCommandName();
        int code;
        String msg;
        switch (ex) {
            case UserError u -> {
                code = u.exitCode();
                msg = u.getMessage();
            }
            case ElfFormatException e -> {
                code = EXIT_BAD_INPUT;
                msg = e.getMessage();
            }
            case NoSuchFileException e -> {
                code = EXIT_IO;
                msg = e.getFile() + ": no such file";
            }
            case AccessDeniedException e -> {
                code = EXIT_IO;
                msg = e.getFile() + ": permission denied";
            }
            case InterruptedException e -> {
                code = EXIT_INTERRUPTED;
                msg = "interrupted; nothing was published";
            }
            case IOException e -> {
                code = EXIT_IO;
                msg = e.getMessage() == null ? e.toString() : e.getMessage();
            }
            default -> {
                code = EXIT_INTERNAL;
                msg = "internal error: " + ex;
            }
        }
        err.println(name + ": " + msg);
        if (code == EXIT_INTERNAL || System.getenv("LIVEPATCH_TRACE") != null) {
            ex.printStackTrace(err);
        }
        err.flush();
        return code;
    }
}
