package org.livepatch.xen;

import org.livepatch.payload.FuncLayout;

/**
 * The version of a hypervisor image, read from its code (see {@link XenSymbolTable#version()}).
 *
 * @param extra the string {@code xen_extra_version()} returns, e.g. {@code ".5"}; empty when it
 *              could not be decoded
 */
public record HypervisorVersion(int major, int minor, String extra) {

    /**
     * The {@code struct livepatch_func} layout this hypervisor expects. LIVEPATCH_PAYLOAD_VERSION
     * went from 1 to 2 in Xen 4.14 (the applied marker and expectations,
     * xen/include/public/sysctl.h); live patching itself arrived in 4.7 as xSplice.
     */
    public FuncLayout funcLayout() throws XenSymsException {
        if (major < 4 || (major == 4 && minor < 7)) {
            throw new XenSymsException("Xen " + this + " predates live patching (Xen 4.7)");
        }
        return payloadLayout();
    }

    /**
     * The layout by LIVEPATCH_PAYLOAD_VERSION alone, without asking whether this Xen can live
     * patch at all: create-diff-object writes V1 for any Xen before 4.14 and leaves refusing a
     * pre-4.7 hypervisor to the link stage.
     */
    public FuncLayout payloadLayout() {
        return major < 4 || (major == 4 && minor < 14) ? FuncLayout.V1 : FuncLayout.V2;
    }

    @Override
    public String toString() {
        return major + "." + minor + extra;
    }
}
