package org.livepatch.xenbuild;

/** Upstream's {@code -k/--skip}: which half of the run to leave out. */
public enum SkipStage {
    /** Do everything. */
    NONE,
    /** {@code -k build}: reuse the original/patched objects of a previous run in OUTPUT; only diff and link. */
    BUILD,
    /** {@code -k diff}: build only, stop before create-diff-object. */
    DIFF;

    /**
     * Upstream's rule (livepatch-build, the {@code SKIP} checks): "build" and "diff" mean what they
     * say and any other value does both halves. We keep that rule for compatibility.
     */
    public static SkipStage parse(String value) {
        if (value == null) {
            return NONE;
        }
        return switch (value) {
            case "build" -> BUILD;
            case "diff" -> DIFF;
            default -> NONE;
        };
    }
}
