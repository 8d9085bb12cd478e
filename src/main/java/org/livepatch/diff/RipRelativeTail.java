package org.livepatch.diff;

import org.livepatch.elf.Bytes;

/**
 * How many bytes of an x86 instruction follow a RIP-relative 32-bit displacement.
 *
 * <p>The CPU computes a RIP-relative address from the end of the instruction, so the assembler
 * writes the addend {@code target - 4 - tail}, where {@code tail} is the size of any immediate
 * after the displacement ({@code movl $1, x(%rip)} has a 4-byte tail). To know which byte a
 * relocation through a section symbol really points at (and so which variable it names), the
 * tail must be added back. Only the opcode byte before the ModRM byte is needed: the
 * displacement of a RIP-relative operand always follows a ModRM byte with mod=00, r/m=101.
 * Branches ({@code call}/{@code jmp rel32}) have no ModRM byte and no tail.
 */
final class RipRelativeTail {
    private RipRelativeTail() {}

    /** The tail length for a PC-relative field at {@code field} in {@code code}; 0 when unsure. */
    static int of(Bytes code, long field) {
        if (field < 2 || field > code.length() - 4) {
            return 0;
        }
        int f = (int) field;
        int modrm = code.u8(f - 1);
        if ((modrm & 0xc7) != 0x05) {
            return 0;
        }
        int reg = (modrm >> 3) & 7;
        int op = code.u8(f - 2);
        boolean opSize16 = false;
        boolean twoByte = f >= 3 && code.u8(f - 3) == 0x0f;
        // Scan back over a REX prefix and an operand-size prefix to find 0x66.
        for (int i = f - 3; i >= Math.max(0, f - 5); i--) {
            int b = code.u8(i);
            if (b == 0x66) {
                opSize16 = true;
                break;
            }
            if ((b & 0xf0) != 0x40) {
                break;
            }
        }
        if (twoByte) {
            // 0f ba /4-7 ib (bt/bts/btr/btc imm8), 0f a4/ac (shld/shrd imm8).
            return switch (op) {
                case 0xba, 0xa4, 0xac -> 1;
                default -> 0;
            };
        }
        return switch (op) {
            case 0x80, 0x82, 0x83, 0xc0, 0xc1, 0xc6, 0x6b -> 1;
            case 0x81, 0x69, 0xc7 -> opSize16 ? 2 : 4;
            case 0xf6 -> reg <= 1 ? 1 : 0;
            case 0xf7 -> reg <= 1 ? (opSize16 ? 2 : 4) : 0;
            default -> 0;
        };
    }
}
