package org.livepatch.pipeline;

import org.livepatch.link.PayloadAssembler;

/** What the assemble stage hands to verification: the diff's result and the finished payload (in memory). */
public record Assembled(Diffed diffed, PayloadAssembler.Payload payload) {}
