package org.livepatch.pipeline;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.livepatch.cli.CommandRunner;
import org.livepatch.cli.LivepatchBuildCommand;

/** {@code livepatch-build ARGS} run in this JVM, its stdout and stderr together in {@code out}; the exit code. */
final class BuildCommandInProcess {
    private BuildCommandInProcess() {}

    static int run(StringWriter out, String... args) {
        picocli.CommandLine cl = new picocli.CommandLine(new LivepatchBuildCommand());
        PrintWriter pw = new PrintWriter(out, true);
        cl.setOut(pw);
        cl.setErr(pw);
        return CommandRunner.run(cl, args);
    }
}
