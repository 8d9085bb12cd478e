package org.livepatch.xenbuild;

import org.livepatch.stage.StageTime;
import java.util.List;

/**
 * The build stage's result: the checked request (payload name, build-ids, xen-syms for the
 * later stages), the reference build used (null with {@code -k build}) and the object pairs.
 */
public record BuildOutcome(CheckedRequest request, ReferenceBuild reference, PatchedBuildResult objects,
        List<StageTime> times) {

    public BuildOutcome {
        times = List.copyOf(times);
    }
}
