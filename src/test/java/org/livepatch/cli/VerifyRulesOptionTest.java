package org.livepatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.verify.SyntheticXen;
import picocli.CommandLine;

/** {@code livepatch-verify} says which release's rules it applied, and takes {@code --xen-version}. */
class VerifyRulesOptionTest {
    @TempDir
    Path tmp;

    private record Result(int code, String out, String err) {}

    private static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = CommandRunner.runWith(new CommandLine(new LivepatchVerifyCommand()), new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(code, out.toString(), err.toString());
    }

    private String[] files() throws Exception {
        Path xen = Files.write(tmp.resolve("xen-syms"), SyntheticXen.xenSyms());
        Path p = Files.write(tmp.resolve("p.livepatch"), SyntheticXen.payload());
        return new String[] {xen.toString(), p.toString()};
    }

    @Test
    void checkNamesTheRulesItApplied() throws Exception {
        String[] f = files();
        Result unread = run("check", "--xen-syms", f[0], f[1]);
        assertEquals(0, unread.code(), unread.out() + unread.err());
        // The synthetic xen-syms has no version functions: 4.17's rules, and the reason.
        assertTrue(unread.out().startsWith("rules: Xen 4.17 ("), unread.out());
        assertTrue(unread.out().contains("p: OK (loaded and applied)"), unread.out());

        Result chosen = run("check", "--xen-syms", f[0], "--xen-version", "4.20", f[1]);
        assertEquals(0, chosen.code(), chosen.out() + chosen.err());
        assertTrue(chosen.out().startsWith("rules: Xen 4.20 (--xen-version 4.20: checking with the Xen 4.20 rules"), chosen.out());

        Result json = run("check", "--json", "--xen-syms", f[0], "--xen-version", "4.22.0", f[1]);
        assertEquals(0, json.code(), json.out() + json.err());
        assertTrue(json.out().contains("\"release\": \"4.22\""), json.out());
        assertTrue(json.out().contains("\"sysctlInterface\": \"0x16\""), json.out());
    }

    @Test
    void anUnmodelledReleaseIsAUsageError() throws Exception {
        String[] f = files();
        Result r = run("check", "--xen-syms", f[0], "--xen-version", "4.19", f[1]);
        assertEquals(64, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("--xen-version 4.19 is not a modelled Xen release; known: 4.17, 4.20, 4.22"), r.err());
    }

    @Test
    void infoNamesItsRulesToo() throws Exception {
        String[] f = files();
        Result text = run("info", f[1]);
        assertEquals(0, text.code(), text.out() + text.err());
        assertTrue(text.out().startsWith("rules: Xen 4.17 (no xen-syms: structure only)"), text.out());
        Result json = run("info", "--json", "--xen-version", "4.20", f[1]);
        assertEquals(0, json.code(), json.out() + json.err());
        assertTrue(json.out().contains("\"rules\": \"4.20\""), json.out());
    }
}
