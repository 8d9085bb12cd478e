package org.livepatch.stage;

import java.time.Duration;

/**
 * What the progress callback receives: a stage started or finished, how many objects it deals
 * with (0 when that means nothing for the stage) and the time since it started; or a notice, one
 * line the user should see (in {@code detail}) about something the run repaired on its own,
 * such as a damaged cache entry it is rebuilding.
 */
public record StageEvent(String stage, Phase phase, int objectCount, Duration elapsed, String detail) {
    public enum Phase { STARTED, FINISHED, NOTICE }
}
