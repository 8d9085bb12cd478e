package org.livepatch.pipeline;

/**
 * A function of a rebuilt object that differs only in line numbers and so is not patched.
 *
 * @param name   its name in the object
 * @param object the object, relative to xen/
 * @param reason what moved, as create-diff-object proved it ("bug frame line numbers", ...)
 */
public record LineOnlyFunction(String name, String object, String reason) {}
