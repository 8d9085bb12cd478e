package org.livepatch.elf;

import java.util.List;

/**
 * A SHT_RELA section resolved: the section it applies to ({@code target}, from sh_info) and its
 * entries in file order.
 */
public record RelocationSection(Section section, Section target, List<Relocation> relocations) {
    public RelocationSection {
        relocations = List.copyOf(relocations);
    }
}
