package org.livepatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.xenbuild.BuildFixtures;
import org.livepatch.testsupport.LinkFixture;
import org.livepatch.testsupport.Tools;

/**
 * The exit codes of the stages after the build (3, 27, 31 to 34), each provoked from outside:
 * {@code livepatch-build} run in its own JVM, as a user runs it, with its own cache, on the
 * minixen fixture and a patch or hypervisor crafted for the case. The expected codes are the
 * numbers the README documents, written here, never read back from the code under test.
 */
class PipelineExitCodeTest {
    @TempDir
    Path tmp;


    private Path src;

    private Path src() throws Exception {
        if (src == null) {
            src = BuildFixtures.copyMinixen(tmp);
        }
        return src;
    }

    private List<String> command(Path patch, Path out, String depends, String... extra) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"), LivepatchBuildCommand.class.getName(),
                "-s", src().toString(), "-p", patch.toString(), "-c", src().resolve("xen/.config").toString(),
                "-o", out.toString(), "--depends", depends, "-j", "2"));
        cmd.addAll(List.of(extra));
        return cmd;
    }

    private ProcessBuilder builder(List<String> cmd) {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("LPB_CACHE", tmp.resolve("cache").toString());
        pb.environment().remove("LIVEPATCH_TRACE");
        return pb;
    }

    private CliRun run(Path patch, Path out, String depends, String... extra) throws Exception {
        return run(builder(command(patch, out, depends, extra)));
    }


    private Path patch(String name, String file, String from, String to) throws Exception {
        return BuildFixtures.makePatch(src(), tmp.resolve(name), new BuildFixtures.Edit(file, s -> {
            assertTrue(s.contains(from), file + " holds " + from);
            return s.replace(from, to);
        }));
    }

    private static final String EXTRA_VERSION = "const char *xen_extra_version(void)\n{\n    return XEN_EXTRAVERSION;\n}\n\n";
    private static final String CHANGESET = "const char *xen_changeset(void)\n{\n    return XEN_CHANGESET;\n}\n\n";

    @Test
    void noFunctionalChangeIs3() throws Exception {
        // Two functions swapped: version.o differs byte for byte, but no function's code does.
        Path p = patch("reorder.patch", "xen/common/version.c", EXTRA_VERSION + CHANGESET, CHANGESET + EXTRA_VERSION);
        CliRun r = run(p, tmp.resolve("out"), BuildFixtures.ZERO_ID);
        r.assertOneLine(3, "no functional changes found in 1 rebuilt object(s) (common/version.o)");
        assertFalse(Files.exists(tmp.resolve("out/reorder.livepatch")));
    }

    @Test
    void anObjectTheDiffCannotReadIs31() throws Exception {
        // An ifunc makes the assembler mark the object ELFOSABI_GNU: its ELF header no longer
        // matches the original's, which create-diff-object refuses to compare.
        Path p = patch("ifunc.patch", "xen/common/version.c", "/* The linker script brackets",
                "static const char *(*resolve_changeset(void))(void)\n{\n    return xen_changeset;\n}\n\n"
                        + "const char *xen_changeset_ifunc(void) __attribute__((ifunc(\"resolve_changeset\")));\n\n"
                        + "/* The linker script brackets");
        CliRun r = run(p, tmp.resolve("out"), BuildFixtures.ZERO_ID);
        r.assertOneLine(31, "ELF header differs");
        assertTrue(r.err().contains("common/version.o"), r.err());
    }

    @Test
    void aPayloadTheHypervisorsLimitsRefuseIs32() throws Exception {
        // Compiles (the patched build links no xen-syms) but calls a function the hypervisor lacks.
        Path p = patch("undefined.patch", "xen/common/version.c", EXTRA_VERSION,
                "void no_such_function_in_xen(void);\n\nconst char *xen_extra_version(void)\n{\n"
                        + "    no_such_function_in_xen();\n    return XEN_EXTRAVERSION;\n}\n\n");
        CliRun r = run(p, tmp.resolve("out"), BuildFixtures.ZERO_ID);
        r.assertOneLine(32, "no_such_function_in_xen");
        assertFalse(Files.exists(tmp.resolve("out/undefined.livepatch")), "nothing written");
    }

    @Test
    void aPayloadOurLoaderRefusesIs33() throws Exception {
        // The running hypervisor was linked at 0xffffffff80000000, more than 2 GiB from where
        // Xen's vmap area puts payloads: the payload's calls into it cannot be relocated. Only the
        // loader, which places the payload, can know; the assembler's checks pass.
        Path running = BuildFixtures.copyMinixen(Files.createDirectories(tmp.resolve("running")));
        Path lds = running.resolve("xen/arch/x86/xen.lds");
        String script = Files.readString(lds);
        assertTrue(script.contains(". = 0xffff82d040200000;"));
        Files.writeString(lds, script.replace(". = 0xffff82d040200000;", ". = 0xffffffff80000000;"));
        Tools.run(running, "make", "-s", "-C", "xen");
        Path xenSyms = running.resolve("xen/xen-syms");
        String id = LinkFixture.readelfBuildId(xenSyms);
        CliRun r = run(BuildFixtures.patch("minixen-extra-version.patch"), tmp.resolve("out"), id, "--xen-syms", xenSyms.toString());
        r.assertOneLine(33, "would be refused by Xen");
        assertTrue(r.err().contains("RELOCATION_OVERFLOW"), r.err());
        assertFalse(Files.exists(tmp.resolve("out/minixen-extra-version.livepatch")), "nothing written");
    }

    @Test
    void sourceChangedWhileItWasCopiedIs27() throws Exception {
        Path changed = src().resolve("xen/common/foo.c");
        CliRun r = whileTheReferenceBuildWaits(tmp.resolve("out"),
                () -> Files.writeString(changed, "/* edited while livepatch-build copies the tree */\n", StandardOpenOption.APPEND));
        r.assertOneLine(27, "source tree changed while it was being copied");
    }

    @Test
    void outputThatCannotBeWrittenIs34() throws Exception {
        // OUTPUT was empty when checked; by the time the diff stage writes OUTPUT/objects/, a
        // file of that name is in the way.
        Path out = tmp.resolve("out");
        CliRun r = whileTheReferenceBuildWaits(out, () -> Files.writeString(out.resolve("objects"), "in the way\n"));
        r.assertOneLine(34, out.resolve("objects").toString());
        assertFalse(Files.exists(out.resolve("minixen-extra-version.livepatch")));
    }

    /**
     * The build stage's codes (10 to 25) and 30, one crafted input each, from the same command line;
     * 13, 14, 15, 20, 29 and 64 are in {@link LivepatchBuildCommandTest}, 26 and 28 in the cache's
     * and the interrupt tests.
     */
    @Test
    void buildStageCodes() throws Exception {
        Path good = BuildFixtures.patch("minixen-extra-version.patch");
        List<String> zeroJobs = command(good, tmp.resolve("o10"), BuildFixtures.ZERO_ID);
        zeroJobs.set(zeroJobs.indexOf("-j") + 1, "0");
        run(zeroJobs).assertOneLine(10, "");
        List<String> noTree = command(good, tmp.resolve("o11"), BuildFixtures.ZERO_ID);
        noTree.set(noTree.indexOf("-s") + 1, tmp.resolve("nowhere").toString());
        run(noTree).assertOneLine(11, "nowhere");
        List<String> noConfig = command(good, tmp.resolve("o12"), BuildFixtures.ZERO_ID);
        noConfig.set(noConfig.indexOf("-c") + 1, tmp.resolve("missing.config").toString());
        run(noConfig).assertOneLine(12, "missing.config");

        Path running = BuildFixtures.copyMinixen(Files.createDirectories(tmp.resolve("running")));
        Tools.run(running, "make", "-s", "-C", "xen");
        run(good, tmp.resolve("o16"), BuildFixtures.ZERO_ID, "--xen-syms", running.resolve("xen/xen-syms").toString(),
                "--xen-depends", BuildFixtures.ZERO_ID).assertOneLine(16, "");

        // Every tool but gcc on PATH.
        Path bin = Files.createDirectories(tmp.resolve("bin-without-gcc"));
        for (String t : List.of("make", "ld", "patch", "cp", "sh", "sed", "cmp")) {
            Path real = java.util.Arrays.stream(System.getenv("PATH").split(":")).map(d -> Path.of(d, t))
                    .filter(Files::isExecutable).findFirst().orElseThrow();
            Files.copy(real, bin.resolve(t), java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        }
        ProcessBuilder noGcc = builder(command(good, tmp.resolve("o17"), BuildFixtures.ZERO_ID));
        noGcc.environment().put("PATH", bin.toString());
        noGcc.environment().remove("CC");
        run(noGcc).assertOneLine(17, "gcc");

        Path full = Files.createDirectories(tmp.resolve("o18"));
        Files.writeString(full.resolve("keep-me"), "user file\n");
        run(good, full, BuildFixtures.ZERO_ID).assertOneLine(18, "not empty");

        Path garbage = tmp.resolve("garbage.patch");
        Files.writeString(garbage, "just text\n");
        run(garbage, tmp.resolve("o19"), BuildFixtures.ZERO_ID).assertOneLine(19, "garbage.patch");
        run(BuildFixtures.patch("minixen-no-compiled-file.patch"), tmp.resolve("o21"), BuildFixtures.ZERO_ID).assertOneLine(21, "");
        Path tools = tmp.resolve("tools.patch");
        Files.writeString(tools, "--- a/tools/foo.c\n+++ b/tools/foo.c\n@@ -1 +1 @@\n-a\n+b\n");
        run(tools, tmp.resolve("o22"), BuildFixtures.ZERO_ID).assertOneLine(22, "tools/foo.c");

        ProcessBuilder badFlags = builder(command(good, tmp.resolve("o23"), BuildFixtures.ZERO_ID));
        badFlags.environment().put("EXTRA_CFLAGS_XEN_CORE", "-fno-such-option-livepatch");
        run(badFlags).assertOneLine(23, "reference-build.log");

        Path broken = patch("broken.patch", "xen/common/foo.c", "return arg * 2;", "return arg * ;");
        run(broken, tmp.resolve("o24"), BuildFixtures.ZERO_ID).assertOneLine(24, "patched-build.log");
        Path comment = patch("comment.patch", "xen/include/xen/hypercall.h", "#endif", "/* nothing */\n#endif");
        run(comment, tmp.resolve("o25"), BuildFixtures.ZERO_ID).assertOneLine(25, "");
        // An initial value for a variable the running hypervisor already holds: changed data.
        Path data = patch("data.patch", "xen/common/console.c", "static unsigned int conring_prod;", "static unsigned int conring_prod = 1;");
        CliRun r = run(data, tmp.resolve("o30"), BuildFixtures.ZERO_ID);
        assertEquals(30, r.code(), r.err());
        // One line, then one indented line per refused change.
        List<String> lines = r.err().lines().filter(l -> !l.startsWith("[")).toList();
        assertEquals("livepatch-build: 1 change(s) cannot be live-patched safely:", lines.get(0), r.err());
        assertEquals(2, lines.size(), r.err());
        assertTrue(lines.get(1).startsWith("  console.o: conring_prod: changed initialised data"), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    }

    private CliRun run(List<String> cmd) throws Exception {
        return run(builder(cmd));
    }

    private static CliRun run(ProcessBuilder pb) throws Exception {
        Process p = pb.redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        return new CliRun(p.waitFor(), err);
    }

    private interface Action {
        void run() throws Exception;
    }

    private static final Pattern KEY = Pattern.compile("^\\[hash-source\\]\\s+\\S+ s\\s+([0-9a-f]{32,64})$");

    /**
     * Runs livepatch-build with the extra-version patch and does {@code action} after it has hashed
     * SRC but before it copies SRC for the reference build: synchronised on events, not on time.
     * A first run learns the cache key; its reference is then removed, so the second run must build
     * one, which it only does holding the key's lock. The test holds that lock until the action is done.
     */
    private CliRun whileTheReferenceBuildWaits(Path out, Action action) throws Exception {
        Path patch = BuildFixtures.patch("minixen-extra-version.patch");
        CliRun first = run(patch, tmp.resolve("first"), BuildFixtures.ZERO_ID);
        assertEquals(0, first.code(), first.err());
        String key = first.err().lines().map(KEY::matcher).filter(Matcher::matches).map(m -> m.group(1)).findFirst()
                .orElseThrow(() -> new AssertionError("no cache key in " + first.err()));
        Path refs = tmp.resolve("cache/refs");
        Tools.run(null, "rm", "-rf", refs.resolve(key).toString());
        // Without a recorded digest SRC is hashed afresh, so a copy that differs from it means SRC
        // changed under the run (27); a recorded one that differs is taken for a stale record,
        // dropped, and SRC read again (CacheTamperTest).
        Tools.run(null, "rm", "-rf", tmp.resolve("cache/sources").toString());

        try (FileChannel ch = FileChannel.open(refs.resolve(key + ".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            FileLock lock = ch.lock();
            Process p = builder(command(patch, out, BuildFixtures.ZERO_ID)).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            StringBuilder err = new StringBuilder();
            BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
            String line;
            boolean hashed = false;
            while (!hashed && (line = r.readLine()) != null) {
                err.append(line).append('\n');
                hashed = KEY.matcher(line).matches();
            }
            assertTrue(hashed, "the run ended before hashing SRC: " + err);
            action.run();
            lock.release();
            r.lines().forEach(l -> err.append(l).append('\n'));
            return new CliRun(p.waitFor(), err.toString());
        }
    }
}
