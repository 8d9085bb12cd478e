package org.livepatch.diff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.cli.CommandRunner;
import org.livepatch.cli.CreateDiffObjectCommand;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.ElfFormatException;
import org.livepatch.elf.ElfReader;
import org.livepatch.elf.Relocation;
import org.livepatch.elf.RelocationSection;
import org.livepatch.elf.Section;
import org.livepatch.testsupport.MinixenObjects;
import org.livepatch.xen.XenSymbolTable;
import picocli.CommandLine;

/**
 * The two defects of issue 14, item 3, on minixen's {@code traps.o} (patched with
 * {@code minixen-ex-table.patch}): an exception-table entry whose fixup field points outside
 * {@code .fixup} crashed the payload writer (exit 70, stack trace); a relocation whose offset lies
 * outside its section was carried into the payload pointing nowhere (exit 0). Both must be typed
 * one-line errors naming the object, the section and the offset.
 */
class HostileObjectTest {
    private static final String TRAPS = "arch/x86/traps.o";
    private static MinixenObjects minixen;
    private static byte[] patched;
    private static ElfFile patchedElf;

    @TempDir
    Path tmp;

    @BeforeAll
    static void build() throws Exception {
        minixen = MinixenObjects.shared();
        patched = Files.readAllBytes(minixen.patchedObject(TRAPS));
        patchedElf = ElfReader.read(minixen.patchedObject(TRAPS));
    }

    /** File offset of entry {@code i} of relocation section {@code name}. */
    private static long entryOffset(String name, int i) {
        return patchedElf.section(name).orElseThrow().offset() + 24L * i;
    }

    /** The index of the .rela.ex_table entry that points into .fixup (the second field of the one entry). */
    private static int fixupEntry() {
        RelocationSection rs = patchedElf.relocationSections().stream()
                .filter(r -> r.section().name().equals(".rela.ex_table")).findFirst().orElseThrow();
        for (int i = 0; i < rs.relocations().size(); i++) {
            Relocation r = rs.relocations().get(i);
            if (r.symbol().isSectionSymbol() && patchedElf.section(r.symbol().shndx()).name().equals(".fixup")) {
                return i;
            }
        }
        throw new AssertionError("traps.o has no .ex_table relocation to .fixup");
    }

    private static Path write(Path dir, String name, byte[] b) throws Exception {
        Path p = dir.resolve(name);
        Files.write(p, b);
        return p;
    }

    private record Cli(int exit, String out, String err) {}

    private Cli cli(Path patchedObject) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = CommandRunner.runWith(new CommandLine(new CreateDiffObjectCommand()), new PrintWriter(out), new PrintWriter(err),
                minixen.origObject(TRAPS).toString(), patchedObject.toString(), minixen.xenSyms().toString(),
                tmp.resolve("out.o").toString());
        return new Cli(code, out.toString(), err.toString());
    }

    private static void assertOneLine(Cli c) {
        assertEquals(65, c.exit(), c.err());
        assertEquals(1, c.err().lines().count(), "exactly one line on stderr: " + c.err());
        assertTrue(c.err().startsWith("create-diff-object: "), c.err());
        assertTrue(!c.err().contains("Exception") && !c.err().contains("\tat "), "no stack trace: " + c.err());
    }

    @Test
    void unmodifiedObjectsGiveAPayload() throws Exception {
        DiffResult r = new DiffEngine().diff(ElfReader.read(minixen.origObject(TRAPS)), patchedElf,
                new DiffOptions(null, XenSymbolTable.load(minixen.xenSyms()), false));
        assertEquals(DiffResult.Status.CHANGES, r.status(), r.refusals().toString());
    }

    @Test
    void exTableAddendFlippedOutsideFixupIsATypedError() throws Exception {
        long fixupSize = patchedElf.section(".fixup").orElseThrow().size();
        long at = entryOffset(".rela.ex_table", fixupEntry()) + 16;
        long addend = ByteBuffer.wrap(patched).order(ByteOrder.LITTLE_ENDIAN).getLong((int) at);
        int outside = 0;
        for (int bit = 0; bit < 64; bit++) {
            long flipped = addend ^ (1L << bit);
            if (flipped >= 0 && flipped < fixupSize) {
                continue;
            }
            outside++;
            byte[] b = patched.clone();
            ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong((int) at, flipped);
            Path p = write(tmp, "traps.o", b);
            DiffInputException e = assertThrows(DiffInputException.class, () -> new DiffEngine().diff(
                    ElfReader.read(minixen.origObject(TRAPS)), ElfReader.read(p), new DiffOptions(null, null, false)), "bit " + bit);
            assertTrue(e.getMessage().startsWith("traps.o: .ex_table"), e.getMessage());
            assertTrue(e.getMessage().contains(".fixup"), e.getMessage());
            if (bit == 6) {
                assertOneLine(cli(p));
            }
        }
        assertEquals(60, outside, "bits 0-3 keep the 0-based addend inside the 13-byte .fixup, the other 60 do not");
    }

    @Test
    void relocationOffsetOutsideItsSectionIsATypedError() throws Exception {
        Section text = patchedElf.section(".text.read_guest_word").orElseThrow();
        long at = entryOffset(".rela.text.read_guest_word", 0);
        // Past the end, and inside but too close to the end for the 4-byte PLT32 field.
        for (long offset : new long[] {0x80, text.size() - 3, text.size(), -1L}) {
            byte[] b = patched.clone();
            ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong((int) at, offset);
            Path p = write(tmp, "traps.o", b);
            ElfFormatException e = assertThrows(ElfFormatException.class, () -> ElfReader.read(p), "offset " + offset);
            assertEquals("relocation section .rela.text.read_guest_word entry 0", e.structure(), e.getMessage());
            assertEquals(at, e.offset(), e.getMessage());
            assertTrue(e.getMessage().contains(".text.read_guest_word"), e.getMessage());
            assertOneLine(cli(p));
        }
    }
}
