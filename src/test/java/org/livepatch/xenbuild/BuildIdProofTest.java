package org.livepatch.xenbuild;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.cli.ExitCode;
import org.livepatch.cli.ExitMapper;
import org.livepatch.testsupport.Tools;

/**
 * The build-id proof on crafted pairs of linked ELF files, compiled here: one "stock", one
 * "rebuilt" that differs by a string, by code, or by the compiler named in {@code .comment}.
 */
class BuildIdProofTest {

    private static final String PROGRAM = """
            const char tail[] = "after the banner";
            const char banner[] = "BANNER";
            int f(int i) { return RESULT + banner[i] + tail[i]; }
            EXTRA
            """;

    private static Path link(Path dir, String name, String banner, int result, String extra) throws Exception {
        // Same source file name in both (it is in .symtab), so only what the test changes differs.
        Path d = Files.createDirectories(dir.resolve(name));
        Files.writeString(d.resolve("x.c"), PROGRAM.replace("BANNER", banner).replace("RESULT", Integer.toString(result)).replace("EXTRA", extra));
        Tools.run(d, "gcc", "-O2", "-nostdlib", "-static", "-Wl,--build-id=sha1", "-Wl,-e,f", "-o", "xen-syms", "x.c");
        return d.resolve("xen-syms");
    }

    private static ReproductionTarget target(Path stock) throws Exception {
        return new ReproductionTarget(RequestChecks.readBuildId(stock), stock, "the stock test binary 1.0-1",
                Map.of("hypervisor", "test-hypervisor=1.0-1"));
    }

    @Test
    void theSameBinaryIsProven(@TempDir Path tmp) throws Exception {
        Path stock = link(tmp, "stock", "version 1", 1, "");
        Path rebuilt = link(tmp, "rebuilt", "version 1", 1, "");
        BuildIdProof proof = BuildIdProof.check(target(stock), rebuilt);
        assertTrue(proof.equal());
        assertEquals(RequestChecks.readBuildId(stock), proof.rebuilt());
    }

    @Test
    void aDifferentStringNamesRodataAndTheBuildStrings(@TempDir Path tmp) throws Exception {
        Path stock = link(tmp, "stock", "version 1", 1, "");
        Path rebuilt = link(tmp, "rebuilt", "version 2", 1, "");
        BuildException e = assertThrows(BuildException.class, () -> BuildIdProof.check(target(stock), rebuilt));
        assertEquals(BuildException.Reason.REFERENCE_NOT_REPRODUCED, e.reason());
        assertEquals(ExitCode.REFERENCE_NOT_REPRODUCED, ExitMapper.of(e));
        String m = e.getMessage();
        assertTrue(m.startsWith(rebuilt + ": the rebuilt hypervisor is not the stock test binary 1.0-1: build-id "
                + RequestChecks.readBuildId(rebuilt) + ", stock " + RequestChecks.readBuildId(stock) + "; "), m);
        // banner ("version 1", 10 bytes) first, then tail at the next multiple of 8 (17 bytes): 33.
        assertTrue(m.contains("first differing section: .rodata (same size, 33 bytes; first different byte at +0x8)"), m);
        assertTrue(m.contains("likely cause: a build string or variable"), m);
        assertFalse(m.contains("\n"), m);
    }

    /**
     * A longer build string moves what follows it, so the code that addresses it changes first
     * (same size): the cause is still the string, not the code.
     */
    @Test
    void aLongerStringMovesCodeButIsNamedAsTheCause(@TempDir Path tmp) throws Exception {
        Path stock = link(tmp, "stock", "version 1", 1, "");
        Path rebuilt = link(tmp, "rebuilt", "version 1 with a much longer local suffix", 1, "");
        BuildException e = assertThrows(BuildException.class, () -> BuildIdProof.check(target(stock), rebuilt));
        String m = e.getMessage();
        assertTrue(m.contains("first differing section: .text (same size"), m);
        assertTrue(m.contains("likely cause: a build string or variable"), m);
    }

    @Test
    void differentCodeNamesTextAndPointsAtAPatch(@TempDir Path tmp) throws Exception {
        Path stock = link(tmp, "stock", "version 1", 1, "");
        Path rebuilt = link(tmp, "rebuilt", "version 1", 7000000, "");
        BuildException e = assertThrows(BuildException.class, () -> BuildIdProof.check(target(stock), rebuilt));
        // 7000000 needs a 32-bit immediate where 1 fit in 8 bits: the code grows.
        assertTrue(e.getMessage().contains("first differing section: .text (stock "), e.getMessage());
        assertTrue(e.getMessage().contains("likely cause: other code: a Debian patch not applied"), e.getMessage());
    }

    @Test
    void anotherCompilerInCommentIsNamedFirst(@TempDir Path tmp) throws Exception {
        Path stock = link(tmp, "stock", "version 1", 1, "");
        Path rebuilt = link(tmp, "rebuilt", "version 1", 1,
                "__asm__(\".pushsection .comment,\\\"MS\\\",@progbits,1\\n.string \\\"GCC: (Other 9.9.9-1) 9.9.9\\\"\\n.popsection\");");
        BuildException e = assertThrows(BuildException.class, () -> BuildIdProof.check(target(stock), rebuilt));
        String m = e.getMessage();
        assertTrue(m.contains("first differing section: .comment"), m);
        assertTrue(m.contains("likely cause: the compiler (.comment: stock "), m);
        assertTrue(m.contains("Other 9.9.9-1) 9.9.9"), m);
    }
}
