package org.livepatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.xenbuild.BuildFixtures;
import picocli.CommandLine;

/** The livepatch-build command line: every user error is one line and its own exit code. */
class LivepatchBuildCommandTest {


    private static CliRun run(String... args) {
        StringWriter err = new StringWriter();
        StringWriter out = new StringWriter();
        CommandLine cl = new CommandLine(new LivepatchBuildCommand());
        // CommandRunner's handlers, with our writers.
        int code = CommandRunner.runWith(cl, new PrintWriter(out), new PrintWriter(err), args);
        return new CliRun(code, err.toString());
    }

    private static List<String> base(Path src, Path tmp, String patch) {
        return new ArrayList<>(List.of("-s", src.toString(), "-p", BuildFixtures.patch(patch).toString(),
                "-c", src.resolve("xen/.config").toString(), "-o", tmp.resolve("out").toString(),
                "--depends", BuildFixtures.ZERO_ID));
    }


    @Test
    void missingOptionIsAUsageError() {
        CliRun r = run("-p", "x.patch");
        assertEquals(64, r.code(), r.err());
        assertTrue(r.err().contains("Missing required option"), r.err());
    }

    @Test
    void theReferenceArchiveOptionsRefuseWhatTheyCannotDoInOneLine(@TempDir Path tmp) throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        String config = src.resolve("xen/.config").toString();
        run("--export-reference", tmp.resolve("r.lpbref").toString()).assertOneLine(64, "--export-reference needs -s DIR and -c FILE");
        run("-s", src.toString(), "-c", config, "--export-reference", tmp.resolve("r").toString(), "--import-reference", "x")
                .assertOneLine(64, "exclude each other");
        run("-s", src.toString(), "-c", config, "-p", BuildFixtures.patch("minixen-extra-version.patch").toString(),
                "--export-reference", tmp.resolve("r").toString()).assertOneLine(64, "leave out -p and --batch");
        run("-s", src.toString(), "--import-reference", "x").assertOneLine(64, "-s and -c together");
        Path text = Files.writeString(tmp.resolve("notes.txt"), "hello\n");
        run("--import-reference", text.toString()).assertOneLine(40, text + ": not a livepatch-build reference archive");
        Path existing = Files.writeString(tmp.resolve("exists.lpbref"), "");
        run("-s", src.toString(), "-c", config, "--export-reference", existing.toString())
                .assertOneLine(18, existing + ": exists (an archive is never overwritten");
        run("-s", src.toString(), "-c", config, "--export-reference", src.resolve("ref.lpbref").toString())
                .assertOneLine(18, src.resolve("ref.lpbref") + ": is inside the source tree");
        // Without an archive option a payload run still needs its four options.
        run("-p", "x.patch", "-s", src.toString()).assertOneLine(64, "Missing required options: '--config=FILE', '--output=DIR', '--depends=BUILDID'");
    }

    @Test
    void badInputsAreRefusedWithDistinctCodes(@TempDir Path tmp) throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        List<String> badId = base(src, tmp, "minixen-extra-version.patch");
        badId.set(badId.indexOf(BuildFixtures.ZERO_ID), "xyz");
        run(badId.toArray(String[]::new)).assertOneLine(14, "40 hex digits");

        run(base(src, tmp, "minixen-not-applying.patch").toArray(String[]::new)).assertOneLine(20, "does not apply");

        Path noLp = tmp.resolve("nolp.config");
        Files.writeString(noLp, Files.readString(src.resolve("xen/.config")).replace("CONFIG_LIVEPATCH=y", "# CONFIG_LIVEPATCH is not set"));
        List<String> cfg = base(src, tmp, "minixen-extra-version.patch");
        cfg.set(cfg.indexOf("-c") + 1, noLp.toString());
        run(cfg.toArray(String[]::new)).assertOneLine(13, "CONFIG_LIVEPATCH");

        List<String> missingSyms = base(src, tmp, "minixen-extra-version.patch");
        missingSyms.addAll(List.of("--xen-syms", tmp.resolve("nope").toString()));
        run(missingSyms.toArray(String[]::new)).assertOneLine(15, "nope");
    }

    @Test
    void xenSymsOfAnotherGccIsExitCode29(@TempDir Path tmp) throws Exception {
        Path src = BuildFixtures.copyMinixen(tmp);
        Path c = tmp.resolve("s.c");
        Files.writeString(c, "void _start(void) { for (;;); }\n");
        Path exe = tmp.resolve("syms");
        org.livepatch.testsupport.Tools.run(tmp, "gcc", "-nostdlib", "-static", "-Wl,--build-id=sha1", "-o", exe.toString(), c.toString());
        Path other = BuildFixtures.withGccComment(exe, tmp.resolve("other"), "(Test) 1.2.3");
        List<String> args = base(src, tmp, "minixen-extra-version.patch");
        args.addAll(List.of("--xen-syms", other.toString()));
        run(args.toArray(String[]::new)).assertOneLine(29, "built by gcc (Test) 1.2.3");
        assertTrue(new CommandLine(new LivepatchBuildCommand()).getUsageMessage().contains("--skip-compiler-check"));
    }
}
