package org.livepatch.elf;

import java.io.PrintWriter;

/** A readelf-like text listing of an {@link ElfFile}: sections, symbols, relocations, notes. */
public final class ElfSummary {
    private final ElfFile elf;

    public ElfSummary(ElfFile elf) {
        this.elf = elf;
    }

    public void print(PrintWriter out, boolean relocations, boolean notes) {
        ElfHeader h = elf.header();
        out.printf("File: %s%n", elf.path());
        out.printf("Type: %s  Machine: %s  Sections: %d  Symbols: %d%n", typeName(h.type()), RelocationTypes.machineName(h.machine()),
                elf.sections().size(), Math.max(0, elf.symbols().size()));
        out.println();
        out.println("Section Headers:");
        out.printf("  [Nr] %-32s %-14s %-16s %-8s %-8s %-2s %-5s %3s %3s %3s%n", "Name", "Type", "Address", "Off", "Size", "ES", "Flg", "Lk", "Inf", "Al");
        for (Section s : elf.sections()) {
            out.printf("  [%2d] %-32s %-14s %016x %08x %08x %02x %-5s %3d %3d %3d%n", s.index(), s.name(), Elf.sectionTypeName(s.type()),
                    s.addr(), s.offset(), s.size(), s.entsize(), Elf.flagLetters(s.flags()), s.link(), s.info(), s.addralign());
        }
        if (!elf.symbols().isEmpty()) {
            out.println();
            out.printf("Symbol table '%s' contains %d entries:%n", elf.symtab().map(Section::name).orElse(""), elf.symbols().size());
            out.printf("%6s: %-16s %5s %-7s %-6s %-8s %4s %s%n", "Num", "Value", "Size", "Type", "Bind", "Vis", "Ndx", "Name");
            for (Symbol s : elf.symbols()) {
                out.printf("%6d: %016x %5d %-7s %-6s %-8s %4s %s%n", s.index(), s.value(), s.size(), Elf.symbolTypeName(s.type()),
                        Elf.bindName(s.bind()), s.visibility() == Elf.STV_HIDDEN ? "HIDDEN" : "DEFAULT", ndx(s.shndx()), displayName(s));
            }
        }
        if (relocations) {
            for (RelocationSection r : elf.relocationSections()) {
                out.println();
                out.printf("Relocation section '%s' applies to '%s' (%d entries):%n", r.section().name(), r.target().name(), r.relocations().size());
                for (Relocation rel : r.relocations()) {
                    out.printf("  %016x %-20s %s %+d%n", rel.offset(), RelocationTypes.name(elf.header().machine(), rel.type()),
                            displayName(rel.symbol()), rel.addend());
                }
            }
        }
        if (notes) {
            for (Section s : elf.sections()) {
                for (Note n : elf.notes(s)) {
                    out.printf("Note in %s: owner %s type %d desc %s%n", s.name(), n.name(), n.type(), n.desc().toHex());
                }
            }
        }
    }

    private String displayName(Symbol s) {
        if (s.isSectionSymbol() && s.name().isEmpty() && s.hasSection()) {
            return elf.section(s.shndx()).name();
        }
        return s.name();
    }

    private static String ndx(int shndx) {
        return switch (shndx) {
            case Elf.SHN_UNDEF -> "UND";
            case Elf.SHN_ABS -> "ABS";
            case Elf.SHN_COMMON -> "COM";
            default -> Integer.toString(shndx);
        };
    }

    private static String typeName(int type) {
        return switch (type) {
            case Elf.ET_REL -> "REL (Relocatable file)";
            case Elf.ET_EXEC -> "EXEC (Executable file)";
            case Elf.ET_DYN -> "DYN (Shared object file)";
            default -> Integer.toString(type);
        };
    }
}
