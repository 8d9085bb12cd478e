package org.livepatch.diff;

import org.livepatch.elf.Bytes;
import org.livepatch.verify.HypervisorRules;

/** Facts about x86 code the hypervisor's patching depends on. */
final class X86Code {
    private X86Code() {}

    /** ARCH_PATCH_INSN_SIZE: the {@code jmp rel32} Xen writes over an old function. */
    static final int JUMP_SIZE = HypervisorRules.PATCH_INSN_SIZE;
    /** ENDBR64 is 4 bytes; Xen keeps it and writes the jump after it (xen/arch/x86/livepatch.c). */
    static final int ENDBR_SIZE = HypervisorRules.ENDBR64_LEN;

    /** {@link HypervisorRules#startsWithEndbr64}: the hypervisor then needs {@code 5 + 4} bytes of old function. */
    static boolean startsWithEndbr(Bytes b) {
        return HypervisorRules.startsWithEndbr64(b);
    }
}
