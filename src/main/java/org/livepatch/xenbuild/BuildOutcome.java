package org.livepatch.xenbuild;

import java.util.List;
import java.util.Optional;
import org.livepatch.stage.StageTime;

/**
 * The patched-build stage's result: the checked request (payload name, build-ids), the reference
 * build used (null with {@code -k build}), the object pairs, and the hypervisor's symbols as the
 * check or reference stage opened them (empty with {@code -k diff}), and the reference stage's
 * {@link BuildIdProof} when the request had one checked.
 */
public record BuildOutcome(CheckedRequest request, ReferenceBuild reference, PatchedBuildResult objects,
        List<StageTime> times, Optional<XenSyms> xenSyms, Optional<BuildIdProof> proof) {

    public BuildOutcome {
        times = List.copyOf(times);
    }
}
