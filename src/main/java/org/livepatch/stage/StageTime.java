package org.livepatch.stage;

import java.time.Duration;

/** How long one stage took; the run's summary and the JSON report list these in order. */
public record StageTime(String stage, Duration elapsed, int objectCount) {}
