package org.livepatch.diff;

import java.util.List;
import org.livepatch.payload.FuncLayout;

/**
 * The outcome of diffing one object.
 *
 * @param changedFunctions functions that get a {@code .livepatch.funcs} entry (patched-object names)
 * @param newFunctions     functions carried without an entry (new code)
 * @param lineOnlyFunctions functions left out because only their line numbers changed
 *                         ({@code __LINE__} arguments, bug-frame lines); each also has a
 *                         "line-only" report entry saying what moved
 * @param report           why each thing is in the output, or was left out
 * @param output           the payload object, or null unless {@code status == CHANGES}
 * @param layout           the funcs layout used (null when nothing was written)
 */
public record DiffResult(Status status, List<String> changedFunctions, List<String> newFunctions, List<String> lineOnlyFunctions,
                         List<Refusal> refusals, List<ReportEntry> report, byte[] output, FuncLayout layout) {

    public enum Status {
        /** Functional changes found; {@code output} holds the payload object. */
        CHANGES,
        /** Nothing that changes behaviour. */
        NO_CHANGE,
        /** A difference that cannot be patched safely (upstream's DIFF_FATAL). */
        REFUSED
    }

    public DiffResult {
        changedFunctions = List.copyOf(changedFunctions);
        newFunctions = List.copyOf(newFunctions);
        lineOnlyFunctions = List.copyOf(lineOnlyFunctions);
        refusals = List.copyOf(refusals);
        report = List.copyOf(report);
    }
}
