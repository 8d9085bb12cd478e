package org.livepatch.payload;

/**
 * Byte layouts of {@code struct livepatch_func} (xen/include/public/sysctl.h), one entry of a
 * payload's {@code .livepatch.funcs} section, for 64-bit targets.
 *
 * <p>The hypervisor's only structural check is {@code sh_size % sizeof(struct livepatch_func) == 0}
 * (xen/common/livepatch.c: prepare_payload), so a payload built with the wrong entry size is
 * either refused or, worse, misread: the layout must be the target's.
 * <ul>
 * <li>{@link #V1}: Xen 4.7–4.13, LIVEPATCH_PAYLOAD_VERSION 1: name, new_addr, old_addr, new_size,
 *     old_size, version, opaque[31] = 64 bytes.</li>
 * <li>{@link #V2}: Xen 4.14 and later (4.17.5 included), version 2: the same first 33 bytes, then
 *     39 bytes that must be zero on upload (in 4.14–4.17.2 they held the hypervisor's saved
 *     instructions and the {@code applied} marker; since 4.17.3 they are padding), then a 32-byte
 *     {@code livepatch_expectation} at offset 72 = 104 bytes.</li>
 * </ul>
 */
public enum FuncLayout {
    V1(1, 64, -1),
    V2(2, 104, 72);

    public static final int NAME = 0;
    public static final int NEW_ADDR = 8;
    public static final int OLD_ADDR = 16;
    public static final int NEW_SIZE = 24;
    public static final int OLD_SIZE = 28;
    public static final int VERSION = 32;
    /** Size of {@code struct livepatch_expectation}: one bitfield byte (enabled:1, len:5, rsv:2) and 31 data bytes. */
    public static final int EXPECTATION_SIZE = 32;
    /** LIVEPATCH_OPAQUE_SIZE: the most bytes an expectation can hold. */
    public static final int EXPECTATION_DATA_MAX = 31;

    private final int version;
    private final int size;
    private final int expectOffset;

    FuncLayout(int version, int size, int expectOffset) {
        this.version = version;
        this.size = size;
        this.expectOffset = expectOffset;
    }

    /** The value of the {@code version} byte (LIVEPATCH_PAYLOAD_VERSION). */
    public int version() {
        return version;
    }

    /** {@code sizeof(struct livepatch_func)}, also the section's sh_entsize. */
    public int size() {
        return size;
    }

    public boolean hasExpectation() {
        return expectOffset >= 0;
    }

    /** Offset of {@code expect}, or -1 when the layout has none. */
    public int expectOffset() {
        return expectOffset;
    }

    public static FuncLayout forVersion(int version) {
        for (FuncLayout l : values()) {
            if (l.version == version) {
                return l;
            }
        }
        throw new IllegalArgumentException("no livepatch_func layout for payload version " + version);
    }
}
