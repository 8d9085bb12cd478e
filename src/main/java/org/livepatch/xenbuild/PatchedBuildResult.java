package org.livepatch.xenbuild;

import org.livepatch.stage.StageTime;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What the build stage hands to create-diff-object and the linker.
 *
 * @param changed          objects whose patched bytes differ from the original's, sorted by path
 * @param added            objects only the patched build has
 * @param rebuilt          every object that was recompiled (relative to xen/), changed or not
 * @param derived          objects made from another object (e.g. {@code foo.init.o} from {@code foo.o}),
 *                         so a caller can skip the intermediate or the derived copy
 * @param referenceXenSyms xen-syms of the reference build (copied to {@code OUTPUT/xen-syms})
 * @param xenSyms          the symbols to resolve against: {@code --xen-syms} if given, else the reference's
 * @param times            stage times of this run, in order
 * @param layout           what the type-layout check found ({@link LayoutCheck.Report#NONE} when it did not run)
 */
public record PatchedBuildResult(List<ObjectPair> changed, List<NewObject> added, List<String> rebuilt,
        Map<String, String> derived, Path referenceXenSyms, Path xenSyms, List<StageTime> times,
        LayoutCheck.Report layout) {

    /** Before (or without) the layout check. */
    public PatchedBuildResult(List<ObjectPair> changed, List<NewObject> added, List<String> rebuilt,
            Map<String, String> derived, Path referenceXenSyms, Path xenSyms, List<StageTime> times) {
        this(changed, added, rebuilt, derived, referenceXenSyms, xenSyms, times, LayoutCheck.Report.NONE);
    }

    public PatchedBuildResult {
        changed = List.copyOf(changed);
        added = List.copyOf(added);
        rebuilt = List.copyOf(rebuilt);
        derived = Map.copyOf(derived);
        times = List.copyOf(times);
        layout = layout == null ? LayoutCheck.Report.NONE : layout;
    }

    /** Paths (relative to xen/) of the changed objects, for messages and tests. */
    public List<String> changedPaths() {
        return changed.stream().map(ObjectPair::path).toList();
    }
}
