package org.livepatch.elf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.testsupport.Tools;

/**
 * Hand-forged hostile inputs: each must end in an {@link ElfFormatException} that names the file,
 * the structure and the offset — never another exception, never a huge allocation.
 */
class ElfMalformedInputTest {
    private static final Path NAME = Path.of("forged.o");
    private static byte[] good;
    private static ElfFile goodElf;

    @BeforeAll
    static void compile(@TempDir Path tmp) throws Exception {
        List<Path> objs = Tools.buildRoundtripFixture(tmp, "");
        Path counters = objs.stream().filter(p -> p.getFileName().toString().equals("counters.o")).findFirst().orElseThrow();
        good = Files.readAllBytes(counters);
        goodElf = ElfReader.read(NAME, good.clone());
    }

    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static long shdr(int index) {
        return goodElf.header().shoff() + (long) index * Elf.SHDR_SIZE;
    }

    private static ElfFormatException rejects(byte[] bytes, String structurePart) {
        ElfFormatException e = assertThrows(ElfFormatException.class, () -> ElfReader.read(NAME, bytes));
        assertEquals(NAME, e.file());
        assertTrue(e.structure().contains(structurePart), "structure '" + e.structure() + "' should name " + structurePart + ": " + e.getMessage());
        assertTrue(e.getMessage().startsWith("forged.o: "), e.getMessage());
        return e;
    }

    @Test
    void emptyAndTruncatedHeaders() {
        rejects(new byte[0], "ELF header");
        rejects(Arrays.copyOf(good, 63), "ELF header");
        rejects(Arrays.copyOf(good, 200), "section header table");
    }

    @Test
    void garbageIsNotElf() {
        byte[] b = new byte[4096];
        Arrays.fill(b, (byte) 0x5a);
        assertTrue(rejects(b, "ELF header").getMessage().contains("bad magic"));
        byte[] c = good.clone();
        c[4] = 1; // ELFCLASS32
        assertTrue(rejects(c, "ELF header").getMessage().contains("ELF64"));
        byte[] d = good.clone();
        d[5] = 2; // big-endian
        rejects(d, "ELF header");
    }

    @Test
    void hugeSectionCountCannotAllocate() {
        byte[] b = good.clone();
        le(b).putShort(60, (short) 0xfeff);
        ElfFormatException e = rejects(b, "section header table");
        assertEquals(40, e.offset(), "points at e_shoff");
    }

    @Test
    void wrongEntrySizes() {
        byte[] b = good.clone();
        le(b).putShort(58, (short) 40);
        rejects(b, "ELF header");

        int symtab = goodElf.symtab().orElseThrow().index();
        byte[] c = good.clone();
        le(c).putLong((int) shdr(symtab) + 56, 16);
        rejects(c, "symbol table");

        int rela = goodElf.relocationSections().get(0).section().index();
        byte[] d = good.clone();
        le(d).putLong((int) shdr(rela) + 56, 12);
        rejects(d, "relocation section");
    }

    @Test
    void sectionDataPastTheEnd() {
        int text = goodElf.section(".text.clamp").orElseThrow().index();
        byte[] b = good.clone();
        le(b).putLong((int) shdr(text) + 24, good.length - 2);
        ElfFormatException e = rejects(b, "section header " + text);
        assertEquals(shdr(text) + 24, e.offset());
        byte[] c = good.clone();
        le(c).putLong((int) shdr(text) + 32, Long.MAX_VALUE);
        rejects(c, "section header " + text);
    }

    @Test
    void loopingAndWrongLinks() {
        int symtab = goodElf.symtab().orElseThrow().index();
        byte[] b = good.clone();
        le(b).putInt((int) shdr(symtab) + 40, symtab); // symtab's string table is itself
        assertTrue(rejects(b, "symbol table").getMessage().contains("not a string table"));

        byte[] c = good.clone();
        le(c).putInt((int) shdr(symtab) + 40, 0x7fffffff);
        rejects(c, "section header " + symtab);

        int rela = goodElf.relocationSections().get(0).section().index();
        byte[] d = good.clone();
        le(d).putInt((int) shdr(rela) + 44, rela); // relocations that apply to themselves
        rejects(d, "relocation section");
    }

    @Test
    void stringIndexesOutOfRange() {
        byte[] b = good.clone();
        le(b).putInt((int) shdr(3), 0x7ffffff0);
        rejects(b, "section header 3");

        Section symtab = goodElf.symtab().orElseThrow();
        byte[] c = good.clone();
        le(c).putInt((int) symtab.offset() + 2 * Elf.SYM_SIZE, 1 << 30);
        rejects(c, "symbol 2");
    }

    @Test
    void symbolAndRelocationIndexesOutOfRange() {
        Section symtab = goodElf.symtab().orElseThrow();
        byte[] b = good.clone();
        le(b).putShort((int) symtab.offset() + 2 * Elf.SYM_SIZE + 6, (short) 999);
        rejects(b, "symbol 2");

        Section rela = goodElf.relocationSections().get(0).section();
        byte[] c = good.clone();
        le(c).putInt((int) rela.offset() + 12, 100000); // high half of r_info: symbol index
        rejects(c, "relocation section");
    }

    @Test
    void shstrndxMustBeAStringTable() {
        byte[] b = good.clone();
        le(b).putShort(62, (short) 1);
        rejects(b, "section header 1");
        byte[] c = good.clone();
        le(c).putShort(62, (short) 500);
        rejects(c, "ELF header");
    }

    @Test
    void missingFileIsAnIoErrorNamingIt(@TempDir Path tmp) {
        Path missing = tmp.resolve("nope.o");
        var e = assertThrows(java.nio.file.NoSuchFileException.class, () -> ElfReader.read(missing));
        assertTrue(e.getMessage().contains("nope.o"));
    }
}
