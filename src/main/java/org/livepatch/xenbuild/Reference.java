package org.livepatch.xenbuild;

import java.util.Optional;

/**
 * What the reference stage hands on: the checked request, the reference build (null with
 * {@code -k build}, which reuses OUTPUT's objects) and the hypervisor's symbols, opened once:
 * {@code --xen-syms}'s from the check stage, else the reference build's. Empty only with
 * {@code -k diff}, which stops before anything reads them. {@code proof}: the rebuilt build-id
 * checked against the shipped hypervisor's, when the request names one (not with {@code -k build}).
 */
public record Reference(CheckedRequest request, ReferenceBuild build, Optional<XenSyms> xenSyms, Optional<BuildIdProof> proof) {}
