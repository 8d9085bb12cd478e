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
                    l.add(regField());
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
                    l.add(opcodeRegister());
                } else {
                    return null;
                }
            }
        }
        return l;
    }

    private void addRmRegisters(List<Integer> l) {
        if (registerForm()) {
            l.add(rmField());
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
