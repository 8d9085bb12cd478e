package org.livepatch.cli;

import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.livepatch.xenbuild.ExternalCommand;
import sun.misc.Signal;

/**
 * SIGINT and SIGTERM for a long-running command: instead of the JVM's default (run the shutdown
 * hooks and die with 130 or 143, no word said, temporaries left behind), the signal becomes an
 * interrupt of the main thread. The build then unwinds the way every interrupt does: each
 * external program is killed with its process group ({@link ExternalCommand}), each temporary
 * directory and partial output is removed on the way out, and the command exits with
 * {@link ExitCode#INTERRUPTED} and one line.
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
    /**
     * Who says the one line: the main thread unwinding, or a backstop halting the process. Both
     * can get there at once (a second Ctrl-C while the first unwind is printing), and the user
     * must still read exactly one line.
     */
    private static final AtomicBoolean FINAL_WORD = new AtomicBoolean();
    /** How long a backstop that lost the final word waits for the main thread to exit by itself. */
    private static final long LOSER_WAIT_MILLIS = 2_000;

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

    /**
     * Called by the main thread before it reports the interrupt. When a backstop is already saying
     * the line and halting, the main thread must neither say a second one nor exit before the
     * halt: it waits for the end.
     */
    public static void claimFinalWordOrAwaitHalt() {
        if (FINAL_WORD.compareAndSet(false, true)) {
            return;
        }
        while (true) {
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException stillWaiting) {
                // the halt ends this thread; an interrupt does not
            }
        }
    }

    private static void halt(String command, PrintStream out, String sig) {
        ExternalCommand.stopAll();
        if (FINAL_WORD.compareAndSet(false, true)) {
            out.println(command + ": " + message(sig, "stopped at once; the next run removes what is left"));
            out.flush();
        } else {
            // The main thread has its line out or on the way, and is exiting: let it, briefly.
            try {
                Thread.sleep(LOSER_WAIT_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        // halt, not exit: the main thread may hold locks the shutdown hooks would wait for.
        Runtime.getRuntime().halt(ExitCode.INTERRUPTED.number());
    }
}
