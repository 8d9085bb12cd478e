package org.livepatch.cli;

import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicReference;
import org.livepatch.build.BuildException;
import org.livepatch.build.ExternalCommand;
import sun.misc.Signal;

/**
 * SIGINT and SIGTERM for a long-running command: instead of the JVM's default (run the shutdown
 * hooks and die with 130 or 143, no word said, temporaries left behind), the signal becomes an
 * interrupt of the main thread. The build then unwinds the way every interrupt does: each
 * external program is killed with its process group ({@link ExternalCommand}), each temporary
 * directory and partial output is removed on the way out, and the command exits with
 * {@link BuildException.Reason#INTERRUPTED} and one line.
 *
 * <p>Two backstops, because unwinding needs the main thread to reach a point that notices an
 * interrupt: a second signal, or {@link #GRACE_MILLIS} without the main thread finishing, stops
 * the running programs and ends the process at once with the same code and line (whatever is
 * left is removed by the next run: see {@code OutputClaim}, {@code ScratchDir}).
 */
public final class Interrupts {
    static final long GRACE_MILLIS = 10_000;
    private static final AtomicReference<String> RECEIVED = new AtomicReference<>();
    private static volatile String lastWords = "";

    private Interrupts() {}

    /**
     * Handles SIGINT and SIGTERM from now on by interrupting {@code main}; {@code out} gets the
     * one line if the process must be ended without the main thread. A signal this process
     * inherited as ignored ({@code nohup}, a background job of a non-interactive shell) stays
     * ignored: the JVM refuses to handle it, and nobody can send it to us anyway.
     */
    public static void install(Thread main, String command, PrintStream out) {
        for (String sig : new String[] {"INT", "TERM"}) {
            try {
                Signal.handle(new Signal(sig), s -> onSignal("SIG" + sig, main, command, out));
            } catch (IllegalArgumentException ignoredSignal) {
                // Ignored at start-up or reserved by the JVM (-Xrs): the default stays.
            }
        }
    }

    /** The signal received ("SIGINT", "SIGTERM"), or null. */
    public static String received() {
        return RECEIVED.get();
    }

    /** What the stage progress last said, for the one line (which stage was stopped). */
    public static void during(String stage) {
        lastWords = stage;
    }

    /** The one line: "interrupted (SIGINT) during stage X; nothing was published". */
    public static String message(String signal, String whatWasKept) {
        return "interrupted (" + signal + ")" + (lastWords.isEmpty() ? "" : " during " + lastWords) + "; " + whatWasKept;
    }

    private static void onSignal(String sig, Thread main, String command, PrintStream out) {
        if (!RECEIVED.compareAndSet(null, sig)) {
            // The second Ctrl-C: the user does not want to wait for a clean unwind.
            halt(command, out, RECEIVED.get());
            return;
        }
        main.interrupt();
        Thread watchdog = new Thread(() -> {
            try {
                main.join(GRACE_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            if (main.isAlive()) {
                halt(command, out, sig);
            }
        }, command + ": interrupt watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
    }

    private static void halt(String command, PrintStream out, String sig) {
        ExternalCommand.stopAll();
        out.println(command + ": " + message(sig, "stopped at once; the next run removes what is left"));
        out.flush();
        // halt, not exit: the main thread may hold locks the shutdown hooks would wait for.
        Runtime.getRuntime().halt(BuildException.Reason.INTERRUPTED.exitCode());
    }
}
