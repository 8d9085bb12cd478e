package org.livepatch.elf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.testsupport.Tools;

/** Editing through the builder: add, remove, rename, re-target, and the ordering rules of the writer. */
class ObjectBuilderTest {

    @Test
    void newObjectHasLocalsFirstAndShInfoAtFirstGlobal(@TempDir Path tmp) throws Exception {
        ObjectBuilder b = new ObjectBuilder(Elf.EM_X86_64, 0, 0);
        ObjectBuilder.SectionHandle text = b.addSection(".text.f", Elf.SHT_PROGBITS, Elf.SHF_ALLOC | Elf.SHF_EXECINSTR, 16, 0,
                Bytes.copyOf(new byte[] {(byte) 0xe8, 0, 0, 0, 0, (byte) 0xc3}));
        ObjectBuilder.SectionHandle data = b.addSection(".data.x", Elf.SHT_PROGBITS, Elf.SHF_ALLOC | Elf.SHF_WRITE, 8, 0, Bytes.copyOf(new byte[8]));
        // Added global first, locals after: the writer must still put locals first.
        ObjectBuilder.SymbolHandle f = b.addSymbol("f", Elf.STB_GLOBAL, Elf.STT_FUNC, 0, text, 0, 6);
        ObjectBuilder.SymbolHandle g = b.addSpecialSymbol("g", Elf.STB_GLOBAL, Elf.STT_NOTYPE, 0, Elf.SHN_UNDEF, 0, 0);
        b.addSymbol("x", Elf.STB_LOCAL, Elf.STT_OBJECT, 0, data, 0, 8);
        b.addSpecialSymbol("t.c", Elf.STB_LOCAL, Elf.STT_FILE, 0, Elf.SHN_ABS, 0, 0);
        b.addRelocations(text, ".rela.text.f", Elf.SHF_INFO_LINK, List.of(new ObjectBuilder.RelaEntry(1, RelocationTypes.R_X86_64_PLT32, g, -4)));
        b.addRelocations(data, ".rela.data.x", Elf.SHF_INFO_LINK, List.of(new ObjectBuilder.RelaEntry(0, RelocationTypes.R_X86_64_64, f, 0)));

        Path out = tmp.resolve("new.o");
        Files.write(out, b.toBytes());
        ElfFile elf = ElfReader.read(out);
        List<String> names = elf.symbols().stream().map(Symbol::name).toList();
        assertEquals(List.of("", "x", "t.c", "f", "g"), names);
        assertEquals(3, elf.symtab().orElseThrow().info(), "sh_info = index of the first global");
        Section rela = elf.section(".rela.text.f").orElseThrow();
        RelocationSection rs = elf.relocationsFor(elf.section(".text.f").orElseThrow()).orElseThrow();
        assertEquals(rela, rs.section());
        assertEquals("g", rs.relocations().get(0).symbol().name());
        assertEquals(-4, rs.relocations().get(0).addend());
        assertEquals(16, elf.section(".text.f").orElseThrow().addralign());
        assertEquals(0, elf.section(".text.f").orElseThrow().offset() % 16, "alignment honoured in the file");
        Tools.run(tmp, "ld", "-r", "-o", "linked.o", "new.o");
        String readelf = Tools.run(tmp, "readelf", "-W", "-s", "-r", "new.o");
        assertTrue(readelf.contains("R_X86_64_PLT32"), readelf);
    }

