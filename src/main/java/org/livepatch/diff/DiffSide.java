package org.livepatch.diff;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.livepatch.elf.Section;

/** One input object with its special tables parsed and their entries assigned to the units they describe. */
final class DiffSide {
    record OwnedEntry(SpecialTable table, SpecialTable.Entry entry) {}

    final ObjectIndex index;
    final List<SpecialTable> tables = new ArrayList<>();
    final OutOfLineCodePieces pieces;
    private final Map<SectionSlice, List<OwnedEntry>> entriesOf = new IdentityHashMap<>();

    DiffSide(ObjectIndex index) {
        this.index = index;
        for (Section s : index.elf.sections()) {
            if (index.role(s) == SectionRole.SPECIAL) {
                tables.add(SpecialTable.parse(index, s));
            }
        }
        this.pieces = OutOfLineCodePieces.of(index, tables);
        for (SpecialTable t : tables) {
            for (SpecialTable.Entry e : t.entries) {
                SectionSlice owner = t.owner(index, e);
                if (owner != null) {
                    entriesOf.computeIfAbsent(owner, k -> new ArrayList<>()).add(new OwnedEntry(t, e));
                }
            }
        }
    }

    List<OwnedEntry> entriesOf(SectionSlice u) {
        return entriesOf.getOrDefault(u, List.of());
    }
}
