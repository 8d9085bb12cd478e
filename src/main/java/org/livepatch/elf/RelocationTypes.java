package org.livepatch.elf;

import java.util.Map;

/**
 * Relocation type numbers and names for the machines Xen live-patches: x86_64 (psABI) and
 * aarch64 (AAELF64). The numbers are what matter; names are for messages and listings.
 */
public final class RelocationTypes {
    private RelocationTypes() {}

    public static final int R_X86_64_NONE = 0;
    public static final int R_X86_64_64 = 1;
    public static final int R_X86_64_PC32 = 2;
    public static final int R_X86_64_GOT32 = 3;
    public static final int R_X86_64_PLT32 = 4;
    public static final int R_X86_64_32 = 10;
    public static final int R_X86_64_32S = 11;
    public static final int R_X86_64_16 = 12;
    public static final int R_X86_64_PC16 = 13;
    public static final int R_X86_64_8 = 14;
    public static final int R_X86_64_PC8 = 15;
    public static final int R_X86_64_PC64 = 24;
    public static final int R_X86_64_GOTPCREL = 9;
    public static final int R_X86_64_GOTPCRELX = 41;
    public static final int R_X86_64_REX_GOTPCRELX = 42;

    public static final int R_AARCH64_NONE = 0;
    public static final int R_AARCH64_ABS64 = 257;
    public static final int R_AARCH64_ABS32 = 258;
    public static final int R_AARCH64_PREL32 = 261;
    public static final int R_AARCH64_CALL26 = 283;
    public static final int R_AARCH64_JUMP26 = 282;

    private static final Map<Integer, String> X86_64 = Map.ofEntries(
            Map.entry(0, "R_X86_64_NONE"), Map.entry(1, "R_X86_64_64"), Map.entry(2, "R_X86_64_PC32"),
            Map.entry(3, "R_X86_64_GOT32"), Map.entry(4, "R_X86_64_PLT32"), Map.entry(5, "R_X86_64_COPY"),
            Map.entry(6, "R_X86_64_GLOB_DAT"), Map.entry(7, "R_X86_64_JUMP_SLOT"), Map.entry(8, "R_X86_64_RELATIVE"),
            Map.entry(9, "R_X86_64_GOTPCREL"), Map.entry(10, "R_X86_64_32"), Map.entry(11, "R_X86_64_32S"),
            Map.entry(12, "R_X86_64_16"), Map.entry(13, "R_X86_64_PC16"), Map.entry(14, "R_X86_64_8"),
            Map.entry(15, "R_X86_64_PC8"), Map.entry(16, "R_X86_64_DTPMOD64"), Map.entry(17, "R_X86_64_DTPOFF64"),
            Map.entry(18, "R_X86_64_TPOFF64"), Map.entry(19, "R_X86_64_TLSGD"), Map.entry(20, "R_X86_64_TLSLD"),
            Map.entry(21, "R_X86_64_DTPOFF32"), Map.entry(22, "R_X86_64_GOTTPOFF"), Map.entry(23, "R_X86_64_TPOFF32"),
            Map.entry(24, "R_X86_64_PC64"), Map.entry(25, "R_X86_64_GOTOFF64"), Map.entry(26, "R_X86_64_GOTPC32"),
            Map.entry(27, "R_X86_64_GOT64"), Map.entry(28, "R_X86_64_GOTPCREL64"), Map.entry(29, "R_X86_64_GOTPC64"),
            Map.entry(30, "R_X86_64_GOTPLT64"), Map.entry(31, "R_X86_64_PLTOFF64"), Map.entry(32, "R_X86_64_SIZE32"),
            Map.entry(33, "R_X86_64_SIZE64"), Map.entry(34, "R_X86_64_GOTPC32_TLSDESC"), Map.entry(35, "R_X86_64_TLSDESC_CALL"),
            Map.entry(36, "R_X86_64_TLSDESC"), Map.entry(37, "R_X86_64_IRELATIVE"), Map.entry(38, "R_X86_64_RELATIVE64"),
            Map.entry(41, "R_X86_64_GOTPCRELX"), Map.entry(42, "R_X86_64_REX_GOTPCRELX"));

