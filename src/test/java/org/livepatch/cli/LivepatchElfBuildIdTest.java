package org.livepatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import org.livepatch.testsupport.LinkFixture;
import picocli.CommandLine;

/** {@code livepatch-elf build-id}: what the scripts use instead of {@code readelf -n | sed}. */
class LivepatchElfBuildIdTest {

    private record Out(int code, String out, String err) {}

    private static Out run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = CommandRunner.runWith(new CommandLine(new LivepatchElfCommand()), new PrintWriter(out), new PrintWriter(err), args);
        return new Out(code, out.toString(), err.toString());
    }

    @Test
    void printsWhatReadelfShows() throws Exception {
        LinkFixture f = LinkFixture.shared();
        String expected = LinkFixture.readelfBuildId(f.xenSyms());
        assertEquals(40, expected.length(), expected);
        Out r = run("build-id", f.xenSyms().toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(expected + "\n", r.out().replace(System.lineSeparator(), "\n"));
        Out two = run("build-id", f.xenSyms().toString(), f.xenSyms().toString());
        assertEquals(expected + "\n" + expected + "\n", two.out().replace(System.lineSeparator(), "\n"));
    }

    @Test
    void aFileWithoutABuildIdIsOneLineAndNoOutput() throws Exception {
        LinkFixture f = LinkFixture.shared();
        String object = f.object("version").toString();
        Out r = run("build-id", object);
        assertEquals(65, r.code(), r.err());
        assertEquals("", r.out());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains(object + ": no GNU build-id note"), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
    }
}
