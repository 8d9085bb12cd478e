package org.livepatch.diff;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.livepatch.elf.ElfReader;
import org.livepatch.elf.Relocation;
import org.livepatch.testsupport.XenTree;

/**
 * Every {@code .altinstr_replacement} and {@code .fixup} of the real 4.17.5 build cut into
 * pieces: each alternatives entry's replacement (all {@code repl_len} bytes) lies in the one piece
 * its field leads to, and no section had to be carried whole (every replacement and fixup decodes,
 * and every jump the assembler resolved lands in described code), and no piece with bytes serves
 * the entries of two functions. domctl.o alone has 32 empty replacements at the first byte of its
 * stac; svm/entry.o has a replacement jumping to its own end.
 */
@Tag("xen")
class XenOutOfLineCodePiecesTest {

    @Test
    void everyReplacementOfTheRealTreeLiesInOnePiece() throws Exception {
        List<String> bad = new ArrayList<>();
        List<String> shared = new ArrayList<>();
        int entries = 0;
        for (Path o : XenTree.compiledObjects()) {
            ObjectIndex idx = new ObjectIndex(ElfReader.read(o));
            DiffSide side = new DiffSide(idx);
            Map<OutOfLineCodePieces.Piece, Set<String>> owners = new HashMap<>();
            for (SpecialTable t : side.tables) {
                if (t.profile.auxSection() == null) {
                    continue;
                }
                for (SpecialTable.Entry e : t.entries) {
                    for (Relocation r : e.relocations()) {
                        if (r != e.anchor() && t.target(idx, e, r) instanceof RelocationTarget.SectionTarget st
                                && st.section().name().equals(t.profile.auxSection())) {
                            assertNull(side.pieces.wholeBecause(st.section()), o + " " + st.section().name());
                            OutOfLineCodePieces.Piece p = side.pieces.pieceAt(st.section(), st.offset());
                            int len = Math.max(0, t.replacementLength(e));
                            entries++;
                            SectionSlice owner = t.owner(idx, e);
                            if (p != null && len > 0 && owner != null) {
                                owners.computeIfAbsent(p, k -> new TreeSet<>()).add(owner.describe());
                            }
                            if (p == null || st.offset() < p.start() || st.offset() + len > p.end()) {
                                bad.add(XenTree.root().relativize(o) + ": " + t.section.name() + " entry at 0x" + Long.toHexString(e.start())
                                        + " -> +0x" + Long.toHexString(st.offset()) + "+" + len + " in piece " + p);
                            }
                        }
                    }
                }
            }
            // prelink.o is the whole hypervisor after ld -r, never one compilation unit.
            if (!o.getFileName().toString().equals("prelink.o")) {
                owners.forEach((p, fns) -> {
                    if (fns.size() > 1) {
                        shared.add(XenTree.root().relativize(o) + ": " + p + " " + fns);
                    }
                });
            }
        }
        assertFalse(entries < 1000, "only " + entries + " entries with replacement or fixup code");
        assertEquals(List.of(), bad);
        // Merging pieces never ties two functions together in this build, so a change to one
        // function's replacement or fixup code never makes another function look changed.
        assertEquals(List.of(), shared);
    }
}
