package org.livepatch.verify;

/**
 * {@link EveryRejectReasonTest}'s three-function hypervisor and its one-function payload as
 * files' bytes, for tests outside this package (the command line) that need a check with no Xen tree.
 */
public final class SyntheticXen {
    private SyntheticXen() {}

    /** An ET_EXEC xen-syms with old_func, endbr_func, printk and a build-id, but no version functions. */
    public static byte[] xenSyms() {
        return EveryRejectReasonTest.xenSyms(true);
    }

    /** new_func replacing old_func: every modelled release loads and applies it on {@link #xenSyms()}. */
    public static byte[] payload() {
        return EveryRejectReasonTest.good();
    }
}
