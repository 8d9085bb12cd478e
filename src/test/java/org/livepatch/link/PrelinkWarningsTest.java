package org.livepatch.link;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.cli.CommandRunner;
import org.livepatch.cli.PrelinkCommand;
import org.livepatch.testsupport.LinkFixture;
import org.livepatch.xen.XenSymbolTable;
import picocli.CommandLine;

/**
 * {@code prelink} shows what the loader warns about in the payload it writes, one
 * {@code prelink: warning: NAME: ...} line each on stderr, and still writes it (exit 0).
 */
class PrelinkWarningsTest {
    @TempDir
    Path tmp;

    private static String[] prelink(Path in, Path out, Path xenSyms) {
        StringWriter err = new StringWriter();
        int code = CommandRunner.runWith(new CommandLine(new PrelinkCommand()), new PrintWriter(new StringWriter()), new PrintWriter(err),
                in.toString(), out.toString(), xenSyms.toString());
        return new String[] {Integer.toString(code), err.toString()};
    }

    @Test
    void theLoadersWarningsAreShownOnStderr() throws Exception {
        LinkFixture fx = LinkFixture.shared();
        XenSymbolTable xen = XenSymbolTable.load(fx.xenSyms());
        Path alt = tmp.resolve("alt.livepatch");
        new PayloadAssembler(xen).assembleTo(List.of(PayloadAssemblerTest.writeWithAlternative(tmp.resolve("payload_main.o")),
                fx.object("payload_helper")), alt, PayloadAssembler.Options.defaults());
        String[] r = prelink(alt, tmp.resolve("alt-prelinked.livepatch"), fx.xenSyms());
        assertEquals("0", r[0], r[1]);
        assertEquals(List.of("prelink: warning: alt-prelinked: " + HypervisorLimitsVersionsTest.ALTERNATIVES_WARNING), r[1].lines().toList());

        Path good = tmp.resolve("good.livepatch");
        new PayloadAssembler(xen).assembleTo(List.of(fx.object("payload_main"), fx.object("payload_helper")), good, PayloadAssembler.Options.defaults());
        String[] quiet = prelink(good, tmp.resolve("good-prelinked.livepatch"), fx.xenSyms());
        assertEquals("0", quiet[0], quiet[1]);
        assertEquals("", quiet[1]);
    }
}
