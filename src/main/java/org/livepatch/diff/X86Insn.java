package org.livepatch.diff;

import java.util.ArrayList;
import java.util.List;
import org.livepatch.elf.Bytes;

/**
 * One decoded x86-64 instruction: where it is, how long it is, and just enough about its operands
 * to know which general registers it touches. Used to prove that a changed immediate is a
 * {@code __LINE__} argument ({@link LineNumberProof}); anything this decoder does not know ends
 * the decoding, and the caller then treats the code as changed (never as "line numbers only").
 *
 * @param offset   where the instruction starts in its section
 * @param length   its size in bytes
 * @param opcode   the opcode: one byte, or {@code 0x0f00 | second byte} for the two-byte map
 * @param rex      the REX prefix, or 0
 * @param modrm    the ModRM byte, or -1 when the instruction has none
 * @param sib      the SIB byte, or -1
 * @param immAt    offset of the immediate (or branch displacement) from {@link #offset}, or -1
 * @param immSize  its size in bytes, 0 when there is none
 * @param prefixes how many legacy prefix bytes precede the REX prefix and opcode
 */
record X86Insn(long offset, int length, int opcode, int rex, int modrm, int sib, int immAt, int immSize, int prefixes) {

    static final int RSI = 6;
    static final int RDI = 7;
    static final int RDX = 2;
    static final int RCX = 1;
    static final int R8 = 8;
    static final int R9 = 9;

    /** The SysV argument registers in order: rdi, rsi, rdx, rcx, r8, r9. */
    static final int[] ARGUMENT_REGISTERS = {RDI, RSI, RDX, RCX, R8, R9};

    long end() {
        return offset + length;
    }

    boolean isCallRel32() {
        return opcode == 0xe8;
    }

    /** {@code mov $imm32, %r32} (B8+r without REX.W): the form gcc uses to load a small constant argument. */
    boolean isMovImm32ToReg() {
        return opcode >= 0xb8 && opcode <= 0xbf && (rex & 8) == 0 && immSize == 4;
    }

    /** The register a {@code B8+r}/{@code B0+r} move writes. */
    int opcodeRegister() {
        return (opcode & 7) | ((rex & 1) << 3);
    }

    /**
     * Without a REX prefix, byte register codes 4-7 name AH, CH, DH, BH: the second byte of rax,
     * rcx, rdx, rbx. A mask of the registers a field names, with that alias when it applies.
     */
    private int mask(int code, boolean byteOperand) {
        int m = 1 << code;
        if (byteOperand && rex == 0 && code >= 4 && code <= 7) {
            m |= 1 << (code - 4);
        }
        return m;
    }

    /** The reg field names a byte register. */
    private boolean byteReg() {
        return switch (opcode) {
            case 0x00, 0x02, 0x08, 0x0a, 0x10, 0x12, 0x18, 0x1a, 0x20, 0x22, 0x28, 0x2a, 0x30, 0x32, 0x38, 0x3a, 0x84, 0x86, 0x88,
                 0x8a, 0x0fb0, 0x0fc0 -> true;
            default -> false;
        };
    }

    /** The r/m field, in register form, names a byte register. */
    private boolean byteRm() {
        return byteReg() || opcode == 0x0fb6 || opcode == 0x0fbe || (opcode >= 0x0f90 && opcode <= 0x0f9f)
                || opcode == 0xc6 || opcode == 0xc0 || opcode == 0xd0 || opcode == 0xd2 || opcode == 0xf6 || opcode == 0xfe
                || opcode == 0x80 || opcode == 0x82;
    }

    private int regMask() {
        return mask(regField(), byteReg());
    }

    private int rmMask() {
        return mask(rmField(), byteRm());
    }

    private int opcodeRegMask() {
        return mask(opcodeRegister(), opcode >= 0xb0 && opcode <= 0xb7);
    }

    private static void addAll(List<Integer> l, int mask) {
        for (int r = 0; r < 16; r++) {
            if ((mask & (1 << r)) != 0) {
                l.add(r);
            }
        }
    }

    private int regField() {
        return ((modrm >> 3) & 7) | ((rex & 4) << 1);
    }

