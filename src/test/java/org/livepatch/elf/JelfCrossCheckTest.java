package org.livepatch.elf;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import net.fornwall.jelf.ElfRelocationAddendSection;
import net.fornwall.jelf.ElfSectionHeader;
import net.fornwall.jelf.ElfSymbolTableSection;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.livepatch.testsupport.Tools;
import org.livepatch.testsupport.XenTree;

/**
 * Our reader against jelf, a published ELF reader, as an independent oracle: both must
 * see the same sections, symbols and relocations. (jelf cannot write objects, which is why the
 * project has its own model; see the README's design notes.)
 */
class JelfCrossCheckTest {

    @Test
    void fixtureObjectsReadTheSame(@TempDir Path tmp) throws Exception {
        for (Path o : Tools.buildRoundtripFixture(tmp, "")) {
            compare(o);
        }
    }

    @Test
    @Tag("xen")
    void xenSymsAndSomeObjectsReadTheSame() throws Exception {
        compare(XenTree.xenSyms());
        List<Path> objs = XenTree.compiledObjects();
        for (int i = 0; i < objs.size(); i += 10) {
            compare(objs.get(i));
        }
    }

    private static void compare(Path file) throws Exception {
        ElfFile ours = ElfReader.read(file);
        net.fornwall.jelf.ElfFile theirs = net.fornwall.jelf.ElfFile.from(Files.readAllBytes(file));
        assertEquals(theirs.e_shnum, ours.sections().size(), file + ": sections");
        for (int i = 1; i < ours.sections().size(); i++) {
            Section s = ours.section(i);
            ElfSectionHeader h = theirs.getSection(i).header;
            String where = file + " section " + i;
            assertEquals(h.getName(), s.name(), where);
            assertEquals(h.sh_type, s.type(), where);
            assertEquals(h.sh_flags, s.flags(), where);
            assertEquals(h.sh_size, s.size(), where);
            assertEquals(h.sh_offset, s.offset(), where);
            if (theirs.getSection(i) instanceof ElfRelocationAddendSection r) {
                RelocationSection mine = ours.relocationSections().stream().filter(x -> x.section().index() == s.index()).findFirst().orElseThrow();
                assertEquals(r.relocations.length, mine.relocations().size(), where);
                for (int k = 0; k < r.relocations.length; k++) {
                    Relocation m = mine.relocations().get(k);
                    assertEquals(r.relocations[k].r_offset, m.offset(), where);
                    assertEquals(r.relocations[k].getType(), m.type(), where);
                    assertEquals(r.relocations[k].getSymbolIndex(), m.symbol().index(), where);
                    assertEquals(r.relocations[k].r_addend, m.addend(), where);
                }
            }
        }
        ElfSymbolTableSection symtab = (ElfSymbolTableSection) theirs.getSection(ours.symtab().orElseThrow().index());
        assertEquals(symtab.symbols.length, ours.symbols().size(), file + ": symbols");
        for (int i = 0; i < symtab.symbols.length; i++) {
            var t = symtab.symbols[i];
            Symbol m = ours.symbol(i);
            String where = file + " symbol " + i;
            assertEquals(t.getName() == null ? "" : t.getName(), m.name(), where);
            assertEquals(t.st_value, m.value(), where);
            assertEquals(t.st_size, m.size(), where);
            assertEquals(t.st_info & 0xff, m.info(), where);
            assertEquals(t.st_shndx & 0xffff, m.shndx(), where);
        }
    }
}
