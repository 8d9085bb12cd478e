package org.livepatch.diff;

import org.livepatch.payload.FuncLayout;
import org.livepatch.xen.XenSymbolTable;

/**
 * @param layout              the livepatch_func layout; null to detect it from {@code xen}
 *                            (V2 when it cannot be detected)
 * @param xen                 the target hypervisor's symbols, for old_size (and old_addr); null
 *                            to take old sizes from the original object
 * @param resolveOldAddresses write old_addr from {@code xen} instead of leaving it for the
 *                            hypervisor to resolve by name
 */
public record DiffOptions(FuncLayout layout, XenSymbolTable xen, boolean resolveOldAddresses) {
    public static DiffOptions defaults() {
        return new DiffOptions(null, null, false);
    }
}
