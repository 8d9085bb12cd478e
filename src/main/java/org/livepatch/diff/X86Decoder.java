package org.livepatch.diff;

import java.util.ArrayList;
import java.util.List;
import org.livepatch.elf.Bytes;

/**
 * An x86-64 instruction-length decoder for the code gcc emits for Xen: legacy prefixes, REX, the
 * one- and two-byte opcode maps and the 0F38/0F3A maps, ModRM/SIB/displacement and immediates.
 *
 * <p>It exists so that a byte difference can be placed inside a known instruction field: only a
 * decoding from the first byte of a function tells instruction boundaries apart from bytes that
 * merely look like an opcode. VEX/EVEX/XOP-encoded, 3DNow! and invalid opcodes are not decoded:
 * {@link #decode} then returns null and the caller gives up (the function stays "changed"), which
 * is the safe answer.
 */
final class X86Decoder {
    private X86Decoder() {}

    /** Every instruction of {@code [start, end)} of {@code code}, or null if any byte of it cannot be decoded. */
    static List<X86Insn> decode(Bytes code, long start, long end) {
        List<X86Insn> out = new ArrayList<>();
        long at = start;
        while (at < end) {
            X86Insn i = one(code, (int) at, (int) end);
            if (i == null) {
                return null;
            }
            out.add(i);
            at = i.end();
        }
        return at == end ? out : null;
    }

