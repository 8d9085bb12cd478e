package org.livepatch.stage;

/** Receives stage events; the CLI prints them, tests record them. Must be cheap and not throw. */
@FunctionalInterface
public interface Progress {
    Progress NONE = e -> { };

    void report(StageEvent event);
}
