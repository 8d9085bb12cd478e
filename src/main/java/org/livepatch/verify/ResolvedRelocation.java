package org.livepatch.verify;

/**
 * One relocation as the loader performs it (xen/arch/x86/livepatch.c: arch_livepatch_perform_rela):
 * S+A written at P for R_X86_64_64, S+A-P for PC32/PLT32.
 *
 * @param section  the section patched
 * @param offset   r_offset inside it
 * @param place    P, the run-time address written
 * @param symbolValue S, the resolved symbol value
 * @param value    what is written (sign-extended for 32-bit types)
 * @param resolved false only in offline mode (no hypervisor) for an undefined symbol
 */
public record ResolvedRelocation(String section, long offset, String type, String symbol, long addend, long place,
                                 long symbolValue, long value, boolean resolved) {
}
