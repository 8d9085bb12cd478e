/**
 * The target hypervisor as every stage sees it: the symbols, code bytes, version and build-id of
 * its {@code xen-syms}, read without debug info.
 *
 * <ul>
 * <li>{@link org.livepatch.xen.XenSymbolTable}: the symbols looked up the way the hypervisor names
 *     them ({@code name} for globals, {@code file#name} for statics), sizes and extents, bytes,
 *     version (hence the {@code livepatch_func} layout) and build-id.</li>
 * <li>{@link org.livepatch.xen.RuntimeSymbolTable}: the narrower table the running hypervisor
 *     searches when it loads a payload, for the verifier.</li>
 * </ul>
 *
 * Shared by the diff, link and verify stages, and depends on none of them: only on the ELF model
 * ({@code org.livepatch.elf}) and the payload format ({@code org.livepatch.payload}).
 */
package org.livepatch.xen;
