package org.livepatch.pipeline;

import org.livepatch.verify.PayloadOutcome;

/** What the verify stage hands to the report: the assembled payload and how our loader took it. */
public record Verified(Assembled assembled, PayloadOutcome outcome) {}
