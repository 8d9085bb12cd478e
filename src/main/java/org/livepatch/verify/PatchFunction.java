package org.livepatch.verify;

/**
 * One {@code struct livepatch_func} entry after loading: addresses resolved as Xen resolves them.
 *
 * @param name         the string {@code name} points to (null when it cannot be read)
 * @param oldAddrSource where old_addr came from: "payload" (prelinked), "xen-syms", the name of a loaded payload, or "unresolved"
 * @param patchOffset  4 when the old function starts with ENDBR64 (or its poison), else 0 (arch_livepatch_apply)
 * @param newSymbol    the payload symbol at new_addr, if any
 * @param expectation  the expected old bytes when {@code expect.enabled}, else null
 * @param expectReserved the 2 reserved bits of the expectation header
 */
public record PatchFunction(int index, String name, long newAddr, long oldAddr, long newSize, long oldSize, int version,
                            String oldAddrSource, int patchOffset, String newSymbol, byte[] expectation, int expectReserved) {

    public PatchFunction {
        expectation = expectation == null ? null : expectation.clone();
    }

    @Override
    public byte[] expectation() {
        return expectation == null ? null : expectation.clone();
    }

    /** NOP patching: no new code, {@code new_size} bytes of the old function are overwritten with NOPs. */
    public boolean isNop() {
        return newAddr == 0;
    }

    /** How many bytes apply overwrites at {@code oldAddr + patchOffset} (livepatch.h: livepatch_insn_len). */
    public long patchLength() {
        return isNop() ? newSize - patchOffset : 5;
    }

    /** The bytes arch_livepatch_apply writes: {@code e9 rel32} or single-byte NOPs. */
    public byte[] patchBytes() {
        if (isNop()) {
            byte[] b = new byte[(int) Math.max(0, Math.min(31, patchLength()))];
            java.util.Arrays.fill(b, (byte) 0x90);
            return b;
        }
        long rel = newAddr - (oldAddr + patchOffset + 5);
        byte[] b = PayloadMemory.le(rel, 5);
        System.arraycopy(b, 0, b, 1, 4);
        b[0] = (byte) 0xe9;
        return b;
    }

    /** "name old_addr(old_size) -> new_addr(new_size)", like the hypervisor's 'x' debug-key dump. */
    public String describe() {
        String n = name == null ? "<unreadable name>" : name;
        String to = isNop() ? "NOP(" + newSize + ")" : "0x%016x(%d)".formatted(newAddr, newSize);
        return "%s 0x%016x(%d) -> %s".formatted(n, oldAddr, oldSize, to);
    }
}