    private int rmField() {
        return (modrm & 7) | ((rex & 1) << 3);
    }

    private boolean registerForm() {
        return modrm >= 0 && (modrm >> 6) == 3;
    }

    /** True for {@code lea disp32(%rip), %reg}: a PC-relative address load. */
    boolean isRipRelativeLea() {
        return opcode == 0x8d && modrm >= 0 && (modrm & 0xc7) == 0x05;
    }

    /**
     * The general registers this instruction names in any way (read, written, or used in an
     * address), or null when it is not one of the few plain data moves the proof accepts between a
     * constant load and the call: {@code mov}, {@code lea}, {@code movzx}/{@code movsx},
     * {@code movsxd}, {@code mov $imm}, {@code xor r,r} (zeroing) and {@code nop}. Everything else
     * (arithmetic that could consume the constant, stack operations, control flow, string
     * instructions, anything with an implicit register) stops the proof.
     */
    List<Integer> registersNamed() {
        List<Integer> l = new ArrayList<>();
        switch (opcode) {
            case 0x88, 0x89, 0x8a, 0x8b, 0x8d, 0x63, 0x0fb6, 0x0fb7, 0x0fbe, 0x0fbf, 0x31, 0x33, 0x0f1f -> {
                if (opcode != 0x0f1f) {
                    addAll(l, regMask());
                }
                addRmRegisters(l);
            }
            case 0xc6, 0xc7 -> {
                if (((modrm >> 3) & 7) != 0) {
                    return null;
                }
                addRmRegisters(l);
            }
            case 0x90 -> {
                if (rex != 0) {
                    return null; // xchg %r8, %rax
                }
            }
            default -> {
                if (opcode >= 0xb0 && opcode <= 0xbf) {
                    addAll(l, opcodeRegMask());
                } else {
                    return null;
                }
            }
        }
        return l;
    }

    private void addRmRegisters(List<Integer> l) {
        if (registerForm()) {
            addAll(l, rmMask());
            return;
        }
        int mod = modrm >> 6;
        int rm = modrm & 7;
        if (rm == 4) {
            int base = sib & 7;
            int index = ((sib >> 3) & 7) | ((rex & 2) << 2);
            if (index != 4) {
                l.add(index);
            }
            if (!(base == 5 && mod == 0)) {
                l.add(base | ((rex & 1) << 3));
            }
        } else if (!(rm == 5 && mod == 0)) {
            l.add(rmField());
        }
    }

    /** The register this plain move writes, or -1 (a store to memory, a nop); only meaningful when {@link #registersNamed} is not null. */
    int registerWritten() {
        return switch (opcode) {
            case 0x8a, 0x8b, 0x8d, 0x63, 0x0fb6, 0x0fb7, 0x0fbe, 0x0fbf, 0x33 -> regField();
            case 0x88, 0x89, 0xc6, 0xc7, 0x31 -> registerForm() ? rmField() : -1;
            default -> opcode >= 0xb0 && opcode <= 0xbf ? opcodeRegister() : -1;
        };
    }

