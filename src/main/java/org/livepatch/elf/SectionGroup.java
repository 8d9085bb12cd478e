package org.livepatch.elf;

import java.util.List;

/** A SHT_GROUP section: its flags (GRP_COMDAT), signature symbol and member sections. */
public record SectionGroup(Section section, int flags, Symbol signature, List<Section> members) {
    public SectionGroup {
        members = List.copyOf(members);
    }

    public boolean isComdat() {
        return (flags & Elf.GRP_COMDAT) != 0;
    }
}
