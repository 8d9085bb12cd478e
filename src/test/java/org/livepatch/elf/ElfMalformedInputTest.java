package org.livepatch.elf;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
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

    /** The first relocation section of the fixture that has entries, with the section it applies to. */
    private static RelocationSection firstRela() {
        return goodElf.relocationSections().stream().filter(r -> !r.relocations().isEmpty()).findFirst().orElseThrow();
    }

    @Test
    void relocationFieldsMustLieInsideTheirSection() {
        RelocationSection rs = firstRela();
        long size = rs.target().size();
        String what = "relocation section " + rs.section().name() + " entry 0";
        // Past the end, at the end, straddling the end with a 4-byte field, and a "negative" offset.
        for (long offset : new long[] {size + 0x100, size, size - 1, -8L}) {
            byte[] b = good.clone();
            le(b).putLong((int) rs.section().offset(), offset);
            le(b).putInt((int) rs.section().offset() + 8, RelocationTypes.R_X86_64_PC32);
            ElfFormatException e = rejects(b, what);
            assertEquals(rs.section().offset(), e.offset(), "points at r_offset");
            assertTrue(e.getMessage().contains("R_X86_64_PC32, 4 bytes") && e.getMessage().contains(rs.target().name()), e.getMessage());
        }
        // An 8-byte field 4 bytes before the end does not fit; a 4-byte one does.
        byte[] c = good.clone();
        le(c).putLong((int) rs.section().offset(), size - 4);
        le(c).putInt((int) rs.section().offset() + 8, RelocationTypes.R_X86_64_64);
        rejects(c, what);
        le(c).putInt((int) rs.section().offset() + 8, RelocationTypes.R_X86_64_PC32);
        assertEquals(size - 4, assertDoesNotThrow(() -> ElfReader.read(NAME, c)).relocationsFor(rs.target()).orElseThrow().relocations().get(0).offset());
    }

    @Test
    void relocationsCannotApplyToNoBits() {
        RelocationSection rs = firstRela();
        byte[] b = good.clone();
        le(b).putInt((int) shdr(rs.target().index()) + 4, Elf.SHT_NOBITS);
        assertTrue(rejects(b, "relocation section " + rs.section().name()).getMessage().contains("SHT_NOBITS"));
    }

    @Test
    void symbolsMustLieInsideTheirSection() {
        Symbol f = goodElf.symbols().stream().filter(x -> x.isFunction() && x.hasSection()).findFirst().orElseThrow();
        long size = goodElf.section(f.shndx()).size();
        long at = goodElf.symtab().orElseThrow().offset() + (long) f.index() * Elf.SYM_SIZE;
        byte[] b = good.clone();
        le(b).putLong((int) at + 8, size + 1);
        le(b).putLong((int) at + 16, 0);
        assertEquals(at + 8, rejects(b, "symbol " + f.index()).offset());
        byte[] c = good.clone();
        le(c).putLong((int) at + 16, size - f.value() + 1);
        rejects(c, "symbol " + f.index());
        byte[] d = good.clone();
        le(d).putLong((int) at + 16, -1L);
        rejects(d, "symbol " + f.index());
    }

    @Test
    void inactiveSectionsHaveNoSizeAndRelocationNamesAreReserved() {
        int text = goodElf.section(".text.clamp").orElseThrow().index();
        byte[] b = good.clone();
        le(b).putInt((int) shdr(text) + 4, Elf.SHT_NULL);
        assertTrue(rejects(b, "section header " + text).getMessage().contains("SHT_NULL"));

        // .text.clamp renamed .rela.clamp (same length, same string table) but still PROGBITS.
        Section shstrtab = goodElf.section(goodElf.header().shstrndx());
        int name = (int) (shstrtab.offset() + findName(shstrtab, ".text.clamp"));
        byte[] c = good.clone();
        System.arraycopy(".rela.clamp".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), 0, c, name, 11);
        assertTrue(rejects(c, "section header " + text).getMessage().contains("reserved for relocation sections"));
    }

    private static int findName(Section strtab, String name) {
        byte[] d = strtab.data().toArray();
        byte[] n = (name + "\0").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        outer:
        for (int i = 0; i + n.length <= d.length; i++) {
            for (int k = 0; k < n.length; k++) {
                if (d[i + k] != n[k]) {
                    continue outer;
                }
            }
            if (i == 0 || d[i - 1] == 0) {
                return i;
            }
        }
        throw new AssertionError(name + " not in " + strtab.name());
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
