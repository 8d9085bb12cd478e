package org.livepatch.testsupport;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Every field of every ELF64 structure of a file, located from the gABI layouts written out here
 * (not from the reader under test): the ELF header, program and section headers, symbols,
 * RELA entries, group words and note headers, plus the entries of {@code .livepatch.funcs}
 * (Xen's public/sysctl.h, {@code struct livepatch_func} version 2). Each field can then be set to
 * a deterministic list of hostile values.
 */
public final class ElfFields {
    private ElfFields() {}

    /** One field: the structure it belongs to (for messages), its file offset and width in bytes. */
    public record Field(String structure, String name, int offset, int width, List<Long> meaningful) {
        Field(String structure, String name, int offset, int width) {
            this(structure, name, offset, width, List.of());
        }

        @Override
        public String toString() {
            return structure + "." + name + " @0x" + Integer.toHexString(offset);
        }
    }

    /** One hostile version of a file: which field was set to what. */
    public record Mutant(Field field, long value, byte[] bytes) {
        public String describe() {
            return field + " = 0x" + Long.toHexString(value);
        }
    }

    private static final int SHT_SYMTAB = 2;
    private static final int SHT_RELA = 4;
    private static final int SHT_NOTE = 7;
    private static final int SHT_GROUP = 17;

    /** Every field of {@code elf}, in file order of structures. */
    public static List<Field> of(byte[] elf) {
        ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
        List<Field> f = new ArrayList<>();
        String eh = "Elf64_Ehdr";
        f.add(new Field(eh, "e_ident[EI_MAG]", 0, 4));
        f.add(new Field(eh, "e_ident[EI_CLASS]", 4, 1));
        f.add(new Field(eh, "e_ident[EI_DATA]", 5, 1));
        f.add(new Field(eh, "e_ident[EI_VERSION]", 6, 1));
        f.add(new Field(eh, "e_ident[EI_OSABI]", 7, 1));
        f.add(new Field(eh, "e_ident[EI_ABIVERSION]", 8, 1));
        int[][] ehdr = {{16, 2}, {18, 2}, {20, 4}, {24, 8}, {32, 8}, {40, 8}, {48, 4}, {52, 2}, {54, 2}, {56, 2}, {58, 2}, {60, 2}, {62, 2}};
        String[] ehNames = {"e_type", "e_machine", "e_version", "e_entry", "e_phoff", "e_shoff", "e_flags", "e_ehsize",
            "e_phentsize", "e_phnum", "e_shentsize", "e_shnum", "e_shstrndx"};
        for (int i = 0; i < ehdr.length; i++) {
            f.add(new Field(eh, ehNames[i], ehdr[i][0], ehdr[i][1]));
        }
        long phoff = b.getLong(32);
        int phnum = b.getShort(56) & 0xffff;
        String[] phNames = {"p_type", "p_flags", "p_offset", "p_vaddr", "p_paddr", "p_filesz", "p_memsz", "p_align"};
        int[][] phdr = {{0, 4}, {4, 4}, {8, 8}, {16, 8}, {24, 8}, {32, 8}, {40, 8}, {48, 8}};
        for (int i = 0; i < phnum; i++) {
            for (int k = 0; k < phdr.length; k++) {
                f.add(new Field("Elf64_Phdr[" + i + "]", phNames[k], (int) phoff + i * 56 + phdr[k][0], phdr[k][1]));
            }
        }
        long shoff = b.getLong(40);
        int shnum = b.getShort(60) & 0xffff;
        String[] shNames = {"sh_name", "sh_type", "sh_flags", "sh_addr", "sh_offset", "sh_size", "sh_link", "sh_info", "sh_addralign", "sh_entsize"};
        int[][] shdr = {{0, 4}, {4, 4}, {8, 8}, {16, 8}, {24, 8}, {32, 8}, {40, 4}, {44, 4}, {48, 8}, {56, 8}};
        // One section of each kind (type and flags) stands for all of its kind, and e_shnum for
        // "no such section": every index would multiply the run time without new cases.
        List<Long> sectionIndexes = new ArrayList<>();
        Set<Long> kinds = new LinkedHashSet<>();
        for (int i = 0; i < shnum; i++) {
            int h = (int) shoff + i * 64;
            if (kinds.add(((long) b.getInt(h + 4) << 32) ^ b.getLong(h + 8))) {
                sectionIndexes.add((long) i);
            }
        }
        sectionIndexes.add((long) shnum);
        for (int i = 0; i < shnum; i++) {
            int h = (int) shoff + i * 64;
            for (int k = 0; k < shdr.length; k++) {
                List<Long> meaningful = switch (shNames[k]) {
                    case "sh_type" -> SECTION_TYPES;
                    case "sh_link", "sh_info" -> sectionIndexes;
                    default -> List.of();
                };
                f.add(new Field("Elf64_Shdr[" + i + "]", shNames[k], h + shdr[k][0], shdr[k][1], meaningful));
            }
        }
        // Likewise one symbol of each kind (st_info, and undefined / absolute / in a section), and
        // the symbol count for "no such symbol".
        List<Long> symbolIndexes = new ArrayList<>();
        for (int i = 1; i < shnum; i++) {
            int h = (int) shoff + i * 64;
            if (b.getInt(h + 4) == SHT_SYMTAB) {
                int off = (int) b.getLong(h + 24);
                int n = (int) (b.getLong(h + 32) / 24);
                Set<Integer> symKinds = new LinkedHashSet<>();
                for (int e = 0; e < n; e++) {
                    int shndx = b.getShort(off + e * 24 + 6) & 0xffff;
                    int where = shndx == 0 ? 0 : shndx >= 0xff00 ? shndx : 1;
                    if (symKinds.add((elf[off + e * 24 + 4] & 0xff) << 16 | where)) {
                        symbolIndexes.add((long) e);
                    }
                }
                symbolIndexes.add((long) n);
            }
        }
        List<Long> shndx = new ArrayList<>(sectionIndexes);
        shndx.addAll(List.of(0xfff1L, 0xfff2L, 0xffffL));
        int shstr = (int) shoff + (b.getShort(62) & 0xffff) * 64;
        for (int i = 1; i < shnum; i++) {
            int h = (int) shoff + i * 64;
            int type = b.getInt(h + 4);
            int off = (int) b.getLong(h + 24);
            int size = (int) b.getLong(h + 32);
            String name = cString(elf, (int) b.getLong(shstr + 24) + b.getInt(h));
            switch (type) {
                case SHT_SYMTAB -> {
                    String[] n = {"st_name", "st_info", "st_other", "st_shndx", "st_value", "st_size"};
                    int[][] w = {{0, 4}, {4, 1}, {5, 1}, {6, 2}, {8, 8}, {16, 8}};
                    for (int e = 0; e < size / 24; e++) {
                        for (int k = 0; k < n.length; k++) {
                            f.add(new Field(name + "[" + e + "]", n[k], off + e * 24 + w[k][0], w[k][1], n[k].equals("st_shndx") ? shndx : List.of()));
                        }
                    }
                }
                case SHT_RELA -> {
                    for (int e = 0; e < size / 24; e++) {
                        int o = off + e * 24;
                        f.add(new Field(name + "[" + e + "]", "r_offset", o, 8));
                        f.add(new Field(name + "[" + e + "]", "ELF64_R_TYPE(r_info)", o + 8, 4, X86_64_RELOCATION_TYPES));
                        f.add(new Field(name + "[" + e + "]", "ELF64_R_SYM(r_info)", o + 12, 4, symbolIndexes));
                        f.add(new Field(name + "[" + e + "]", "r_addend", o + 16, 8));
                    }
                }
                case SHT_GROUP -> {
                    for (int e = 0; e < size / 4; e++) {
                        f.add(new Field(name, e == 0 ? "flags" : "member[" + (e - 1) + "]", off + e * 4, 4));
                    }
                }
                case SHT_NOTE -> {
                    int o = 0;
                    for (int e = 0; o + 12 <= size; e++) {
                        int namesz = b.getInt(off + o);
                        int descsz = b.getInt(off + o + 4);
                        String s = name + " note " + e;
                        f.add(new Field(s, "n_namesz", off + o, 4));
                        f.add(new Field(s, "n_descsz", off + o + 4, 4));
                        f.add(new Field(s, "n_type", off + o + 8, 4));
                        int nameAt = off + o + 12;
                        int descAt = nameAt + align4(namesz);
                        if (namesz > 0 && descAt <= off + size) {
                            f.add(new Field(s, "name", nameAt, namesz >= 4 ? 4 : 1));
                        }
                        for (int d = 0; d + 4 <= descsz && descAt + d + 4 <= off + size; d += 4) {
                            f.add(new Field(s, "desc[" + d + "]", descAt + d, 4));
                        }
                        o += 12 + align4(namesz) + align4(descsz);
                    }
                }
                default -> {
                    if (name.equals(".livepatch.funcs")) {
                        // struct livepatch_func, version 2 (104 bytes): name, new_addr, old_addr,
                        // new_size, old_size, version, opaque[31], applied, _pad[7], expect.
                        String[] n = {"name", "new_addr", "old_addr", "new_size", "old_size", "version", "applied", "expect.enabled_len"};
                        int[][] w = {{0, 8}, {8, 8}, {16, 8}, {24, 4}, {28, 4}, {32, 1}, {64, 1}, {72, 1}};
                        for (int e = 0; e < size / 104; e++) {
                            for (int k = 0; k < n.length; k++) {
                                f.add(new Field(name + "[" + e + "]", n[k], off + e * 104 + w[k][0], w[k][1]));
                            }
                        }
                    }
                }
            }
        }
        return f;
    }

    /** Every section type of the gABI a relocatable object may hold, and the GNU ones binutils writes. */
    private static final List<Long> SECTION_TYPES = List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 14L, 15L, 16L, 17L, 18L,
            0x6ffffff5L, 0x6ffffff6L, 0x6fffffffL);
    /**
     * x86-64 psABI relocation types, one of each field width and kind: NONE, 64, PC32, GOT32,
     * PLT32, COPY, GOTPCREL, 32, 32S, 16, PC16, 8, PC8, TPOFF64, PC64, TLSDESC_CALL, TLSDESC,
     * GOTPCRELX, REX_GOTPCRELX, and two numbers the psABI does not assign.
     */
    private static final List<Long> X86_64_RELOCATION_TYPES = List.of(0L, 1L, 2L, 3L, 4L, 5L, 9L, 10L, 11L, 12L, 13L, 14L, 15L,
            18L, 24L, 35L, 36L, 41L, 42L, 39L, 43L);

    private static int align4(int v) {
        return (v + 3) & ~3;
    }

    private static String cString(byte[] b, int at) {
        int end = at;
        while (end < b.length && b[end] != 0) {
            end++;
        }
        return new String(b, at, end - at, java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    /**
     * The hostile values for one field: single bit flips (every bit of a field up to 16 bits; of
     * a wider one bits 0-15, every fourth above and the sign bit, a fixed sample that keeps the
     * run short), then 0, all ones, one more, one less and the extremes, then every value
     * that means something else for the field: each section type, a section or symbol index of
     * each kind, and relocation types of each width.
     */
    public static List<Mutant> mutants(byte[] elf, Field field) {
        ByteBuffer b = ByteBuffer.wrap(elf).order(ByteOrder.LITTLE_ENDIAN);
        int bits = field.width() * 8;
        long mask = bits == 64 ? -1L : (1L << bits) - 1;
        long v = switch (field.width()) {
            case 1 -> elf[field.offset()] & 0xffL;
            case 2 -> b.getShort(field.offset()) & 0xffffL;
            case 4 -> b.getInt(field.offset()) & 0xffffffffL;
            default -> b.getLong(field.offset());
        };
        Set<Long> values = new LinkedHashSet<>();
        for (int bit = 0; bit < bits; bit++) {
            if (bits <= 16 || bit < 16 || bit % 4 == 0 || bit == bits - 1) {
                values.add(v ^ (1L << bit));
            }
        }
        long signBit = 1L << (bits - 1);
        for (long x : new long[] {0, mask, v + 1, v - 1, signBit - 1, signBit}) {
            values.add(x & mask);
        }
        values.addAll(field.meaningful());
        values.remove(v);
        List<Mutant> out = new ArrayList<>();
        for (long x : values) {
            byte[] m = elf.clone();
            ByteBuffer mb = ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN);
            switch (field.width()) {
                case 1 -> m[field.offset()] = (byte) x;
                case 2 -> mb.putShort(field.offset(), (short) x);
                case 4 -> mb.putInt(field.offset(), (int) x);
                default -> mb.putLong(field.offset(), x);
            }
            out.add(new Mutant(field, x, m));
        }
        return out;
    }
}
