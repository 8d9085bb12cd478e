package org.livepatch.xenbuild;

import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * A binary the reference build must reproduce exactly: a distribution's hypervisor whose
 * {@code xen-syms} is shipped (Debian's {@code -dbg} package). Only when the rebuilt
 * {@code xen-syms} carries the stock build-id are the objects the diff compares the objects that
 * run; see {@link BuildIdProof}.
 *
 * @param stockBuildId the shipped hypervisor's GNU build-id
 * @param stockXenSyms the shipped {@code xen-syms}, compared section by section when the ids differ
 * @param description  what the binary is, for messages ("Debian xen-hypervisor-4.17-amd64 4.17.5+72-g01140da4e8-1")
 * @param provenance   what the report records about where the binary and its source came from, sorted
 */
public record ReproductionTarget(BuildId stockBuildId, Path stockXenSyms, String description, Map<String, String> provenance) {

    public ReproductionTarget {
        provenance = java.util.Collections.unmodifiableMap(new TreeMap<>(provenance));
    }
}