    private static final Map<Integer, String> AARCH64 = Map.ofEntries(
            Map.entry(0, "R_AARCH64_NONE"), Map.entry(257, "R_AARCH64_ABS64"), Map.entry(258, "R_AARCH64_ABS32"),
            Map.entry(259, "R_AARCH64_ABS16"), Map.entry(260, "R_AARCH64_PREL64"), Map.entry(261, "R_AARCH64_PREL32"),
            Map.entry(262, "R_AARCH64_PREL16"), Map.entry(263, "R_AARCH64_MOVW_UABS_G0"), Map.entry(264, "R_AARCH64_MOVW_UABS_G0_NC"),
            Map.entry(265, "R_AARCH64_MOVW_UABS_G1"), Map.entry(266, "R_AARCH64_MOVW_UABS_G1_NC"), Map.entry(267, "R_AARCH64_MOVW_UABS_G2"),
            Map.entry(268, "R_AARCH64_MOVW_UABS_G2_NC"), Map.entry(269, "R_AARCH64_MOVW_UABS_G3"), Map.entry(270, "R_AARCH64_MOVW_SABS_G0"),
            Map.entry(271, "R_AARCH64_MOVW_SABS_G1"), Map.entry(272, "R_AARCH64_MOVW_SABS_G2"), Map.entry(273, "R_AARCH64_LD_PREL_LO19"),
            Map.entry(274, "R_AARCH64_ADR_PREL_LO21"), Map.entry(275, "R_AARCH64_ADR_PREL_PG_HI21"), Map.entry(276, "R_AARCH64_ADR_PREL_PG_HI21_NC"),
            Map.entry(277, "R_AARCH64_ADD_ABS_LO12_NC"), Map.entry(278, "R_AARCH64_LDST8_ABS_LO12_NC"), Map.entry(279, "R_AARCH64_TSTBR14"),
            Map.entry(280, "R_AARCH64_CONDBR19"), Map.entry(282, "R_AARCH64_JUMP26"), Map.entry(283, "R_AARCH64_CALL26"),
            Map.entry(284, "R_AARCH64_LDST16_ABS_LO12_NC"), Map.entry(285, "R_AARCH64_LDST32_ABS_LO12_NC"),
            Map.entry(286, "R_AARCH64_LDST64_ABS_LO12_NC"), Map.entry(287, "R_AARCH64_MOVW_PREL_G0"),
            Map.entry(288, "R_AARCH64_MOVW_PREL_G0_NC"), Map.entry(289, "R_AARCH64_MOVW_PREL_G1"),
            Map.entry(290, "R_AARCH64_MOVW_PREL_G1_NC"), Map.entry(291, "R_AARCH64_MOVW_PREL_G2"),
            Map.entry(292, "R_AARCH64_MOVW_PREL_G2_NC"), Map.entry(293, "R_AARCH64_MOVW_PREL_G3"),
            Map.entry(299, "R_AARCH64_LDST128_ABS_LO12_NC"));

    public static String name(int machine, int type) {
        String n = switch (machine) {
            case Elf.EM_X86_64 -> X86_64.get(type);
            case Elf.EM_AARCH64 -> AARCH64.get(type);
            default -> null;
        };
        return n != null ? n : "R_" + type;
    }

    /**
     * How many bytes at r_offset a relocation of this type rewrites, so the reader can check that
     * they lie inside the section it applies to. From the psABI tables (x86-64 psABI 4.4.1,
     * AAELF64 5.7): word64 fields are 8 bytes, word32 fields 4, word16 2, word8 1; every aarch64
     * instruction relocation patches one 4-byte instruction. A type we do not know still names a
     * byte of the section, so it counts as 1; the assembler's hypervisor limits and the verifier
     * refuse it by its number.
     */
    public static int width(int machine, int type) {
        return switch (machine) {
            case Elf.EM_X86_64 -> switch (type) {
                case 0, 5, 35 -> 0; // NONE, COPY, TLSDESC_CALL: nothing is written at r_offset
                case 1, 6, 7, 8, 16, 17, 18, 24, 25, 27, 28, 29, 30, 31, 33, 37, 38 -> 8;
                case 36 -> 16; // TLSDESC: a two-word descriptor
                case 12, 13 -> 2;
                case 14, 15 -> 1;
                default -> X86_64.containsKey(type) ? 4 : 1;
            };
            case Elf.EM_AARCH64 -> switch (type) {
                case 0, 256 -> 0;
                case 257, 260 -> 8;
                case 259, 262 -> 2;
                default -> AARCH64.containsKey(type) ? 4 : 1;
            };
            default -> 1;
        };
    }

    public static String machineName(int machine) {
        return switch (machine) {
            case Elf.EM_X86_64 -> "x86_64";
            case Elf.EM_AARCH64 -> "aarch64";
            default -> "machine " + machine;
        };
    }
}