    @Test
    void removingRenamingAndRetargetingKeepTheObjectConsistent(@TempDir Path tmp) throws Exception {
        Path objs = Files.createDirectories(tmp.resolve("objs"));
        List<Path> objects = Tools.buildRoundtripFixture(objs, "");
        Path main = objects.stream().filter(p -> p.getFileName().toString().equals("tables.o")).findFirst().orElse(objects.get(0));
        ElfFile elf = ElfReader.read(main);

        // Keep only the first function's text and what it needs; everything it references becomes undefined.
        Symbol func = elf.symbols().stream().filter(s -> s.isFunction() && s.hasSection()).findFirst().orElseThrow();
        Section keep = elf.section(func.shndx());
        ObjectBuilder.EditableCopy copy = ObjectBuilder.copyOf(elf);
        ObjectBuilder b = copy.builder();
        ObjectBuilder.SectionHandle keepSec = copy.section(keep);
        List<ObjectBuilder.SectionHandle> drop = new ArrayList<>();
        for (ObjectBuilder.SectionHandle s : b.sections()) {
            if (s.kind() == ObjectBuilder.Kind.DATA && s != keepSec) {
                drop.add(s);
            }
        }
        for (ObjectBuilder.SymbolHandle s : b.symbols()) {
            if (s.section() != null && s.section() != keepSec) {
                if (s.type() == Elf.STT_SECTION) {
                    // Relocations through a dropped section symbol are re-targeted to a named undefined symbol.
                    ObjectBuilder.SymbolHandle named = b.addSpecialSymbol("ext" + s.section().name().replace('.', '_'), Elf.STB_GLOBAL, Elf.STT_NOTYPE, 0, Elf.SHN_UNDEF, 0, 0);
                    for (ObjectBuilder.SectionHandle rs : b.sections()) {
                        if (rs.kind() == ObjectBuilder.Kind.RELA) {
                            b.setRelocations(rs, rs.relocations().stream()
                                    .map(r -> r.symbol() == s ? new ObjectBuilder.RelaEntry(r.offset(), r.type(), named, r.addend()) : r).toList());
                        }
                    }
                    for (ObjectBuilder.SectionHandle g : b.sections()) {
                        if (g.kind() == ObjectBuilder.Kind.GROUP && g.groupSignature() == s) {
                            b.setGroup(g, g.groupFlags(), named, g.groupMembers());
                        }
                    }
                    b.removeSymbol(s);
                } else {
                    b.makeUndefined(s);
                }
            }
        }
        for (ObjectBuilder.SectionHandle s : drop) {
            if (!s.isRemoved()) {
                b.removeSection(s);
            }
        }
        for (ObjectBuilder.SectionHandle g : b.sections()) {
            if (g.kind() == ObjectBuilder.Kind.GROUP && g.groupMembers().isEmpty()) {
                b.removeSection(g);
            }
        }
        b.rename(keepSec, ".text.renamed");
        Path out = tmp.resolve("edited.o");
        Files.write(out, b.toBytes());

        ElfFile edited = ElfReader.read(out);
        Section renamed = edited.section(".text.renamed").orElseThrow();
        assertEquals(keep.data(), renamed.data());
        assertFalse(edited.section(keep.name()).isPresent(), "old name gone");
        Symbol f = edited.symbolsNamed(func.name()).get(0);
        assertEquals(renamed.index(), f.shndx(), "symbol follows its renamed section");
        for (Symbol s : edited.symbols()) {
            assertTrue(s.shndx() == 0 || s.shndx() == renamed.index() || s.shndx() >= Elf.SHN_LORESERVE, "no dangling section index: " + s);
        }
        int firstGlobal = edited.symtab().orElseThrow().info();
        for (Symbol s : edited.symbols()) {
            assertEquals(s.index() < firstGlobal, s.isLocal(), "locals before globals: " + s);
        }
        Tools.run(tmp, "ld", "-r", "-o", "linked.o", "edited.o");
    }

    @Test
    void dangerousEditsAreRefused() {
        ObjectBuilder b = new ObjectBuilder(Elf.EM_X86_64, 0, 0);
        ObjectBuilder.SectionHandle text = b.addSection(".text", Elf.SHT_PROGBITS, Elf.SHF_ALLOC | Elf.SHF_EXECINSTR, 16, 0, Bytes.copyOf(new byte[4]));
        ObjectBuilder.SymbolHandle f = b.addSymbol("f", Elf.STB_GLOBAL, Elf.STT_FUNC, 0, text, 0, 4);
        b.addRelocations(text, ".rela.text", Elf.SHF_INFO_LINK, List.of(new ObjectBuilder.RelaEntry(0, RelocationTypes.R_X86_64_32, f, 0)));
        assertThrows(IllegalStateException.class, () -> b.removeSection(text), "still defines f");
        assertThrows(IllegalStateException.class, () -> b.removeSymbol(f), "still named by a relocation");
        assertThrows(IllegalArgumentException.class, () -> b.addSection(".symtab", Elf.SHT_SYMTAB, 0, 8, 24, Bytes.EMPTY));
    }
}
