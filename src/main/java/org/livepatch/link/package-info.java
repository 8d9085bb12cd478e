/**
 * The link stage: from create-diff-object's objects to a {@code .livepatch} payload the target
 * hypervisor accepts.
 *
 * <ul>
 * <li>{@link org.livepatch.link.Prelinker}: resolves a payload's references ahead of load time
 *     (the {@code prelink} command, {@code --prelink}).</li>
 * <li>{@link org.livepatch.link.PayloadAssembler}: {@code ld -r}, metadata symbols, dependency
 *     notes, the payload's own build-id, {@code --strip}.</li>
 * <li>{@link org.livepatch.link.HypervisorLimits}: what Xen checks on upload, checked before a
 *     payload is written by the verifier's own loader in upload-only mode
 *     ({@link org.livepatch.verify.LoadCheck#beforeWriting}) with the rules of the target's
 *     release ({@link org.livepatch.verify.HypervisorRules}); a refusal becomes a
 *     {@link org.livepatch.link.PayloadRejectedException}.</li>
 * </ul>
 *
 * Depends on the ELF model ({@code org.livepatch.elf}), the payload format
 * ({@code org.livepatch.payload}), the hypervisor's symbols ({@code org.livepatch.xen}, read
 * by every stage) and the hypervisor's rules and loader ({@code org.livepatch.verify}: one
 * description of what each Xen release accepts, shared with the verifier), never the reverse.
 */
package org.livepatch.link;
