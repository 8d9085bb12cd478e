package org.livepatch.diff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.livepatch.elf.ElfReader;
import org.livepatch.elf.Relocation;
import org.livepatch.testsupport.XenTree;

/**
 * Every {@code .altinstr_replacement} and {@code .fixup} of the real 4.17.5 build cut into
 * pieces: each alternatives entry's replacement (all {@code repl_len} bytes) lies in the one piece
 * its field leads to, and no section had to be carried whole (every replacement and fixup decodes,
 * and every jump the assembler resolved lands in described code). domctl.o alone has 32 empty
 * replacements at the first byte of its stac; svm/entry.o has a replacement jumping to its own end.
 */
@Tag("xen")
class XenAuxPiecesTest {

    @Test
    void everyReplacementOfTheRealTreeLiesInOnePiece() throws Exception {
        List<String> bad = new ArrayList<>();
        int entries = 0;
        for (Path o : XenTree.compiledObjects()) {
            ObjectIndex idx = new ObjectIndex(ElfReader.read(o));
            DiffSide side = new DiffSide(idx);
            for (SpecialTable t : side.tables) {
                if (t.profile.auxSection() == null) {
                    continue;
                }
                for (SpecialTable.Entry e : t.entries) {
                    for (Relocation r : e.relocations()) {
                        if (r != e.anchor() && t.target(idx, e, r) instanceof Target.SectionTarget st
                                && st.section().name().equals(t.profile.auxSection())) {
                            assertNull(side.pieces.wholeBecause(st.section()), o + " " + st.section().name());
                            AuxPieces.Piece p = side.pieces.pieceAt(st.section(), st.offset());
                            int len = Math.max(0, t.replacementLength(e));
                            entries++;
                            if (p == null || st.offset() < p.start() || st.offset() + len > p.end()) {
                                bad.add(XenTree.root().relativize(o) + ": " + t.section.name() + " entry at 0x" + Long.toHexString(e.start())
                                        + " -> +0x" + Long.toHexString(st.offset()) + "+" + len + " in piece " + p);
                            }
                        }
                    }
                }
            }
        }
        assertFalse(entries < 1000, "only " + entries + " entries with replacement or fixup code");
        assertEquals(List.of(), bad);
    }
}
