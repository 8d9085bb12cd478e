package org.livepatch.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.livepatch.elf.Elf;
import org.livepatch.elf.ElfFile;
import org.livepatch.elf.Section;

/** Equality of two ELF models up to what a writer is free to choose (file offsets, string-table layout). */
public final class ModelAssertions {
    private ModelAssertions() {}

    public static void assertSameModel(ElfFile expected, ElfFile actual) {
        String where = expected.path() + " vs " + actual.path();
        assertEquals(expected.header().withoutLayout(), actual.header().withoutLayout(), where + ": header");
        assertEquals(expected.sections().size(), actual.sections().size(), where + ": section count");
        for (int i = 0; i < expected.sections().size(); i++) {
            Section e = expected.section(i);
            Section a = actual.section(i);
            if (e.type() == Elf.SHT_STRTAB || e.type() == Elf.SHT_SYMTAB) {
                // Symbol and string tables are regenerated: same role, any string layout.
                assertEquals(e.name(), a.name(), where + ": section " + i);
                assertEquals(e.type(), a.type(), where + ": section " + i + " type");
                assertEquals(e.link(), a.link(), where + ": section " + i + " link");
                assertEquals(e.info(), a.info(), where + ": section " + i + " info");
                continue;
            }
            assertTrue(e.sameContentAs(a), where + ": section " + i + " differs: " + e + " / " + a);
        }
        assertEquals(expected.symbols(), actual.symbols(), where + ": symbols");
        assertEquals(expected.relocationSections().size(), actual.relocationSections().size(), where + ": relocation sections");
        for (int i = 0; i < expected.relocationSections().size(); i++) {
            assertEquals(expected.relocationSections().get(i).target().index(), actual.relocationSections().get(i).target().index(), where);
            assertEquals(expected.relocationSections().get(i).relocations(), actual.relocationSections().get(i).relocations(),
                    where + ": relocations of " + expected.relocationSections().get(i).section().name());
        }
        assertEquals(expected.groups().size(), actual.groups().size(), where + ": groups");
        for (int i = 0; i < expected.groups().size(); i++) {
            var eg = expected.groups().get(i);
            var ag = actual.groups().get(i);
            assertEquals(eg.flags(), ag.flags(), where);
            assertEquals(eg.signature(), ag.signature(), where);
            assertEquals(eg.members().stream().map(Section::index).toList(), ag.members().stream().map(Section::index).toList(), where);
        }
    }
}
