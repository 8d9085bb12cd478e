package org.livepatch.pipeline;

import java.nio.file.Path;
import java.util.List;
import org.livepatch.stage.StageTime;

/**
 * What one livepatch-build run produced.
 *
 * @param payload      the payload file, or null when the run stopped after the build ({@code -k diff})
 * @param buildId      the payload's own build-id (hex), which a payload stacked on top names in --depends
 * @param functions    functions with a {@code .livepatch.funcs} entry
 * @param newFunctions functions carried without an entry (new code)
 * @param lineOnly     functions left unpatched because only their line numbers changed
 * @param objects      rebuilt objects that changed, relative to xen/
 * @param report       the JSON report written next to the payload
 */
public record PipelineResult(Path payload, String buildId, String depends, String xenDepends, List<PatchedFunction> functions,
                             List<String> newFunctions, List<LineOnlyFunction> lineOnly, List<String> objects, List<StageTime> times,
                             Path report) {
    public PipelineResult {
        functions = List.copyOf(functions);
        newFunctions = List.copyOf(newFunctions);
        lineOnly = List.copyOf(lineOnly);
        objects = List.copyOf(objects);
        times = List.copyOf(times);
    }
}
