package org.livepatch.diff;

import org.livepatch.elf.Bytes;

/** Facts about x86 code the hypervisor's patching depends on. */
final class X86Code {
    private X86Code() {}

    /** ARCH_PATCH_INSN_SIZE: the {@code jmp rel32} Xen writes over an old function. */
    static final int JUMP_SIZE = 5;
    /** ENDBR64 is 4 bytes; Xen keeps it and writes the jump after it (xen/arch/x86/livepatch.c). */
    static final int ENDBR_SIZE = 4;

    /**
     * True when the code starts with ENDBR64 ({@code f3 0f 1e fa}) or the {@code nopw (%rcx)}
     * ({@code 66 0f 1f 01}) Xen poisons unused ENDBR64s with at boot: either way the hypervisor
     * patches 4 bytes in and needs {@code 5 + 4} bytes of old function
     * (xen/arch/x86/livepatch.c: arch_livepatch_verify_func).
     */
    static boolean startsWithEndbr(Bytes b) {
        if (b == null || b.length() < 4) {
            return false;
        }
        return (b.u8(0) == 0xf3 && b.u8(1) == 0x0f && b.u8(2) == 0x1e && b.u8(3) == 0xfa)
                || (b.u8(0) == 0x66 && b.u8(1) == 0x0f && b.u8(2) == 0x1f && b.u8(3) == 0x01);
    }
}
