package org.livepatch.diff;

/**
 * One {@code .livepatch.funcs} entry to write: the changed function in the patched object and
 * what the running hypervisor knows about the one it replaces.
 *
 * @param name    the name the hypervisor resolves old_addr by ({@code file#name} for locals)
 * @param unit    the new function's unit in the patched object
 * @param oldAddr the old function's address, or 0 to let the hypervisor resolve {@code name}
 * @param oldSize bytes of the old function Xen may overwrite (xen-syms st_size, or more when the
 *                alignment padding after it is free)
 */
record FuncEntry(String name, SectionSlice unit, long oldAddr, long oldSize) {
    long newSize() {
        return unit.symbol().size();
    }
}
