/**
 * The link stage: from create-diff-object's objects to a {@code .livepatch} payload the target
 * hypervisor accepts.
 *
 * <ul>
 * <li>{@link org.livepatch.link.XenSymbolTable}: the symbols of {@code xen-syms}, looked up the way
 *     the hypervisor names them ({@code name} for globals, {@code file#name} for statics), plus the
 *     hypervisor's version (hence the {@code livepatch_func} layout) and build-id, read without
 *     debug info.</li>
 * <li>{@link org.livepatch.link.Prelinker}: resolves a payload's references ahead of load time
 *     (the {@code prelink} command, {@code --prelink}).</li>
 * <li>{@link org.livepatch.link.PayloadAssembler}: {@code ld -r}, metadata symbols, dependency
 *     notes, the payload's own build-id, {@code --strip}.</li>
 * <li>{@link org.livepatch.link.HypervisorLimits}: what Xen checks on upload, checked before a
 *     payload is written.</li>
 * </ul>
 *
 * Depends on the ELF model ({@code org.livepatch.elf}) and the payload format
 * ({@code org.livepatch.payload}), never the reverse.
 */
package org.livepatch.link;
