package org.livepatch.pipeline;

/**
 * One function the payload replaces, for the summary and the JSON report: its run-time name,
 * the object it came from, and the old (in the running hypervisor) and new sizes.
 */
public record PatchedFunction(String name, String object, long oldAddress, long oldSize, long newSize) {}
