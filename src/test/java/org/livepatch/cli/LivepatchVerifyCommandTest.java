package org.livepatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.testsupport.XenTree;

/** The command line: exit codes 0 / 1 / 64 / 65, one-line reasons with errnos, JSON for CI. */
@Tag("xen")
class LivepatchVerifyCommandTest {

    private static String p(String name) {
        return XenTree.root().resolve("xen/test/livepatch/" + name + ".livepatch").toString();
    }

    private static String xenSyms() {
        return XenTree.xenSyms().toString();
    }

    @Test
    void exitCodes(@TempDir Path tmp) throws Exception {
        assertEquals(0, Launcher.run("check", "--xen-syms", xenSyms(), p("xen_hello_world"), p("xen_bye_world")).code());
        Launcher.Result refused = Launcher.run("check", "--xen-syms", xenSyms(), p("xen_no_xen_buildid"));
        assertEquals(1, refused.code());
        assertTrue(refused.out().contains("SECTION_MISSING, EINVAL (22): .livepatch.xen_depends is missing"), refused.out());
        assertEquals(64, Launcher.run("check", p("xen_hello_world")).code(), "missing --xen-syms");
        Path junk = tmp.resolve("junk.livepatch");
        Files.writeString(junk, "not an ELF file at all, but long enough to have a header................");
        Launcher.Result bad = Launcher.run("check", "--xen-syms", xenSyms(), junk.toString());
        assertEquals(65, bad.code());
        assertTrue(bad.out().contains("NOT_ELF, EINVAL (22)"), bad.out());
        assertFalse(bad.err().contains("Exception"), bad.err());
        assertEquals(74, Launcher.run("info", tmp.resolve("missing.livepatch").toString()).code());
    }

    @Test
    void planJsonAndInfoAndDeps() {
        Launcher.Result plan = Launcher.run("plan", "--json", "-r", "--xen-syms", xenSyms(), p("xen_hello_world"));
        assertEquals(0, plan.code(), plan.err());
        assertTrue(plan.out().contains("\"name\": \"xen_extra_version\""), plan.out());
        assertTrue(plan.out().contains("\"region\": \"TEXT\""), plan.out());
        assertTrue(plan.out().contains("\"type\": \"R_X86_64_PLT32\""), plan.out());

        Launcher.Result text = Launcher.run("plan", "--xen-syms", xenSyms(), p("xen_hello_world"));
        assertTrue(text.out().contains("xen_extra_version 0x"), text.out());
        assertTrue(text.out().contains("-> 0x"), text.out());

        Launcher.Result info = Launcher.run("info", p("xen_hello_world"), p("xen_bye_world"));
        assertEquals(0, info.code(), info.err());
        assertTrue(info.out().contains("metadata:    LIVEPATCH_RULEZ"), info.out());
        assertTrue(info.out().contains("load: hi_func"), info.out());

        Launcher.Result deps = Launcher.run("deps", "--xen-syms", xenSyms(), "--replace", "xen_replace_world", p("xen_bye_world"), p("xen_hello_world"), p("xen_replace_world"));
        assertEquals(0, deps.code(), deps.out() + deps.err());
        assertTrue(deps.out().contains("stack: hypervisor -> xen_hello_world -> xen_bye_world"), deps.out());
        assertTrue(deps.out().contains("replace xen_replace_world: possible; reverts xen_bye_world, xen_hello_world"), deps.out());

        Launcher.Result missing = Launcher.run("deps", "--xen-syms", xenSyms(), p("xen_bye_world"));
        assertEquals(1, missing.code());
        assertTrue(missing.out().contains("MISSING_DEPENDENCY") || missing.out().contains("neither the hypervisor"), missing.out());
    }

    /** Runs the command as main would, capturing output. */
    static final class Launcher {
        record Result(int code, String out, String err) {}

        static Result run(String... args) {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
            java.io.PrintStream oldOut = System.out;
            java.io.PrintStream oldErr = System.err;
            try {
                System.setOut(new java.io.PrintStream(out, true));
                System.setErr(new java.io.PrintStream(err, true));
                int code = CommandRunner.run(new LivepatchVerifyCommand(), args);
                return new Result(code, out.toString(), err.toString());
            } finally {
                System.setOut(oldOut);
                System.setErr(oldErr);
            }
        }
    }
}
