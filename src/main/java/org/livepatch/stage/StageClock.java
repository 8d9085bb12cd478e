package org.livepatch.stage;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Times the stages of one run and reports their start and end to a {@link Progress}. Each stage
 * writes its own log, {@code <logDir>/<stage>.log}, so a failure message can name the one file
 * that holds the cause.
 */
public final class StageClock {
    private final Progress progress;
    private final List<StageTime> times = new ArrayList<>();
    private String current;
    private long startNanos;

    public StageClock(Progress progress) {
        this.progress = progress == null ? Progress.NONE : progress;
    }

    public void start(String stage, int objectCount, String detail) {
        current = stage;
        startNanos = System.nanoTime();
        progress.report(new StageEvent(stage, StageEvent.Phase.STARTED, objectCount, Duration.ZERO, detail));
    }

    public StageTime finish(int objectCount, String detail) {
        Duration d = Duration.ofNanos(System.nanoTime() - startNanos);
        StageTime t = new StageTime(current, d, objectCount);
        times.add(t);
        progress.report(new StageEvent(current, StageEvent.Phase.FINISHED, objectCount, d, detail));
        return t;
    }

    /** One line for the user, during the current stage (see {@link StageEvent.Phase#NOTICE}). */
    public void notice(String message) {
        progress.report(new StageEvent(current == null ? "" : current, StageEvent.Phase.NOTICE, 0, Duration.ZERO, message));
    }

    public List<StageTime> times() {
        return List.copyOf(times);
    }
}
