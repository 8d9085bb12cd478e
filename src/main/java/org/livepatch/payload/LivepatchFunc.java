package org.livepatch.payload;

import java.util.Arrays;
import org.livepatch.elf.Bytes;

/**
 * One {@code struct livepatch_func} as stored in a payload, pointer fields as raw values (they are
 * normally 0 and filled by relocations: name and new_addr always, old_addr unless prelinked).
 *
 * @param expectation the expected old bytes (empty when the entry has no expectation enabled)
 */
public record LivepatchFunc(long name, long newAddr, long oldAddr, long newSize, long oldSize, int version, byte[] expectation) {

    public LivepatchFunc {
        expectation = expectation.clone();
        if (expectation.length > FuncLayout.EXPECTATION_DATA_MAX) {
            throw new IllegalArgumentException("expectation of " + expectation.length + " bytes exceeds " + FuncLayout.EXPECTATION_DATA_MAX);
        }
    }

    @Override
    public byte[] expectation() {
        return expectation.clone();
    }

    /** Encodes the entry; bytes the layout reserves are zero, as the hypervisor requires on upload. */
    public byte[] encode(FuncLayout layout) {
        byte[] b = new byte[layout.size()];
        put64(b, FuncLayout.NAME, name);
        put64(b, FuncLayout.NEW_ADDR, newAddr);
        put64(b, FuncLayout.OLD_ADDR, oldAddr);
        put32(b, FuncLayout.NEW_SIZE, newSize);
        put32(b, FuncLayout.OLD_SIZE, oldSize);
        b[FuncLayout.VERSION] = (byte) version;
        if (expectation.length > 0) {
            if (!layout.hasExpectation()) {
                throw new IllegalArgumentException("payload version " + layout.version() + " has no expectations");
            }
            int e = layout.expectOffset();
            // GCC allocates bitfields from the least significant bit: enabled is bit 0, len bits 1-5.
            b[e] = (byte) (1 | (expectation.length << 1));
            System.arraycopy(expectation, 0, b, e + 1, expectation.length);
        }
        return b;
    }

    /** Decodes entry {@code index} of a funcs section's bytes. */
    public static LivepatchFunc decode(Bytes section, int index, FuncLayout layout) {
        int o = index * layout.size();
        byte[] expect = new byte[0];
        if (layout.hasExpectation()) {
            int head = section.u8(o + layout.expectOffset());
            if ((head & 1) != 0) {
                int len = Math.min((head >> 1) & 0x1f, FuncLayout.EXPECTATION_DATA_MAX);
                expect = section.slice(o + layout.expectOffset() + 1, len).toArray();
            }
        }
        return new LivepatchFunc(section.u64(o + FuncLayout.NAME), section.u64(o + FuncLayout.NEW_ADDR), section.u64(o + FuncLayout.OLD_ADDR),
                section.u32(o + FuncLayout.NEW_SIZE), section.u32(o + FuncLayout.OLD_SIZE), section.u8(o + FuncLayout.VERSION), expect);
    }

    private static void put64(byte[] b, int o, long v) {
        for (int i = 0; i < 8; i++) b[o + i] = (byte) (v >>> (8 * i));
    }

    private static void put32(byte[] b, int o, long v) {
        for (int i = 0; i < 4; i++) b[o + i] = (byte) (v >>> (8 * i));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LivepatchFunc f && name == f.name && newAddr == f.newAddr && oldAddr == f.oldAddr && newSize == f.newSize
                && oldSize == f.oldSize && version == f.version && Arrays.equals(expectation, f.expectation);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(newAddr) * 31 + Arrays.hashCode(expectation);
    }

    @Override
    public String toString() {
        return "LivepatchFunc[name=" + name + ", new=" + newAddr + ", old=" + oldAddr + ", newSize=" + newSize + ", oldSize=" + oldSize + ", v" + version + "]";
    }
}