    /** The instruction at {@code at}, or null when it is unknown or runs past {@code limit}. */
    static X86Insn one(Bytes code, int at, int limit) {
        int p = at;
        boolean opSize16 = false;
        boolean addr32 = false;
        int prefixes = 0;
        while (p < limit) {
            int b = code.u8(p);
            if (b == 0x66) {
                opSize16 = true;
            } else if (b == 0x67) {
                addr32 = true;
            } else if (!(b == 0xf0 || b == 0xf2 || b == 0xf3 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x26
                    || b == 0x64 || b == 0x65)) {
                break;
            }
            p++;
            prefixes++;
            if (prefixes > 14) {
                return null;
            }
        }
        int rex = 0;
        if (p < limit && (code.u8(p) & 0xf0) == 0x40) {
            rex = code.u8(p++);
        }
        if (p >= limit) {
            return null;
        }
        boolean w = (rex & 8) != 0;
        int zImm = w ? 4 : opSize16 ? 2 : 4;
        int op = code.u8(p++);
        boolean modrm;
        int imm;
        int opcode = op;
        if (op == 0x0f) {
            if (p >= limit) {
                return null;
            }
            int op2 = code.u8(p++);
            opcode = 0x0f00 | op2;
            if (op2 == 0x38 || op2 == 0x3a) {
                if (p >= limit) {
                    return null;
                }
                p++; // the third opcode byte
                modrm = true;
                imm = op2 == 0x3a ? 1 : 0;
            } else if (op2 >= 0x80 && op2 <= 0x8f) {
                modrm = false;
                imm = 4; // jcc rel32
            } else if (op2 == 0x05 || op2 == 0x06 || op2 == 0x07 || op2 == 0x08 || op2 == 0x09 || op2 == 0x0b
                    || (op2 >= 0x30 && op2 <= 0x37) || op2 == 0x77 || op2 == 0xa0 || op2 == 0xa1 || op2 == 0xa2
                    || op2 == 0xa8 || op2 == 0xa9 || op2 == 0xaa || (op2 >= 0xc8 && op2 <= 0xcf)) {
                modrm = false;
                imm = 0;
            } else if (op2 == 0x0f || op2 == 0x04 || op2 == 0x0a || op2 == 0x0c || op2 == 0x0e || op2 == 0x24
                    || op2 == 0x25 || op2 == 0x26 || op2 == 0x27 || op2 == 0x36 || op2 == 0x39 || (op2 >= 0x3b && op2 <= 0x3f)
                    || op2 == 0x7a || op2 == 0x7b || op2 == 0xff) {
                return null; // 3DNow! or undefined
            } else {
                modrm = true;
                imm = switch (op2) {
                    case 0x70, 0x71, 0x72, 0x73, 0xa4, 0xac, 0xba, 0xc2, 0xc4, 0xc5, 0xc6 -> 1;
                    default -> 0;
                };
            }
        } else {
            switch (op) {
                // Invalid in 64-bit mode, or VEX/EVEX prefixes: not decoded.
                case 0x06, 0x07, 0x0e, 0x16, 0x17, 0x1e, 0x1f, 0x27, 0x2f, 0x37, 0x3f, 0x60, 0x61, 0x62, 0x82, 0x9a,
                     0xc4, 0xc5, 0xd4, 0xd5, 0xd6, 0xea, 0x8f -> {
                    return null;
                }
                default -> { }
            }
            if (op < 0x40) {
                int low = op & 7;
                modrm = low < 4;
                imm = low == 4 ? 1 : low == 5 ? zImm : 0;
            } else if (op < 0x60) {
                modrm = false; // push/pop reg (0x40-0x4f are REX, consumed above)
                imm = 0;
            } else {
                switch (op) {
                    case 0x63, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0xd0, 0xd1, 0xd2, 0xd3,
                         0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xfe, 0xff -> {
                        modrm = true;
                        imm = 0;
                    }
                    case 0x69, 0x81, 0xc7 -> {
                        modrm = true;
                        imm = zImm;
                    }
                    case 0x6b, 0x80, 0x83, 0xc0, 0xc1, 0xc6 -> {
                        modrm = true;
                        imm = 1;
                    }
                    case 0xf6, 0xf7 -> {
                        modrm = true;
                        if (p >= limit) {
                            return null;
                        }
                        int reg = (code.u8(p) >> 3) & 7;
                        imm = reg <= 1 ? (op == 0xf6 ? 1 : zImm) : 0;
                    }
                    case 0x68 -> {
                        modrm = false;
                        imm = 4;
                    }
                    case 0x6a, 0xa8, 0xcd, 0xe4, 0xe5, 0xe6, 0xe7, 0xeb, 0xe0, 0xe1, 0xe2, 0xe3 -> {
                        modrm = false;
                        imm = 1;
                    }
                    case 0xa9 -> {
                        modrm = false;
                        imm = zImm;
                    }
                    case 0xe8, 0xe9 -> {
                        modrm = false;
                        imm = 4;
                    }
                    case 0xc2, 0xca -> {
                        modrm = false;
                        imm = 2;
                    }
                    case 0xc8 -> {
                        modrm = false;
                        imm = 3;
                    }
                    case 0xa0, 0xa1, 0xa2, 0xa3 -> {
                        modrm = false;
                        imm = addr32 ? 4 : 8; // moffs
                    }
                    default -> {
                        if (op >= 0x70 && op <= 0x7f) {
                            modrm = false;
                            imm = 1;
                        } else if (op >= 0xb0 && op <= 0xb7) {
                            modrm = false;
                            imm = 1;
                        } else if (op >= 0xb8 && op <= 0xbf) {
                            modrm = false;
                            imm = w ? 8 : opSize16 ? 2 : 4;
                        } else if ((op >= 0x90 && op <= 0x9f) || (op >= 0x6c && op <= 0x6f) || (op >= 0xa4 && op <= 0xaf)
                                || op == 0xc3 || op == 0xc9 || op == 0xcb || op == 0xcc || op == 0xcf || op == 0xd7
                                || (op >= 0xec && op <= 0xef) || op == 0xf1 || op == 0xf4 || op == 0xf5
                                || (op >= 0xf8 && op <= 0xfd)) {
                            modrm = false;
                            imm = 0;
                        } else {
                            return null;
                        }
                    }
                }
            }
        }
        int modrmByte = -1;
        int sibByte = -1;
        if (modrm) {
            if (p >= limit) {
                return null;
            }
            modrmByte = code.u8(p++);
            int mod = modrmByte >> 6;
            int rm = modrmByte & 7;
            if (mod != 3) {
                int disp = mod == 1 ? 1 : mod == 2 ? 4 : 0;
                if (rm == 4) {
                    if (p >= limit) {
                        return null;
                    }
                    sibByte = code.u8(p++);
                    if (mod == 0 && (sibByte & 7) == 5) {
                        disp = 4;
                    }
                } else if (mod == 0 && rm == 5) {
                    disp = 4; // RIP-relative
                }
                p += disp;
            }
        }
        int immAt = imm > 0 ? p - at : -1;
        p += imm;
        if (p > limit) {
            return null;
        }
        return new X86Insn(at, p - at, opcode, rex, modrmByte, sibByte, immAt, imm, prefixes);
    }
}