    private static final int CALLER_SAVED = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11);

    /** True for {@code call rel32} and {@code call *r/m}: the callee may change every caller-saved register. */
    boolean isCall() {
        return opcode == 0xe8 || (opcode == 0xff && modrm >= 0 && ((modrm >> 3) & 7) == 2);
    }

    /**
     * False when execution never continues with the next instruction: unconditional jumps,
     * returns, {@code ud2} (a BUG; a WARN's resumption point is a bug-frame landing point) and
     * {@code hlt}.
     */
    boolean fallsThrough() {
        return !(opcode == 0xe9 || opcode == 0xeb || opcode == 0xc3 || opcode == 0xc2 || opcode == 0xcb || opcode == 0xca
                || opcode == 0xcf || opcode == 0x0f0b || opcode == 0xf4
                || (opcode == 0xff && modrm >= 0 && (((modrm >> 3) & 7) == 4 || ((modrm >> 3) & 7) == 5)));
    }

    /**
     * The general registers this instruction may write, as a bit mask (bit n for register n),
     * erring towards too many: every register a ModRM names, unless the opcode is one known to
     * only read them, plus the implicit ones (calls, multiply/divide, cpuid, string operations,
     * pop, leave...).
     */
    int mayWrite() {
        if (isCall()) {
            return CALLER_SAVED;
        }
        int m = 0;
        boolean readsOnly = switch (opcode) {
            case 0x38, 0x39, 0x3a, 0x3b, 0x84, 0x85, 0x0f1f, 0x0f18, 0x0f0d, 0x0fa3 -> true;
            case 0x80, 0x81, 0x83 -> ((modrm >> 3) & 7) == 7; // cmp $imm
            case 0xf6, 0xf7 -> ((modrm >> 3) & 7) <= 1; // test $imm
            case 0x0fba -> ((modrm >> 3) & 7) == 4; // bt $imm
            default -> false;
        };
        if (modrm >= 0 && !readsOnly) {
            m |= regMask();
            if (registerForm()) {
                m |= rmMask();
            }
        }
        if (opcode == 0x88 || opcode == 0x89 || opcode == 0xc6 || opcode == 0xc7) {
            m = registerForm() ? rmMask() : 0; // mov to r/m: the reg field is the source
        }
        int ax = 1, cx = 1 << 1, dx = 1 << 2, bx = 1 << 3, sp = 1 << 4, bp = 1 << 5, si = 1 << 6, di = 1 << 7, r11 = 1 << 11;
        if ((opcode == 0xf6 || opcode == 0xf7) && ((modrm >> 3) & 7) >= 4) {
            m |= ax | dx;
        }
        if (opcode >= 0xb0 && opcode <= 0xbf) {
            m |= opcodeRegMask();
        }
        if (opcode >= 0x50 && opcode <= 0x5f) {
            m |= sp | (opcode >= 0x58 ? 1 << opcodeRegister() : 0);
        }
        if (opcode >= 0x90 && opcode <= 0x97) {
            m |= ax | (1 << opcodeRegister());
        }
        m |= switch (opcode) {
            case 0x0fa2 -> ax | bx | cx | dx; // cpuid
            case 0x0f31, 0x0f32, 0x0f33 -> ax | dx; // rdtsc, rdmsr, rdpmc
            case 0x0f05 -> cx | r11; // syscall
            case 0x0f01 -> ax | cx | dx; // xgetbv, rdtscp, rdpkru...
            case 0x0fb0, 0x0fb1 -> ax; // cmpxchg
            case 0x0fc7 -> ax | dx; // cmpxchg8b/16b
            case 0x98, 0x99 -> ax | dx; // cbw/cwd families
            case 0xc8, 0xc9 -> bp | sp; // enter, leave
            case 0x9c, 0x9d, 0x68, 0x6a, 0x8f -> sp;
            case 0xd7, 0xe4, 0xe5, 0xec, 0xed -> ax;
            case 0xe0, 0xe1, 0xe2 -> cx;
            case 0x6c, 0x6d, 0x6e, 0x6f, 0xa4, 0xa5, 0xa6, 0xa7, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf -> ax | cx | si | di;
            default -> 0;
        };
        return m;
    }

    /** For a 64-bit register-to-register {@code mov}, the source register; -1 for anything else. */
    int registerCopied() {
        if ((rex & 8) == 0 || !registerForm()) {
            return -1;
        }
        return switch (opcode) {
            case 0x89 -> regField();
            case 0x8b -> rmField();
            default -> -1;
        };
    }

    /**
     * The in-section target of a relative branch whose displacement the assembler resolved
     * (no relocation on it), or -1. Calls and jumps that leave the section carry a relocation
     * and are found through it instead.
     */
    long localBranchTarget(Bytes code) {
        boolean rel = opcode == 0xe8 || opcode == 0xe9 || opcode == 0xeb || (opcode >= 0x70 && opcode <= 0x7f)
                || (opcode >= 0xe0 && opcode <= 0xe3) || (opcode >= 0x0f80 && opcode <= 0x0f8f);
        if (!rel) {
            return -1;
        }
        int at = (int) offset + immAt;
        long disp = immSize == 1 ? (byte) code.u8(at) : immSize == 4 ? code.s32(at) : 0;
        return end() + disp;
    }
}
