package org.livepatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code --debian}'s refusals that come before anything is fetched. */
class DebianOptionTest {

    private static CliRun run(String... args) {
        StringWriter err = new StringWriter();
        int code = CommandRunner.runWith(new CommandLine(new LivepatchBuildCommand()), new PrintWriter(new StringWriter()),
                new PrintWriter(err), args);
        return new CliRun(code, err.toString());
    }

    @Test
    void aMalformedVersionIsABadOption() {
        run("--debian", "4.17.5", "-p", "x.patch", "-o", "out").assertOneLine(10,
                "--debian '4.17.5' is not a Debian package version ([epoch:]upstream-revision, e.g. 4.17.5+72-g01140da4e8-1)");
    }

    @Test
    void debianExcludesSourceAndConfig() {
        run("--debian", "4.17.5+72-g01140da4e8-1", "-s", "src", "-p", "x.patch", "-o", "out").assertOneLine(64,
                "--debian VERSION builds Debian's source with its shipped config: -s and -c are not used with it");
        run("--debian", "4.17.5+72-g01140da4e8-1", "-c", "cfg", "-p", "x.patch", "-o", "out").assertOneLine(64,
                "-s and -c are not used with it");
    }

    @Test
    void withoutDebianSourceConfigAndDependsAreRequired() {
        CliRun r = run("-p", "x.patch", "-o", "out");
        r.assertOneLine(64, "Missing required options: '--srcdir=DIR', '--config=FILE', '--depends=BUILDID' (or --debian VERSION)");
        r = run("-s", "src", "-c", "cfg", "-p", "x.patch", "-o", "out");
        r.assertOneLine(64, "Missing required option: '--depends=BUILDID'");
    }

    @Test
    void theNewExitCodesAreDocumented() {
        assertEquals(35, ExitCode.PACKAGE_UNAVAILABLE.number());
        assertEquals(36, ExitCode.REFERENCE_NOT_REPRODUCED.number());
        assertTrue(ExitCode.REFERENCE_NOT_REPRODUCED.meaning().contains("stock"));
    }
}
